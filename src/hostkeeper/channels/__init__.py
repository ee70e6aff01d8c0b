"""Notification channels: log, email, webhook, Alertmanager, command.

Each channel module (contract: `channels.contract.ChannelModule`) has
`send(channel_config, message) -> str` (a line describing the delivery) that raises
`DeliveryError(transient=...)`. `deliver` picks the module by the channel's `type`; the
delivery worker (channels.delivery) retries transient failures. Adding a channel type is
one module plus one line in MODULES (and its config model); `load` checks the module
against the contract.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, cast

from hostkeeper.channels.base import DeliveryError, Message, permanent
from hostkeeper.core.contracts import check_config_model, check_declared_name, check_member

if TYPE_CHECKING:
    from hostkeeper.channels.contract import ChannelModule

MODULES = {
    "log": "hostkeeper.channels.log",
    "email": "hostkeeper.channels.email",
    "webhook": "hostkeeper.channels.webhook",
    "alertmanager": "hostkeeper.channels.alertmanager",
    "command": "hostkeeper.channels.command",
}


def load_module(channel_type: str) -> ChannelModule:
    """The module of `channel_type`, checked against the ChannelModule contract: it
    provides TYPE, CONFIG and send, TYPE is the name it is registered under and CONFIG
    is the config model whose `type` is that name. Raises KeyError for an unknown type,
    PluginContractError for a module that breaks the contract."""
    from hostkeeper.channels.contract import ChannelModule

    module = importlib.import_module(MODULES[channel_type])
    check_member("channel", channel_type, module, ChannelModule)
    check_declared_name("channel", channel_type, module, "TYPE")
    check_config_model("channel", channel_type, module)
    return cast("ChannelModule", module)


def deliver(channel: Any, message: Message) -> str:
    """Send `message` through `channel` (a channel config); raise DeliveryError on failure."""
    try:
        result: str = load_module(channel.type).send(channel, message)
    except DeliveryError:
        raise
    except Exception as error:  # a bug or an unforeseen error: do not retry blindly
        raise permanent(f"{type(error).__name__}: {error}") from error
    return result


def wants(channel: Any, message: Message) -> bool:
    """Whether `channel` carries `message` (some channels skip some kinds)."""
    check = getattr(load_module(channel.type), "wants", None)
    return True if check is None else bool(check(message))


__all__ = ["DeliveryError", "Message", "deliver", "wants"]
