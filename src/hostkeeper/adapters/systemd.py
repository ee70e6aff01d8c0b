"""sd_notify(3) through sdnotify: READY, STATUS, WATCHDOG, RELOADING, STOPPING.

Without NOTIFY_SOCKET (a terminal, a test) every call is a cheap no-op.
"""

from __future__ import annotations

import os
import time
from typing import Any


class Notifier:
    def __init__(self) -> None:
        self.socket_path = os.environ.get("NOTIFY_SOCKET")
        self._notifier: Any = None
        if self.socket_path:
            from sdnotify import SystemdNotifier

            self._notifier = SystemdNotifier()

    @property
    def enabled(self) -> bool:
        return self._notifier is not None

    def send(self, *lines: str) -> None:
        if self._notifier is not None:
            # sdnotify encodes as Latin-1 and silently drops a message it cannot encode
            # (a whole READY=1 for one Cyrillic letter in STATUS=); systemd reads UTF-8,
            # so hand it the UTF-8 bytes in the form that round-trips through Latin-1.
            text = "\n".join(lines)
            self._notifier.notify(text.encode("utf-8").decode("latin-1"))

    def ready(self, status: str) -> None:
        self.send("READY=1", f"STATUS={one_line(status)}")

    def status(self, status: str) -> None:
        self.send(f"STATUS={one_line(status)}")

    def reloading(self, started_usec: int | None = None) -> None:
        """RELOADING=1 stamped with when the reload began (`monotonic_usec()`)."""
        stamp = monotonic_usec() if started_usec is None else started_usec
        self.send("RELOADING=1", f"MONOTONIC_USEC={stamp}")

    def stopping(self, status: str = "stopping") -> None:
        self.send("STOPPING=1", f"STATUS={one_line(status)}")

    def watchdog(self) -> None:
        self.send("WATCHDOG=1")

    def extend_timeout(self, seconds: float) -> None:
        self.send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}")


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds: one clock for every process of this boot, the
    one systemd compares reload stamps with."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def watchdog_interval() -> float | None:
    """Seconds systemd allows between WATCHDOG=1 pings, or None when not watched."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1_000_000
    except ValueError:
        return None


def one_line(status: str) -> str:
    """A newline would end STATUS= and start another assignment: keep the first line."""
    return status.strip().splitlines()[0] if status.strip() else ""
