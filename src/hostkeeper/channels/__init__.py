"""Notification channels: log, email, webhook, Alertmanager, command.

Each channel module has `send(channel_config, message) -> str` (a line describing the
delivery) that raises `DeliveryError(transient=...)`. `deliver` picks the module by the
channel's `type`; the delivery worker (channels.delivery) retries transient failures.
"""

from __future__ import annotations

import importlib
from typing import Any

from hostkeeper.channels.base import DeliveryError, Message, permanent

MODULES = {
    "log": "hostkeeper.channels.log",
    "email": "hostkeeper.channels.email",
    "webhook": "hostkeeper.channels.webhook",
    "alertmanager": "hostkeeper.channels.alertmanager",
    "command": "hostkeeper.channels.command",
}


def deliver(channel: Any, message: Message) -> str:
    """Send `message` through `channel` (a channel config); raise DeliveryError on failure."""
    module = importlib.import_module(MODULES[channel.type])
    try:
        result: str = module.send(channel, message)
    except DeliveryError:
        raise
    except Exception as error:  # a bug or an unforeseen error: do not retry blindly
        raise permanent(f"{type(error).__name__}: {error}") from error
    return result


def wants(channel: Any, message: Message) -> bool:
    """Whether `channel` carries `message` (some channels skip some kinds)."""
    module = importlib.import_module(MODULES[channel.type])
    check = getattr(module, "wants", None)
    return True if check is None else bool(check(message))


__all__ = ["DeliveryError", "Message", "deliver", "wants"]
