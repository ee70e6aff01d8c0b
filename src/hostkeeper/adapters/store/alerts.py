"""Persisted alerts, their events, silences and the notification delivery log.

Kept whole: alerts, their events, silences and deliveries are written in the same
transactions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from hostkeeper.adapters.store import totals
from hostkeeper.adapters.store.database import Store, inserted_id
from hostkeeper.adapters.store.schema import alert_events, alerts, notifications, silences
from hostkeeper.core import alerts as machine
from hostkeeper.core.alerts import AlertEvent, AlertRecord, AlertState, Evaluation, Silence

ACTIVE_STATES = (AlertState.PENDING.value, AlertState.FIRING.value)
# How a delivery ends; counted in the totals. `queued` and `sending` are in flight.
ENDED_DELIVERY_STATES = ("sent", "failed", "dropped")
IN_FLIGHT_DELIVERY_STATES = ("queued", "sending")


class AlertNotFound(LookupError):
    pass


# -- alerts -----------------------------------------------------------------------------------


def _record(row: Any) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        rule=row.rule,
        severity=row.severity,
        state=AlertState(row.state),
        pending_since=row.pending_since,
        fired_at=row.fired_at,
        clear_since=row.clear_since,
        resolved_at=row.resolved_at,
        acknowledged_at=row.acknowledged_at,
        last_notified_at=row.last_notified_at,
        notifications=row.notifications,
        false_positive=bool(row.false_positive),
        value=row.value,
        summary=row.summary,
        maintenance_window=row.maintenance_window_id,
    )


def _values(record: AlertRecord) -> dict[str, Any]:
    return {
        "rule": record.rule,
        "severity": record.severity,
        "state": record.state.value,
        "pending_since": record.pending_since,
        "fired_at": record.fired_at,
        "clear_since": record.clear_since,
        "resolved_at": record.resolved_at,
        "acknowledged_at": record.acknowledged_at,
        "last_notified_at": record.last_notified_at,
        "notifications": record.notifications,
        "false_positive": record.false_positive,
        "value": record.value,
        "summary": record.summary,
        "maintenance_window_id": record.maintenance_window,
    }


def active_alerts(store: Store) -> dict[str, AlertRecord]:
    """The pending or firing alert of each rule on this host (the newest, should there be two)."""
    return {record.rule: record for record in reversed(active_alert_records(store))}


def active_alert_records(store: Store) -> list[AlertRecord]:
    """Every pending or firing alert on this host, newest first."""
    with store.read() as connection:
        # The ids first, from the (host, state, severity) index alone: asked for whole
        # rows in id order, SQLite's planner walks the table from its newest row when
        # ANALYZE's averages make `state IN (...)` look unselective on a one-host store.
        ids = list(
            connection.execute(
                select(alerts.c.id).where(
                    alerts.c.host == store.host, alerts.c.state.in_(ACTIVE_STATES)
                )
            ).scalars()
        )
        rows = (
            connection.execute(
                select(alerts).where(alerts.c.id.in_(ids)).order_by(alerts.c.id.desc())
            ).all()
            if ids
            else []
        )
    return [_record(row) for row in rows]


def save_evaluation(store: Store, evaluation: Evaluation) -> AlertRecord | None:
    """Persist what one evaluation produced (the alert and its events); return it with its id."""
    record = evaluation.alert
    if record is None:
        return None
    with store.write() as connection:
        record = _save(connection, store.host, record)
        _add_events(connection, record, evaluation.events)
    return record


def _save(connection: Connection, host: str, record: AlertRecord) -> AlertRecord:
    if record.id is None:
        result = connection.execute(insert(alerts).values(host=host, **_values(record)))
        return replace(record, id=inserted_id(result))
    connection.execute(update(alerts).where(alerts.c.id == record.id).values(**_values(record)))
    return record


def _add_events(connection: Connection, record: AlertRecord, events: Iterable[AlertEvent]) -> None:
    rows = [
        {"alert_id": record.id, "kind": event.kind.value, "at": event.at, "detail": event.detail}
        for event in events
    ]
    if rows:
        connection.execute(insert(alert_events), rows)


def get_alert(store: Store, alert_id: int) -> AlertRecord:
    with store.read() as connection:
        row = connection.execute(
            select(alerts).where(alerts.c.id == alert_id, alerts.c.host == store.host)
        ).first()
    if row is None:
        raise AlertNotFound(f"no alert #{alert_id} on {store.host}")
    return _record(row)


def list_alerts(
    store: Store, states: Sequence[str] | None = None, limit: int = 100
) -> list[AlertRecord]:
    """This host's alerts, newest first, optionally only those in `states`."""
    query = select(alerts).where(alerts.c.host == store.host)
    if states:
        query = query.where(alerts.c.state.in_(list(states)))
    with store.read() as connection:
        rows = connection.execute(query.order_by(alerts.c.id.desc()).limit(limit)).all()
    return [_record(row) for row in rows]


def acknowledge(store: Store, alert_id: int, now: datetime) -> AlertRecord:
    """Acknowledge an active alert; raise AlertNotFound or ValueError (not active)."""
    return _apply(store, alert_id, now, machine.acknowledge)


