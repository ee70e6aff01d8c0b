"""The run history repository."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.runs import StepRecord
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger

T0 = datetime(2025, 1, 1, 2, 0, tzinfo=UTC)


def _run(
    store: Store,
    procedure: str,
    started: datetime,
    trigger: Trigger = Trigger.MANUAL,
    scheduled_for: datetime | None = None,
    status: RunStatus | None = RunStatus.SUCCEEDED,
) -> int:
    run_id = run_store.start_run(store, procedure, trigger, started, scheduled_for)
    if status is not None:
        run_store.finish_run(store, run_id, status, started + timedelta(seconds=5))
    return run_id


def _step(position: int, status: StepStatus = StepStatus.SUCCEEDED) -> StepRecord:
    return StepRecord(
        position=position,
        phase="steps",
        name="run",
        label=f"run: step{position}",
        status=status,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=position + 1),
        summary="ok",
        output="out",
        details={"n": position},
    )


def test_start_and_finish_record_status_times_and_duration(store: Store) -> None:
    run_id = run_store.start_run(store, "daily", Trigger.SCHEDULED, T0, T0, dry_run=True)
    (running,) = run_store.list_runs(store)
    assert (running.id, running.status, running.finished_at) == (run_id, "running", None)
    run_store.finish_run(store, run_id, RunStatus.FAILED, T0 + timedelta(seconds=90), "boom")
    (record,) = run_store.list_runs(store)
    assert record.status == "failed"
    assert record.error == "boom"
    assert record.finished_at == T0 + timedelta(seconds=90)
    assert record.duration_seconds == 90.0
    assert record.dry_run is True
    assert record.trigger == "scheduled"
    assert record.scheduled_for == T0
    assert record.host == store.host


def test_steps_come_back_in_position_order_with_details(store: Store) -> None:
    run_id = _run(store, "daily", T0)
    for position in (2, 0, 1):
        run_store.record_step(store, run_id, _step(position))
    (record,) = run_store.list_runs(store)
    assert [step.position for step in record.steps] == [0, 1, 2]
    assert record.steps[1] == _step(1)
    assert record.steps[1].duration_seconds == 2.0


def test_list_runs_is_newest_first_with_filter_and_limit(store: Store) -> None:
    for hours, procedure in enumerate(["daily", "weekly", "daily", "daily"]):
        _run(store, procedure, T0 + timedelta(hours=hours))
    assert [r.started_at.hour for r in run_store.list_runs(store)] == [5, 4, 3, 2]
    daily = run_store.list_runs(store, procedure="daily", limit=2)
    assert [(r.procedure, r.started_at.hour) for r in daily] == [("daily", 5), ("daily", 4)]


def test_list_runs_can_leave_out_steps(store: Store) -> None:
    run_id = _run(store, "daily", T0)
    run_store.record_step(store, run_id, _step(0))
    (record,) = run_store.list_runs(store, with_steps=False)
    assert record.steps == []


def test_list_runs_shows_one_host_at_a_time(store: Store) -> None:
    _run(store, "daily", T0)
    other = Store(store.engine, host="other-host")
    _run(other, "daily", T0 + timedelta(hours=1))
    assert [r.host for r in run_store.list_runs(store)] == [store.host]
    assert [r.host for r in run_store.list_runs(store, host="other-host")] == ["other-host"]


def test_latest_runs_gives_the_newest_run_of_each_procedure(store: Store) -> None:
    _run(store, "daily", T0, status=RunStatus.FAILED)
    newest_daily = _run(store, "daily", T0 + timedelta(days=1))
    newest_weekly = _run(store, "weekly", T0, status=RunStatus.SKIPPED)
    _run(Store(store.engine, host="other-host"), "daily", T0 + timedelta(days=2))
    latest = run_store.latest_runs(store)
    assert {name: (r.id, r.status) for name, r in latest.items()} == {
        "daily": (newest_daily, "succeeded"),
        "weekly": (newest_weekly, "skipped"),
    }


def test_record_finished_run_for_a_run_that_never_started(store: Store) -> None:
    run_id = run_store.record_finished_run(
        store, "daily", Trigger.SCHEDULED, RunStatus.MISSED, T0, "daemon was busy", T0
    )
    (record,) = run_store.list_runs(store)
    assert (record.id, record.status, record.error) == (run_id, "missed", "daemon was busy")
    assert record.started_at == record.finished_at == T0
    assert record.duration_seconds == 0.0


def test_last_scheduled_time_counts_scheduled_and_catch_up_runs_only(store: Store) -> None:
    assert run_store.last_scheduled_time(store, "daily") is None
    _run(store, "daily", T0, Trigger.SCHEDULED, scheduled_for=T0)
    _run(store, "daily", T0 + timedelta(days=1), Trigger.CATCH_UP, T0 + timedelta(days=1))
    _run(store, "daily", T0 + timedelta(days=5), Trigger.MANUAL, T0 + timedelta(days=5))
    _run(store, "weekly", T0 + timedelta(days=6), Trigger.SCHEDULED, T0 + timedelta(days=6))
    last = run_store.last_scheduled_time(store, "daily")
    assert last == T0 + timedelta(days=1)
    assert last is not None and last.tzinfo is not None


def test_last_scheduled_time_includes_missed_runs(store: Store) -> None:
    later = T0 + timedelta(days=3)
    run_store.record_finished_run(
        store, "daily", Trigger.SCHEDULED, RunStatus.MISSED, later, "missed", later
    )
    assert run_store.last_scheduled_time(store, "daily") == later


def test_known_since_remembers_the_first_time_for_a_schedule(store: Store) -> None:
    first = run_store.known_since(store, "daily", "cron hour=2", T0)
    again = run_store.known_since(store, "daily", "cron hour=2", T0 + timedelta(days=3))
    assert first == again == T0


def test_known_since_restarts_when_the_schedule_changes(store: Store) -> None:
    run_store.known_since(store, "daily", "cron hour=2", T0)
    changed = T0 + timedelta(days=3)
    assert run_store.known_since(store, "daily", "cron hour=3", changed) == changed
    assert run_store.known_since(store, "daily", "cron hour=3", changed + timedelta(1)) == changed


def test_known_since_is_per_procedure(store: Store) -> None:
    run_store.known_since(store, "daily", "cron hour=2", T0)
    later = T0 + timedelta(days=1)
    assert run_store.known_since(store, "weekly", "cron hour=2", later) == later


def test_unfinished_runs_and_mark_abandoned(store: Store) -> None:
    open_run = _run(store, "daily", T0, status=None)
    _run(store, "weekly", T0)
    assert [r.id for r in run_store.unfinished_runs(store)] == [open_run]

    run_store.mark_abandoned(store, open_run, T0 + timedelta(hours=1), "daemon restarted")

    assert run_store.unfinished_runs(store) == []
    record = next(r for r in run_store.list_runs(store) if r.id == open_run)
    assert record.status == "aborted"
    assert record.error == "daemon restarted"
    assert record.finished_at == T0 + timedelta(hours=1)


def test_mark_abandoned_leaves_a_finished_run_alone(store: Store) -> None:
    finished = _run(store, "daily", T0)
    run_store.mark_abandoned(store, finished, T0 + timedelta(hours=1), "too late")
    (record,) = run_store.list_runs(store)
    assert (record.status, record.error) == ("succeeded", None)


def test_unfinished_runs_of_other_hosts_are_not_ours(store: Store) -> None:
    _run(Store(store.engine, host="other-host"), "daily", T0, status=None)
    assert run_store.unfinished_runs(store) == []
