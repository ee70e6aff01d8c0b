"""A procedure runs and is recorded the same way on either backend, and the CLI reads
another host's history from a shared database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.config import parse_config
from hostkeeper.core.runs import RunStatus, StepStatus
from hostkeeper.procedures.engine import Engine


def _config(tmp_path: Path, url: str) -> dict[str, object]:
    return {
        "paths": {
            "state_dir": str(tmp_path / "state"),
            "report_dir": str(tmp_path / "reports"),
            "backup_dir": str(tmp_path / "backups"),
            "log_dir": str(tmp_path / "log"),
        },
        "database": {"url": url},
        "procedures": {
            "nightly": {
                "schedule": {"hour": 2},
                "steps": [
                    {"run": ["sh", "-c", "echo out; exit 4"], "on_failure": "continue"},
                    {"run": ["true"]},
                    {"db": ["check", "stats"]},
                ],
            }
        },
    }


def test_engine_records_a_run_on_either_backend(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    config = parse_config(yaml.safe_dump(_config(tmp_path, store_url)), "test.yaml").config
    report = Engine(lambda: config, store).run("nightly")
    assert report.status is RunStatus.FAILED
    [record] = run_store.list_runs(store, "nightly")
    assert [s.status for s in record.steps] == [
        StepStatus.FAILED,
        StepStatus.SUCCEEDED,
        StepStatus.SUCCEEDED,
    ]
    assert record.steps[0].output == "out\n"
    assert "exited with status 4" in (record.steps[0].error or "")


def test_runs_and_status_read_another_hosts_history(store_url: str, tmp_path: Path) -> None:
    config_file = tmp_path / "hostkeeper.yaml"
    config_file.write_text(yaml.safe_dump(_config(tmp_path, store_url)))
    other = open_store(store_url, host="db-host-7")
    try:
        from hostkeeper.adapters.store.migrate import migrate

        migrate(other, tmp_path / "m.lock")
        config = parse_config(config_file.read_text(), str(config_file)).config
        Engine(lambda: config, other).run("nightly")
    finally:
        other.dispose()

    def cli(*args: str) -> object:
        result = subprocess.run(
            [sys.executable, "-m", "hostkeeper", "--config", str(config_file), "--json", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return json.loads(result.stdout)

    assert cli("runs") == []  # this host has none
    other_runs = cli("runs", "--host", "db-host-7")
    assert isinstance(other_runs, list) and [r["host"] for r in other_runs] == ["db-host-7"]
    status = cli("status", "--host", "db-host-7")
    assert isinstance(status, dict)
    assert status["host"] == "db-host-7"
    assert status["daemon"] is None
    assert status["procedures"][0]["last_status"] == "failed"