def mark_false_positive(store: Store, alert_id: int, now: datetime) -> AlertRecord:
    """Mark an alert that fired as a false positive; raise AlertNotFound or ValueError."""
    return _apply(store, alert_id, now, machine.mark_false_positive)


def _apply(store: Store, alert_id: int, now: datetime, action: Any) -> AlertRecord:
    with store.write() as connection:
        row = connection.execute(
            select(alerts).where(alerts.c.id == alert_id, alerts.c.host == store.host)
        ).first()
        if row is None:
            raise AlertNotFound(f"no alert #{alert_id} on {store.host}")
        record: AlertRecord
        record, event = action(_record(row), now)
        if event is not None:
            _save(connection, store.host, record)
            _add_events(connection, record, [event])
        return record


def events_of(store: Store, alert_id: int) -> list[AlertEvent]:
    with store.read() as connection:
        rows = connection.execute(
            select(alert_events)
            .where(alert_events.c.alert_id == alert_id)
            .order_by(alert_events.c.at, alert_events.c.id)
        ).all()
    return [AlertEvent(machine.EventKind(row.kind), row.at, row.detail) for row in rows]


def alerts_between(store: Store, start: datetime, end: datetime) -> list[AlertRecord]:
    """Alerts of this host that fired, or were pending, in [start, end)."""
    with store.read() as connection:
        rows = connection.execute(
            select(alerts)
            .where(
                alerts.c.host == store.host,
                alerts.c.pending_since < end,
                or_(alerts.c.resolved_at.is_(None), alerts.c.resolved_at >= start),
            )
            .order_by(alerts.c.id)
        ).all()
    return [_record(row) for row in rows]


def repeat_counts(
    store: Store, alert_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, int]:
    """Repeat notifications decided per alert in [start, end)."""
    if not alert_ids:
        return {}
    with store.read() as connection:
        rows = connection.execute(
            select(alert_events.c.alert_id, func.count())
            .where(
                alert_events.c.alert_id.in_(list(alert_ids)),
                alert_events.c.kind == machine.EventKind.NOTIFIED.value,
                alert_events.c.detail == machine.NotificationKind.REPEAT.value,
                alert_events.c.at >= start,
                alert_events.c.at < end,
            )
            .group_by(alert_events.c.alert_id)
        ).all()
    return {row[0]: row[1] for row in rows}


# -- silences ---------------------------------------------------------------------------------


def add_silence(
    store: Store, rule: str, now: datetime, until: datetime, reason: str | None = None
) -> int:
    with store.write() as connection:
        result = connection.execute(
            insert(silences).values(
                host=store.host, rule=rule, created_at=now, until=until, reason=reason
            )
        )
        return inserted_id(result)


def lift_silences(store: Store, rule: str, now: datetime) -> int:
    """End every current silence of `rule`; return how many there were."""
    with store.write() as connection:
        result = connection.execute(
            update(silences)
            .where(
                silences.c.host == store.host,
                silences.c.rule == rule,
                silences.c.lifted_at.is_(None),
                silences.c.until > now,
            )
            .values(lifted_at=now)
        )
        return int(result.rowcount)


def current_silences(store: Store, now: datetime) -> list[Silence]:
    """Silences not yet over at `now` (including ones that start later)."""
    with store.read() as connection:
        rows = connection.execute(
            select(silences).where(
                silences.c.host == store.host,
                silences.c.lifted_at.is_(None),
                silences.c.until > now,
            )
        ).all()
    return [Silence(row.rule, row.until, row.created_at, row.lifted_at) for row in rows]


@dataclass(frozen=True)
class SilenceRow:
    id: int
    rule: str
    created_at: datetime
    until: datetime
    reason: str | None


def silence_rows(store: Store, now: datetime) -> list[SilenceRow]:
    with store.read() as connection:
        rows = connection.execute(
            select(silences)
            .where(
                silences.c.host == store.host,
                silences.c.lifted_at.is_(None),
                silences.c.until > now,
            )
            .order_by(silences.c.until)
        ).all()
    return [SilenceRow(r.id, r.rule, r.created_at, r.until, r.reason) for r in rows]


# -- notifications (the delivery log) ---------------------------------------------------------


@dataclass(frozen=True)
class NotificationRow:
    id: int
    channel: str
    kind: str
    alert_id: int | None
    subject: str
    payload: dict[str, Any]
    state: str  # queued | sending | sent | failed | dropped (its channel's queue was full)
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


