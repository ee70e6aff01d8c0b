"""`run:` steps keep their secrets: secret-looking arguments, and `secret_env` values
from the credentials file, are never stored (checked in the raw SQLite file) nor shown."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.config import Config
from hostkeeper.core.runs import RunStatus, StepStatus
from hostkeeper.procedures.engine import Engine

ARGUMENT_SECRETS = ("hunter2-pw", "t0ken-value", "bearer-abc", "u:p4ss")
SECRET_ARGV = [
    "--password=hunter2-pw",
    "--token",
    "t0ken-value",
    "Authorization: Bearer bearer-abc",
    "https://u:p4ss@example.org/x",
]
# Prints its arguments and the secret variable, as a careless script would.
ECHO = "import os, sys; print(sys.argv[1:]); print(os.environ.get('DB_PASSWORD'))"
ENV_SECRET = "env-s3cret-from-the-credentials-file"


def _raw_database_text(config: Config) -> str:
    database = config.database.url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT * FROM step_results").fetchall()
        rows += connection.execute("SELECT * FROM runs").fetchall()
    return repr(rows)


def _run(
    make_config: Callable[..., Config], store: Store, step: dict[str, Any], **options: Any
) -> tuple[Config, run_store.RunRecord]:
    config = make_config({"p": {"schedule": {"hour": 2}, "steps": [step]}}, **options)
    report = Engine(lambda: config, store).run("p", dry_run=options.pop("dry_run", False))
    [record] = [r for r in run_store.list_runs(store, limit=100) if r.id == report.run_id]
    return config, record


@pytest.mark.parametrize("dry_run", [False, True])
def test_secret_arguments_are_not_stored_or_shown(
    make_config: Callable[..., Config], store: Store, dry_run: bool
) -> None:
    step = {"run": [sys.executable, "-c", ECHO, *SECRET_ARGV]}
    config = make_config({"p": {"schedule": {"hour": 2}, "steps": [step]}})
    report = Engine(lambda: config, store).run("p", dry_run=dry_run)
    [record] = [r for r in run_store.list_runs(store, limit=100) if r.id == report.run_id]
    shown = repr(record) + repr(report) + _raw_database_text(config)
    for secret in ARGUMENT_SECRETS:
        assert secret not in shown
    [result] = record.steps
    if dry_run:
        assert result.summary is not None and "--password=*** --token ***" in result.summary
    else:
        assert result.details is not None
        assert result.details["argv"][3:6] == ["--password=***", "--token", "***"]
        assert result.output is not None and "--password=***" in result.output


def _credentials(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "credentials.env"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_secret_env_reaches_the_command_and_nothing_else(
    make_config: Callable[..., Config], store: Store, tmp_path: Path
) -> None:
    credentials = _credentials(tmp_path, f"# for the sync step\nDB_PASSWORD='{ENV_SECRET}'\n")
    check = (
        "import os, sys; print(os.environ['DB_PASSWORD']); "
        f"sys.exit(os.environ['DB_PASSWORD'] != {ENV_SECRET!r})"
    )
    step = {"run": [sys.executable, "-c", check], "secret_env": ["DB_PASSWORD"]}
    paths = {
        "state_dir": str(tmp_path / "state"),
        "credentials_file": str(credentials),
    }
    config, record = _run(make_config, store, step, paths=paths)
    assert record.status == RunStatus.SUCCEEDED.value, record
    [result] = record.steps
    assert result.details is not None and result.details["secret_env"] == ["DB_PASSWORD"]
    assert ENV_SECRET not in repr(record) + _raw_database_text(config)
    assert result.output is not None and "***" in result.output


@pytest.mark.parametrize(
    ("text", "mode", "reason"),
    [
        (f"DB_PASSWORD={ENV_SECRET}\n", 0o644, "accessible to other users (mode 0644)"),
        (f"DB_PASSWORD={ENV_SECRET}\n", 0o620, "accessible to other users (mode 0620)"),
        (f"OTHER={ENV_SECRET}\n", 0o600, "has no DB_PASSWORD"),
        (f"not a line {ENV_SECRET}\n", 0o600, "line 1 is not NAME=value"),
    ],
)
def test_a_credentials_file_that_cannot_be_trusted_fails_the_step_without_its_values(
    make_config: Callable[..., Config],
    store: Store,
    tmp_path: Path,
    text: str,
    mode: int,
    reason: str,
) -> None:
    credentials = _credentials(tmp_path, text, mode)
    step = {"run": [sys.executable, "-c", "pass"], "secret_env": ["DB_PASSWORD"]}
    paths = {"state_dir": str(tmp_path / "state"), "credentials_file": str(credentials)}
    config, record = _run(make_config, store, step, paths=paths)
    [result] = record.steps
    assert result.status is StepStatus.FAILED
    assert result.error is not None and reason in result.error
    assert ENV_SECRET not in repr(record) + _raw_database_text(config)


def test_a_missing_credentials_file_fails_the_step(
    make_config: Callable[..., Config], store: Store, tmp_path: Path
) -> None:
    step = {"run": [sys.executable, "-c", "pass"], "secret_env": ["DB_PASSWORD"]}
    paths = {"state_dir": str(tmp_path / "state"), "credentials_file": str(tmp_path / "none")}
    _config, record = _run(make_config, store, step, paths=paths)
    [result] = record.steps
    assert result.status is StepStatus.FAILED
    assert result.error is not None and "cannot read credentials_file" in result.error


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"backup": "config", "secret_env": ["A"]}, "`secret_env` applies to `run:` steps only"),
        ({"run": ["true"], "secret_env": ["1BAD"]}, "is not an environment variable name"),
        ({"run": ["true"], "secret_env": ["A=B"]}, "is not an environment variable name"),
    ],
)
def test_secret_env_is_validated(
    make_config: Callable[..., Config], step: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_config(
            {"p": {"schedule": {"hour": 2}, "steps": [step]}},
            backups=[{"name": "config", "sources": ["/etc"]}],
        )
