"""`hostkeeper metrics ...` and `hostkeeper baseline ...` as an operator runs them."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from conftest import PYTHON, Site, clean_environment
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.metrics import write_samples
from hostkeeper.config import load_config
from hostkeeper.core.metrics import Sample
from hostkeeper.services.store_setup import prepare_store

NIGHTLY = """\
nightly:
  schedule: {hour: 3, minute: 0}
  steps:
    - run: ["true"]
"""
BASELINES = """\
baselines:
  min_samples: 100
  metrics: [cpu.percent, load.5m]
  drift_threshold: 25%
  keep_versions: 5
"""


class Operator:
    """Runs `hostkeeper --config SITE_CONFIG ...` as a subprocess."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.state_dir = site.state_dir

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PYTHON, "-m", "hostkeeper", "--config", str(self.site.config), *args],
            env=clean_environment(),
            cwd=self.site.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check:
            assert result.returncode == 0, f"hostkeeper {' '.join(args)}: {result.stderr}"
        return result


@pytest.fixture
def configured(site: Site) -> Operator:
    site.write_config(NIGHTLY, preamble=BASELINES)
    return Operator(site)


@pytest.fixture
def store(configured: Operator) -> Iterator[Store]:
    opened = prepare_store(load_config(str(configured.site.config)).config)  # this host
    yield opened
    opened.dispose()


def seed(store: Store, metric: str, values: Sequence[float], step: float = 10.0) -> None:
    end = time.time() - 5
    write_samples(
        store,
        [Sample(metric, end - step * (len(values) - 1 - i), v) for i, v in enumerate(values)],
    )


def around(mean: float, count: int) -> list[float]:
    return [round(mean + ((i * 37) % 21 - 10) / 10, 1) for i in range(count)]


def _json(site: Operator, *args: str) -> Any:
    return json.loads(site.cli("--json", *args).stdout)


# -- metrics -------------------------------------------------------------------------------


def test_collect_then_list_show_and_status(configured: Operator) -> None:
    collected = configured.cli("metrics", "collect")
    assert collected.stdout.startswith("collect_metrics: succeeded:")
    listing = _json(configured, "metrics", "list")
    assert {"cpu.percent", "memory.percent", "load.5m", "disk./.used_percent"} <= set(listing)
    shown = _json(configured, "metrics", "show", "disk./.used_percent")
    assert shown["resolution"] == "raw"
    [point] = shown["points"]
    assert point["value"] == listing["disk./.used_percent"]["value"]
    text = configured.cli("metrics", "show", "memory.percent", "--since", "30m").stdout
    assert text.startswith("memory.percent on ")
    assert "(raw, 1 values)" in text
    status = configured.cli("status").stdout
    assert "metrics (" in status and "cpu.percent" in status


def test_show_an_unknown_metric_lists_the_known_ones(configured: Operator, store: Store) -> None:
    seed(store, "load.5m", [1.0])
    result = configured.cli("metrics", "show", "load.5", check=False)
    assert result.returncode == 1
    assert "no metric named 'load.5'" in result.stderr
    assert "recorded: load.5m" in result.stderr
    bad = configured.cli("metrics", "show", "load.5m", "--since", "yesterday", check=False)
    assert bad.returncode == 1
    assert "--since" in bad.stderr


def test_show_reads_rollups_for_long_spans(configured: Operator, store: Store) -> None:
    # Two days of one sample a minute, then a collection round rolls them up.
    seed(store, "load.5m", [1.0 + (i % 60) / 100 for i in range(2 * 1440)], step=60.0)
    configured.cli("metrics", "collect")
    week = _json(configured, "metrics", "show", "load.5m", "--since", "3d")
    assert week["resolution"] == "5m"
    complete = [p for p in week["points"] if p["count"] == 5]
    assert len(complete) >= 500
    assert all(p["min"] <= p["value"] <= p["max"] for p in week["points"])
    hourly = _json(configured, "metrics", "show", "load.5m", "--since", "3d", "--resolution", "1h")
    assert hourly["resolution"] == "1h"
    assert {p["count"] for p in hourly["points"][1:-1]} == {60}
    raw = _json(configured, "metrics", "show", "load.5m", "--since", "1h")
    assert raw["resolution"] == "raw"
    assert len(raw["points"]) == 60 + 1  # the seeded last hour and the collected round


# -- baselines -----------------------------------------------------------------------------


def _versions(site: Operator) -> dict[int, str]:
    return {v["version"]: v["status"] for v in _json(site, "baseline", "show")["versions"]}


def test_baseline_lifecycle(configured: Operator, store: Store) -> None:
    empty = configured.cli("baseline", "show").stdout
    assert "no baseline versions" in empty
    assert "no candidate" in configured.cli("baseline", "validate").stdout

    seed(store, "cpu.percent", around(20.0, 50))
    short = configured.cli("baseline", "update")  # exits 0: a warning, not a failure
    assert short.stdout.startswith("baseline update: warning: baseline not updated")
    assert _versions(configured) == {}

    seed(store, "cpu.percent", around(20.0, 300))
    seed(store, "load.5m", around(2.0, 300))
    assert "v1 written as candidate" in configured.cli("baseline", "update").stdout
    assert "v1 validated" in configured.cli("baseline", "validate").stdout
    shown = _json(configured, "baseline", "show")
    assert shown["shown"]["version"] == 1
    assert shown["stats"]["cpu.percent"]["n"] == 350
    assert set(shown["stats"]["cpu.percent"]) >= {"mean", "stddev", "p50", "p95", "p99", "n"}

    seed(store, "cpu.percent", around(90.0, 3000))  # the mean more than triples
    update = _json(configured, "baseline", "update", "--backup-previous")
    backup = Path(update["details"]["backup"])
    assert backup.parent == configured.state_dir / "baselines"
    assert json.loads(backup.read_text())["version"] == 1
    rejected = configured.cli("baseline", "validate", check=False)
    assert rejected.returncode == 1
    assert "baseline v2 rejected: cpu.percent: mean moved" in rejected.stdout
    assert _versions(configured) == {1: "active", 2: "rejected"}
    table = configured.cli("baseline", "show").stdout
    assert "v1 (active):" in table and "cpu.percent" in table

    assert configured.cli("baseline", "rollback", check=False).returncode == 1  # nothing earlier
    forced = configured.cli("baseline", "rollback", "2")
    assert "v2 is active again (v1 rolled back)" in forced.stdout
    assert _versions(configured) == {1: "rolled_back", 2: "active"}
    back = configured.cli("baseline", "rollback", "1")
    assert "v1 is active again" in back.stdout
    missing = configured.cli("baseline", "rollback", "9", check=False)
    assert missing.returncode == 1
    assert "no baseline version 9" in missing.stdout
    assert configured.cli("baseline", "show", "9", check=False).returncode == 1
