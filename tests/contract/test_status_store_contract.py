"""The reads behind the status model, the dashboard and the reports
(`adapters/store/status.py`, `adapters/store/history.py`) answer alike on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from hostkeeper.adapters.store import Store, history
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import checks as check_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store import status as status_store
from hostkeeper.adapters.store.database import inserted_id
from hostkeeper.adapters.store.files import (
    FileActionCounts,
    mark_archive,
    record_archive,
    record_file_action,
    record_restore_test,
    record_verification,
)
from hostkeeper.adapters.store.schema import alerts, samples, series
from hostkeeper.core.health import CheckResult, CheckState
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _as_host(store: Store, host: str) -> Store:
    return Store(store.engine, host=host)


def _run(
    store: Store,
    procedure: str,
    status: RunStatus,
    at: datetime,
    *,
    dry_run: bool = False,
    step: StepStatus = StepStatus.SUCCEEDED,
    seconds: float = 3.0,
) -> int:
    run_id = run_store.start_run(store, procedure, Trigger.MANUAL, at, dry_run=dry_run)
    run_store.record_step(
        store,
        run_id,
        run_store.StepRecord(
            0, "steps", "run", "run: true", step, at, at + timedelta(seconds=seconds)
        ),
    )
    error = "boom" if status is RunStatus.FAILED else None
    run_store.finish_run(store, run_id, status, at + timedelta(seconds=seconds), error)
    return run_id


def test_run_facts_leave_dry_runs_out_and_keep_the_newest_completed_run(store: Store) -> None:
    _run(store, "quarterly", RunStatus.SUCCEEDED, NOW - timedelta(days=3))
    failed = _run(
        store, "quarterly", RunStatus.FAILED, NOW - timedelta(days=2), step=StepStatus.FAILED
    )
    _run(store, "quarterly", RunStatus.SUCCEEDED, NOW - timedelta(days=1), dry_run=True)
    missed = run_store.record_finished_run(
        store, "quarterly", Trigger.SCHEDULED, RunStatus.MISSED, NOW, "missed: not running"
    )
    _run(_as_host(store, "host-b"), "quarterly", RunStatus.SUCCEEDED, NOW)

    facts = status_store.procedure_run_facts(store)

    quarterly = facts["quarterly"]
    assert quarterly.newest is not None and quarterly.newest.id == missed
    assert (quarterly.newest.status, quarterly.newest.started_at) == ("missed", NOW)
    assert quarterly.newest_completed is not None
    assert (quarterly.newest_completed.id, quarterly.newest_completed.status) == (failed, "failed")
    assert quarterly.newest_completed.error == "boom"
    assert quarterly.newest_completed.duration_seconds == 3.0
    assert quarterly.last_success_at == NOW - timedelta(days=3) + timedelta(seconds=3)
    assert quarterly.runs_by_status == {"failed": 1, "missed": 1, "succeeded": 1}
    assert set(facts) == {"quarterly"}
    other = status_store.procedure_run_facts(store, "host-b")["quarterly"]
    assert other.newest_completed is not None and other.newest_completed.status == "succeeded"


def test_step_failures_count_real_runs_of_the_host_only(store: Store) -> None:
    _run(store, "daily", RunStatus.FAILED, NOW, step=StepStatus.FAILED)
    _run(store, "daily", RunStatus.FAILED, NOW, step=StepStatus.ABORTED)
    _run(store, "daily", RunStatus.FAILED, NOW, step=StepStatus.FAILED, dry_run=True)
    _run(store, "weekly", RunStatus.SUCCEEDED, NOW)
    _run(_as_host(store, "host-b"), "daily", RunStatus.FAILED, NOW, step=StepStatus.FAILED)
    assert status_store.step_failure_counts(store) == {"daily": 2}


def _delivery(store: Store, channel: str, state: str) -> int:
    """A notification queued and then taken to `state` by the delivery log's writers."""
    notification_id = alert_store.queue_notification(store, channel, "alert", "s", {}, NOW)
    if state != "queued":
        alert_store.claim_notification(store, notification_id)
        alert_store.finish_attempt(store, notification_id, state, NOW)
    return notification_id


def test_alert_and_notification_counts(store: Store) -> None:
    with store.write() as connection:
        connection.execute(
            insert(alerts),
            [
                {
                    "host": host,
                    "rule": f"rule-{n}",
                    "severity": "warning",
                    "state": state,
                    "pending_since": since,
                    "notifications": 0,
                    "false_positive": False,
                }
                for n, (host, state, since) in enumerate(
                    [
                        (store.host, "firing", NOW - timedelta(hours=1)),
                        (store.host, "resolved", NOW - timedelta(days=2)),
                        (store.host, "resolved", NOW - timedelta(days=9)),
                        ("host-b", "firing", NOW),
                    ]
                )
            ],
        )
    for host, channel, state in [
        (store.host, "mail", "sent"),
        (store.host, "mail", "sent"),
        (store.host, "hook", "failed"),
        ("host-b", "mail", "failed"),
    ]:
        _delivery(_as_host(store, host), channel, state)
    counts = status_store.alert_state_counts(store, NOW - timedelta(days=7))
    assert counts == {"firing": 1, "resolved": 1}
    assert status_store.notification_counts(store) == [
        status_store.NotificationCount("hook", "failed", 1),
        status_store.NotificationCount("mail", "sent", 2),
    ]


