"""Maintenance windows, their silences and notes, and the mark on alerts: the same on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hostkeeper.adapters.store import Store, open_store, window_notes, window_silences
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.adapters.store.history_retention import prune_history
from hostkeeper.adapters.store.windows import NewWindow, WindowNotFound
from hostkeeper.core.alerts import (
    AlertEvent,
    AlertRecord,
    AlertState,
    Evaluation,
    EventKind,
)
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
from hostkeeper.core.silence_plan import SilenceRecord, SilenceState
from hostkeeper.core.windows import WindowKind

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def adhoc(
    start: datetime, end: datetime | None, grace: float = 5, rules: list[str] | None = None
) -> NewWindow:
    return NewWindow(
        kind=WindowKind.ADHOC,
        starts_at=start,
        ends_at=end,
        grace=minutes(grace),
        rules=rules,
        reason="kernel update",
        opened_by="alice",
    )


def test_a_window_round_trips_with_its_scope_and_hold(store: Store) -> None:
    window_id = window_store.open_window(
        store, adhoc(NOW, NOW + minutes(60), rules=["web_up", "cpu"])
    )
    row = window_store.get_window(store, window_id)
    assert row.kind is WindowKind.ADHOC and row.reason == "kernel update"
    assert row.starts_at == NOW and row.ends_at == NOW + minutes(60)
    assert row.hold_until == NOW + minutes(65)
    assert row.rules == ("cpu", "web_up")
    assert row.opened_by == "alice" and row.closed_at is None
    assert row.window.covers("cpu") and not row.window.covers("disk")


def test_holding_windows_include_the_grace_and_exclude_the_future(store: Store) -> None:
    early = window_store.open_window(store, adhoc(NOW - minutes(30), NOW - minutes(2)))
    window_store.open_window(store, adhoc(NOW - minutes(30), NOW - minutes(6)))
    unbounded = window_store.open_window(
        store, NewWindow(WindowKind.INCIDENT, NOW - minutes(1), reason="db down")
    )
    window_store.open_window(store, adhoc(NOW + minutes(10), NOW + minutes(20)))
    assert [w.id for w in window_store.holding_windows(store, NOW)] == [early, unbounded]
    assert [w.starts_at for w in window_store.future_windows(store, NOW)] == [NOW + minutes(10)]


def test_closing_starts_the_grace_and_a_second_close_changes_nothing(store: Store) -> None:
    window_id = window_store.open_window(store, adhoc(NOW, NOW + minutes(60)))
    closed = window_store.close_window(store, window_id, NOW + minutes(10), "bob")
    assert closed.closed_at == NOW + minutes(10) and closed.closed_by == "bob"
    assert closed.hold_until == NOW + minutes(15)
    again = window_store.close_window(store, window_id, NOW + minutes(20), "carol")
    assert again.closed_at == NOW + minutes(10) and again.closed_by == "bob"
    assert window_store.holding_windows(store, NOW + minutes(16)) == []
    with pytest.raises(WindowNotFound):
        window_store.close_window(store, 999_999, NOW)


def test_an_incident_records_its_cause_and_prevention_when_closed(store: Store) -> None:
    incident = window_store.open_window(
        store, NewWindow(WindowKind.INCIDENT, NOW, severity="critical", reason="db down")
    )
    row = window_store.close_window(
        store, incident, NOW + minutes(45), "alice", cause="full disk", prevention="alert at 80%"
    )
    assert row.cause == "full disk" and row.prevention == "alert at 80%"
    assert row.severity == "critical"
    assert row.hold_until == NOW + minutes(45)  # no grace given


def test_ensure_window_records_a_planned_occurrence_once(store: Store) -> None:
    new = NewWindow(WindowKind.PLANNED, NOW, NOW + minutes(120), minutes(5), name="patch-night")
    first, created = window_store.ensure_window(store, new)
    second, again = window_store.ensure_window(store, new)
    assert created and not again and first == second
    other, other_created = window_store.ensure_window(
        store, NewWindow(WindowKind.PLANNED, NOW + timedelta(days=7), name="patch-night")
    )
    assert other_created and other != first


def test_run_windows_of_finished_runs_are_found_with_the_runs_end(store: Store) -> None:
    running = run_store.start_run(store, "weekly", Trigger.SCHEDULED, NOW)
    finished = run_store.start_run(store, "daily", Trigger.SCHEDULED, NOW)
    run_store.finish_run(store, finished, RunStatus.SUCCEEDED, NOW + minutes(3))
    for run_id, name in ((running, "weekly"), (finished, "daily")):
        window_store.open_window(
            store, NewWindow(WindowKind.RUN, NOW, name=name, run_id=run_id, grace=minutes(5))
        )
    [(row, ended)] = window_store.finished_run_windows(store)
    assert row.run_id == finished and ended == NOW + minutes(3)


def test_a_notice_is_claimed_once(store: Store) -> None:
    window_id = window_store.open_window(store, adhoc(NOW, NOW + minutes(60)))
    assert window_store.claim_notice(store, window_id, "start_notified", NOW)
    assert not window_store.claim_notice(store, window_id, "start_notified", NOW)
    assert window_store.claim_notice(store, window_id, "end_notified", NOW)
    assert window_store.get_window(store, window_id).start_notified_at == NOW


def test_silences_are_one_row_per_window_and_channel(store: Store) -> None:
    window_id = window_store.open_window(store, adhoc(NOW, NOW + minutes(60)))
    failed = SilenceRecord(SilenceState.PENDING, attempts=1, next_attempt_at=NOW + minutes(1))
    window_silences.save_silence(store, window_id, "am", failed, NOW, "HTTP 503")
    [problem] = window_silences.silence_problems(store)
    assert problem.channel == "am" and problem.last_error == "HTTP 503"
    made = SilenceRecord(SilenceState.ACTIVE, "f00d", NOW + minutes(60))
    window_silences.save_silence(store, window_id, "am", made, NOW + minutes(1))
    [row] = window_silences.silences_of(store, [window_id])
    assert row.record == made and row.last_error is None
    assert window_silences.silence_problems(store) == []
    assert [w.id for w in window_silences.windows_with_live_silences(store)] == [window_id]
    gone = SilenceRecord(SilenceState.DELETED, "f00d", NOW + minutes(60))
    window_silences.save_silence(store, window_id, "am", gone, NOW + minutes(70))
    assert window_silences.windows_with_live_silences(store) == []


def test_notes_attach_to_a_window_in_order(store: Store) -> None:
    incident = window_store.open_window(store, NewWindow(WindowKind.INCIDENT, NOW))
    window_notes.add_note(store, incident, NOW + minutes(2), "bob", "restarted postgres")
    window_notes.add_note(store, incident, NOW + minutes(1), "alice", "disk is full")
    notes = window_notes.notes_of(store, [incident])
    assert [(n.author, n.text) for n in notes] == [
        ("alice", "disk is full"),
        ("bob", "restarted postgres"),
    ]
    with pytest.raises(WindowNotFound):
        window_notes.add_note(store, 999_999, NOW, "bob", "nowhere")


def test_alerts_keep_the_window_they_began_in_and_lose_it_when_it_is_pruned(
    store: Store,
) -> None:
    window_id = window_store.open_window(store, adhoc(NOW, NOW + minutes(10), grace=0))
    record = AlertRecord(
        rule="cpu",
        severity="warning",
        state=AlertState.FIRING,
        pending_since=NOW + minutes(1),
        fired_at=NOW + minutes(1),
        maintenance_window=window_id,
    )
    saved = alert_store.save_evaluation(
        store, Evaluation(record, (AlertEvent(EventKind.FIRING, NOW + minutes(1)),))
    )
    assert saved is not None and saved.id is not None
    assert alert_store.get_alert(store, saved.id).maintenance_window == window_id
    assert window_store.held_alert_count(store) == 1
    # kept as long as runs (database.retention.runs), and never while it holds alerts
    pruned = prune_history(store, {"runs": NOW + minutes(5)})
    assert pruned.deleted == {"runs": 0, "maintenance_windows": 0}
    assert prune_history(store, {"runs": NOW + minutes(11)}).deleted["maintenance_windows"] == 1
    assert alert_store.get_alert(store, saved.id).maintenance_window is None


def test_hosts_sharing_a_database_see_only_their_windows(store: Store, store_url: str) -> None:
    other = open_store(store_url, host="host-b")
    try:
        mine = window_store.open_window(store, adhoc(NOW, NOW + minutes(60)))
        window_store.open_window(other, adhoc(NOW, NOW + minutes(60)))
        assert [w.id for w in window_store.holding_windows(store, NOW)] == [mine]
        with pytest.raises(WindowNotFound):
            window_store.get_window(other, mine)
    finally:
        other.dispose()


def test_runs_started_in_a_span_come_with_their_steps(store: Store) -> None:
    before = run_store.start_run(store, "daily", Trigger.SCHEDULED, NOW - minutes(10))
    inside = run_store.start_run(store, "fix", Trigger.MANUAL, NOW + minutes(1))
    run_store.record_step(
        store,
        inside,
        run_store.StepRecord(
            0, "steps", "run", "run: true", StepStatus.SUCCEEDED, NOW, NOW + minutes(1)
        ),
    )
    run_store.start_run(store, "late", Trigger.MANUAL, NOW + minutes(61))
    found = run_store.runs_started_between(store, NOW, NOW + minutes(60))
    assert [r.id for r in found] == [inside] and before != inside
    assert [step.label for step in found[0].steps] == ["run: true"]
    assert run_store.runs_started_between(store, NOW + minutes(100), NOW + minutes(200)) == []
