"""Every report rendered from a store filled with generated history, through the real
`hostkeeper report` verb and the `report: NAME` step; each HTML file parsed back: well
formed, self-contained, its charts carrying their data points."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from history import BACKUP_SETS, PROCEDURES, History, config_sections, fill

from hostkeeper.adapters.store.dependencies import record_dependency_audit
from hostkeeper.config.loader import load_config
from hostkeeper.core.audit import Severity
from hostkeeper.core.dependencies import Finding, Kind
from hostkeeper.core.dependencies import Severity as DependencySeverity
from hostkeeper.services.store_setup import prepare_store

Cli = Callable[..., subprocess.CompletedProcess[str]]
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "wbr"}
SVG_LEAVES = {"circle", "rect", "line", "polyline", "path", "text", "title", "g", "svg"}


@dataclass
class Parsed(HTMLParser):
    """Checks nesting as it goes and collects text, charts and their data points."""

    stack: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)  # aria-label of each svg
    points: dict[str, int] = field(default_factory=dict)  # chart -> data points
    external: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    _heading: bool = False

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.external.append(str(values[name]))
        if tag in ("script", "link", "iframe", "img"):
            self.external.append(tag)
        if tag == "svg":
            self.charts.append(values.get("aria-label") or "")
        if "data-v" in values and self.charts:
            chart = self.charts[-1]
            self.points[chart] = self.points.get(chart, 0) + 1
        if tag not in VOID:
            self.stack.append(tag)
        self._heading = tag == "h2"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())
            if self._heading:
                self.headings.append(data.strip())
                self._heading = False


def parse(path: Path) -> Parsed:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    parsed = Parsed()
    parsed.feed(text)
    parsed.close()
    assert parsed.errors == [], parsed.errors[:5]
    assert parsed.stack == [], f"unclosed: {parsed.stack}"
    assert parsed.external == [], "a report must not load anything"
    return parsed


@dataclass
class Filled:
    config: Path
    reports: Path
    history: History
    cli: Cli

    def report(self, *args: str) -> dict[str, Any]:
        result = self.cli("--json", "--config", str(self.config), "report", *args)
        assert result.returncode == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data


@pytest.fixture
def filled(tmp_path: Path, config_data: Callable[..., dict[str, Any]], cli: Cli) -> Filled:
    data = config_data(
        {name: {"schedule": {"every": "1d"}, "steps": [{"run": ["true"]}]} for name in PROCEDURES}
    )
    data.update(yaml.safe_load(config_sections(str(tmp_path))))
    data["baselines"] = {"metrics": ["cpu.percent", "memory.percent", "disk./.used_percent"]}
    path = tmp_path / "hostkeeper.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    store = prepare_store(load_config(path).config)
    try:
        history = fill(store, datetime.now(UTC), days=8, sample_every=600)
    finally:
        store.dispose()
    return Filled(path, tmp_path / "reports", history, cli)


def _today() -> str:
    return f"{datetime.now(UTC):%Y%m%d}"


def test_daily_report(filled: Filled) -> None:
    result = filled.report("daily")
    path = filled.reports / "daily" / f"health_report_{_today()}.html"
    assert result["path"] == str(path)
    parsed = parse(path)
    assert parsed.headings == [
        "Health",
        "Key metrics, last 24 h",
        "Runs",
        "Firing alerts",
        "Backups",
    ]
    for chart in ("Health score", "cpu.percent", "memory.percent", "load.5m"):
        assert parsed.points.get(chart, 0) >= 20, (chart, parsed.points)
    assert parsed.points["Run durations (s)"] == 1  # the one run of the last 24 h
    assert "daily" in parsed.texts and "weekly" not in parsed.texts  # weekly ran 8 days ago
    assert "disk_full" in parsed.texts
    for backup_set in BACKUP_SETS:
        assert backup_set in parsed.texts
    assert any("disk full" in text for text in parsed.texts)  # the failed step's error
    assert result["summary"] == {"runs": 1, "failed_runs": 1, "firing_alerts": 1}
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temp files


def test_report_output_and_period(filled: Filled, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "day.html"
    result = filled.report("daily", "--output", str(target), "--period", "3d")
    assert result["path"] == str(target)
    parsed = parse(target)
    assert "Key metrics, last 72 h" in parsed.headings
    assert result["summary"]["runs"] == 3  # three daily runs and nothing else in 3 days
    assert not (filled.reports / "daily").exists()


def test_report_rejects_an_unknown_name_and_a_bad_period(filled: Filled) -> None:
    unknown = filled.cli("--config", str(filled.config), "report", "weekly_summary")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
    bad = filled.cli("--config", str(filled.config), "report", "daily", "--period", "soon")
    assert bad.returncode == 2 and "not a duration" in bad.stderr


def test_report_step_writes_the_daily_report(filled: Filled) -> None:
    data = yaml.safe_load(filled.config.read_text())
    data["procedures"]["reporting"] = {"schedule": {"every": "1d"}, "steps": [{"report": "daily"}]}
    filled.config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = filled.cli("--json", "--config", str(filled.config), "run", "reporting")
    assert result.returncode == 0, result.stdout + result.stderr
    [step] = json.loads(result.stdout)["steps"]
    path = filled.reports / "daily" / f"health_report_{_today()}.html"
    assert step["status"] == "succeeded"
    assert step["summary"] == f"daily report written to {path}"
    parse(path)


def test_performance_report_draws_the_baseline_band(filled: Filled) -> None:
    result = filled.report("performance")
    path = filled.reports / "performance" / f"weekly_{_today()}.html"
    assert result["path"] == str(path)
    parsed = parse(path)
    assert parsed.headings == [
        "Metrics against the baseline",
        "Procedure durations",
        "Slowest steps",
        "Health-check execution time",
        "Maintenance checklists",
    ]
    for metric in ("cpu.percent", "memory.percent", "disk./.used_percent"):
        assert parsed.points.get(metric, 0) >= 100, (metric, parsed.points)
    text = path.read_text()
    assert 'class="band"' in text and "baseline mean 25 +/- 10" in text
    assert "baseline p95 38" in text
    # the weekly procedure last ran 8 days ago, outside the week
    assert parsed.points["Mean run duration (s)"] == 1
    assert parsed.points["Mean step duration (s)"] == 3
    assert parsed.points["Mean check duration (ms)"] == 3
    # memory swings 50 +/- 5 against a p95 of 56: a part of the week lies above it
    share = parsed.texts[len(parsed.texts) - parsed.texts[::-1].index("memory.percent")]
    assert share.endswith(" %") and 0 < float(share.removesuffix(" %")) < 50, share
    assert result["summary"] == {"metrics": 3, "runs": 7, "checks": 3}


def test_trends_report_fits_a_line_per_baseline_metric(filled: Filled) -> None:
    result = filled.report("trends", "--period", "7d")
    path = filled.reports / "trends" / f"trends_{_today()}.html"
    assert result["path"] == str(path)
    assert result["summary"] == {"metrics": 3, "fitted": 3}
    parsed = parse(path)
    for metric in ("cpu.percent", "memory.percent", "disk./.used_percent"):
        # the data plus the two ends of its fitted line
        assert parsed.points.get(metric, 0) >= 100, (metric, parsed.points)
    assert "least-squares line" in parsed.texts


def test_capacity_report_projects_usage_metrics(filled: Filled) -> None:
    result = filled.report("capacity")
    path = filled.reports / "capacity" / f"capacity_{_today()}.html"
    assert result["path"] == str(path)
    assert result["summary"]["metrics"] == 2  # disk./.used_percent and memory.percent
    parsed = parse(path)
    assert "disk./.used_percent" in parsed.texts and "memory.percent" in parsed.texts
    assert "cpu.percent" not in parsed.texts  # not a usage metric
    chart = "disk./.used_percent, projected 90 days"
    assert parsed.points.get(chart, 0) >= 100
    assert "projection" in parsed.texts


def test_health_assessment_report(filled: Filled) -> None:
    security = filled.reports / "security"
    security.mkdir(parents=True)
    (security / "monthly_20260101.json").write_text(
        json.dumps(
            {
                "generated_at": "2026-01-01T00:00:00+00:00",
                "summary": {"critical": 0, "high": 1, "medium": 0, "low": 0},
                "findings": [
                    {
                        "severity": "high",
                        "kind": "permissions",
                        "location": "/etc/shadow-copy",
                        "message": "world-readable secret",
                    }
                ],
            }
        )
    )
    # The dependency audit's report sorts first by name; the section still shows the
    # security audit's, and the software section comes from the store.
    (security / "dependencies_20990101.json").write_text(json.dumps({"summary": {}}))
    store = prepare_store(load_config(filled.config).config)
    now = datetime.now(UTC)
    try:
        record_dependency_audit(
            store,
            [
                Finding(
                    Kind.VULNERABILITY,
                    DependencySeverity.CRITICAL,
                    "self",
                    "demo-lib",
                    "Remote code execution",
                    "1.0",
                    "PYSEC-2099-1",
                    ("CVE-2099-0001",),
                    "1.4.2",
                )
            ],
            {"vulnerabilities:self"},
            now,
            warnings=["package index unreachable"],
        )
    finally:
        store.dispose()
    result = filled.report("health_assessment")
    path = filled.reports / "monthly" / f"health_assessment_{_today()}.html"
    assert result["path"] == str(path)
    parsed = parse(path)
    assert parsed.headings == [
        "Availability per check",
        "Health score",
        "Alert effectiveness",
        "Baseline drift",
        "Backups and restore tests",
        "Security",
        "Software: vulnerabilities and updates",
        "Maintenance checklists",
    ]
    assert "PYSEC-2099-1 CVE-2099-0001" in parsed.texts and "1.4.2" in parsed.texts
    assert "Not checked: package index unreachable" in parsed.texts
    assert any("1 finding(s) first seen and 0 resolved in the period" in t for t in parsed.texts)
    assert parsed.points["Availability (% of results ok)"] == 3
    assert parsed.points["Health score"] >= 100
    assert parsed.points["Health score distribution (results)"] == 5
    assert "world-readable secret" in parsed.texts
    assert "disk_full" in parsed.texts and "high_load" in parsed.texts
    # load is warning one hour in seven; the other checks are always ok
    cells = parsed.texts[parsed.texts.index("check") :]  # the availability table
    assert cells[cells.index("memory") + 1] == "100 %"
    assert 0 < float(cells[cells.index("load") + 1].removesuffix(" %")) < 100
    assert result["summary"]["checks"] == 3 and result["summary"]["alerts_fired"] == 2


def test_json_reports_on_demand(filled: Filled, tmp_path: Path) -> None:
    result = filled.report("alert_effectiveness", "--period", "30d")
    data = json.loads(Path(result["path"]).read_text())
    assert data["report"] == "alert_effectiveness" and data["period_length"] == "30d"
    assert {r["rule"] for r in data["rules"]} == {"disk_full", "high_load"}

    target = tmp_path / "audit.json"
    audit = filled.report("security", "--output", str(target))
    assert audit["path"] == str(target)
    assert set(json.loads(target.read_text())["summary"]) == {s.value for s in Severity}
