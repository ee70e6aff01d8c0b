"""The alert state machine: one rule, one evaluation, no I/O.

Given a rule's timing, the alert's persisted state from the previous evaluation, what the
rule observed now, the time and the silences, `evaluate` returns the state to persist,
the events that happened and which notification (if any) to send. Everything the machine
needs lives in `AlertRecord`, so an evaluation after a restart continues exactly where the
previous process stopped: a pending timer keeps its start, a firing alert is not
announced again, a clear period keeps counting.

Lifecycle of one alert:

    (none) --holds--> pending --held for `for`--> firing --clear for `clear_for`--> resolved
                         |
                         +--clears before `for`--> cancelled (never notified)

Notifications: `firing` when an alert starts firing (or, if it fired during a silence,
as soon as the silence ends while it still fires), `repeat` every `repeat` interval
while it fires unacknowledged and unsilenced, `resolved` when it resolves, if and only if
a firing notification went out: a receiver told that something broke is always told it
recovered, even during a silence, and an alert that fired and resolved entirely within a
silence sends nothing.

Maintenance windows (core.windows) hold alerts the same way, for the alerts whose
condition started while a window held their rule: such an alert is marked with the
window (`maintenance_window`), and its firing notification waits until no window holds
the rule any more, or `max_hold` after it fired, whichever comes first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from hostkeeper.core.windows import NO_HOLDS, HoldPolicy


class AlertState(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"  # cleared while pending: `for` filtered it out

    @property
    def active(self) -> bool:
        return self in (AlertState.PENDING, AlertState.FIRING)


class NotificationKind(StrEnum):
    FIRING = "firing"
    REPEAT = "repeat"
    RESOLVED = "resolved"


class EventKind(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"
    NOTIFIED = "notified"  # detail: firing | repeat | resolved
    SUPPRESSED = "suppressed"  # detail: why a firing notification did not go out
    RELEASED = "released"  # a held alert is notified now; detail: why the hold ended
    ACKNOWLEDGED = "acknowledged"
    FALSE_POSITIVE = "false_positive"


@dataclass(frozen=True)
class RuleTiming:
    """The parts of a rule the state machine needs."""

    name: str
    severity: str
    for_: timedelta = timedelta(0)
    clear_for: timedelta = timedelta(0)
    repeat: timedelta = timedelta(0)  # 0: never repeat
    maintenance: bool = True  # False: `maintenance: ignore`, windows never hold it


@dataclass(frozen=True)
class Observation:
    """What the rule saw now: `holds` is None when it could not tell (no data)."""

    holds: bool | None
    value: float | None = None
    summary: str | None = None


@dataclass(frozen=True)
class Silence:
    rule: str
    until: datetime
    created_at: datetime | None = None
    lifted_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        if self.lifted_at is not None and self.lifted_at <= now:
            return False
        if self.created_at is not None and self.created_at > now:
            return False
        return now < self.until


def silenced(rule: str, silences: Iterable[Silence], now: datetime) -> bool:
    return any(s.rule == rule and s.active(now) for s in silences)


@dataclass(frozen=True)
class AlertRecord:
    """One alert as persisted: the whole memory of the state machine."""

    rule: str
    severity: str
    state: AlertState
    pending_since: datetime
    fired_at: datetime | None = None
    clear_since: datetime | None = None  # firing, condition clear since then
    resolved_at: datetime | None = None
    acknowledged_at: datetime | None = None
    last_notified_at: datetime | None = None
    notifications: int = 0  # firing and repeat notifications sent
    false_positive: bool = False
    value: float | None = None
    summary: str | None = None
    id: int | None = None
    maintenance_window: int | None = None  # the window it began in: held, counted apart


@dataclass(frozen=True)
class AlertEvent:
    kind: EventKind
    at: datetime
    detail: str | None = None


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one evaluation.

    `alert` is the record to persist (None when there is no alert, before or after);
    `notify` is the notification to send for it, if any.
    """

    alert: AlertRecord | None
    events: tuple[AlertEvent, ...] = ()
    notify: NotificationKind | None = None

    def changed_from(self, previous: AlertRecord | None) -> bool:
        return bool(self.events) or self.notify is not None or self.alert != previous


def evaluate(
    rule: RuleTiming,
    previous: AlertRecord | None,
    observation: Observation,
    now: datetime,
    silences: Iterable[Silence] = (),
    holds: HoldPolicy = NO_HOLDS,
) -> Evaluation:
    """One evaluation of `rule`; `previous` is the alert left by the last one, if any.

    `holds` are the maintenance windows in force (and the longest hold)."""
    if not rule.maintenance:
        holds = NO_HOLDS
    is_silenced = silenced(rule.name, silences, now)
    if previous is None or not previous.state.active:
        return _start(rule, observation, now, is_silenced, holds)
    current = replace(
        previous,
        severity=rule.severity,
        value=observation.value if observation.value is not None else previous.value,
        summary=observation.summary or previous.summary,
    )
    quiet = _quiet_reason(current, now, is_silenced, holds)
    if previous.state is AlertState.PENDING:
        return _pending(rule, current, observation, now, quiet)
    return _firing(rule, current, observation, now, quiet, holds)


def _quiet_reason(
    alert: AlertRecord, now: datetime, is_silenced: bool, holds: HoldPolicy
) -> str | None:
    """Why `alert` may not notify at `now` (silenced, maintenance), or None."""
    if is_silenced:
        return "silenced"
    if holds.held(alert.rule, alert.maintenance_window, alert.fired_at, now):
        return f"maintenance window #{alert.maintenance_window}"
    return None


