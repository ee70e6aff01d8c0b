"""The floor for start-up and footprint: importing the seven packages hostkeeper is built on.

A daemon that imports them cannot start faster or be smaller than this, so start-up
and memory figures are shown as ratios to it. Measured in the same invocation, because
the machine's speed varies from run to run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

from bench.harness import Context, Floor, median, spread, stage
from bench.process import clean_environment

PACKAGES = ("apscheduler", "sdnotify", "psutil", "pydantic", "structlog", "yaml", "sqlalchemy")


@dataclass(frozen=True)
class ImportFloor:
    cpu_seconds: float
    wall_seconds: float
    max_rss_mib: float
    detail: dict[str, object]

    @property
    def cpu(self) -> Floor:
        return Floor(self.cpu_seconds, "s", "CPU of importing the 7 packages")

    @property
    def rss(self) -> Floor:
        return Floor(self.max_rss_mib, "MiB", "peak RSS of importing the 7 packages")


def _import_once() -> tuple[float, float, float]:
    """CPU seconds, wall seconds and peak RSS (MiB) of one `python -c "import ..."`.

    The peak is the child's own VmHWM, printed by the child: rusage's ru_maxrss would
    report the parent's size instead (the child is started with vfork, and Linux keeps the
    larger high-water mark across exec).
    """
    code = (
        "import " + ", ".join(PACKAGES) + "\n"
        "print(next(line.split()[1] for line in open('/proc/self/status') "
        "if line.startswith('VmHWM:')))"
    )
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", code], env=clean_environment(), stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    peak_kib = process.stdout.read().strip()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{code!r} failed with status {process.returncode}")
    return usage.ru_utime + usage.ru_stime, wall, int(peak_kib) / 1024


def measure(context: Context) -> ImportFloor:
    runs = max(context.repeat(full=9, quick=5), 5)
    with stage(f"floor: importing the seven packages, {runs} runs"):
        _import_once()  # warm the page cache and the bytecode
        samples = [_import_once() for _ in range(runs)]
    cpu = [s[0] for s in samples]
    wall = [s[1] for s in samples]
    rss = [s[2] for s in samples]
    return ImportFloor(
        median(cpu),
        median(wall),
        median(rss),
        {"packages": list(PACKAGES), "cpu": spread(cpu), "wall": spread(wall), "rss": spread(rss)},
    )


def import_floor(context: Context) -> ImportFloor:
    """Measured once per invocation, whichever benchmark asks first."""
    floor: ImportFloor = context.memo("import_floor", lambda: measure(context))
    return floor
