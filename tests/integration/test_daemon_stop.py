"""SIGTERM within shutdown_timeout, and runs left open by a daemon that was killed."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from notify_socket import NotifySocket

from conftest import DaemonFactory, Site, SleepMarker, wait_until


def _procedure(name: str, schedule: str, *steps: str) -> str:
    lines = [f"{name}:", f"  schedule: {schedule}", "  steps:"]
    lines += [f"    - run: {argv}" for argv in steps]
    return "\n".join(lines) + "\n"


def _running_run(site: Site, procedure: str) -> dict[str, Any] | None:
    return next((r for r in site.runs(procedure) if r["status"] == "running"), None)


def _run_by_id(site: Site, procedure: str, run_id: int) -> dict[str, Any]:
    return next(r for r in site.runs(procedure) if r["id"] == run_id)


def test_sigterm_aborts_a_long_step_after_shutdown_timeout_and_exits_0(
    site: Site,
    start_daemon: DaemonFactory,
    notify: NotifySocket,
    sleep_marker: Callable[[int], SleepMarker],
) -> None:
    sleep = sleep_marker(30)
    site.write_config(
        _procedure("slow", "{every: 1s}", sleep.argv_yaml, '["true"]'), shutdown_timeout="1s"
    )
    daemon = start_daemon()
    notify.wait_key("READY", "1")
    run = wait_until(lambda: _running_run(site, "slow"), what="a running run of slow")
    wait_until(sleep.processes, what="the sleep step's process")

    signalled = time.monotonic()
    daemon.send(signal.SIGTERM)
    _, stopping = notify.wait_key("STOPPING", "1")
    code = daemon.wait(timeout=20)
    took = time.monotonic() - signalled

    assert code == 0
    assert 0.9 < took < 10.0, took
    assert stopping.status == "stopping; waiting up to 1s for slow"
    assert sleep.processes() == []
    record = _run_by_id(site, "slow", run["id"])
    assert record["status"] == "aborted"
    assert record["finished_at"] is not None
    first, second = record["steps"]
    assert first["status"] == "aborted"
    assert "shutting down" in first["error"]
    assert second["status"] == "skipped"
    assert [r for r in site.runs("slow") if r["status"] == "running"] == []
    assert any(e.get("event") == "stopped" for e in daemon.events())


def test_sigterm_lets_a_short_step_finish_within_shutdown_timeout(
    site: Site,
    start_daemon: DaemonFactory,
    notify: NotifySocket,
    sleep_marker: Callable[[int], SleepMarker],
) -> None:
    sleep = sleep_marker(2)
    site.write_config(
        _procedure("short", "{every: 1s}", sleep.argv_yaml, '["true"]'), shutdown_timeout="10s"
    )
    daemon = start_daemon()
    notify.wait_key("READY", "1")
    # The daemon logs when the step starts; the CLI would be too slow to catch it.
    started = daemon.wait_for_event(
        lambda e: e.get("event") == "step started" and e.get("procedure") == "short"
    )

    daemon.send(signal.SIGTERM)
    _, stopping = notify.wait_key("STOPPING", "1")
    code = daemon.wait(timeout=20)

    assert code == 0
    assert stopping.status == "stopping; waiting up to 10s for short"
    assert sleep.processes() == []
    record = _run_by_id(site, "short", started["run_id"])
    assert record["status"] == "succeeded", record
    assert [s["status"] for s in record["steps"]] == ["succeeded", "succeeded"]
    sleep_step = record["steps"][0]
    took = datetime.fromisoformat(sleep_step["finished_at"]) - datetime.fromisoformat(
        sleep_step["started_at"]
    )
    assert took.total_seconds() >= 1.9
    assert [r for r in site.runs("short") if r["status"] == "running"] == []


def test_a_run_left_running_by_a_killed_daemon_is_aborted_at_next_start(
    site: Site,
    start_daemon: DaemonFactory,
    notify: NotifySocket,
    sleep_marker: Callable[[int], SleepMarker],
) -> None:
    sleep = sleep_marker(30)
    site.write_config(_procedure("slow", "{every: 1s}", sleep.argv_yaml))
    crashed = start_daemon()
    notify.wait_key("READY", "1")
    run = wait_until(lambda: _running_run(site, "slow"), what="a running run of slow")
    wait_until(sleep.processes, what="the sleep step's process")

    crashed.process.kill()
    assert crashed.wait() == -signal.SIGKILL
    sleep.kill_all()  # what systemd does to the rest of the unit's cgroup
    assert _run_by_id(site, "slow", run["id"])["status"] == "running"
    # Next start: same procedure, but a schedule that does not fire during the test.
    site.write_config(_procedure("slow", "{hour: 3, minute: 0}", sleep.argv_yaml))
    seen = len(notify.messages)
    restarted = start_daemon()
    notify.wait_key("READY", "1", after=seen)

    record = _run_by_id(site, "slow", run["id"])
    assert record["status"] == "aborted"
    assert record["error"] == "hostkeeper stopped before the run finished"
    assert record["finished_at"] is not None
    closed = [e for e in restarted.events() if e.get("event") == "closed an abandoned run"]
    assert [e["run_id"] for e in closed] == [run["id"]]
    assert closed[0]["level"] == "warning"
    assert restarted.stop() == 0
