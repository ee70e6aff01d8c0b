"""`hostkeeper validate-system` on a real installation in tmp_path: a running daemon, a
webhook receiver, a real backup archive and today's daily report file; then each piece
broken in turn must fail its own line and only that line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from alerting_peers import Receiver, free_port, http_receiver

from conftest import PYTHON, DaemonFactory, clean_environment, wait_until
from hostkeeper.procedures.validation import SYSTEMD_DIR

ITEMS = ["config", "service", "health check", "alert path", "daily report", "backups"]
ConfigData = Callable[..., dict[str, Any]]


@dataclass
class Install:
    root: Path
    config_path: Path
    data: dict[str, Any]
    receiver: Receiver
    archive: Path
    report: Path

    def write(self) -> None:
        self.config_path.write_text(yaml.safe_dump(self.data, sort_keys=False), encoding="utf-8")

    def validate(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return _hostkeeper(self.root, "--config", str(self.config_path), "validate-system", *extra)

    def lines(self, expect: int) -> dict[str, str]:
        done = self.validate("--alert-timeout", "5")
        assert done.returncode == expect, done.stdout + done.stderr
        found = {}
        for line in done.stdout.splitlines():
            name, _, rest = line.partition(": ")
            if name in ITEMS:
                found[name] = rest
        assert list(found) == ITEMS, done.stdout
        return found


def _hostkeeper(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "hostkeeper", *args],
        cwd=cwd,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


@pytest.fixture
def install(
    tmp_path: Path, config_data: ConfigData, start_daemon: DaemonFactory
) -> Iterator[Install]:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "app.conf").write_text("setting = 1\n")
    with http_receiver() as receiver:
        data = config_data(
            {},
            daemon={"shutdown_timeout": "1s", "log_format": "json"},
            dashboard={"enabled": False},
            checks=[
                {
                    "name": "disk",
                    "type": "disk_free",
                    "path": str(tmp_path),
                    "warning": "0%",
                    "critical": "0%",
                }
            ],
            alerts={
                "rules": [],
                "channels": [
                    {"name": "hook", "type": "webhook", "url": receiver.url, "timeout": "2s"}
                ],
            },
            backups=[{"name": "config", "sources": [str(etc)]}],
        )
        config_path = tmp_path / "hostkeeper.yaml"  # where start_daemon's site looks
        config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        created = _hostkeeper(
            tmp_path, "--config", str(config_path), "--json", "backup", "create", "config"
        )
        assert created.returncode == 0, created.stderr
        archive = Path(json.loads(created.stdout)["archive"])
        today = datetime.now(ZoneInfo("UTC"))
        report = tmp_path / "reports" / "daily" / f"health_report_{today:%Y%m%d}.html"
        report.parent.mkdir(parents=True)
        report.write_text("<html><body>daily</body></html>\n")
        daemon = start_daemon()
        wait_until(
            lambda: (state := _state(tmp_path)) and state.get("pid") == daemon.pid,
            what="the daemon's state file",
        )
        yield Install(tmp_path, config_path, data, receiver, archive, report)


def _state(root: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((root / "state" / "daemon.json").read_text())
    except (OSError, ValueError):
        return None
    return data


def _only_failed(lines: dict[str, str], item: str) -> str:
    for name, text in lines.items():
        if name == item:
            assert text.startswith("FAILED"), f"{name}: {text}"
        elif name == "service" and SYSTEMD_DIR.is_dir():
            continue  # decided by the real systemd, not by the test's daemon
        else:
            assert text.startswith("PASSED"), f"{name}: {text}"
    return lines[item]


def test_a_healthy_installation_passes_every_item(install: Install) -> None:
    done = install.validate("--alert-timeout", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines[:-1]] == ITEMS
    assert all(": PASSED (" in line for line in lines[:-1]), done.stdout
    assert lines[-1] == "system validation PASSED: 6 passed, 0 failed"
    [body] = install.receiver.bodies()
    assert body["test"] is True and body["kind"] == "test"
    assert install.archive.name in done.stdout
    as_json = json.loads(
        _hostkeeper(
            install.root, "--config", str(install.config_path), "--json", "validate-system"
        ).stdout
    )
    assert as_json["passed"] is True
    assert [item["item"] for item in as_json["items"]] == ITEMS


def test_a_channel_whose_receiver_is_down_fails_the_alert_path(install: Install) -> None:
    install.data["alerts"]["channels"].append(
        {
            "name": "down",
            "type": "webhook",
            "url": f"http://127.0.0.1:{free_port()}",
            "timeout": "1s",
        }
    )
    install.write()
    reason = _only_failed(install.lines(expect=1), "alert path")
    assert "channel down:" in reason and "hook" not in reason


def test_a_tampered_backup_fails_the_backups_line(install: Install) -> None:
    raw = bytearray(install.archive.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    install.archive.write_bytes(bytes(raw))
    reason = _only_failed(install.lines(expect=1), "backups")
    assert install.archive.name in reason


def test_a_missing_daily_report_fails_its_line(install: Install) -> None:
    install.report.unlink()
    reason = _only_failed(install.lines(expect=1), "daily report")
    assert str(install.report) in reason and "does not exist" in reason


def test_a_critical_check_fails_the_health_check(install: Install) -> None:
    install.data["checks"].append(
        {"name": "closed", "type": "tcp", "host": "127.0.0.1", "port": free_port(), "timeout": "2s"}
    )
    install.write()
    reason = _only_failed(install.lines(expect=1), "health check")
    assert reason.startswith("FAILED (closed critical")


@pytest.mark.skipif(SYSTEMD_DIR.is_dir(), reason="systemd decides the service line here")
def test_a_stopped_daemon_fails_the_service_line(install: Install) -> None:
    state = _state(install.root)
    assert state is not None
    os.kill(state["pid"], signal.SIGTERM)
    wait_until(lambda: not Path(f"/proc/{state['pid']}").exists() or _zombie(state["pid"]))
    reason = _only_failed(install.lines(expect=1), "service")
    assert f"daemon not running (last pid {state['pid']})" in reason


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


def test_an_invalid_config_fails_the_config_line(install: Install) -> None:
    install.data["checks"][0]["warning"] = "lots"
    install.write()
    done = install.validate()
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("config: FAILED (") and "checks" in lines[0]
    assert all("the configuration does not load" in line for line in lines[1:-1])
    assert lines[-1] == "system validation FAILED: 0 passed, 6 failed"
