"""`disk_free`: free space on the filesystem holding `path`, in percent, as `df` counts it.

Free is what an unprivileged writer can still use (df's Avail, `f_bavail`), as a share
of used + available: exactly 100 minus df's Use% column, and 100 minus psutil's (and so
the `disk.PATH.used_percent` metric's) percentage. Blocks reserved for root count as
neither, so a filesystem with a large reservation is not reported as fuller than df
shows it.
"""

from __future__ import annotations

import os

from hostkeeper.checks import CheckUnavailable
from hostkeeper.checks.units import format_bytes
from hostkeeper.config.checks import DiskFreeCheck
from hostkeeper.core.health import Measurement, state_for_low

TYPE = "disk_free"
CONFIG = DiskFreeCheck


def usage(stats: os.statvfs_result) -> tuple[int, int, float | None]:
    """(used bytes, available bytes, free percent) as df counts them; the percent is
    None for a filesystem that reports no size. Shared with the `disk_free`
    precondition so both agree."""
    used = (stats.f_blocks - stats.f_bfree) * stats.f_frsize
    available = stats.f_bavail * stats.f_frsize
    if used + available <= 0:
        return used, available, None
    return used, available, 100.0 * available / (used + available)


def measure(check: DiskFreeCheck, timeout: float) -> Measurement:
    try:
        stats = os.statvfs(check.path)
    except OSError as error:
        raise CheckUnavailable(f"cannot read {check.path}: {error.strerror}") from None
    used, available, percent = usage(stats)
    if percent is None:
        raise CheckUnavailable(f"{check.path} is on a filesystem that reports no size")
    return Measurement(
        state_for_low(percent, check.warning, check.critical),
        f"{percent:.1f}% free on {check.path} ({format_bytes(available)} available, "
        f"{format_bytes(used)} used)",
        value=round(percent, 2),
        unit="%",
    )
