"""Checklist confirmations, run origins and the reads checklists are built from, on every
store backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import checklists as checklist_store
from hostkeeper.adapters.store import checks as check_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.schema import checklist_confirmations, runs
from hostkeeper.core.health import CheckResult, CheckState
from hostkeeper.core.runs import RunStatus, Trigger

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _run(
    store: Store,
    procedure: str = "weekly",
    at: datetime = NOW,
    *,
    dry_run: bool = False,
    started_by: str | None = None,
    reason: str | None = None,
) -> int:
    return run_store.start_run(
        store, procedure, Trigger.MANUAL, at, dry_run=dry_run, started_by=started_by, reason=reason
    )


def test_a_confirmation_is_read_back_with_who_when_and_the_note(store: Store) -> None:
    run_id = _run(store)
    checklist_store.record_confirmation(store, run_id, "review", "alice", NOW, "CR-12 approved")
    checklist_store.record_confirmation(store, run_id, "rollback", "bob", NOW + timedelta(1))
    found = checklist_store.confirmations(store, [run_id])[run_id]
    assert found["review"].confirmed_by == "alice"
    assert found["review"].note == "CR-12 approved"
    assert found["review"].confirmed_at == NOW
    assert found["rollback"].confirmed_by == "bob"
    assert found["rollback"].note is None


def test_a_second_confirmation_of_an_item_is_refused_naming_the_first(store: Store) -> None:
    run_id = _run(store)
    checklist_store.record_confirmation(store, run_id, "review", "alice", NOW)
    with pytest.raises(checklist_store.AlreadyConfirmed) as refused:
        checklist_store.record_confirmation(store, run_id, "review", "bob", NOW)
    assert refused.value.existing.confirmed_by == "alice"
    assert "alice" in str(refused.value)
    assert checklist_store.confirmations(store, [run_id])[run_id]["review"].confirmed_by == "alice"


def test_the_same_item_of_another_run_is_confirmed_apart(store: Store) -> None:
    first, second = _run(store), _run(store, at=NOW + timedelta(days=7))
    checklist_store.record_confirmation(store, first, "review", "alice", NOW)
    checklist_store.record_confirmation(store, second, "review", "bob", NOW)
    found = checklist_store.confirmations(store, [first, second])
    assert found[first]["review"].confirmed_by == "alice"
    assert found[second]["review"].confirmed_by == "bob"
    assert checklist_store.confirmations(store, []) == {}


def test_a_note_with_a_secret_is_stored_redacted(store: Store) -> None:
    run_id = _run(store)
    checklist_store.record_confirmation(store, run_id, "review", "alice", NOW, "--password=hunter2")
    with store.read() as connection:
        stored = connection.execute(select(checklist_confirmations.c.note)).scalar()
    assert "hunter2" not in str(stored)


def test_confirmations_go_with_their_run(store: Store) -> None:
    run_id = _run(store)
    checklist_store.record_confirmation(store, run_id, "review", "alice", NOW)
    with store.write() as connection:
        connection.execute(delete(runs).where(runs.c.id == run_id))
    with store.read() as connection:
        assert connection.execute(select(checklist_confirmations)).first() is None


def test_who_started_a_run_and_why_round_trip(store: Store) -> None:
    run_id = _run(store, started_by="alice", reason="disk filling up")
    run_store.finish_run(store, run_id, RunStatus.SUCCEEDED, NOW + timedelta(seconds=5))
    skipped = run_store.record_finished_run(
        store,
        "weekly",
        Trigger.MANUAL,
        RunStatus.SKIPPED,
        NOW,
        "already running",
        started_by="bob",
        reason="retry",
    )
    record = run_store.get_run(store, run_id)
    assert record is not None
    assert (record.started_by, record.reason, record.ended) == ("alice", "disk filling up", True)
    other = run_store.get_run(store, skipped)
    assert other is not None and (other.started_by, other.reason) == ("bob", "retry")
    scheduled = run_store.start_run(store, "weekly", Trigger.SCHEDULED, NOW)
    record = run_store.get_run(store, scheduled)
    assert record is not None
    assert (record.started_by, record.reason, record.ended) == (None, None, False)


def test_get_run_finds_only_this_hosts_runs(store: Store) -> None:
    run_id = _run(store)
    assert run_store.get_run(store, run_id) is not None
    assert run_store.get_run(Store(store.engine, host="host-b"), run_id) is None
    assert run_store.get_run(store, run_id + 1000) is None


def test_list_runs_limits_to_procedures_a_period_and_real_runs(store: Store) -> None:
    old = _run(store, "weekly", NOW - timedelta(days=10))
    recent = _run(store, "weekly", NOW - timedelta(days=1))
    dry = _run(store, "weekly", NOW - timedelta(hours=1), dry_run=True)
    other = _run(store, "daily", NOW - timedelta(hours=2))
    ids = [
        r.id
        for r in run_store.list_runs(
            store, procedures=["weekly"], since=NOW - timedelta(days=7), until=NOW
        )
    ]
    assert ids == [dry, recent]
    ids = [
        r.id
        for r in run_store.list_runs(
            store, procedures=["weekly", "daily"], since=NOW - timedelta(days=7), real_only=True
        )
    ]
    assert ids == [other, recent]
    assert old in [r.id for r in run_store.list_runs(store, "weekly")]


def test_results_during_gives_the_newest_result_of_each_check_in_the_span(store: Store) -> None:
    def result(name: str, state: CheckState, at: datetime) -> CheckResult:
        return CheckResult(name, "disk_free", state, 1.0, "%", f"{name} {state}", 0.1, at)

    check_store.record_check_run(
        store,
        [
            result("disk", CheckState.CRITICAL, NOW - timedelta(hours=2)),  # before the run
            result("disk", CheckState.WARNING, NOW),
            result("load", CheckState.OK, NOW),
        ],
    )
    check_store.record_check_run(store, [result("disk", CheckState.OK, NOW + timedelta(minutes=1))])
    check_store.record_check_run(store, [result("disk", CheckState.CRITICAL, NOW + timedelta(1))])
    found = check_store.results_during(
        store, ["disk", "load", "api"], NOW - timedelta(minutes=5), NOW + timedelta(minutes=5)
    )
    assert {name: r.state for name, r in found.items()} == {
        "disk": CheckState.OK,
        "load": CheckState.OK,
    }
    assert check_store.results_during(store, [], NOW, NOW) == {}
    elsewhere = Store(store.engine, host="host-b")
    assert check_store.results_during(elsewhere, ["disk"], NOW, NOW + timedelta(1)) == {}


def test_the_checklist_a_run_started_with_round_trips(store: Store) -> None:
    planned = (
        '[{"section":"post","name":"ok","text":"' + "é long text " * 200 + '","kind":"manual"}]'
    )
    kept = run_store.start_run(store, "weekly", Trigger.SCHEDULED, NOW, checklist=planned)
    plain = run_store.start_run(store, "plain", Trigger.SCHEDULED, NOW)
    [listed] = run_store.list_runs(store, "weekly")
    assert listed.checklist == planned
    found = run_store.get_run(store, kept)
    assert found is not None and found.checklist == planned
    other = run_store.get_run(store, plain)
    assert other is not None and other.checklist is None
