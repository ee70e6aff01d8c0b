"""`hostkeeper check`, `status` and `thresholds` through the real command line."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., Any]
ConfigFile = Callable[..., Path]


@pytest.fixture
def listener() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port() -> int:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


def _disk(path: Path) -> dict[str, Any]:
    return {
        "name": "disk",
        "type": "disk_free",
        "path": str(path),
        "warning": "0%",
        "critical": "0%",
    }


def _tcp(name: str, port: int) -> dict[str, Any]:
    return {"name": name, "type": "tcp", "host": "127.0.0.1", "port": port, "timeout": "2s"}


def _memory_warning() -> dict[str, Any]:
    return {"name": "memory", "type": "memory_available", "warning": "100%", "critical": "0%"}


def _garbage_certificate(tmp_path: Path) -> dict[str, Any]:
    pem = tmp_path / "not-a-cert.pem"
    pem.write_text("garbage\n")
    return {
        "name": "cert",
        "type": "certificate",
        "path": str(pem),
        "warning": "30d",
        "critical": "7d",
    }


def test_all_checks_ok_exits_0_with_a_nagios_status_line(
    cli: Cli, config_file: ConfigFile, tmp_path: Path, listener: int
) -> None:
    config = config_file(checks=[_disk(tmp_path), _tcp("broker", listener)])
    result = cli("--config", str(config), "check")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("OK: health score 100 - all 2 checks ok | score=100.0;;;0;100 disk=")
    assert "broker=" in first


def test_a_warning_exits_1(cli: Cli, config_file: ConfigFile, tmp_path: Path) -> None:
    config = config_file(checks=[_disk(tmp_path), _memory_warning()])
    result = cli("--config", str(config), "check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("WARNING: health score 75 - 1 warning (memory)")


def test_a_critical_exits_2_and_prints_why(
    cli: Cli, config_file: ConfigFile, tmp_path: Path, closed_port: int
) -> None:
    config = config_file(checks=[_disk(tmp_path), _tcp("broker", closed_port)])
    result = cli("--config", str(config), "check")
    assert result.returncode == 2
    assert result.stdout.startswith("CRITICAL: health score 50 - 1 critical (broker)")
    assert "broker: 127.0.0.1:" in result.stdout
    assert "refused" in result.stdout.lower()


def test_an_unknown_exits_3_unless_something_is_worse(
    cli: Cli, config_file: ConfigFile, tmp_path: Path, closed_port: int
) -> None:
    unknown_only = config_file(checks=[_disk(tmp_path), _garbage_certificate(tmp_path)])
    result = cli("--config", str(unknown_only), "check")
    assert result.returncode == 3
    assert result.stdout.startswith("UNKNOWN: health score 100 - 1 unknown (cert)")
    worse = config_file(
        checks=[_garbage_certificate(tmp_path), _memory_warning(), _tcp("broker", closed_port)]
    )
    assert cli("--config", str(worse), "check").returncode == 2


def test_quick_runs_only_local_checks_and_stores_no_score(
    cli: Cli, config_file: ConfigFile, tmp_path: Path, closed_port: int
) -> None:
    config = config_file(checks=[_disk(tmp_path), _tcp("broker", closed_port)])
    quick = cli("--config", str(config), "check", "--quick")
    assert quick.returncode == 0
    assert "(local checks only)" in quick.stdout.splitlines()[0]
    assert "broker" not in quick.stdout
    status = json.loads(cli("--config", str(config), "--json", "status").stdout)["health"]
    assert status["score"] is None and status["score_computed_at"] is None
    assert {c["name"]: c["state"] for c in status["checks"]} == {"disk": "ok", "broker": None}


def test_comprehensive_prints_every_checks_detail_duration_and_weight(
    cli: Cli, config_file: ConfigFile, tmp_path: Path, listener: int
) -> None:
    config = config_file(
        checks=[_disk(tmp_path), _tcp("broker", listener)],
        health_score={"weights": {"disk": 3}},
    )
    result = cli("--config", str(config), "check", "--comprehensive")
    assert result.returncode == 0
    header = result.stdout.splitlines()[1]
    assert header.split() == ["CHECK", "TYPE", "STATE", "VALUE", "DURATION", "WEIGHT", "DETAIL"]
    assert f"free on {tmp_path}" in result.stdout
    assert "accepted a connection" in result.stdout


def test_json_output_has_state_exit_code_score_and_each_check(
    cli: Cli, config_file: ConfigFile, tmp_path: Path, closed_port: int
) -> None:
    config = config_file(
        checks=[_disk(tmp_path), _tcp("broker", closed_port)],
        health_score={"weights": {"broker": 3}},
    )
    result = cli("--config", str(config), "--json", "check")
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert (data["state"], data["exit_code"], data["scope"]) == ("critical", 2, "all")
    assert data["score"] == pytest.approx(25.0)
    assert data["score_stored"] is True
    assert [(c["name"], c["state"], c["weight"]) for c in data["checks"]] == [
        ("disk", "ok", 1.0),
        ("broker", "critical", 3.0),
    ]


def test_no_checks_configured_is_unknown(cli: Cli, config_file: ConfigFile) -> None:
    result = cli("--config", str(config_file()), "check")
    assert result.returncode == 3
    assert result.stdout.strip() == "UNKNOWN: no checks configured"


def test_an_invalid_configuration_is_unknown_not_a_warning(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nchecks: [{name: x, type: nope}]\n")
    result = cli("--config", str(bad), "check")
    assert result.returncode == 3
    assert str(bad) in result.stderr
    # Nagios shows stdout: it must say why, in a plugin's status line.
    assert result.stdout.startswith(f"UNKNOWN: invalid configuration: {bad}:2: checks[0]")
    assert len(result.stdout.splitlines()) == 1


def test_an_unreadable_configuration_is_unknown_in_json_too(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    result = cli("--json", "--config", str(missing), "check")
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert report["state"] == "unknown"
    assert report["error"].startswith(f"UNKNOWN: invalid configuration: {missing}:1: ")
    assert "cannot read" in report["error"]


def test_status_shows_the_latest_check_states_and_score(
    cli: Cli, config_file: ConfigFile, tmp_path: Path, closed_port: int
) -> None:
    config = config_file(checks=[_disk(tmp_path), _tcp("broker", closed_port)])
    before = cli("--config", str(config), "status")
    assert "health score: not computed yet" in before.stdout
    assert "NEVER RUN" in before.stdout
    cli("--config", str(config), "check")
    after = cli("--config", str(config), "status")
    assert after.returncode == 0
    assert "health score: 50 (state critical, as of " in after.stdout
    broker_line = next(line for line in after.stdout.splitlines() if line.startswith("broker"))
    assert "CRITICAL" in broker_line
    data = json.loads(cli("--config", str(config), "--json", "status").stdout)["health"]
    assert data["score"] == 50.0
    assert [c["state"] for c in data["checks"]] == ["ok", "critical"]


def test_thresholds_writes_the_report_and_prints_a_table(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    config = config_file(
        checks=[_disk(tmp_path)],
        alerts={"rules": [{"name": "low", "when": "health_score < 50"}]},
    )
    cli("--config", str(config), "check")
    result = cli("--config", str(config), "thresholds", "--period", "1d")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[:4] == ["FOR", "NAME", "CURRENT", "LEVELS"]
    path = Path(result.stdout.strip().splitlines()[-1].removeprefix("report: "))
    assert path.parent == tmp_path / "reports" / "thresholds"
    report = json.loads(path.read_text())
    assert report["period"] == "1d"
    assert [(i["kind"], i["name"]) for i in report["items"]] == [("check", "disk"), ("rule", "low")]
    data = json.loads(cli("--config", str(config), "--json", "thresholds").stdout)
    assert data["period"] == "7d" and data["path"] == str(path)


def test_thresholds_rejects_a_bad_period(cli: Cli, config_file: ConfigFile) -> None:
    result = cli("--config", str(config_file()), "thresholds", "--period", "soon")
    assert result.returncode == 1
    assert "--period" in result.stderr
