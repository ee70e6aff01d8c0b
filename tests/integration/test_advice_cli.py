"""`thresholds` and `analyze_trends` on twenty minutes of history: no advice, the reason.

A freshly installed host has collected ten-second samples for twenty minutes: plenty of
numbers, but no night, no backup window. The CLI must say that, not tell the operator
to tighten a level or that the CPU falls by thousands of percent a day.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.metrics import write_samples
from hostkeeper.core.metrics import Sample

Cli = Callable[..., subprocess.CompletedProcess[str]]

CHECKS = [
    {"name": "root_disk", "type": "disk_free", "path": "/", "warning": "20%", "critical": "10%"}
]
RULES = [{"name": "cpu_hot", "when": "cpu.percent > 90", "severity": "warning"}]
PROCEDURES = {"trends": {"schedule": {"hour": 4}, "steps": [{"analyze_trends": "7d"}]}}


def _twenty_minutes_of_samples(store: Store) -> None:
    end = time.time() - 5
    batch = []
    for i in range(120):  # every ten seconds
        ts = end - (119 - i) * 10.0
        batch.append(Sample("cpu.percent", ts, 60.0 - i * 0.4))  # cooling after start-up
        batch.append(Sample("disk./.used_percent", ts, 31.0))
        batch.append(Sample("memory.percent", ts, 40.0))
        batch.append(Sample("load.5m", ts, 0.3))
    write_samples(store, batch)


def test_thresholds_on_twenty_minutes_say_not_enough_data(
    cli: Cli, config_file: Callable[..., Path], store: Store
) -> None:
    config = config_file(checks=CHECKS, alerts={"rules": RULES})
    _twenty_minutes_of_samples(store)

    result = cli("--json", "--config", str(config), "thresholds")

    assert result.returncode == 0, result.stderr
    items = {item["name"]: item for item in json.loads(result.stdout)["items"]}
    for name in ("root_disk", "cpu_hot"):
        assert items[name]["verdict"] == "not enough data", items[name]
        assert items[name]["suggested"] is None
        assert items[name]["note"].startswith("not enough data: 20 min of the 24 h needed")
    text = cli("--config", str(config), "thresholds").stdout
    assert "tighten" not in text and "loosen" not in text
    assert "not enough data: 20 min of the 24 h needed, 120 values" in text


def test_analyze_trends_on_twenty_minutes_gives_no_slope(
    cli: Cli, config_file: Callable[..., Path], store: Store
) -> None:
    config = config_file(PROCEDURES)
    _twenty_minutes_of_samples(store)

    result = cli("--config", str(config), "run", "trends")
    runs = cli("--json", "--config", str(config), "runs")

    [step] = json.loads(runs.stdout)[0]["steps"]
    assert "/day" not in step["summary"], step["summary"]
    assert "cpu.percent not enough data: 20 min of the 3 days needed" in step["summary"]
    assert step["status"] == "warning"  # nothing could be fitted
    assert result.returncode == 0, result.stderr
