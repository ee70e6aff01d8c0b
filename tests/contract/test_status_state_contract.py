"""The current state and running totals behind the status model (`procedure_results`,
`status_totals`), on SQLite and PostgreSQL: the writers keep them exact as runs start
and end and deliveries move on, history retention lowers no counter and keeps the runs
the status shows, and migration 0008 fills them from an existing history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store import status as status_store
from hostkeeper.adapters.store.database import inserted_id
from hostkeeper.adapters.store.files import FileActionCounts, record_file_action
from hostkeeper.adapters.store.history_retention import prune_history
from hostkeeper.adapters.store.migrate import migrate, run_alembic
from hostkeeper.adapters.store.schema import file_actions, notifications, runs, step_results
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=500)


def _as_host(store: Store, host: str) -> Store:
    return Store(store.engine, host=host)


def _run(
    store: Store,
    procedure: str,
    status: RunStatus,
    at: datetime,
    *,
    step: StepStatus = StepStatus.SUCCEEDED,
    dry_run: bool = False,
) -> int:
    run_id = run_store.start_run(store, procedure, Trigger.SCHEDULED, at, at, dry_run=dry_run)
    record = run_store.StepRecord(0, "steps", "run", "run: true", step, at, at)
    run_store.record_step(store, run_id, record)
    run_store.finish_run(store, run_id, status, at + timedelta(seconds=4), f"{status} error")
    return run_id


def _facts(store: Store) -> dict[str, status_store.ProcedureRunFacts]:
    return status_store.procedure_run_facts(store)


def test_a_running_run_is_counted_from_its_row_and_then_under_its_end(store: Store) -> None:
    _run(store, "daily", RunStatus.SUCCEEDED, NOW - timedelta(days=1))
    running = run_store.start_run(store, "daily", Trigger.MANUAL, NOW)

    during = _facts(store)["daily"]
    assert during.runs_by_status == {"running": 1, "succeeded": 1}
    assert during.newest is not None and (during.newest.id, during.newest.status) == (
        running,
        "running",
    )
    assert during.newest_completed is not None and during.newest_completed.status == "succeeded"

    run_store.finish_run(store, running, RunStatus.FAILED, NOW + timedelta(minutes=1), "boom")
    after = _facts(store)["daily"]
    assert after.runs_by_status == {"failed": 1, "succeeded": 1}
    assert after.newest_completed is not None
    assert (after.newest_completed.id, after.newest_completed.error) == (running, "boom")
    assert after.last_success_at == NOW - timedelta(days=1) + timedelta(seconds=4)


def test_an_abandoned_run_ends_aborted_once(store: Store) -> None:
    running = run_store.start_run(store, "weekly", Trigger.SCHEDULED, NOW)
    run_store.mark_abandoned(store, running, NOW, "the daemon stopped")
    run_store.mark_abandoned(store, running, NOW, "the daemon stopped")  # no longer running

    facts = _facts(store)["weekly"]
    assert facts.runs_by_status == {"aborted": 1}
    assert facts.newest_completed is not None and facts.newest_completed.id == running


def test_a_run_that_ends_after_a_newer_one_does_not_hide_it(store: Store) -> None:
    slow = run_store.start_run(store, "daily", Trigger.MANUAL, NOW)
    quick = _run(store, "daily", RunStatus.FAILED, NOW + timedelta(minutes=1))
    run_store.finish_run(store, slow, RunStatus.SUCCEEDED, NOW + timedelta(hours=1))

    facts = _facts(store)["daily"]
    assert facts.newest is not None and facts.newest.id == quick
    assert facts.newest_completed is not None and facts.newest_completed.id == quick
    assert facts.last_success_at == NOW + timedelta(hours=1)
    assert facts.runs_by_status == {"failed": 1, "succeeded": 1}


def test_dry_runs_and_other_hosts_count_nowhere(store: Store) -> None:
    _run(store, "daily", RunStatus.FAILED, NOW, step=StepStatus.FAILED, dry_run=True)
    _run(_as_host(store, "host-b"), "daily", RunStatus.FAILED, NOW, step=StepStatus.FAILED)

    assert _facts(store) == {}
    assert status_store.step_failure_counts(store) == {}
    assert status_store.step_failure_counts(store, "host-b") == {"daily": 1}
    assert status_store.procedure_run_facts(store, "host-b")["daily"].runs_by_status == {
        "failed": 1
    }


def test_a_delivery_is_counted_in_flight_and_then_under_how_it_ended(store: Store) -> None:
    def counts() -> list[tuple[str, str, int]]:
        return [(n.channel, n.state, n.count) for n in status_store.notification_counts(store)]

    first = alert_store.queue_notification(store, "mail", "firing", "s", {}, NOW)
    assert counts() == [("mail", "queued", 1)]
    alert_store.claim_notification(store, first)
    assert counts() == [("mail", "sending", 1)]
    alert_store.finish_attempt(store, first, "queued", NOW, "timeout")  # retried later
    alert_store.claim_notification(store, first)
    alert_store.finish_attempt(store, first, "sent", NOW)
    second = alert_store.queue_notification(store, "hook", "firing", "s", {}, NOW)
    alert_store.finish_attempt(store, second, "failed", NOW, "unreadable payload")
    alert_store.queue_notification(store, "hook", "firing", "s", {}, NOW, state="dropped")

    assert counts() == [("hook", "dropped", 1), ("hook", "failed", 1), ("mail", "sent", 1)]
    assert alert_store.dropped_notification_counts(store) == {"hook": 1}
    assert alert_store.dropped_notification_counts(_as_host(store, "host-b")) == {}


def test_retention_lowers_no_counter_and_keeps_the_runs_the_status_shows(store: Store) -> None:
    failed = _run(store, "daily", RunStatus.FAILED, LONG_AGO, step=StepStatus.FAILED)
    for days in range(5):  # long ago too, and older than the cut-off: candidates all
        run_store.record_finished_run(
            store,
            "daily",
            Trigger.SCHEDULED,
            RunStatus.SKIPPED,
            LONG_AGO + timedelta(days=days + 1),
            "precondition unmet",
        )
    _run(store, "weekly", RunStatus.SUCCEEDED, LONG_AGO)
    _run(store, "weekly", RunStatus.SUCCEEDED, LONG_AGO + timedelta(days=7))
    sent = alert_store.queue_notification(store, "mail", "firing", "s", {}, LONG_AGO)
    alert_store.finish_attempt(store, sent, "sent", LONG_AGO)
    record_file_action(
        store,
        kind="cleanup",
        policy="tmp",
        at=LONG_AGO,
        counts=FileActionCounts(deleted=2, bytes_freed=10),
    )
    before = (
        _facts(store),
        status_store.step_failure_counts(store),
        status_store.notification_counts(store),
        status_store.file_totals(store),
    )

    deleted = prune_history(
        store, dict.fromkeys(("runs", "notifications", "file_actions"), NOW - timedelta(days=400))
    ).deleted

    assert deleted["runs"] == 5  # four skipped daily runs, the older weekly run
    assert deleted["notifications"] == deleted["file_actions"] == 1
    after = (
        _facts(store),
        status_store.step_failure_counts(store),
        status_store.notification_counts(store),
        status_store.file_totals(store),
    )
    assert after == before
    daily = after[0]["daily"]
    assert daily.newest_completed is not None and daily.newest_completed.id == failed
    assert daily.runs_by_status == {"failed": 1, "skipped": 5}


def _alembic(store: Store, verb: str, revision: str) -> None:
    run_alembic(store, verb, revision)


def _plain_run(store: Store, procedure: str, status: str, at: datetime, dry_run: bool) -> int:
    with store.write() as connection:
        run_id = inserted_id(
            connection.execute(
                insert(runs).values(
                    host=store.host,
                    procedure=procedure,
                    trigger="scheduled",
                    status=status,
                    started_at=at,
                    finished_at=None if status == "running" else at + timedelta(seconds=2),
                    dry_run=dry_run,
                )
            )
        )
        connection.execute(
            insert(step_results).values(
                run_id=run_id,
                position=0,
                phase="steps",
                name="run",
                label="run",
                status="failed" if status == "failed" else "succeeded",
                started_at=at,
            )
        )
    return run_id


def _history_as_0007_kept_it(store: Store) -> dict[str, int]:
    """Rows written by a release before 0008, with no totals beside them; the ids of
    the runs the status must show."""
    shown = {}
    for host in (store.host, "host-b"):
        owner = _as_host(store, host)
        _plain_run(owner, "daily", "succeeded", NOW - timedelta(days=3), False)
        shown[f"{host}:completed"] = _plain_run(
            owner, "daily", "failed", NOW - timedelta(days=2), False
        )
        _plain_run(owner, "daily", "succeeded", NOW - timedelta(days=1), True)
        shown[f"{host}:newest"] = _plain_run(owner, "daily", "missed", NOW, False)
        _plain_run(owner, "weekly", "running", NOW, False)
    with store.write() as connection:
        connection.execute(
            insert(notifications),
            [
                {
                    "host": host,
                    "channel": channel,
                    "kind": "firing",
                    "subject": "s",
                    "state": state,
                    "attempts": 1,
                    "created_at": NOW,
                }
                for host, channel, state in (
                    (store.host, "mail", "sent"),
                    (store.host, "mail", "sent"),
                    (store.host, "mail", "queued"),
                    (store.host, "hook", "dropped"),
                    ("host-b", "mail", "failed"),
                )
            ],
        )
        connection.execute(
            insert(file_actions),
            [
                {"host": store.host, "kind": "rotate", "policy": "app", "at": NOW}
                | {"files_rotated": 1, "files_compressed": 1, "bytes_freed": freed}
                for freed in (1000, -37)
            ],
        )
    return shown


def test_migration_0008_fills_the_state_and_totals_from_the_history(
    store: Store, tmp_path: Path
) -> None:
    _alembic(store, "downgrade", "0007")
    shown = _history_as_0007_kept_it(store)

    migrate(store, tmp_path / "again.lock")

    for host in (store.host, "host-b"):
        facts = status_store.procedure_run_facts(store, host)
        daily = facts["daily"]
        assert daily.newest is not None and daily.newest.id == shown[f"{host}:newest"]
        assert daily.newest_completed is not None
        assert daily.newest_completed.id == shown[f"{host}:completed"]
        assert daily.last_success_at == NOW - timedelta(days=3) + timedelta(seconds=2)
        assert daily.runs_by_status == {"failed": 1, "missed": 1, "succeeded": 1}
        assert facts["weekly"].runs_by_status == {"running": 1}
        assert status_store.step_failure_counts(store, host) == {"daily": 1}
    assert [(n.channel, n.state, n.count) for n in status_store.notification_counts(store)] == [
        ("hook", "dropped", 1),
        ("mail", "queued", 1),
        ("mail", "sent", 2),
    ]
    assert status_store.file_totals(store) == {"rotate": status_store.FileTotals(1000, 0, 2, 2)}
    # and the writers carry on from there
    _run(store, "daily", RunStatus.SUCCEEDED, NOW + timedelta(hours=1))
    assert _facts(store)["daily"].runs_by_status == {"failed": 1, "missed": 1, "succeeded": 2}


def test_downgrade_to_0007_drops_the_state_and_upgrade_rebuilds_it(
    store: Store, tmp_path: Path
) -> None:
    _run(store, "daily", RunStatus.FAILED, NOW, step=StepStatus.FAILED)
    before = (_facts(store), status_store.step_failure_counts(store))

    _alembic(store, "downgrade", "0007")
    migrate(store, tmp_path / "again.lock")

    assert (_facts(store), status_store.step_failure_counts(store)) == before
