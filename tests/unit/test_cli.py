"""The real command line as a subprocess: exit codes and JSON output."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hostkeeper.config import load_config
from hostkeeper.core.triggers import build_trigger, next_fire_time

Cli = Callable[..., subprocess.CompletedProcess[str]]
ConfigFile = Callable[..., Path]


def _procedures(tmp_path: Path) -> dict[str, Any]:
    return {
        "ok": {"schedule": {"hour": 2, "minute": 0}, "steps": [{"run": ["echo", "fine"]}]},
        "broken": {
            "schedule": {"cron": "30 4 * * sun"},
            "steps": [{"run": ["sh", "-c", "exit 3"]}],
        },
        "blocked": {
            "schedule": {"every": "10m"},
            "before": [{"require": "disk_free", "path": str(tmp_path), "min": "100%"}],
            "steps": [{"run": ["true"]}],
        },
        "manual": {"schedule": {"hour": 5}, "enabled": False, "steps": [{"run": ["true"]}]},
    }


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def test_run_exits_0_when_the_procedure_succeeds(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    path = config_file(_procedures(tmp_path))
    result = cli("--config", str(path), "run", "ok")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: succeeded (run 1)")


def test_run_exits_1_when_a_step_fails(cli: Cli, config_file: ConfigFile, tmp_path: Path) -> None:
    path = config_file(_procedures(tmp_path))
    result = cli("--config", str(path), "run", "broken")
    assert result.returncode == 1
    assert "broken: failed" in result.stdout
    assert "exited with status 3" in result.stdout


def test_run_exits_1_when_the_run_is_skipped(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    path = config_file(_procedures(tmp_path))
    result = cli("--json", "--config", str(path), "run", "blocked")
    assert result.returncode == 1
    report = _json(result)
    assert report["status"] == "skipped"
    assert report["error"].startswith("precondition unmet:")


def test_run_exits_1_for_an_unknown_procedure(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    path = config_file(_procedures(tmp_path))
    result = cli("--config", str(path), "run", "nope")
    assert result.returncode == 1
    assert "no procedure named 'nope'" in result.stderr


def test_run_exits_1_for_an_invalid_config(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nbogus: 1\n")
    result = cli("--config", str(path), "run", "ok")
    assert result.returncode == 1
    assert f"{path}:2: bogus: unknown key (not allowed here)" in result.stderr


def test_run_dry_run_json(cli: Cli, config_file: ConfigFile, tmp_path: Path) -> None:
    path = config_file(_procedures(tmp_path))
    result = cli("--json", "--config", str(path), "run", "ok", "--dry-run")
    assert result.returncode == 0, result.stderr
    report = _json(result)
    assert report["status"] == "succeeded"
    assert [step["status"] for step in report["steps"]] == ["skipped"]
    assert report["steps"][0]["summary"] == "dry run: would run echo fine"


def test_runs_json_lists_history_with_steps(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    path = config_file(_procedures(tmp_path))
    cli("--config", str(path), "run", "ok")
    cli("--config", str(path), "run", "broken")

    result = cli("--json", "--config", str(path), "runs")

    assert result.returncode == 0, result.stderr
    history = _json(result)
    assert [(run["procedure"], run["status"]) for run in history] == [
        ("broken", "failed"),
        ("ok", "succeeded"),
    ]
    ok = history[1]
    assert ok["trigger"] == "manual"
    assert ok["dry_run"] is False
    assert datetime.fromisoformat(ok["started_at"]).tzinfo is not None
    (step,) = ok["steps"]
    assert (step["label"], step["status"], step["output"]) == ("run: echo", "succeeded", "fine\n")
    assert step["duration_seconds"] >= 0


def test_runs_json_filters_by_procedure_and_limit(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    path = config_file(_procedures(tmp_path))
    for _ in range(3):
        cli("--config", str(path), "run", "ok")
    cli("--config", str(path), "run", "broken")
    result = cli("--json", "--config", str(path), "runs", "--procedure", "ok", "--limit", "2")
    assert [run["procedure"] for run in _json(result)] == ["ok", "ok"]


def test_runs_without_history(cli: Cli, config_file: ConfigFile, tmp_path: Path) -> None:
    path = config_file(_procedures(tmp_path))
    result = cli("--config", str(path), "runs")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "no runs recorded yet\n"


def test_schedule_json_next_run_is_iso_8601_with_timezone(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    path = config_file(_procedures(tmp_path), timezone="Europe/Berlin")
    config = load_config(path).config
    before = datetime.now(UTC)

    result = cli("--json", "--config", str(path), "schedule")

    assert result.returncode == 0, result.stderr
    rows = {row["procedure"]: row for row in _json(result)}
    assert set(rows) == {"ok", "broken", "blocked", "manual"}
    for name in ("ok", "broken"):
        next_run = datetime.fromisoformat(rows[name]["next_run"])
        assert next_run.utcoffset() == timedelta(0)
        trigger = build_trigger(config.procedures[name].schedule.trigger_spec(), "Europe/Berlin")
        assert next_run == next_fire_time(trigger, before)
        assert rows[name]["timezone"] == "Europe/Berlin"
    berlin_two = datetime.fromisoformat(rows["ok"]["next_run"]).astimezone(config_zone(config))
    assert (berlin_two.hour, berlin_two.minute) == (2, 0)
    assert rows["manual"]["next_run"] is None
    assert rows["manual"]["enabled"] is False
    assert rows["ok"]["last_status"] is None
    assert rows["broken"]["schedule"] == "cron '30 4 * * sun'"


def config_zone(config: Any) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(config.timezone)


def test_schedule_json_shows_the_last_result(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    path = config_file(_procedures(tmp_path))
    cli("--config", str(path), "run", "broken")
    rows = {
        row["procedure"]: row for row in _json(cli("--json", "--config", str(path), "schedule"))
    }
    assert rows["broken"]["last_status"] == "failed"
    assert rows["broken"]["failing"] is True
    assert datetime.fromisoformat(rows["broken"]["last_run"]).tzinfo is not None


def test_status_json(cli: Cli, config_file: ConfigFile, tmp_path: Path) -> None:
    path = config_file(_procedures(tmp_path))
    cli("--config", str(path), "run", "ok")
    result = cli("--json", "--config", str(path), "status")
    assert result.returncode == 0, result.stderr
    status = _json(result)
    assert status["host"]
    assert status["daemon"] is None  # no daemon has run with this state directory
    procedures = {p["procedure"]: p for p in status["procedures"]}
    assert procedures["ok"]["last_status"] == "succeeded"
    assert procedures["ok"]["last_error"] is None
    assert datetime.fromisoformat(procedures["ok"]["next_run"]).tzinfo is not None
    assert datetime.fromisoformat(procedures["ok"]["last_run"]).tzinfo is not None
    assert procedures["broken"]["last_status"] is None
    assert procedures["manual"]["next_run"] is None


def test_status_text_without_a_daemon(cli: Cli, config_file: ConfigFile, tmp_path: Path) -> None:
    path = config_file(_procedures(tmp_path))
    result = cli("--config", str(path), "status")
    assert result.returncode == 0, result.stderr
    assert "daemon has not run with this configuration" in result.stdout


def test_config_from_the_environment_variable(config_file: ConfigFile, tmp_path: Path) -> None:
    import os
    import sys

    path = config_file(_procedures(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "hostkeeper", "config", "validate"],
        env={**os.environ, "HOSTKEEPER_CONFIG": str(path)},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{path}: valid")


def test_db_backup_keeps_database_backup_keep_copies(
    cli: Cli, config_file: ConfigFile, config_data: Any, tmp_path: Path
) -> None:
    data = config_data()
    path = config_file(database={**data["database"], "backup_keep": 2})
    made = []
    for _ in range(4):
        result = cli("--json", "--config", str(path), "db", "backup")
        assert result.returncode == 0, result.stderr
        made.append(Path(_json(result)["path"]).name)
    result = cli("--config", str(path), "backup", "create", "--database")
    assert result.returncode == 0, result.stderr
    assert "removed older copies" in result.stdout
    remaining = sorted(p.name for p in (tmp_path / "backups" / "database").iterdir())
    assert len(remaining) == 2
    assert made[-1] in remaining
