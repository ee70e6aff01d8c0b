"""`process`: how many processes have `match` in their command line (min/max).

Fewer than `min` or more than `max`: critical. Zombies and hostkeeper's own process are
not counted, nor are processes whose command line cannot be read (kernel threads, or
other users' processes on a hardened /proc when hostkeeper does not run as root).
"""

from __future__ import annotations

import os

import psutil

from hostkeeper.config.checks import ProcessCheck
from hostkeeper.core.health import CheckState, Measurement

TYPE = "process"
CONFIG = ProcessCheck


def measure(check: ProcessCheck, timeout: float) -> Measurement:
    pids = matching_pids(check.match)
    count = len(pids)
    state = CheckState.OK
    bounds = f"min {check.min}" + (f", max {check.max}" if check.max is not None else "")
    if count < check.min or (check.max is not None and count > check.max):
        state = CheckState.CRITICAL
    shown = ", ".join(str(pid) for pid in pids[:5]) + (", ..." if count > 5 else "")
    detail = f"{count} process(es) match {check.match!r} ({bounds})"
    if pids:
        detail += f": pid {shown}"
    return Measurement(state, detail, value=float(count), unit="processes")


def matching_pids(match: str) -> list[int]:
    own = os.getpid()
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            info = process.info
        except psutil.Error:
            continue
        cmdline = info.get("cmdline")
        if not cmdline or process.pid == own or info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        if match in " ".join(cmdline):
            found.append(process.pid)
    return sorted(found)
