"""One evaluation round: every rule observed, run through the state machine, persisted,
and its notifications handed to the delivery worker.

Rounds are serialized by a lock file (the daemon's loop, an `evaluate_alerts` step and
the CLI's `alerts ack` never interleave), so an acknowledgement is never overwritten by
an evaluation that read the alert just before it.

Each round first brings the maintenance windows up to date (services.maintenance): the
windows holding alerts now go into the state machine, and the window notices that fell
due (announcements, starts, ends) go out at the end of the round.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import structlog

from hostkeeper.adapters.locks import FileLock
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.alerting.messages import alert_message
from hostkeeper.alerting.rules import metrics_read, observe
from hostkeeper.alerting.sources import load_snapshot
from hostkeeper.alerting.windows import send_window_notices
from hostkeeper.channels.base import Message
from hostkeeper.config import Config
from hostkeeper.config.alerts import AlertmanagerChannel, Rule
from hostkeeper.core import alerts as machine
from hostkeeper.core.alerts import AlertEvent, AlertRecord, AlertState, Evaluation, EventKind
from hostkeeper.core.fleet import HOST_SILENT_RULE
from hostkeeper.services import maintenance

log = structlog.get_logger("hostkeeper.alerts")

MIN_METRIC_AGE = timedelta(minutes=5)


class Sender(Protocol):
    def submit(self, channel: str, message: Message) -> int | None: ...


@dataclass
class RoundResult:
    rules: int = 0
    pending: list[str] = field(default_factory=list)
    firing: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # firing, held by a maintenance window
    windows: list[int] = field(default_factory=list)  # maintenance windows holding alerts
    no_data: list[str] = field(default_factory=list)
    notifications: list[tuple[str, str]] = field(default_factory=list)  # (rule, kind)

    def describe(self) -> str:
        parts = [f"{self.rules} rules evaluated"]
        if self.firing:
            parts.append(f"firing: {', '.join(self.firing)}")
        if self.pending:
            parts.append(f"pending: {', '.join(self.pending)}")
        if self.resolved:
            parts.append(f"resolved: {', '.join(self.resolved)}")
        if self.held:
            parts.append(f"held by maintenance: {', '.join(self.held)}")
        if self.no_data:
            parts.append(f"no data: {', '.join(self.no_data)}")
        if self.notifications:
            parts.append(f"{len(self.notifications)} notifications")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rules": self.rules,
            "firing": self.firing,
            "pending": self.pending,
            "resolved": self.resolved,
            "held": self.held,
            "windows": self.windows,
            "no_data": self.no_data,
            "notifications": [{"rule": r, "kind": k} for r, k in self.notifications],
        }


def lock_path(config: Config) -> Path:
    return Path(config.paths.state_dir) / "locks" / "alerts.lock"


@contextmanager
def alerts_locked(config: Config) -> Iterator[None]:
    with FileLock(lock_path(config), blocking=True):
        yield


def metric_max_age(config: Config) -> timedelta:
    """A metric sample older than this is no data (collection has stopped)."""
    return max(MIN_METRIC_AGE, 5 * config.metrics.interval)


def evaluate_rules(
    config: Config, store: Store, sender: Sender, now: datetime | None = None
) -> RoundResult:
    """Evaluate every configured rule once; return what state each is in."""
    now = now or datetime.now(UTC)
    with alerts_locked(config):
        return _round(config, store, sender, now)


def _round(config: Config, store: Store, sender: Sender, now: datetime) -> RoundResult:
    rules = config.alerts.rules
    snapshot = load_snapshot(
        store,
        metrics=set().union(*(metrics_read(rule) for rule in rules)),
        checks={rule.check for rule in rules if rule.check},
        baseline_metrics={rule.metric for rule in rules if rule.metric},
    )
    holds = maintenance.hold_policy(config, store, now)
    active = alert_store.active_alerts(store)
    # The watch for silent hosts (alerting/fleet_watch.py) owns this host's host_silent
    # alert; it is no configured rule, and no orphan to retire here.
    active.pop(HOST_SILENT_RULE, None)
    silences = alert_store.current_silences(store, now)
    channels = {channel.name: channel for channel in config.alerts.channels}
    max_age = metric_max_age(config)
    result = RoundResult(rules=len(rules), windows=[window.id for window in holds.windows])
    for rule in rules:
        observation = observe(rule, snapshot, now, max_age)
        timing = machine.RuleTiming(
            rule.name,
            rule.severity.value,
            rule.for_,
            rule.clear_for,
            config.alerts.repeat,
            maintenance=rule.maintenance == "hold",
        )
        previous = active.pop(rule.name, None)
        evaluation = machine.evaluate(timing, previous, observation, now, silences, holds)
        record = _persist(store, previous, evaluation)
        _log_events(rule.name, record, evaluation)
        if observation.holds is None:
            result.no_data.append(rule.name)
        if record is not None:
            _tally(result, rule.name, record)
            if evaluation.notify is not None:
                message = alert_message(
                    record, evaluation.notify.value, store.host, now, _began_during(store, record)
                )
                for channel in rule.channels:
                    sender.submit(channel, message)
                result.notifications.append((rule.name, evaluation.notify.value))
            _refresh_alertmanager(store, sender, rule, record, channels, now)
    for orphan in active.values():
        _retire(store, orphan, now)
    send_window_notices(config, store, sender, now)
    return result


def _began_during(store: Store, record: AlertRecord) -> str | None:
    """The window the alert began in, described, or None."""
    if record.maintenance_window is None:
        return None
    try:
        return maintenance.describe(window_store.get_window(store, record.maintenance_window))
    except window_store.WindowNotFound:  # pruned meanwhile
        return f"window #{record.maintenance_window}"


def _persist(
    store: Store, previous: AlertRecord | None, evaluation: Evaluation
) -> AlertRecord | None:
    if evaluation.alert is None:
        return None
    if not evaluation.changed_from(previous):
        return previous
    return alert_store.save_evaluation(store, evaluation)


def _tally(result: RoundResult, name: str, record: AlertRecord) -> None:
    if record.state is AlertState.FIRING:
        result.firing.append(name)
        if record.notifications == 0 and record.maintenance_window is not None:
            result.held.append(name)
    elif record.state is AlertState.PENDING:
        result.pending.append(name)
    elif record.state is AlertState.RESOLVED:
        result.resolved.append(name)


def _log_events(name: str, record: AlertRecord | None, evaluation: Evaluation) -> None:
    if record is None:
        return
    for event in evaluation.events:
        if event.kind is EventKind.NOTIFIED:
            continue
        level = "warning" if event.kind is EventKind.FIRING else "info"
        getattr(log, level)(
            f"alert {event.kind.value}",
            rule=name,
            alert_id=record.id,
            severity=record.severity,
            summary=record.summary,
            detail=event.detail,
        )


def _refresh_alertmanager(
    store: Store,
    sender: Sender,
    rule: Rule,
    record: AlertRecord,
    channels: dict[str, Any],
    now: datetime,
) -> None:
    """Re-post a firing alert to Alertmanager channels before its `endsAt` runs out."""
    if record.state is not AlertState.FIRING or record.notifications == 0 or record.id is None:
        return
    for name in rule.channels:
        channel = channels.get(name)
        if not isinstance(channel, AlertmanagerChannel):
            continue
        last = alert_store.last_delivery(store, record.id, name)
        if last is None or now - last >= channel.resend:
            message = alert_message(
                record, "refresh", store.host, now, _began_during(store, record)
            )
            sender.submit(name, message)


def _retire(store: Store, record: AlertRecord, now: datetime) -> None:
    """An active alert whose rule left the configuration resolves, without notifying."""
    resolved = replace(record, state=AlertState.RESOLVED, resolved_at=now)
    event = AlertEvent(EventKind.RESOLVED, now, "rule removed from the configuration")
    alert_store.save_evaluation(store, Evaluation(resolved, (event,)))
    log.info("alert resolved: its rule is gone", rule=record.rule, alert_id=record.id)
