"""What a channel module provides: the contract every entry of channels.MODULES is
checked against when its module is loaded.

A channel type is one module, `hostkeeper.channels.<type>`, its config model (a member
of `config.alerts.Channel`, whose `type` literal is the type's name) and one line in
MODULES. A module may also define `wants(message) -> bool` to skip some kinds of
message (every message is carried otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hostkeeper.channels.base import Message


class ChannelModule(Protocol):
    TYPE: str
    """The channel type, as written in `type:` and listed in MODULES."""
    CONFIG: type[Any]
    """The config model of this type (a `config.alerts.ChannelBase` subclass)."""

    def send(self, channel: Any, message: Message) -> str:
        """Deliver `message` once through `channel` (its config) and return a line that
        describes the delivery. Raise `base.transient(...)` when trying again may help
        (timeout, refused connection, 5xx) and `base.permanent(...)` when it cannot
        (bad address, 4xx); the delivery worker retries only transient failures."""
        ...
