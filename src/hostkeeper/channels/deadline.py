"""A total deadline for one delivery attempt.

Socket timeouts bound each read, not the attempt: a peer that drips one byte every
two seconds never trips a three-second timeout. An `AttemptDeadline` remembers the
sockets of the attempt and shuts them down when the deadline passes, so the blocked
read returns at once and the attempt fails as transient.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class AttemptDeadline:
    """`with AttemptDeadline(seconds) as deadline:` ... `deadline.watch(sock)`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._expired = threading.Event()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def expired(self) -> bool:
        return self._expired.is_set()

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock` down when the deadline passes (at once if it already has)."""
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self._expired.set()
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def __enter__(self) -> AttemptDeadline:
        self._timer.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