def test_file_totals_count_negative_freed_bytes_as_none(store: Store) -> None:
    for freed in (1000, -37):
        record_file_action(
            store,
            kind="rotate",
            policy="app",
            at=NOW,
            counts=FileActionCounts(rotated=1, compressed=1, bytes_freed=freed),
        )
    record_file_action(
        store, kind="cleanup", policy="tmp", at=NOW, counts=FileActionCounts(deleted=4)
    )
    assert status_store.file_totals(store) == {
        "cleanup": status_store.FileTotals(0, 4, 0, 0),
        "rotate": status_store.FileTotals(1000, 0, 2, 2),
    }


def _archive(store: Store, backup_set: str, created: datetime, size: int) -> str:
    path = f"/backups/{backup_set}/{backup_set}-{created:%Y%m%dT%H%M%S}.tar.gz"
    record_archive(
        store,
        backup_set=backup_set,
        path=path,
        created_at=created,
        size=size,
        files=3,
        sha256="0" * 64,
    )
    return path


def test_newest_archive_and_last_restore_test_of_each_set(store: Store) -> None:
    _archive(store, "config", NOW - timedelta(days=2), 10)
    newest = _archive(store, "config", NOW - timedelta(days=1), 20)
    record_verification(store, newest, False, "hash mismatch", NOW)
    gone = _archive(store, "config", NOW, 30)
    mark_archive(store, gone, "deleted")
    _archive(store, "logs", NOW - timedelta(days=5), 40)
    _archive(_as_host(store, "host-b"), "config", NOW, 50)
    for ok, at in ((True, NOW - timedelta(hours=3)), (False, NOW - timedelta(hours=1))):
        record_restore_test(
            store,
            backup_set="config",
            archive=newest,
            at=at,
            ok=ok,
            files_checked=3,
            seconds=0.5,
            detail=None if ok else "sha256 differs",
        )

    archives = status_store.newest_archive_facts(store, ["config", "logs", "never"])
    assert list(archives) == ["config", "logs"]
    config = archives["config"]
    assert (config.path, config.created_at, config.size_bytes) == (
        newest,
        NOW - timedelta(days=1),
        20,
    )
    assert (config.verify_ok, config.verified_at, config.files) == (False, NOW, 3)
    tests = status_store.last_restore_test_facts(store, ["config", "logs"])
    assert list(tests) == ["config"]
    assert (tests["config"].ok, tests["config"].detail) == (False, "sha256 differs")
    assert tests["config"].tested_at == NOW - timedelta(hours=1)
    assert status_store.last_restore_test_facts(store, ["config"], "host-b") == {}
    assert status_store.newest_archive_facts(store, ["config"], "host-b")["config"].size_bytes == 50


def test_backup_history_is_newest_first_and_bounded(store: Store) -> None:
    for days in (9, 3, 2, 1):
        _archive(store, "config", NOW - timedelta(days=days), days)
    archives, tests = history.backup_history(store, NOW - timedelta(days=5), limit=2)
    assert [(a.created_at, a.size_bytes, a.state) for a in archives] == [
        (NOW - timedelta(days=1), 1, "present"),
        (NOW - timedelta(days=2), 2, "present"),
    ]
    assert tests == []


def test_durations_and_check_states_over_a_period(store: Store) -> None:
    _run(store, "daily", RunStatus.SUCCEEDED, NOW - timedelta(hours=2), seconds=4.0)
    _run(store, "daily", RunStatus.FAILED, NOW - timedelta(hours=1), seconds=2.0)
    _run(store, "daily", RunStatus.SUCCEEDED, NOW - timedelta(days=3), seconds=99.0)
    run_store.record_finished_run(store, "daily", Trigger.SCHEDULED, RunStatus.MISSED, NOW, "x")
    start, end = NOW - timedelta(days=1), NOW
    assert history.procedure_durations(store, start, end) == [("daily", 2, 3.0, 4.0)]
    assert history.step_durations(store, start, end) == [("daily", "run: true", 2, 3.0, 4.0)]
    for minutes, state in ((30, CheckState.OK), (20, CheckState.OK), (10, CheckState.CRITICAL)):
        at = NOW - timedelta(minutes=minutes)
        check_store.record_check_run(
            store, [CheckResult("disk", "disk_free", state, 1.0, "%", "", 0.5, at)]
        )
    assert history.check_durations(store, start, end) == [("disk", 3, 0.5)]
    assert history.check_state_counts(store, start, end) == {"disk": {"critical": 1, "ok": 2}}


def test_metric_buckets_floor_each_time_into_its_slot(store: Store) -> None:
    # With slots of 10 s, 1006 belongs to [1000, 1010): a rounding CAST would put it in the
    # next slot (PostgreSQL rounds 100.6 to 101).
    points = [(1000.0, 1.0), (1004.0, 2.0), (1006.0, 3.0), (1009.0, 6.0), (1010.0, 10.0)]
    points += [(1016.0, 20.0), (2000.0, 99.0)]
    with store.write() as connection:
        series_id = inserted_id(
            connection.execute(insert(series).values(host=store.host, name="load.5m"))
        )
        connection.execute(
            insert(samples), [{"series_id": series_id, "ts": t, "value": v} for t, v in points]
        )
    since = datetime.fromtimestamp(1000, UTC)
    until = datetime.fromtimestamp(1100, UTC)
    buckets = history.metric_buckets(store, "load.5m", since, until, limit_points=10)
    assert buckets == [(1000.0, 3.0), (1010.0, 15.0)]
    assert history.metric_buckets(store, "absent", since, until) == []
    assert history.metric_buckets(_as_host(store, "host-b"), "load.5m", since, until) == []
