"""The alert store: records round-trip, operator actions, silences, the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.core.alerts import (
    AlertEvent,
    AlertRecord,
    AlertState,
    Evaluation,
    EventKind,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def save(store: Store, state: AlertState = AlertState.FIRING, rule: str = "r") -> AlertRecord:
    record = AlertRecord(
        rule=rule,
        severity="critical",
        state=state,
        pending_since=T0,
        fired_at=T0 if state is not AlertState.PENDING else None,
        resolved_at=T0 + timedelta(minutes=3) if not state.active else None,
        last_notified_at=T0,
        notifications=1,
        value=12.5,
        summary="score 12.5",
    )
    saved = alert_store.save_evaluation(
        store, Evaluation(record, (AlertEvent(EventKind.PENDING, T0),))
    )
    assert saved is not None and saved.id is not None
    return saved


def test_saved_alert_reads_back_identically(store: Store) -> None:
    saved = save(store)
    assert alert_store.get_alert(store, saved.id or 0) == saved
    assert alert_store.active_alerts(store) == {"r": saved}
    assert [e.kind for e in alert_store.events_of(store, saved.id or 0)] == [EventKind.PENDING]


def test_only_pending_and_firing_alerts_are_active(store: Store) -> None:
    save(store, AlertState.RESOLVED, rule="old")
    save(store, AlertState.CANCELLED, rule="filtered")
    pending = save(store, AlertState.PENDING, rule="new")
    assert alert_store.active_alerts(store) == {"new": pending}
    assert [a.rule for a in alert_store.list_alerts(store, ["resolved"])] == ["old"]


def test_acknowledge_and_mark_false_positive_are_recorded_with_events(store: Store) -> None:
    saved = save(store)
    acked = alert_store.acknowledge(store, saved.id or 0, T0 + timedelta(minutes=2))
    assert acked.acknowledged_at == T0 + timedelta(minutes=2)
    marked = alert_store.mark_false_positive(store, saved.id or 0, T0 + timedelta(minutes=3))
    assert marked.false_positive and marked.acknowledged_at == acked.acknowledged_at
    kinds = [e.kind for e in alert_store.events_of(store, saved.id or 0)]
    assert kinds == [EventKind.PENDING, EventKind.ACKNOWLEDGED, EventKind.FALSE_POSITIVE]


def test_acknowledging_a_resolved_or_missing_alert_is_refused(store: Store) -> None:
    resolved = save(store, AlertState.RESOLVED)
    with pytest.raises(ValueError, match="only active alerts"):
        alert_store.acknowledge(store, resolved.id or 0, T0)
    with pytest.raises(alert_store.AlertNotFound):
        alert_store.acknowledge(store, 999, T0)


def test_alerts_of_another_host_are_invisible(store: Store) -> None:
    saved = save(store)
    other = Store(store.engine, host="elsewhere")
    assert alert_store.active_alerts(other) == {}
    with pytest.raises(alert_store.AlertNotFound):
        alert_store.get_alert(other, saved.id or 0)


def test_silences_start_end_and_lift(store: Store) -> None:
    alert_store.add_silence(store, "r", T0, T0 + timedelta(hours=1), "deploy")
    alert_store.add_silence(store, "other", T0, T0 + timedelta(minutes=5))
    assert {s.rule for s in alert_store.current_silences(store, T0 + timedelta(minutes=1))} == {
        "r",
        "other",
    }
    assert [s.rule for s in alert_store.current_silences(store, T0 + timedelta(minutes=10))] == [
        "r"
    ]
    assert alert_store.lift_silences(store, "r", T0 + timedelta(minutes=11)) == 1
    assert alert_store.current_silences(store, T0 + timedelta(minutes=12)) == []
    assert alert_store.lift_silences(store, "r", T0 + timedelta(minutes=13)) == 0


def test_a_notification_is_claimed_once(store: Store) -> None:
    notification_id = alert_store.queue_notification(
        store, "hook", "firing", "subject", {"a": 1}, T0
    )
    assert alert_store.claim_notification(store, notification_id)
    assert not alert_store.claim_notification(store, notification_id)
    alert_store.finish_attempt(store, notification_id, "queued", T0, "transient: HTTP 503")
    assert alert_store.claim_notification(store, notification_id)
    alert_store.finish_attempt(store, notification_id, "sent", T0 + timedelta(seconds=3))
    row = alert_store.get_notification(store, notification_id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)
    assert row.sent_at == T0 + timedelta(seconds=3)
    assert row.payload == {"a": 1}


def test_alerts_between_keeps_those_active_in_the_period(store: Store) -> None:
    save(store, AlertState.RESOLVED, rule="inside")  # resolved at T0 + 3 min
    start = T0 + timedelta(minutes=1)
    assert [a.rule for a in alert_store.alerts_between(store, start, T0 + timedelta(days=1))] == [
        "inside"
    ]
    later = T0 + timedelta(minutes=10)
    assert alert_store.alerts_between(store, later, later + timedelta(days=1)) == []
