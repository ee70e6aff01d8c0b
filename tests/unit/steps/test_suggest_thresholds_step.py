"""The `suggest_thresholds` step over a generated week of history in a real SQLite store."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import checks as check_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.database import inserted_id
from hostkeeper.adapters.store.schema import samples, series
from hostkeeper.config import Config
from hostkeeper.core.health import CheckResult, CheckState
from hostkeeper.core.runs import StepStatus
from hostkeeper.procedures.engine import Engine

MINUTE = 60.0
WEEK_OF_MINUTES = 7 * 24 * 60
CORES = os.cpu_count() or 1

CHECKS = [
    {"name": "root_disk", "type": "disk_free", "path": "/", "warning": "20%", "critical": "10%"},
    {"name": "memory", "type": "memory_available", "warning": "15%", "critical": "5%"},
    {"name": "load", "type": "load", "warning": 0.5, "critical": 1.0},
    {
        "name": "backups_fresh",
        "type": "file_age",
        "path": "/var/backups",
        "warning": "20h",
        "critical": "8d",
    },
    {"name": "api", "type": "http", "url": "http://127.0.0.1:1/health"},
    {
        "name": "site_cert",
        "type": "certificate",
        "path": "/etc/ssl/site.pem",
        "warning": "30d",
        "critical": "7d",
    },
]
RULES = [
    {"name": "low_score", "when": "health_score < 50", "for": "5m", "severity": "critical"},
    {"name": "cpu_hot", "when": "cpu.percent > 50", "severity": "warning"},
    {"name": "disk_low", "check": "root_disk", "states": ["warning", "critical"]},
    {"name": "backups_late", "check": "backups_fresh"},
    {"name": "cpu_anomaly", "metric": "cpu.percent", "above_baseline": 3.0, "for": "10m"},
]


def cpu_percent(minute: int) -> float:
    """Busy between 40 and 58 %: `cpu.percent > 50` trips on 40 % of the minutes."""
    return 40.0 + 2.0 * ((minute * 13) % 10)


def load_per_cpu(minute: int) -> float:
    """0.20-0.29 per CPU, with a 5-minute spike to 0.8 every 12 hours."""
    if minute % 720 < 5:
        return 0.8
    return 0.2 + 0.01 * ((minute * 7) % 10)


def _add_series(store: Store, name: str, points: list[tuple[float, float]]) -> None:
    with store.write() as connection:
        series_id = inserted_id(
            connection.execute(insert(series).values(host=store.host, name=name))
        )
        connection.execute(
            insert(samples), [{"series_id": series_id, "ts": t, "value": v} for t, v in points]
        )


def _result(name: str, kind: str, state: CheckState, value: float | None, at: datetime) -> Any:
    return CheckResult(name, kind, state, value, None, "", 0.0, at)


@pytest.fixture
def week(store: Store) -> datetime:
    """A week of minutely samples and hourly check results and scores, ending now."""
    end = datetime.now(UTC)
    start = end - timedelta(minutes=WEEK_OF_MINUTES - 1)
    minutes = range(WEEK_OF_MINUTES)
    ts = [start.timestamp() + m * MINUTE for m in minutes]
    _add_series(store, "cpu.percent", [(ts[m], cpu_percent(m)) for m in minutes])
    _add_series(store, "load.5m", [(ts[m], load_per_cpu(m) * CORES) for m in minutes])
    _add_series(store, "memory.percent", [(ts[m], 60.0 + (m % 7)) for m in minutes])
    _add_series(store, "disk./.used_percent", [(ts[m], 69.0) for m in minutes])
    for hour in range(7 * 24):
        at = start + timedelta(hours=hour)
        age = (hour % 24) * 3600.0  # a backup every day: the age is a daily sawtooth
        state = CheckState.WARNING if age > 20 * 3600 else CheckState.OK
        api = CheckState.CRITICAL if hour % 50 == 0 else CheckState.OK
        check_store.record_check_run(
            store,
            [
                _result("backups_fresh", "file_age", state, age, at),
                _result("api", "http", api, 0.01, at),
                _result("site_cert", "certificate", CheckState.OK, 200.0, at),
            ],
            score=50.0 if api is CheckState.CRITICAL else 100.0,
        )
    return end


RunStep = Callable[..., tuple[Any, dict[str, Any] | None]]


@pytest.fixture
def run_step(make_config: Callable[..., Config], store: Store) -> RunStep:
    def run(argument: str | None = "7d", dry_run: bool = False, **sections: Any) -> Any:
        step: Any = {"suggest_thresholds": argument} if argument else "suggest_thresholds"
        sections.setdefault("checks", CHECKS)
        sections.setdefault("alerts", {"rules": RULES})
        config = make_config({"p": {"schedule": {"hour": 3}, "steps": [step]}}, **sections)
        Engine(lambda: config, store).run("p", dry_run=dry_run)
        (record,) = run_store.list_runs(store, "p", limit=1)
        (result,) = record.steps
        path = Path(config.paths.report_dir) / "thresholds"
        reports = sorted(path.glob("suggestions_*.json")) if path.exists() else []
        report = json.loads(reports[-1].read_text()) if reports else None
        return result, report

    return run


def _item(report: dict[str, Any] | None, kind: str, name: str) -> dict[str, Any]:
    assert report is not None, "the step wrote no report"
    matches: list[dict[str, Any]] = [
        i for i in report["items"] if i["kind"] == kind and i["name"] == name
    ]
    (found,) = matches
    return found


def test_the_report_is_written_under_report_dir_with_todays_date(
    run_step: RunStep, week: datetime, tmp_path: Path
) -> None:
    step, report = run_step()
    assert step.status is StepStatus.SUCCEEDED
    expected = tmp_path / "reports" / "thresholds" / f"suggestions_{week:%Y%m%d}.json"
    assert step.details["path"] == str(expected)
    assert report is not None and report["period"] == "7d"
    assert [p.name for p in expected.parent.iterdir()] == [expected.name]  # no temp files
    assert len(report["items"]) == len(CHECKS) + len(RULES)
    assert str(report["summary"]["items"]) in (step.summary or "")


def test_a_noisy_rule_gets_a_looser_level_with_the_evidence(
    run_step: RunStep, week: datetime
) -> None:
    _step, report = run_step()
    item = _item(report, "rule", "cpu_hot")
    above_50 = [cpu_percent(m) > 50 for m in range(WEEK_OF_MINUTES)]
    runs = sum(1 for i, hot in enumerate(above_50) if hot and (i == 0 or not above_50[i - 1]))
    current = item["evidence"]["current"]["level"]
    assert current["samples"] == sum(above_50)
    assert current["episodes"] == runs
    assert item["distribution"]["p50"] == pytest.approx(49.0)
    assert item["suggested"]["level"] > 58.0  # above everything the week saw
    assert item["evidence"]["suggested"]["level"] == {"samples": 0, "episodes": 0, "fraction": 0}
    assert item["verdict"] == "loosen"
    assert item["suggested"]["config"] == f"cpu.percent > {item['suggested']['level']:g}"


def test_check_levels_use_the_metric_twin_and_count_both_levels(
    run_step: RunStep, week: datetime
) -> None:
    _step, report = run_step()
    load = _item(report, "check", "load")
    assert load["source"].startswith(f"{WEEK_OF_MINUTES} samples of load.5m")
    assert load["direction"] == "above"
    # 14 spikes to 0.8 per CPU: over the 0.5 warning, under the 1.0 critical.
    assert load["evidence"]["current"]["warning"]["episodes"] == 14
    assert load["evidence"]["current"]["critical"]["episodes"] == 0
    suggested = load["suggested"]
    assert 0.29 < suggested["warning"] < 0.8 and suggested["critical"] >= suggested["warning"]
    assert load["verdict"] == "tighten"

    disk = _item(report, "check", "root_disk")
    assert "disk./.used_percent" in disk["source"] and "free = 100 - used" in disk["source"]
    assert disk["distribution"]["p50"] == pytest.approx(31.0)
    assert disk["suggested"]["config"] == {"warning": "23%", "critical": "16%"}
    assert disk["evidence"]["current"]["warning"]["samples"] == 0


def test_duration_levels_come_from_check_history_and_read_as_durations(
    run_step: RunStep, week: datetime
) -> None:
    _step, report = run_step()
    item = _item(report, "check", "backups_fresh")
    assert item["source"] == f"{7 * 24} stored results of check backups_fresh"
    assert item["unit"] == "s"
    # Ages 0..23 h: the 20 h warning trips every day (hours 21, 22, 23).
    assert item["evidence"]["current"]["warning"]["episodes"] == 7
    assert item["suggested"]["warning"] > 23 * 3600
    assert item["suggested"]["config"]["warning"].endswith("h")
    assert item["verdict"] == "loosen"
    rule = _item(report, "rule", "backups_late")
    assert rule["evidence"]["current"]["level"]["episodes"] == 7
    assert rule["evidence"]["suggested"]["level"]["episodes"] == 0
    assert rule["verdict"] == "see check"


def test_health_score_rules_read_the_stored_scores_and_honour_for(
    run_step: RunStep, week: datetime
) -> None:
    _step, report = run_step()
    item = _item(report, "rule", "low_score")
    assert item["source"] == f"{7 * 24} stored health scores"
    assert item["direction"] == "below"
    assert item["evidence"]["hold_seconds"] == 300
    assert item["evidence"]["current"]["level"]["samples"] == 0  # 50 is not < 50
    assert item["suggested"]["level"] == item["suggested"]["critical"]


def test_checks_without_levels_show_their_state_counts(run_step: RunStep, week: datetime) -> None:
    _step, report = run_step()
    api = _item(report, "check", "api")
    assert api["suggested"] is None
    assert api["evidence"]["states"] == {"ok": 164, "warning": 0, "critical": 4, "unknown": 0}
    cert = _item(report, "check", "site_cert")
    assert cert["current"] == {"warning": "30d", "critical": "7d"}
    assert "policy" in cert["note"]


def test_a_baseline_rule_without_an_active_baseline_uses_the_periods_statistics(
    run_step: RunStep, week: datetime
) -> None:
    _step, report = run_step()
    item = _item(report, "rule", "cpu_anomaly")
    assert "no active baseline" in item["note"]
    assert item["evidence"]["current"]["level"]["episodes"] == 0
    assert item["suggested"]["config"].startswith("metric: cpu.percent, above_baseline: ")


def test_without_history_nothing_is_suggested_but_the_report_is_written(
    run_step: RunStep,
) -> None:
    step, report = run_step(argument=None)
    assert step.status is StepStatus.SUCCEEDED
    assert report is not None
    assert all(item["suggested"] is None for item in report["items"])
    assert _item(report, "check", "load")["verdict"] == "no data"


def test_a_dry_run_writes_no_report(run_step: RunStep, week: datetime) -> None:
    step, report = run_step(dry_run=True)
    assert step.status is StepStatus.SUCCEEDED
    assert report is None
    assert (step.summary or "").startswith("dry run, ")
