"""`vulnerabilities` checks on real dependency audit reports."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from hostkeeper.checks import measure
from hostkeeper.config import Config
from hostkeeper.core.dependencies import Finding, Kind, Severity
from hostkeeper.core.health import CheckState
from hostkeeper.services.dependency_audit import DependencyReport
from hostkeeper.steps.health_check import select_checks

from .peers import make_check

DAY = 86400


def _report(folder: Path, name: str, *severities: Severity, age: float = 0.0) -> Path:
    report = DependencyReport("host", "2026-12-05T01:00:00+00:00")
    report.findings = [
        Finding(Kind.VULNERABILITY, severity, "self", f"pkg{i}", "s", "1", f"A-{i}")
        for i, severity in enumerate(severities)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(report.as_dict()))
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def _check(folder: Path, **fields: Any) -> Any:
    return make_check(type="vulnerabilities", reports=str(folder), **fields)


@pytest.mark.parametrize(
    ("severities", "state", "value"),
    [
        ((), CheckState.OK, 0.0),
        ((Severity.MEDIUM, Severity.LOW), CheckState.OK, 0.0),
        ((Severity.HIGH, Severity.MEDIUM), CheckState.WARNING, 1.0),
        ((Severity.CRITICAL, Severity.HIGH), CheckState.CRITICAL, 2.0),
    ],
)
def test_default_limits_on_the_newest_report(
    tmp_path: Path, severities: tuple[Severity, ...], state: CheckState, value: float
) -> None:
    _report(tmp_path, "dependencies_20261101.json", Severity.CRITICAL, age=30 * DAY)
    _report(tmp_path, "dependencies_20261201.json", *severities)
    measurement = measure(_check(tmp_path), 5)
    assert (measurement.state, measurement.value, measurement.unit) == (state, value, "findings")
    assert "dependencies_20261201.json" in measurement.detail


def test_counts_by_severity_are_at_or_above(tmp_path: Path) -> None:
    _report(tmp_path, "dependencies_20261201.json", *[Severity.MEDIUM] * 4, Severity.HIGH)
    check = _check(tmp_path, warning={"medium": 5}, critical={"high": 2})
    assert measure(check, 5).state is CheckState.WARNING  # 5 at or above medium
    check = _check(tmp_path, warning={"medium": 6}, critical={"high": 2})
    assert measure(check, 5).state is CheckState.OK


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda folder: None, "no dependency audit report"),
        (lambda folder: _report(folder, "dependencies_20261201.json", age=50 * DAY), "old"),
        (
            lambda folder: (folder / "dependencies_20261201.json").write_text("{truncated"),
            "cannot read",
        ),
    ],
)
def test_missing_stale_or_broken_reports_are_unknown(
    tmp_path: Path, setup: Any, reason: str
) -> None:
    tmp_path.mkdir(exist_ok=True)
    setup(tmp_path)
    measurement = measure(_check(tmp_path), 5)
    assert measurement.state is CheckState.UNKNOWN
    assert reason in measurement.detail


def test_the_folder_defaults_to_the_report_dir(make_config: Any, tmp_path: Path) -> None:
    config: Config = make_config(
        checks=[{"name": "vulns", "type": "vulnerabilities"}],
        paths={"report_dir": str(tmp_path / "reports")},
    )
    [check] = select_checks(config)
    assert check.reports == f"{tmp_path / 'reports'}/security"
