"""Messages for alerts, maintenance runs and tests (what channels are given)."""

from __future__ import annotations

from datetime import datetime

from hostkeeper.channels.base import Message
from hostkeeper.config.alerts import Rule
from hostkeeper.core.alerts import AlertRecord, AlertState


def alert_message(
    record: AlertRecord, kind: str, host: str, now: datetime, began_during: str | None = None
) -> Message:
    """The notification of `record`; `began_during` names the maintenance window the
    alert began in (it was held until the window ended), which the summary then says."""
    summary = record.summary or record.rule
    details = {}
    if began_during is not None:
        summary += f" (began during maintenance: {began_during})"
        details["maintenance"] = f"began during {began_during}; held until it ended"
    return Message(
        kind=kind,
        rule=record.rule,
        severity=record.severity,
        state=record.state.value,
        summary=summary,
        host=host,
        at=now,
        alert_id=record.id,
        value=record.value,
        starts_at=record.fired_at,
        ends_at=record.resolved_at if record.state is AlertState.RESOLVED else None,
        details=details,
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


def window_message(
    label: str, event: str, host: str, now: datetime, summary: str, details: dict[str, str]
) -> Message:
    """A maintenance window announced, started or ended (kind `window`)."""
    return Message(
        kind="window",
        rule=label,
        severity="info",
        state=event,
        summary=summary,
        host=host,
        at=now,
        details=details,
    )


def incident_message(
    label: str,
    event: str,
    severity: str,
    host: str,
    now: datetime,
    summary: str,
    details: dict[str, str],
) -> Message:
    """An incident opened or closed (kind `incident`), at the incident's severity."""
    return Message(
        kind="incident",
        rule=label,
        severity=severity,
        state=event,
        summary=summary,
        host=host,
        at=now,
        details=details,
    )
