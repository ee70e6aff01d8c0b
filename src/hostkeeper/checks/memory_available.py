"""`memory_available`: memory available to new work without swapping, in percent."""

from __future__ import annotations

import psutil

from hostkeeper.checks.units import format_bytes
from hostkeeper.config.checks import MemoryAvailableCheck
from hostkeeper.core.health import Measurement, state_for_low

TYPE = "memory_available"
CONFIG = MemoryAvailableCheck


def measure(check: MemoryAvailableCheck, timeout: float) -> Measurement:
    memory = psutil.virtual_memory()
    # `available` (MemAvailable) counts reclaimable cache, unlike `free`: it is what
    # the kernel could hand out now without swapping.
    percent = 100.0 * memory.available / memory.total
    return Measurement(
        state_for_low(percent, check.warning, check.critical),
        f"{percent:.1f}% available ({format_bytes(memory.available)} of "
        f"{format_bytes(memory.total)})",
        value=round(percent, 2),
        unit="%",
    )
