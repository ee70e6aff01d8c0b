"""A restore test that fails, crashes or never runs is visible in every reader: the
store, `status` (text and --json), `validate-system`, the dashboard and /metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Cli, ConfigFile

from hostkeeper.config import load_config
from hostkeeper.services.status import build_status, next_runs_from_config
from hostkeeper.services.store_setup import prepare_store
from hostkeeper.web import prometheus
from hostkeeper.web.dashboard import render_dashboard

QUARTERLY = {"month": "1,4,7,10", "day": "1st sat", "hour": 1, "minute": 0}


@pytest.fixture
def install(tmp_path: Path, config_file: ConfigFile, cli: Cli) -> Callable[[list[Any]], Path]:
    """A config with the backup set `config` and a `quarterly` procedure of `steps`;
    one archive of the set already exists."""

    def build(steps: list[Any]) -> Path:
        etc = tmp_path / "etc"
        etc.mkdir()
        (etc / "app.conf").write_text("setting = 1\n")
        path = config_file(
            {"quarterly": {"schedule": QUARTERLY, "steps": steps}},
            backups=[{"name": "config", "sources": [str(etc)]}],
        )
        created = cli("--config", str(path), "backup", "create", "config")
        assert created.returncode == 0, created.stderr
        return path

    return build


def _status(cli: Cli, config: Path) -> tuple[str, dict[str, Any]]:
    text = cli("--config", str(config), "status")
    assert text.returncode == 0, text.stderr
    as_json = cli("--config", str(config), "--json", "status")
    assert as_json.returncode == 0, as_json.stderr
    [backup] = json.loads(as_json.stdout)["backups"]
    return text.stdout, backup


def _backups_line(cli: Cli, config: Path) -> dict[str, str]:
    done = cli("--config", str(config), "--json", "validate-system", "--alert-timeout", "1")
    items: list[dict[str, str]] = json.loads(done.stdout)["items"]
    return {item["item"]: item for item in items}["backups"]


def test_a_restore_test_that_cannot_run_is_failed_in_every_reader(
    tmp_path: Path, install: Callable[[list[Any]], Path], cli: Cli
) -> None:
    config = install([{"restore_test": "config"}])
    (tmp_path / "state" / "restore-tests").write_text("a file where the scratch dir goes\n")
    ran = cli("--config", str(config), "run", "quarterly")
    assert ran.returncode == 1, ran.stdout + ran.stderr

    text, backup = _status(cli, config)
    assert backup["restore_test"]["ok"] is False
    assert "restore-tests" in backup["restore_test"]["detail"]
    assert backup["restore_test_problem"].startswith("restore test FAILED at ")
    assert "backup set config: restore test FAILED at " in text
    assert "restore-tests" in text

    line = _backups_line(cli, config)
    assert line["result"] == "FAILED"
    assert "config: restore test FAILED" in line["reason"] and "restore-tests" in line["reason"]

    loaded = load_config(config).config
    store = prepare_store(loaded)
    try:
        now = datetime.now(UTC)
        status = build_status(
            store, loaded, now=now, next_runs=next_runs_from_config(loaded, store, now)
        )
        page = render_dashboard(store, status)
        exposition = prometheus.render(status)
    finally:
        store.dispose()
    assert "FAILED" in page and "restore-tests" in page
    assert 'hostkeeper_backup_last_restore_test_success{set="config"} 0' in exposition


def test_a_restore_test_never_reached_is_missing_once_its_procedure_ran(
    install: Callable[[list[Any]], Path], cli: Cli
) -> None:
    config = install([{"run": ["false"]}, {"restore_test": "config"}])
    assert _backups_line(cli, config)["result"] == "PASSED"  # not due before the first run
    ran = cli("--config", str(config), "run", "quarterly")
    assert ran.returncode == 1

    text, backup = _status(cli, config)
    assert backup["restore_test"] is None
    assert backup["restore_test_problem"].startswith("restore test missing: procedure quarterly")
    assert "backup set config: restore test missing" in text
    line = _backups_line(cli, config)
    assert line["result"] == "FAILED" and "config: restore test missing" in line["reason"]

    tested = cli("--config", str(config), "backup", "restore-test", "config")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    _, backup = _status(cli, config)
    assert backup["restore_test"]["ok"] is True and backup["restore_test_problem"] is None
    assert _backups_line(cli, config)["result"] == "PASSED"