def _notification(row: Any) -> NotificationRow:
    return NotificationRow(
        id=row.id,
        channel=row.channel,
        kind=row.kind,
        alert_id=row.alert_id,
        subject=row.subject,
        payload=json.loads(row.payload) if row.payload else {},
        state=row.state,
        attempts=row.attempts,
        created_at=row.created_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


def queue_notification(
    store: Store,
    channel: str,
    kind: str,
    subject: str,
    payload: dict[str, Any],
    now: datetime,
    alert_id: int | None = None,
    state: str = "queued",
    error: str | None = None,
) -> int:
    """Record a notification: `queued` for delivery, or `dropped` with the reason."""
    with store.write() as connection:
        result = connection.execute(
            insert(notifications).values(
                host=store.host,
                channel=channel,
                kind=kind,
                alert_id=alert_id,
                subject=subject,
                payload=json.dumps(payload, default=str),
                state=state,
                attempts=0,
                created_at=now,
                last_error=error,
            )
        )
        if state in ENDED_DELIVERY_STATES:
            totals.add(connection, store.host, totals.NOTIFICATIONS, channel, state, 1)
        return inserted_id(result)


def claim_notification(store: Store, notification_id: int) -> bool:
    """Take a queued notification for one delivery attempt; False if another process has it.

    The claim is a conditional update, so two processes (the daemon and a CLI command)
    never deliver the same notification twice.
    """
    with store.write() as connection:
        result = connection.execute(
            update(notifications)
            .where(notifications.c.id == notification_id, notifications.c.state == "queued")
            .values(state="sending", attempts=notifications.c.attempts + 1)
        )
        return bool(result.rowcount == 1)


def finish_attempt(
    store: Store,
    notification_id: int,
    state: str,
    now: datetime,
    error: str | None = None,
) -> None:
    """Record how an attempt ended: sent, failed (for good) or queued (to be retried)."""
    values: dict[str, Any] = {"state": state, "last_error": error}
    if state == "sent":
        values["sent_at"] = now
    with store.write() as connection:
        before = connection.execute(
            select(notifications.c.host, notifications.c.channel, notifications.c.state).where(
                notifications.c.id == notification_id
            )
        ).first()
        connection.execute(
            update(notifications).where(notifications.c.id == notification_id).values(**values)
        )
        if before is not None and before.state != state:
            for ended, amount in ((before.state, -1), (state, 1)):
                if ended in ENDED_DELIVERY_STATES:
                    totals.add(
                        connection, before.host, totals.NOTIFICATIONS, before.channel, ended, amount
                    )


def get_notification(store: Store, notification_id: int) -> NotificationRow:
    with store.read() as connection:
        row = connection.execute(
            select(notifications).where(notifications.c.id == notification_id)
        ).one()
    return _notification(row)


def queued_notifications(
    store: Store, created_after: datetime, created_before: datetime
) -> list[NotificationRow]:
    """This host's notifications still queued, created in (created_after, created_before)."""
    with store.read() as connection:
        rows = connection.execute(
            select(notifications)
            .where(
                notifications.c.host == store.host,
                notifications.c.state == "queued",
                notifications.c.created_at > created_after,
                notifications.c.created_at < created_before,
            )
            .order_by(notifications.c.id)
        ).all()
    return [_notification(row) for row in rows]


def recent_notifications(
    store: Store, limit: int = 50, alert_id: int | None = None
) -> list[NotificationRow]:
    query = select(notifications).where(notifications.c.host == store.host)
    if alert_id is not None:
        query = query.where(notifications.c.alert_id == alert_id)
    with store.read() as connection:
        rows = connection.execute(query.order_by(notifications.c.id.desc()).limit(limit)).all()
    return [_notification(row) for row in rows]


def last_delivery(store: Store, alert_id: int, channel: str) -> datetime | None:
    """When `channel` was last given a notification about `alert_id` (any kind)."""
    with store.read() as connection:
        value = connection.execute(
            select(func.max(notifications.c.created_at)).where(
                notifications.c.alert_id == alert_id, notifications.c.channel == channel
            )
        ).scalar()
    return value if isinstance(value, datetime) else None


def channels_told(store: Store, alert_id: int) -> set[str]:
    """Channels that were sent (or are sending) a firing notification about `alert_id`."""
    with store.read() as connection:
        rows = connection.execute(
            select(notifications.c.channel)
            .where(
                notifications.c.alert_id == alert_id,
                notifications.c.kind.in_(["firing", "repeat"]),
                notifications.c.state != "failed",
            )
            .distinct()
        ).scalars()
        return set(rows)


def sent_notification_counts(
    store: Store, start: datetime, end: datetime
) -> dict[tuple[int, str], int]:
    """(alert id, kind) -> deliveries that succeeded, for notifications created in [start, end)."""
    with store.read() as connection:
        rows = connection.execute(
            select(notifications.c.alert_id, notifications.c.kind, func.count())
            .where(
                notifications.c.host == store.host,
                notifications.c.state == "sent",
                notifications.c.alert_id.is_not(None),
                and_(notifications.c.created_at >= start, notifications.c.created_at < end),
            )
            .group_by(notifications.c.alert_id, notifications.c.kind)
        ).all()
    return {(row[0], row[1]): row[2] for row in rows}


def dropped_notification_counts(store: Store) -> dict[str, int]:
    """Channel -> notifications dropped because the channel's queue was full."""
    with store.read() as connection:
        found = totals.read(connection, store.host, totals.NOTIFICATIONS)
    return {channel: count for channel, state, count in found if state == "dropped" and count}
