"""`collect_metrics`, `resource_report` and `analyze_trends` through the real engine, on this
host, with real files under tmp_path and a real SQLite store."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.metrics import latest_values, metric_names, write_samples
from hostkeeper.config import Config
from hostkeeper.core.metrics import Sample
from hostkeeper.core.runs import StepStatus
from hostkeeper.procedures.engine import Engine

DAY = 86400.0


@pytest.fixture
def run_step(
    make_config: Callable[..., Config], store: Store
) -> Callable[..., run_store.StepRecord]:
    def run(step: Any, dry_run: bool = False, **sections: Any) -> run_store.StepRecord:
        config = make_config({"p": {"schedule": {"hour": 2}, "steps": [step]}}, **sections)
        Engine(lambda: config, store).run("p", dry_run=dry_run)
        (record,) = run_store.list_runs(store, "p", limit=1)
        return record.steps[0]

    return run


# -- collect_metrics -----------------------------------------------------------------------


def test_collect_metrics_stores_gauges_and_rates(run_step: Any, store: Store) -> None:
    step = run_step("collect_metrics")
    assert step.status is StepStatus.SUCCEEDED, step.error
    names = set(metric_names(store))
    assert {"cpu.percent", "memory.percent", "load.5m", "disk./.used_percent"} <= names
    assert step.details is not None
    assert step.details["samples"]["cpu.percent"] == latest_values(store)["cpu.percent"].value
    assert "samples stored" in (step.summary or "")


def test_collect_metrics_follows_the_configured_groups_and_disks(
    run_step: Any, store: Store, tmp_path: Path
) -> None:
    step = run_step(
        "collect_metrics", metrics={"collect": ["disk", "swap"], "disks": [str(tmp_path)]}
    )
    assert step.status is StepStatus.SUCCEEDED
    assert metric_names(store) == sorted(
        [
            f"disk.{tmp_path}.free_bytes",
            f"disk.{tmp_path}.used_percent",
            "swap.percent",
            "swap.used_bytes",
        ]
    )


def test_collect_metrics_warns_about_a_missing_disk(
    run_step: Any, store: Store, tmp_path: Path
) -> None:
    missing = tmp_path / "gone"
    step = run_step("collect_metrics", metrics={"collect": ["disk"], "disks": ["/", str(missing)]})
    assert step.status is StepStatus.WARNING
    assert str(missing) in (step.summary or "")
    assert metric_names(store) == ["disk./.free_bytes", "disk./.used_percent"]


def test_collect_metrics_dry_run_stores_nothing(run_step: Any, store: Store) -> None:
    step = run_step("collect_metrics", dry_run=True)
    assert step.status is StepStatus.SKIPPED
    assert metric_names(store) == []


def test_collect_metrics_rolls_up_and_expires(run_step: Any, store: Store) -> None:
    hour = (time.time() - 3 * DAY) // 3600 * 3600  # one whole hour, three days ago
    old = [Sample("load.5m", hour + i * 60, 1.0) for i in range(60)]
    write_samples(store, old)
    step = run_step(
        "collect_metrics",
        metrics={"collect": ["load"], "retention": {"raw": "1d", "5m": "2d", "1h": "30d"}},
    )
    assert step.status is StepStatus.SUCCEEDED
    assert step.details is not None
    assert step.details["rolled_up"] == {"5m": 12, "1h": 1}
    assert step.details["expired"]["raw"] == 60
    assert step.details["expired"]["5m"] == 12  # older than 2 days, already in hourly form


# -- resource_report -----------------------------------------------------------------------


def _write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))


def test_resource_report_records_sizes_and_growth(
    run_step: Any, store: Store, tmp_path: Path
) -> None:
    app_logs = tmp_path / "app" / "logs"
    _write(app_logs / "app.log", 100_000)
    _write(tmp_path / "state" / "blob", 10_000)
    sections = {
        "logs": [{"name": "app", "paths": [f"{app_logs}/*.log"], "rotate": "daily"}],
        "cleanup": [{"name": "tmp", "path": str(tmp_path / "missing"), "delete_after": "1d"}],
    }
    first = run_step("resource_report", **sections)
    assert first.status is StepStatus.SUCCEEDED, first.summary
    report = first.details
    assert report is not None
    by_path = {d["path"]: d for d in report["directories"]}
    # log_dir holds the run's own per-day maintenance log
    assert set(by_path) == {str(tmp_path / "state"), str(tmp_path / "log"), str(app_logs)}
    assert by_path[str(app_logs)]["growth_bytes"] is None  # nothing to compare with yet
    assert str(tmp_path / "missing") in report["missing_paths"]
    assert report["processes"]["by_memory"][0]["rss_bytes"] > 0
    assert [fs["path"] for fs in report["filesystems"]] == ["/"]
    written = json.loads(Path(report["report"]).read_text())
    assert written["directories"] == report["directories"]

    _write(app_logs / "app.log.1", 300_000)
    second = run_step("resource_report", **sections)
    logs = next(d for d in second.details["directories"] if d["path"] == str(app_logs))
    allocated = os.lstat(app_logs / "app.log.1").st_blocks * 512
    assert logs["growth_bytes"] == allocated
    assert logs["previous_size_bytes"] == by_path[str(app_logs)]["size_bytes"]
    assert f"most growth {app_logs}" in (second.summary or "")
    largest = [d["path"] for d in second.details["largest_directories"]]
    assert str(app_logs) not in largest  # measured roots are listed above, not here


def test_resource_report_keeps_sizes_as_long_as_hourly_rollups(
    run_step: Any, store: Store, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from hostkeeper.adapters.store.metrics import previous_sizes, record_sizes

    now = datetime.now(UTC)
    state = str(tmp_path / "state")
    record_sizes(store, {state: 1}, now - timedelta(days=40))
    record_sizes(store, {state: 2}, now - timedelta(days=20))
    step = run_step("resource_report", metrics={"retention": {"1h": "30d"}})
    assert step.status is StepStatus.SUCCEEDED, step.summary
    kept = previous_sizes(store, [state], now - timedelta(days=10))
    assert kept[state].size_bytes == 2
    assert previous_sizes(store, [state], now - timedelta(days=30)) == {}


def test_resource_report_dry_run_records_nothing(run_step: Any, store: Store) -> None:
    from hostkeeper.adapters.store.metrics import previous_sizes

    step = run_step("resource_report", dry_run=True)
    assert step.status is StepStatus.SKIPPED
    assert previous_sizes(store, [str(Path(store.sqlite_path or "/").parent)], _far_future()) == {}


def _far_future() -> Any:
    from datetime import UTC, datetime

    return datetime(2999, 1, 1, tzinfo=UTC)


# -- analyze_trends ------------------------------------------------------------------------


def test_analyze_trends_fits_slope_and_days_until_full(
    run_step: Any, store: Store, tmp_path: Path
) -> None:
    now = time.time()
    week = 7 * DAY
    batch = [
        Sample("disk./.used_percent", now - week + i * 300, round(60 + 0.5 * i * 300 / DAY, 3))
        for i in range(int(week / 300))
    ]
    batch += [Sample("cpu.percent", now - week + i * 300, 20.0) for i in range(int(week / 300))]
    write_samples(store, batch)
    step = run_step(
        {"analyze_trends": "7d"},
        baselines={"metrics": ["disk./.used_percent", "cpu.percent", "load.5m"]},
    )
    assert step.status is StepStatus.SUCCEEDED
    details = step.details
    assert details is not None
    disk = details["trends"]["disk./.used_percent"]
    assert disk["slope_per_day"] == pytest.approx(0.5, rel=1e-3)
    assert disk["days_until_full"] == pytest.approx((100 - 63.5) / 0.5, rel=0.01)
    assert details["trends"]["cpu.percent"]["slope_per_day"] == pytest.approx(0.0, abs=1e-9)
    assert details["trends"]["cpu.percent"]["days_until_full"] is None
    assert details["no_data"] == ["load.5m"]
    assert details["source"] == "raw"
    assert "disk./.used_percent +0.5/day, 100% in 73 days" in (step.summary or "")
    assert json.loads(Path(details["report"]).read_text())["trends"] == details["trends"]
    assert Path(details["report"]).parent == tmp_path / "reports" / "trends"


def test_analyze_trends_without_data_warns(run_step: Any) -> None:
    step = run_step({"analyze_trends": "30d"})
    assert step.status is StepStatus.WARNING
    assert step.details is not None
    assert step.details["source"] == "5m"  # 30 days: past raw retention (7d), within 5m's


def test_analyze_trends_past_five_minute_retention_reads_hourly_rollups(run_step: Any) -> None:
    step = run_step({"analyze_trends": "180d"})
    assert step.details is not None
    assert step.details["source"] == "1h"
