"""Finding the configuration a daemon recorded, from a configuration file that is invalid."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from hostkeeper.adapters.daemon_state import DaemonState, write_state
from hostkeeper.config import load_config
from hostkeeper.daemon.running_config import (
    find_running_config,
    running_config_file,
    save_running_config,
)

ConfigFile = Callable[..., Path]


def _record_as_the_daemon_does(config_path: Path, pid: int | None = None) -> str:
    """What `hostkeeper daemon` leaves in state_dir after loading `config_path`."""
    loaded = load_config(config_path)
    state_dir = loaded.config.paths.state_dir
    digest = save_running_config(state_dir, loaded.text)
    state = DaemonState(
        pid=pid if pid is not None else os.getpid(),
        started_at="2026-12-02T10:00:00+00:00",
        config_file=str(config_path.absolute()),
        config_loaded_at="2026-12-02T10:00:00+00:00",
        last_reload="ok",
        config_sha256=digest,
    )
    write_state(state_dir, state)
    return state_dir


def _break(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data | {"bogus": 1}, sort_keys=False), encoding="utf-8")


def test_an_invalid_file_finds_the_copy_under_the_state_dir_it_names(
    config_file: ConfigFile, config_data: Callable[..., dict[str, Any]]
) -> None:
    procedures = {"p": {"schedule": {"every": "1h"}, "steps": [{"run": ["true"]}]}}
    path = config_file(procedures)
    state_dir = _record_as_the_daemon_does(path)
    assert (Path(state_dir) / "running-config.yaml").stat().st_mode & 0o777 == 0o640
    _break(path, config_data())  # the edit drops the procedure and adds a bad key

    running = find_running_config(str(path))

    assert running is not None
    assert list(running.loaded.config.procedures) == ["p"]
    assert running.loaded_at == "2026-12-02T10:00:00+00:00"


def test_a_copy_recorded_for_another_file_is_not_used(
    config_file: ConfigFile, config_data: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    path = config_file()
    _record_as_the_daemon_does(path)
    other = tmp_path / "other.yaml"
    _break(other, config_data())  # same state_dir, but not the file the daemon runs

    assert find_running_config(str(other)) is None
    assert find_running_config(str(path)) is not None


def test_a_copy_that_does_not_match_daemon_json_is_not_used(
    config_file: ConfigFile, config_data: Callable[..., dict[str, Any]]
) -> None:
    path = config_file()
    state_dir = _record_as_the_daemon_does(path)
    running_config_file(state_dir).write_text("version: 1\n# edited by hand\n")
    _break(path, config_data())

    assert find_running_config(str(path)) is None


def test_invalid_file_and_no_recorded_copy_fails_as_before(
    cli: Callable[..., Any], config_file: ConfigFile, config_data: Callable[..., dict[str, Any]]
) -> None:
    path = config_file()
    _break(path, config_data())

    for verb in (["status"], ["runs"], ["schedule"], ["config", "show"]):
        result = cli("--config", str(path), *verb)
        assert result.returncode == 1, verb
        assert f"{path}:" in result.stderr and "bogus: unknown key" in result.stderr
        assert "showing the configuration" not in result.stderr


def test_pure_readers_use_the_copy_and_changers_refuse(
    cli: Callable[..., Any],
    config_file: ConfigFile,
    config_data: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    path = config_file(backups=[{"name": "etc", "sources": [str(tmp_path)]}])
    _record_as_the_daemon_does(path)
    _break(path, config_data())

    for verb in (
        ["config", "show"],
        ["metrics", "list"],
        ["alerts", "list"],
        ["backup", "list"],
        ["baseline", "show"],
    ):
        result = cli("--config", str(path), *verb)
        assert result.returncode == 0, (verb, result.stderr)
        assert "; showing the configuration the daemon last ran (loaded " in result.stderr, verb
    for verb in (["backup", "create", "etc"], ["cleanup"], ["rotate"]):
        result = cli("--config", str(path), *verb)
        assert result.returncode == 1, verb
        assert "showing the configuration" not in result.stderr, verb
