"""The file verbs through the real CLI: rotate, cleanup, backup ..., rollback, status."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import Cli

DAY = 86400


def age(path: Path, days: float) -> None:
    moment = time.time() - days * DAY
    os.utime(path, (moment, moment))


@pytest.fixture
def layout(tmp_path: Path, config_data: Any) -> dict[str, Path]:
    logs, app, etc = tmp_path / "logs", tmp_path / "app", tmp_path / "etc"
    for directory in (logs, app, etc):
        directory.mkdir()
    (logs / "app.log").write_text("first\n")
    (app / "old.log").write_text("old\n")
    age(app / "old.log", 40)
    (app / "week.log").write_text("week\n" * 100)
    age(app / "week.log", 10)
    config = config_data(
        {"nightly": {"schedule": {"every": "1h"}, "steps": [{"backup": "config"}]}},
        logs=[{"name": "app", "paths": [f"{logs}/*.log"], "keep": 2, "compress": False}],
        cleanup=[
            {
                "name": "old",
                "path": str(app),
                "match": "*.log",
                "compress_after": "7d",
                "delete_after": "30d",
            }
        ],
        backups=[{"name": "config", "sources": [str(etc)]}],
    )
    config_path = etc / "hostkeeper.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return {"logs": logs, "app": app, "etc": etc, "config": config_path, "root": tmp_path}


def run(cli: Cli, layout: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    return cli("--config", str(layout["config"]), *args)


def test_rotate_dry_run_prints_the_plan_and_changes_nothing(cli: Any, layout: Any) -> None:
    done = run(cli, layout, "rotate", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "daily: never rotated" in done.stdout and "-> app.log.1" in done.stdout
    assert sorted(p.name for p in layout["logs"].iterdir()) == ["app.log"]
    done = run(cli, layout, "rotate", "app")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in layout["logs"].iterdir()) == ["app.log", "app.log.1"]
    again = run(cli, layout, "--json", "rotate", "--force")
    assert json.loads(again.stdout)[0]["logs"][0]["reason"] == "empty"
    assert run(cli, layout, "rotate", "nope").returncode == 1


def test_cleanup_dry_run_prints_what_why_and_bytes(cli: Any, layout: Any) -> None:
    done = run(cli, layout, "cleanup", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "delete    old.log   4" in done.stdout
    assert "compress  week.log  500" in done.stdout
    assert "older than delete_after (30 days)" in done.stdout
    assert sorted(p.name for p in layout["app"].iterdir()) == ["old.log", "week.log"]
    done = run(cli, layout, "--json", "cleanup")
    [report] = json.loads(done.stdout)
    assert (report["deleted"], report["compressed"]) == (1, 1)
    assert sorted(p.name for p in layout["app"].iterdir()) == ["week.log.gz"]


def test_backup_verbs(cli: Any, layout: Any, tmp_path: Path) -> None:
    created = run(cli, layout, "--json", "backup", "create", "config")
    assert created.returncode == 0, created.stderr
    archive = Path(json.loads(created.stdout)["archive"])
    listed = json.loads(run(cli, layout, "--json", "backup", "list").stdout)
    assert [Path(item["archive"]) for item in listed] == [archive]
    assert listed[0]["files"] == 1
    assert run(cli, layout, "backup", "verify").returncode == 0
    restored = run(cli, layout, "backup", "restore", archive.name, "--to", str(tmp_path / "r"))
    assert restored.returncode == 0, restored.stderr
    copy = tmp_path / "r" / str(layout["config"]).lstrip("/")
    assert copy.read_text() == layout["config"].read_text()
    tested = run(cli, layout, "backup", "restore-test", "config")
    assert tested.returncode == 0 and "PASSED" in tested.stdout
    pruned = run(cli, layout, "backup", "prune", "--dry-run")
    assert "keep" in pruned.stdout and "newest" in pruned.stdout
    status = json.loads(run(cli, layout, "--json", "status").stdout)
    [entry] = status["backups"]
    assert entry["set"] == "config" and entry["newest"]["archive"] == str(archive)
    assert entry["newest"]["verify_ok"] is True and entry["restore_test"]["ok"] is True
    assert "PASSED" in run(cli, layout, "status").stdout
    # one flipped byte: verify fails with exit 1, restore refuses
    data = bytearray(archive.read_bytes())
    data[100] ^= 0x40
    archive.write_bytes(bytes(data))
    failed = run(cli, layout, "backup", "verify", str(archive))
    assert failed.returncode == 1 and "FAILED" in failed.stdout
    refused = run(cli, layout, "backup", "restore", str(archive), "--to", str(tmp_path / "r2"))
    assert refused.returncode == 1
    assert not (tmp_path / "r2").exists() or not any((tmp_path / "r2").iterdir())


def test_backup_create_database(cli: Any, layout: Any) -> None:
    done = run(cli, layout, "--json", "backup", "create", "--database")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["integrity"] == "ok" and Path(result["path"]).is_file()


def test_run_failure_of_a_backup_step_is_recorded(cli: Any, layout: Any) -> None:
    config = yaml.safe_load(layout["config"].read_text())
    config["backups"][0]["sources"] = [str(layout["etc"])]
    # the backup directory is a file: the archive cannot be written
    blocker = layout["root"] / "blocked"
    blocker.write_text("not a directory")
    config["paths"]["backup_dir"] = str(blocker)
    layout["config"].write_text(yaml.safe_dump(config))
    done = run(cli, layout, "run", "nightly")
    assert done.returncode == 1
    runs = json.loads(run(cli, layout, "--json", "runs").stdout)
    assert runs[0]["status"] == "failed" and "backup: config" in runs[0]["error"]


@pytest.fixture
def daemon(layout: dict[str, Path]) -> Any:
    state_file = Path(yaml.safe_load(layout["config"].read_text())["paths"]["state_dir"])
    state_file = state_file / "daemon.json"
    environment = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET",)}
    process = subprocess.Popen(
        [sys.executable, "-m", "hostkeeper", "--config", str(layout["config"]), "daemon"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if json.loads(state_file.read_text())["pid"] == process.pid:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the daemon did not write its state file")
    yield state_file
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_rollback_restores_validates_and_reloads_the_running_daemon(
    cli: Any, layout: Any, daemon: Path
) -> None:
    assert run(cli, layout, "backup", "create", "config").returncode == 0
    good = layout["config"].read_text()
    layout["config"].write_text(good + "typo_section: 1\n")
    done = run(cli, layout, "rollback")
    assert done.returncode == 0, done.stdout + done.stderr
    assert layout["config"].read_text() == good
    assert f"replaced {layout['config']} (content)" in done.stdout
    assert "previous copy kept as " in done.stdout and "reloaded the daemon" in done.stdout
    deadline = time.monotonic() + 30
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = json.loads(daemon.read_text())
        if state.get("last_reload_at"):
            break
        time.sleep(0.1)
    assert state.get("last_reload") == "ok"


def test_rollback_to_an_invalid_configuration_is_undone(cli: Any, layout: Any) -> None:
    good = layout["config"].read_text()
    layout["config"].write_text(good + "typo_section: 1\n")
    assert run(cli, layout, "backup", "create", "config").returncode == 1  # config invalid
    # archive the invalid file directly, as an old backup would hold it
    from datetime import UTC, datetime

    from hostkeeper.adapters.archive import create_archive

    backups = Path(yaml.safe_load(good)["paths"]["backup_dir"]) / "config"
    create_archive("config", [str(layout["etc"])], [], backups, datetime.now(UTC))
    layout["config"].write_text(good)
    done = run(cli, layout, "rollback")
    assert done.returncode == 1
    assert "typo_section" in done.stderr and "put back" in done.stdout
    assert layout["config"].read_text() == good
    assert sorted(p.name for p in layout["etc"].iterdir()) == ["hostkeeper.yaml"]


def test_a_cleanup_path_that_does_not_exist_warns_without_failing_the_run(
    cli: Any, layout: Any
) -> None:
    config = yaml.safe_load(layout["config"].read_text())
    config["cleanup"][0]["path"] = str(layout["root"] / "not-installed")
    config["procedures"]["nightly"]["steps"] = ["cleanup", {"backup": "config"}]
    layout["config"].write_text(yaml.safe_dump(config))
    done = run(cli, layout, "run", "nightly")
    assert done.returncode == 0, done.stdout + done.stderr
    [latest] = json.loads(run(cli, layout, "--json", "runs", "-n", "1").stdout)
    assert latest["status"] == "warning"
    assert [step["status"] for step in latest["steps"]] == ["warning", "succeeded"]
