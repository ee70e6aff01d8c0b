"""Messages for alerts, maintenance runs and tests (what channels are given)."""

from __future__ import annotations

from datetime import datetime

from hostkeeper.channels.base import Message
from hostkeeper.config.alerts import Rule
from hostkeeper.core.alerts import AlertRecord, AlertState


def alert_message(record: AlertRecord, kind: str, host: str, now: datetime) -> Message:
    return Message(
        kind=kind,
        rule=record.rule,
        severity=record.severity,
        state=record.state.value,
        summary=record.summary or record.rule,
        host=host,
        at=now,
        alert_id=record.id,
        value=record.value,
        starts_at=record.fired_at,
        ends_at=record.resolved_at if record.state is AlertState.RESOLVED else None,
    )


def test_message(rule: Rule, host: str, now: datetime) -> Message:
    condition = rule.when or (
        f"check {rule.check} in {', '.join(s.value for s in rule.states)}"
        if rule.check
        else f"{rule.metric} above baseline by {rule.above_baseline:g} sd"
    )
    return Message(
        kind="test",
        rule=rule.name,
        severity=rule.severity.value,
        state="test",
        summary=f"TEST of rule {rule.name} ({condition}); no action needed",
        host=host,
        at=now,
    )


MAINTENANCE_SEVERITY = {
    "start": "info",
    "success": "info",
    "failure": "warning",
    "wait": "info",
    "wait_timeout": "warning",
}


def maintenance_message(
    procedure: str,
    event: str,
    host: str,
    now: datetime,
    summary: str,
    details: dict[str, str] | None = None,
) -> Message:
    return Message(
        kind="maintenance",
        rule=procedure,
        severity=MAINTENANCE_SEVERITY.get(event, "info"),
        state=event,
        summary=summary,
        host=host,
        at=now,
        details=details or {},
    )
