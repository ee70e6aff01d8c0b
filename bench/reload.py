"""Reload latency: SIGHUP to READY=1, as `systemctl reload hostkeeper` waits for it.

The daemon runs the reference configuration. Two kinds of reload, each the median of
N: the file unchanged (read, validate, diff, nothing to swap), and one procedure's
schedule changed (its job is replaced), alternating between two hours so every reload
has a change. A reload that fails (STATUS says so) is an error, not a figure.
"""

from __future__ import annotations

import os
import signal
import time

from bench.harness import Context, Result, Target, median, spread, stage
from bench.process import Daemon, DaemonFailed, running_daemon
from bench.site import Site

NAME = "reload"
SUMMARY = "SIGHUP to READY=1 with the reference configuration"
RELOAD_TARGET = Target("<=", 0.2, "s")
TIMEOUT = 30.0
PAUSE = 0.1  # between reloads, so each starts from an idle loop
SCHEDULES = ("schedule: {hour: 2, minute: 0}", "schedule: {hour: 3, minute: 0}")


def reload_once(daemon: Daemon) -> float:
    """Seconds from SIGHUP to the READY=1 that follows RELOADING=1."""
    sent = time.monotonic()
    os.kill(daemon.pid, signal.SIGHUP)
    daemon.notify.wait_for("RELOADING", "1", timeout=TIMEOUT, alive=daemon.alive)
    ready = daemon.notify.wait_for("READY", "1", timeout=TIMEOUT, alive=daemon.alive)
    status = ready.fields.get("STATUS", "")
    if "reload failed" in status:
        raise DaemonFailed(f"the reload failed: {status}\n{daemon.log_tail()}")
    daemon.notify.collect(time.monotonic() + PAUSE)
    return ready.at - sent


def run(context: Context) -> list[Result]:
    runs = context.repeat(full=20, quick=8)
    site = Site.create(context.work_dir, context.reference_config)
    unchanged: list[float] = []
    changed: list[float] = []
    with running_daemon(site, label="reload") as daemon:
        daemon.wait_ready()
        reload_once(daemon)  # warm-up: first use of the reload path
        with stage(f"reload, unchanged configuration, {runs} reloads"):
            unchanged = [reload_once(daemon) for _ in range(runs)]
        with stage(f"reload, one schedule changed, {runs} reloads"):
            for index in range(runs):
                old, new = SCHEDULES if index % 2 == 0 else reversed(SCHEDULES)
                site.rewrite_config(old, new)
                changed.append(reload_once(daemon))
    return [
        Result(
            NAME,
            "SIGHUP to READY, config unchanged",
            median(unchanged),
            "s",
            None,
            RELOAD_TARGET,
            spread(unchanged),
        ),
        Result(
            NAME,
            "SIGHUP to READY, one schedule changed",
            median(changed),
            "s",
            None,
            RELOAD_TARGET,
            spread(changed),
        ),
    ]
