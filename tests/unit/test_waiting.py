"""`wait_for`: waiting on a real store for confirmations, a timeout, or a stop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import checklists as checklist_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.core.runs import Trigger
from hostkeeper.procedures.waiting import wait_for_items

NOW = datetime(2026, 1, 4, 3, 0, tzinfo=UTC)


def _run(store: Store) -> int:
    return run_store.start_run(store, "weekly", Trigger.SCHEDULED, NOW)


def test_items_confirmed_already_end_the_wait_at_once(store: Store) -> None:
    run_id = _run(store)
    checklist_store.record_confirmation(store, run_id, "a", "alice", NOW)
    checklist_store.record_confirmation(store, run_id, "b", "bob", NOW)
    heard: list[str] = []
    result = wait_for_items(
        store, run_id, ["a", "b"], 3600, threading.Event(), lambda c: heard.append(c.confirmed_by)
    )
    assert result.complete and not result.cancelled
    assert sorted(heard) == ["alice", "bob"]


def test_a_confirmation_made_during_the_wait_ends_it(store: Store) -> None:
    run_id = _run(store)
    confirmer = threading.Timer(
        0.2, lambda: checklist_store.record_confirmation(store, run_id, "a", "carol", NOW)
    )
    confirmer.start()
    result = wait_for_items(store, run_id, ["a"], 3600, threading.Event(), poll=0.05)
    confirmer.join()
    assert result.complete
    assert result.confirmed["a"].confirmed_by == "carol"


def test_the_wait_ends_after_its_timeout_naming_what_is_missing(store: Store) -> None:
    run_id = _run(store)
    checklist_store.record_confirmation(store, run_id, "a", "alice", NOW)
    result = wait_for_items(store, run_id, ["a", "b"], 0.1, threading.Event(), poll=0.02)
    assert (result.missing, result.cancelled) == (["b"], False)
    assert list(result.confirmed) == ["a"]


def test_a_stop_ends_the_wait(store: Store) -> None:
    run_id = _run(store)
    stop = threading.Event()
    stop.set()
    result = wait_for_items(store, run_id, ["a"], 3600, stop)
    assert result.cancelled and result.missing == ["a"]


def test_another_runs_confirmations_do_not_count(store: Store) -> None:
    run_id, other = _run(store), _run(store)
    checklist_store.record_confirmation(store, other, "a", "alice", NOW)
    result = wait_for_items(store, run_id, ["a"], 0.05, threading.Event(), poll=0.01)
    assert result.missing == ["a"]
