"""`load`: the 5-minute load average per logical CPU."""

from __future__ import annotations

import os

import psutil

from hostkeeper.checks import CheckUnavailable
from hostkeeper.config.checks import LoadCheck
from hostkeeper.core.health import Measurement, state_for_high

TYPE = "load"
CONFIG = LoadCheck


def measure(check: LoadCheck, timeout: float) -> Measurement:
    try:
        _one, five, _fifteen = os.getloadavg()
    except OSError:
        raise CheckUnavailable("the load average is not available on this system") from None
    cores = psutil.cpu_count(logical=True) or 1
    per_core = five / cores
    return Measurement(
        state_for_high(per_core, check.warning, check.critical),
        f"5-minute load {five:.2f} on {cores} CPUs ({per_core:.2f} per CPU)",
        value=round(per_core, 3),
        unit="per cpu",
    )
