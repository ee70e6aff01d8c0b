"""The daemon collects metrics continuously at metrics.interval, and a reload applies a new
interval, without any procedure running."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

from notify_socket import NotifySocket

from conftest import DaemonFactory, Site, wait_until

NIGHTLY = """\
nightly:
  schedule: {hour: 3, minute: 0}
  steps:
    - run: ["true"]
"""


def _metrics(interval: str) -> str:
    return f"metrics:\n  interval: {interval}\n  collect: [cpu, memory, load, disk]\n"


def _points(site: Site, metric: str) -> list[dict[str, Any]]:
    result = site.cli("--json", "metrics", "show", metric, "--since", "10m", check=False)
    if result.returncode != 0:
        return []
    points: list[dict[str, Any]] = json.loads(result.stdout)["points"]
    return points


def _at_least(count: int, points: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    return points if len(points) >= count else None


def test_daemon_collects_every_interval_and_reload_applies_a_new_one(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(NIGHTLY, preamble=_metrics("1s"))
    daemon = start_daemon()
    ready, _ = notify.wait_key("READY", "1")

    points = wait_until(
        lambda: _at_least(3, _points(site, "cpu.percent")),
        timeout=20,
        what="three rounds of cpu.percent samples",
    )
    times = [point["at"] for point in points]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert all(0.0 <= point["value"] <= 100.0 for point in points)
    status = json.loads(site.cli("--json", "status").stdout)
    assert {"cpu.percent", "memory.percent", "load.5m", "disk./.used_percent"} <= set(
        status["metrics"]["values"]
    )
    assert site.runs() == []  # collection is not a procedure

    site.write_config(NIGHTLY, preamble=_metrics("1h"))
    daemon.send(signal.SIGHUP)
    notify.wait_key("READY", "1", after=ready + 1)
    event = daemon.wait_for_event(lambda e: e.get("event") == "metrics collection reconfigured")
    assert event["interval"] == 3600.0
    time.sleep(1.5)  # a round that was already under way may still land
    settled = len(_points(site, "cpu.percent"))
    time.sleep(3.0)
    assert len(_points(site, "cpu.percent")) == settled, "samples kept coming every second"

    assert daemon.stop() == 0
    assert len(_points(site, "memory.percent")) >= 3
