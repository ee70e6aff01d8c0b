"""Logging: one structlog pipeline for our events and for stdlib loggers.

Under journald (JOURNAL_STREAM names our stderr) each line is one JSON object prefixed
with the sd-daemon `<N>` priority, so `journalctl -p err` filters by severity; JSON
written anywhere else has no prefix. On a terminal the console renderer is used.
APScheduler, SQLAlchemy and Alembic log through the same pipeline at WARNING and above.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

import structlog

from hostkeeper.core.redact import redact_argv, redact_text, redact_value

# syslog priorities, as sd-daemon(3) prefixes expect them
_PRIORITIES = {"critical": 2, "error": 3, "warning": 4, "info": 6, "debug": 7}
_LIBRARY_LOGGERS = ("apscheduler", "sqlalchemy", "alembic")


def under_journald() -> bool:
    """Whether stderr is connected to the journal (systemd sets JOURNAL_STREAM=dev:ino)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in stream.split(":"))
        stat = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return False
    return stat.st_dev == device and stat.st_ino == inode


def choose_format(log_format: str) -> str:
    if log_format != "auto":
        return log_format
    if under_journald():
        return "json"
    return "console" if sys.stderr.isatty() else "json"


def _json(_logger: Any, _method: str, event: dict[str, Any]) -> str:
    return json.dumps(event, default=str, separators=(",", ":"))


def _journal_json(logger: Any, method: str, event: dict[str, Any]) -> str:
    priority = _PRIORITIES.get(event.get("level", method), 6)
    return f"<{priority}>" + _json(logger, method, event)


def redact_event(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """The last processor before rendering: no URL credential, token or secret-looking
    argument reaches the journal, whoever logged it (see core.redact)."""
    return {key: _redacted(value) for key, value in event.items()}


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return redact_argv(value)
    if isinstance(value, dict):
        return redact_value(value)
    return value


def configure_logging(log_format: str = "auto", level: str = "info") -> None:
    """Set up structlog and the stdlib root logger; safe to call again on reload."""
    chosen = choose_format(log_format)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if chosen == "json":
        shared.append(structlog.processors.format_exc_info)
    shared.append(redact_event)  # after the traceback is text, so it is redacted too
    if chosen == "json":
        # the `<N>` prefix means something to journald only; elsewhere (a file, a pipe
        # into a log shipper) every line stays plain JSON
        renderer: Any = _journal_json if under_journald() else _json
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
