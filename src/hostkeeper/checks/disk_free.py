"""`disk_free`: free space on the filesystem holding `path`, in percent."""

from __future__ import annotations

import os

from hostkeeper.checks import CheckUnavailable
from hostkeeper.checks.units import format_bytes
from hostkeeper.config.checks import DiskFreeCheck
from hostkeeper.core.health import Measurement, state_for_low


def measure(check: DiskFreeCheck, timeout: float) -> Measurement:
    try:
        stats = os.statvfs(check.path)
    except OSError as error:
        raise CheckUnavailable(f"cannot read {check.path}: {error.strerror}") from None
    if not stats.f_blocks:
        raise CheckUnavailable(f"{check.path} is on a filesystem that reports no size")
    # f_bavail: what an unprivileged writer can still use, like df's Avail column.
    free = stats.f_bavail * stats.f_frsize
    total = stats.f_blocks * stats.f_frsize
    percent = 100.0 * stats.f_bavail / stats.f_blocks
    return Measurement(
        state_for_low(percent, check.warning, check.critical),
        f"{percent:.1f}% free on {check.path} ({format_bytes(free)} of {format_bytes(total)})",
        value=round(percent, 2),
        unit="%",
    )
