"""Idle cost: what the daemon spends while nothing is due, over 60 s (`--quick`: 15 s).

The reference configuration, on a database an earlier start created (as on every start
but the first), with WATCHDOG_USEC set as the unit's WatchdogSec=60 sets it, so the
watchdog loop (store ping, heartbeat check, WATCHDOG=1) is active. After READY and a
short settling pause, CPU (utime+stime from /proc/PID/stat, all threads) is measured
over the window; peak RSS is VmHWM at its end. The first start, which creates the
schema (and so imports Alembic), is measured too: its peak RSS shortly after READY is
what a daemon that migrated keeps until it restarts.
"""

from __future__ import annotations

import time

from bench.floor import import_floor
from bench.harness import Context, Result, Target, stage
from bench.process import CLOCK_TICKS, running_daemon
from bench.site import Site

NAME = "idle"
SUMMARY = "CPU and peak RSS of an idle daemon with the watchdog active"
CPU_TARGET = Target("<", 0.5, "%")
RSS_TARGET = Target("<=", 60.0, "MiB")
WATCHDOG_USEC = 60_000_000  # packaging/systemd/hostkeeper.service: WatchdogSec=60
SETTLE = 2.0


def run(context: Context) -> list[Result]:
    seconds = context.idle_seconds or (15.0 if context.quick else 60.0)
    floor = import_floor(context)
    site = Site.create(context.work_dir, context.reference_config)
    with running_daemon(site, watchdog_usec=WATCHDOG_USEC, label="first") as daemon:
        daemon.wait_ready()  # creates the schema, so the measured start finds a database
        daemon.notify.collect(time.monotonic() + SETTLE)
        first_start_rss = daemon.memory_mib("VmHWM")
    with running_daemon(site, watchdog_usec=WATCHDOG_USEC, label="idle") as daemon:
        daemon.wait_ready()
        daemon.notify.collect(time.monotonic() + SETTLE)
        with stage(f"idle, {seconds:g} s"):
            started = time.monotonic()
            cpu_before = daemon.cpu_seconds()
            on_cpu_before = daemon.on_cpu_seconds()
            daemon.notify.collect(started + seconds)
            cpu_after = daemon.cpu_seconds()
            on_cpu = daemon.on_cpu_seconds() - on_cpu_before
            elapsed = time.monotonic() - started
        peak_rss = daemon.memory_mib("VmHWM")
        rss = daemon.memory_mib("VmRSS")
        threads = int(daemon.status()["Threads"])
        pings = daemon.notify.count("WATCHDOG", "1", since=started)
    cpu = cpu_after - cpu_before
    window = {
        "seconds": round(elapsed, 3),
        "watchdog_usec": WATCHDOG_USEC,
        "on_cpu_seconds_schedstat": round(on_cpu, 6),
    }
    if cpu < 5 / CLOCK_TICKS:
        context.note(
            f"idle: /proc/PID/stat counts CPU in {1000 / CLOCK_TICKS:g} ms ticks; schedstat "
            f"(ns) has the live threads on CPU for {on_cpu * 1000:.1f} ms over {elapsed:.0f} s "
            f"= {on_cpu / elapsed * 100:.3f} % of one core"
        )
    if pings == 0:
        context.note("idle: no WATCHDOG=1 arrived during the window: the watchdog loop is off")
    return [
        Result(NAME, f"CPU seconds over {elapsed:.0f} s", cpu, "s", None, None, window),
        Result(NAME, "CPU, % of one core", cpu / elapsed * 100, "%", None, CPU_TARGET, window),
        Result(
            NAME,
            "peak RSS (VmHWM)",
            peak_rss,
            "MiB",
            floor.rss,
            RSS_TARGET,
            {"threads": threads},
        ),
        Result(
            NAME,
            "peak RSS after a first start (migrates)",
            first_start_rss,
            "MiB",
            floor.rss,
            RSS_TARGET,
            {"settle_seconds": SETTLE},
        ),
        Result(NAME, "RSS at the end (VmRSS)", rss, "MiB", floor.rss, None, {"threads": threads}),
        Result(NAME, "WATCHDOG=1 pings in the window", pings, "", None, None, window),
    ]
