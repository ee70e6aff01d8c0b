"""`type: log`: the notification as a structured event in hostkeeper's own log (journald)."""

from __future__ import annotations

import structlog

from hostkeeper.channels.base import Message
from hostkeeper.config.alerts import LogChannel

TYPE = "log"
CONFIG = LogChannel

log = structlog.get_logger("hostkeeper.notify")

_LEVELS = {"critical": "error", "warning": "warning"}


def send(channel: LogChannel, message: Message) -> str:
    level = (
        "info" if message.kind in ("resolved", "test") else _LEVELS.get(message.severity, "info")
    )
    getattr(log, level)(
        message.subject,
        channel=channel.name,
        notification=message.kind,
        rule=message.rule,
        severity=message.severity,
        state=message.state,
        alert_id=message.alert_id,
        value=message.value,
    )
    return "logged"
