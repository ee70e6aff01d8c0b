"""`hostkeeper audit deps` and the `dependency_audit` step, through the real CLI, on a
venv, an OSV archive and a store made here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.dependency_peers import (
    CRITICAL_VECTOR,
    advisory,
    build_wheel,
    make_venv,
    write_osv_archive,
)

FIXABLE = advisory(
    "PYSEC-2099-1",
    "demo-lib",
    [{"introduced": "0"}, {"fixed": "1.4.2"}],
    aliases=["CVE-2099-0001"],
    summary="Remote code execution in demo-lib",
    severity=[{"type": "CVSS_V3", "score": CRITICAL_VECTOR}],
)
MODERATE = advisory(
    "GHSA-2099-aaaa-bbbb", "other-lib", versions=["2.0"], database_specific={"severity": "MODERATE"}
)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    for name, version in (("demo-lib", "1.0"), ("other-lib", "2.0")):
        build_wheel(root / "wheels", name, version)
    return make_venv(root / "app", root / "wheels", ["demo-lib==1.0", "other-lib==2.0"])


@pytest.fixture
def setup(tmp_path: Path, venv: Path) -> dict[str, Path]:
    archive = write_osv_archive(tmp_path / "state" / "osv" / "PyPI-all.zip", [FIXABLE, MODERATE])
    config = tmp_path / "hostkeeper.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "paths": {
                    "state_dir": str(tmp_path / "state"),
                    "report_dir": str(tmp_path / "reports"),
                    "backup_dir": str(tmp_path / "backups"),
                    "log_dir": str(tmp_path / "log"),
                },
                "database": {"url": f"sqlite:///{tmp_path / 'state' / 'hk.db'}"},
                "security": {
                    "dependencies": {
                        "python": [str(venv), str(tmp_path / "gone-venv")],
                        "index_url": None,
                        "os_packages": "off",
                    }
                },
                "procedures": {
                    "monthly": {"schedule": {"every": "30d"}, "steps": ["dependency_audit"]}
                },
            }
        )
    )
    return {"config": config, "archive": archive, "reports": tmp_path / "reports"}


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hostkeeper", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def test_audit_deps_reports_stores_and_fails_on_the_critical_advisory(
    setup: dict[str, Path], venv: Path
) -> None:
    result = _cli(setup["config"], "audit", "deps", "--json")
    assert result.returncode == 1, result.stderr
    data = _json(result)
    by_advisory = {f["advisory"]: f for f in data["findings"] if f["kind"] == "vulnerability"}
    assert set(by_advisory) == {"PYSEC-2099-1", "GHSA-2099-aaaa-bbbb"}
    critical = by_advisory["PYSEC-2099-1"]
    assert (critical["severity"], critical["score"], critical["fixed"]) == (
        "critical",
        9.8,
        "1.4.2",
    )
    assert critical["aliases"] == ["CVE-2099-0001"] and critical["environment"] == str(venv)
    assert [f["kind"] for f in data["findings"] if f["kind"] == "environment_missing"] == [
        "environment_missing"
    ]
    assert data["summary"]["critical"] == 1 and data["summary"]["medium"] == 2
    [report] = (setup["reports"] / "security").glob("dependencies_*.json")
    assert json.loads(report.read_text())["summary"] == data["summary"]
    # `--json` before the verb works the same
    assert (
        _json(_cli(setup["config"], "--json", "audit", "deps", "--no-report"))["summary"]
        == data["summary"]
    )


def test_fail_on_decides_the_exit_status(setup: dict[str, Path]) -> None:
    assert _cli(setup["config"], "audit", "deps", "--fail-on", "critical").returncode == 1
    write_osv_archive(setup["archive"], [MODERATE])
    result = _cli(setup["config"], "audit", "deps", "--fail-on", "critical")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "GHSA-2099-aaaa-bbbb" in result.stdout and "0 at or above critical" in result.stdout


def test_stored_view_keeps_first_seen_and_drops_what_was_fixed(setup: dict[str, Path]) -> None:
    assert (
        "no dependency audit stored yet"
        in _cli(setup["config"], "audit", "deps", "--stored").stdout
    )
    _cli(setup["config"], "audit", "deps")
    first = _json(_cli(setup["config"], "audit", "deps", "--stored", "--json"))
    write_osv_archive(setup["archive"], [MODERATE])  # the critical advisory is gone
    _cli(setup["config"], "audit", "deps")
    second = _cli(setup["config"], "audit", "deps", "--stored", "--json")
    assert second.returncode == 0  # nothing at or above high is open
    findings = {f["advisory"]: f for f in _json(second)["findings"]}
    assert "PYSEC-2099-1" not in findings
    before = {f["advisory"]: f for f in first["findings"]}
    moderate = findings["GHSA-2099-aaaa-bbbb"]
    assert moderate["first_seen"] == before["GHSA-2099-aaaa-bbbb"]["first_seen"]
    assert moderate["last_seen"] > moderate["first_seen"]
    text = _cli(setup["config"], "audit", "deps", "--stored").stdout
    assert "GHSA-2099-aaaa-bbbb" in text and "last audit" in text


def test_a_corrupt_archive_is_a_clear_finding_through_the_cli(setup: dict[str, Path]) -> None:
    setup["archive"].write_bytes(b"not a zip at all")
    result = _cli(setup["config"], "audit", "deps")
    assert result.returncode == 1
    assert "advisories_unavailable" in result.stdout and "not a readable zip" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_step_stores_and_reports(setup: dict[str, Path]) -> None:
    result = _cli(setup["config"], "--json", "run", "monthly")
    assert result.returncode == 0, result.stdout + result.stderr
    [step] = _json(result)["steps"]
    assert step["status"] == "warning"
    assert "1 critical" in step["summary"] and "dependencies_" in step["summary"]
    stored = _json(_cli(setup["config"], "audit", "deps", "--stored", "--json"))
    assert stored["summary"]["critical"] == 1
