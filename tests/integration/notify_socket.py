"""A stand-in for systemd's notification socket, for tests that run the real daemon.

An AF_UNIX datagram socket bound to a unique abstract address; a thread reads every
datagram and keeps it, parsed into its `KEY=value` lines, with the time it arrived.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    raw: str
    fields: dict[str, str]
    at: float  # time.monotonic() when it arrived

    def has(self, key: str, value: str | None = None) -> bool:
        return key in self.fields and (value is None or self.fields[key] == value)

    @property
    def status(self) -> str | None:
        return self.fields.get("STATUS")


def parse_message(raw: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in raw.split("\n"):
        key, sep, value = line.partition("=")
        if sep:
            fields[key] = value
    return fields


class NotifySocket:
    def __init__(self) -> None:
        self.name = f"hostkeeper-test-{os.getpid()}-{uuid.uuid4().hex}"
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind("\0" + self.name)
        self._socket.settimeout(0.2)
        self._messages: list[Message] = []
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._read, name="notify-socket", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """The value for NOTIFY_SOCKET."""
        return "@" + self.name

    def _read(self) -> None:
        while not self._closing.is_set():
            try:
                data = self._socket.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            raw = data.decode("utf-8", errors="replace")
            message = Message(raw, parse_message(raw), time.monotonic())
            with self._changed:
                self._messages.append(message)
                self._changed.notify_all()

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self._socket.close()

    # -- reading ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        with self._changed:
            return list(self._messages)

    def with_key(self, key: str, value: str | None = None) -> list[Message]:
        return [message for message in self.messages if message.has(key, value)]

    def wait_for(
        self,
        predicate: Callable[[Message], bool],
        timeout: float = 15.0,
        after: int = 0,
        what: str = "a matching notification",
    ) -> tuple[int, Message]:
        """The first message from index `after` on that satisfies `predicate`.

        Returns its index too, so a caller can wait for what comes after it.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(after, len(self._messages)):
                    if predicate(self._messages[index]):
                        return index, self._messages[index]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no {what} within {timeout:g}s; received: "
                        f"{[m.raw for m in self._messages]!r}"
                    )
                self._changed.wait(left)

    def wait_key(
        self, key: str, value: str | None = None, timeout: float = 15.0, after: int = 0
    ) -> tuple[int, Message]:
        return self.wait_for(
            lambda message: message.has(key, value),
            timeout=timeout,
            after=after,
            what=f"{key}={value if value is not None else '*'}",
        )