def _start(
    rule: RuleTiming, observation: Observation, now: datetime, is_silenced: bool, holds: HoldPolicy
) -> Evaluation:
    if not observation.holds:
        return Evaluation(None)
    window = holds.window_for(rule.name, now)
    alert = AlertRecord(
        rule=rule.name,
        severity=rule.severity,
        state=AlertState.PENDING,
        pending_since=now,
        value=observation.value,
        summary=observation.summary,
        maintenance_window=window.id if window is not None else None,
    )
    events = (AlertEvent(EventKind.PENDING, now),)
    if rule.for_ > timedelta(0):
        return Evaluation(alert, events)
    return _fire(alert, now, _quiet_reason(alert, now, is_silenced, holds), events)


def _pending(
    rule: RuleTiming,
    alert: AlertRecord,
    observation: Observation,
    now: datetime,
    quiet: str | None,
) -> Evaluation:
    if observation.holds is None:
        return Evaluation(alert)
    if not observation.holds:
        cancelled = replace(alert, state=AlertState.CANCELLED, resolved_at=now)
        return Evaluation(cancelled, (AlertEvent(EventKind.CANCELLED, now),))
    if now - alert.pending_since >= rule.for_:
        return _fire(alert, now, quiet, ())
    return Evaluation(alert)


def _fire(
    alert: AlertRecord, now: datetime, quiet: str | None, events: tuple[AlertEvent, ...]
) -> Evaluation:
    firing = replace(alert, state=AlertState.FIRING, fired_at=now, clear_since=None)
    events += (AlertEvent(EventKind.FIRING, now),)
    if quiet is not None:
        return Evaluation(firing, (*events, AlertEvent(EventKind.SUPPRESSED, now, quiet)))
    return _notified(firing, now, NotificationKind.FIRING, events)


def _firing(
    rule: RuleTiming,
    alert: AlertRecord,
    observation: Observation,
    now: datetime,
    quiet: str | None,
    holds: HoldPolicy,
) -> Evaluation:
    if observation.holds is False:
        clear_since = alert.clear_since or now
        if now - clear_since >= rule.clear_for:
            return _resolve(alert, now)
        return Evaluation(replace(alert, clear_since=clear_since))
    if observation.holds:
        alert = replace(alert, clear_since=None)
    if quiet is not None:
        return Evaluation(alert)
    if alert.notifications == 0:
        # It fired during a silence or a maintenance window that has ended, and it still
        # fires: say so now.
        events: tuple[AlertEvent, ...] = ()
        if alert.maintenance_window is not None:
            reason = holds.release_reason(alert.rule, now)
            events = (AlertEvent(EventKind.RELEASED, now, reason),)
        return _notified(alert, now, NotificationKind.FIRING, events)
    if _repeat_due(rule, alert, now):
        return _notified(alert, now, NotificationKind.REPEAT, ())
    return Evaluation(alert)


def _repeat_due(rule: RuleTiming, alert: AlertRecord, now: datetime) -> bool:
    if rule.repeat <= timedelta(0) or alert.acknowledged_at is not None:
        return False
    last = alert.last_notified_at or alert.fired_at
    return last is not None and now - last >= rule.repeat


def _resolve(alert: AlertRecord, now: datetime) -> Evaluation:
    resolved = replace(alert, state=AlertState.RESOLVED, resolved_at=now)
    events: tuple[AlertEvent, ...] = (AlertEvent(EventKind.RESOLVED, now),)
    if alert.notifications == 0:
        return Evaluation(resolved, events)
    events += (AlertEvent(EventKind.NOTIFIED, now, NotificationKind.RESOLVED.value),)
    return Evaluation(resolved, events, NotificationKind.RESOLVED)


def _notified(
    alert: AlertRecord, now: datetime, kind: NotificationKind, events: tuple[AlertEvent, ...]
) -> Evaluation:
    sent = replace(alert, last_notified_at=now, notifications=alert.notifications + 1)
    return Evaluation(sent, (*events, AlertEvent(EventKind.NOTIFIED, now, kind.value)), kind)


# -- operator actions -----------------------------------------------------------------------


def acknowledge(alert: AlertRecord, now: datetime) -> tuple[AlertRecord, AlertEvent | None]:
    """Acknowledge an active alert: its repeats stop until it resolves.

    Raises ValueError for an alert that is not pending or firing. Acknowledging twice
    keeps the first time (what mean time to acknowledge measures).
    """
    if not alert.state.active:
        raise ValueError(f"alert {alert.id} is {alert.state.value}; only active alerts take an ack")
    if alert.acknowledged_at is not None:
        return alert, None
    return replace(alert, acknowledged_at=now), AlertEvent(EventKind.ACKNOWLEDGED, now)


def mark_false_positive(alert: AlertRecord, now: datetime) -> tuple[AlertRecord, AlertEvent | None]:
    """Mark an alert that fired as a false positive (for alert effectiveness).

    Raises ValueError for an alert that never fired.
    """
    if alert.fired_at is None:
        raise ValueError(
            f"alert {alert.id} never fired ({alert.state.value}); only fired alerts can be marked"
        )
    if alert.false_positive:
        return alert, None
    return replace(alert, false_positive=True), AlertEvent(EventKind.FALSE_POSITIVE, now)
