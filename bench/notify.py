"""A stand-in for systemd's notification socket, read synchronously by the benchmark.

An AF_UNIX datagram socket on a unique abstract address. It is read in the measuring
thread itself, so a READY=1 is timestamped the moment `recv` returns, without a reader
thread's scheduling delay. The kernel queues only a few datagrams per socket
(net.unix.max_dgram_qlen, often 10) and the sender blocks when the queue is full, so a
benchmark keeps reading (`collect`) whenever a daemon is alive.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    fields: dict[str, str]
    at: float  # time.monotonic() when recv returned

    def has(self, key: str, value: str | None = None) -> bool:
        return key in self.fields and (value is None or self.fields[key] == value)


def parse(raw: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in raw.decode("utf-8", errors="replace").split("\n"):
        key, sep, value = line.partition("=")
        if sep:
            fields[key] = value
    return fields


class NotifyTimeout(RuntimeError):
    pass


class NotifySocket:
    def __init__(self) -> None:
        self.name = f"hostkeeper-bench-{os.getpid()}-{uuid.uuid4().hex}"
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind("\0" + self.name)
        self.messages: list[Message] = []

    @property
    def address(self) -> str:
        """The value for NOTIFY_SOCKET."""
        return "@" + self.name

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.close()

    def __enter__(self) -> NotifySocket:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _receive(self, timeout: float) -> Message | None:
        self._socket.settimeout(max(timeout, 0.0001))
        try:
            data = self._socket.recv(65536)
        except TimeoutError:
            return None
        message = Message(parse(data), time.monotonic())
        self.messages.append(message)
        return message

    def collect(self, until: float) -> None:
        """Read everything that arrives until the monotonic time `until`."""
        while (left := until - time.monotonic()) > 0:
            self._receive(left)

    def wait_for(
        self,
        key: str,
        value: str | None = None,
        timeout: float = 30.0,
        alive: Callable[[], bool] = lambda: True,
    ) -> Message:
        """The next message carrying `key` (=`value`); raise after `timeout` or if not alive."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self._receive(min(left, 0.25))
            if message is not None and message.has(key, value):
                return message
            if message is None and not alive():
                raise NotifyTimeout(f"the daemon exited before sending {key}")
        raise NotifyTimeout(f"no {key} within {timeout:g} s")

    def count(self, key: str, value: str | None = None, since: float = 0.0) -> int:
        return sum(1 for m in self.messages if m.at >= since and m.has(key, value))
