"""Running checks concurrently, each within its own timeout.

Every check runs in its own daemon thread and is given its `timeout` (capped by the
caller's deadline). A check that has not returned by then plus a short grace is
recorded as `unknown` ("did not finish within ...") and left behind: a check stuck in
the kernel (statvfs on a dead NFS mount) cannot be interrupted, but it cannot hold up
the other checks, the step or the exit of `hostkeeper check` either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from hostkeeper.checks import measure
from hostkeeper.core.health import CheckResult, Measurement

# Time a check may overrun its own timeout (its socket or subprocess timeout fires
# first and says more than "did not finish") before it is given up on.
GRACE_SECONDS = 1.0
_POLL_SECONDS = 0.2


class _Slot:
    def __init__(self, check: Any, timeout: float) -> None:
        self.check = check
        self.timeout = timeout
        self.done = threading.Event()
        self.measurement: Measurement | None = None
        self.started = time.monotonic()
        self.duration: float | None = None
        self.thread = threading.Thread(target=self._run, name=f"check-{check.name}", daemon=True)

    def skip(self, reason: str) -> None:
        self.measurement = Measurement.unknown(reason)
        self.duration = 0.0
        self.done.set()

    def _run(self) -> None:
        self.started = time.monotonic()
        try:
            self.measurement = measure(self.check, self.timeout)
        except Exception as error:  # one broken check must not take the others down
            self.measurement = Measurement.unknown(f"check failed: {type(error).__name__}: {error}")
        finally:
            self.duration = time.monotonic() - self.started
            self.done.set()


def run_checks(
    checks: Sequence[Any],
    *,
    cancel: threading.Event | None = None,
    deadline: float | None = None,
    checked_at: datetime | None = None,
) -> list[CheckResult]:
    """Run `checks` (config models) at once; a result per check, in the given order.

    `deadline` is a time.monotonic() value no check may run past; `cancel` stops the
    waiting early, and the checks not finished by then are unknown. Every result carries
    `checked_at` (default: now), the time of the round.
    """
    checked_at = checked_at or datetime.now(UTC)
    slots = []
    for check in checks:
        timeout = check.timeout.total_seconds()
        if deadline is not None:
            timeout = max(min(timeout, deadline - time.monotonic()), 0.0)
        slot = _Slot(check, timeout)
        if timeout <= 0:
            slot.skip("not run: no time left before the step's timeout")
        slots.append(slot)
    for slot in slots:
        if not slot.done.is_set():
            slot.thread.start()
    for slot in slots:
        _wait(slot, cancel)
    return [_result(slot, checked_at, cancel) for slot in slots]


def _wait(slot: _Slot, cancel: threading.Event | None) -> None:
    give_up_at = slot.started + slot.timeout + GRACE_SECONDS
    while not slot.done.is_set():
        remaining = give_up_at - time.monotonic()
        if remaining <= 0 or (cancel is not None and cancel.is_set()):
            return
        slot.done.wait(min(remaining, _POLL_SECONDS) if cancel is not None else remaining)


def _result(slot: _Slot, checked_at: datetime, cancel: threading.Event | None) -> CheckResult:
    measurement = slot.measurement if slot.done.is_set() else None
    if measurement is None:
        if cancel is not None and cancel.is_set():
            reason = "stopped before it finished: hostkeeper is shutting down"
        else:
            reason = f"did not finish within its timeout of {slot.timeout:g}s"
        measurement = Measurement.unknown(reason)
    duration = slot.duration if slot.duration is not None else time.monotonic() - slot.started
    return CheckResult(
        name=slot.check.name,
        type=slot.check.type,
        state=measurement.state,
        value=measurement.value,
        unit=measurement.unit,
        detail=measurement.detail,
        duration=duration,
        checked_at=checked_at,
    )
