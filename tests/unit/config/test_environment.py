"""Host warnings (`config validate`), and `--strict` turning them into failures."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hostkeeper.config import Config
from hostkeeper.config.environment import environment_problems
from hostkeeper.config.issues import format_location

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _warnings(config: Config) -> dict[str, str]:
    return {
        format_location(location): message for location, message in environment_problems(config)
    }


def _procedure(*steps: Any) -> dict[str, Any]:
    return {"p": {"schedule": {"every": "1h"}, "steps": list(steps)}}


def test_clean_configuration_has_no_warnings(make_config: Callable[..., Config]) -> None:
    assert _warnings(make_config(_procedure({"run": ["true"]}))) == {}


def test_missing_backup_source_is_a_warning(
    make_config: Callable[..., Config], tmp_path: Path
) -> None:
    config = make_config(backups=[{"name": "etc", "sources": [str(tmp_path / "absent")]}])
    assert _warnings(config) == {
        "backups[0].sources[0]": f"{tmp_path / 'absent'} does not exist here"
    }


def test_missing_command_is_a_warning(make_config: Callable[..., Config]) -> None:
    config = make_config(_procedure({"run": ["/nonexistent/bin/tool"]}))
    assert _warnings(config) == {
        "procedures.p.steps[0].run": "/nonexistent/bin/tool is not an executable file here"
    }


def test_command_on_path_is_found(make_config: Callable[..., Config]) -> None:
    assert _warnings(make_config(_procedure({"run": ["sh", "-c", "true"]}))) == {}
    warnings = _warnings(make_config(_procedure({"run": ["no-such-command-here"]})))
    assert list(warnings) == ["procedures.p.steps[0].run"]


def test_relative_command_is_looked_up_in_the_step_cwd(
    make_config: Callable[..., Config], tmp_path: Path
) -> None:
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert _warnings(make_config(_procedure({"run": ["./tool.sh"], "cwd": str(tmp_path)}))) == {}
    script.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert list(_warnings(make_config(_procedure({"run": ["./tool.sh"], "cwd": str(tmp_path)}))))


def test_missing_cleanup_root_certificate_and_unused_channel_are_warnings(
    make_config: Callable[..., Config], tmp_path: Path
) -> None:
    absent = str(tmp_path / "absent")
    config = make_config(
        cleanup=[{"name": "c", "path": absent, "delete_after": "1d"}],
        checks=[
            {
                "name": "cert",
                "type": "certificate",
                "path": absent,
                "warning": "30d",
                "critical": "7d",
            }
        ],
        security={"certificates": [absent]},
        alerts={"channels": [{"name": "spare", "type": "log"}]},
    )
    assert set(_warnings(config)) == {
        "cleanup[0].path",
        "checks[0].path",
        "security.certificates[0]",
        "alerts.channels[0].name",
    }


def _host_warning_config(config_file: Callable[..., Path], tmp_path: Path) -> Path:
    return config_file(
        _procedure({"run": ["/nonexistent/bin/tool"]}),
        backups=[{"name": "etc", "sources": [str(tmp_path / "absent")]}],
    )


def test_validate_reports_host_warnings_and_exits_0(
    cli: Cli, config_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = _host_warning_config(config_file, tmp_path)
    result = cli("--config", str(path), "config", "validate")
    assert result.returncode == 0
    assert "valid" in result.stdout
    lines = result.stderr.splitlines()
    assert any(
        line.startswith(f"{path}:") and "backups[0].sources[0]: warning:" in line for line in lines
    )
    assert any("procedures.p.steps[0].run: warning:" in line for line in lines)


def test_validate_strict_turns_host_warnings_into_exit_1(
    cli: Cli, config_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = _host_warning_config(config_file, tmp_path)
    result = cli("--config", str(path), "config", "validate", "--strict")
    assert result.returncode == 1
    assert "invalid under --strict" in result.stdout


def test_validate_strict_passes_a_clean_file(cli: Cli, config_file: Callable[..., Path]) -> None:
    path = config_file(_procedure({"run": ["true"]}))
    assert cli("--config", str(path), "config", "validate", "--strict").returncode == 0


def test_validate_json_lists_warnings(
    cli: Cli, config_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = _host_warning_config(config_file, tmp_path)
    result = cli("--json", "--config", str(path), "config", "validate", "--strict")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["errors"] == []
    assert len(report["warnings"]) == 2


def test_validate_invalid_file_prints_every_error_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nbogus: 1\ndaemon:\n  shutdown_timeout: soon\n")
    result = cli("--config", str(path), "config", "validate")
    assert result.returncode == 1
    assert f"{path}:2: bogus: unknown key (not allowed here)" in result.stderr
    assert f"{path}:4: daemon.shutdown_timeout: " in result.stderr
    assert "invalid (2 problem(s))" in result.stderr


def test_directories_hostkeeper_creates_may_be_missing(
    make_config: Callable[..., Config], tmp_path: Path
) -> None:
    # A fresh install: state_dir, report_dir and backup_dir appear on the daemon's first
    # write, and a cleanup policy for old reports points at one of them.
    config = make_config(
        cleanup=[
            {"name": "reports", "path": str(tmp_path / "reports"), "delete_after": "90d"},
            {"name": "daily", "path": str(tmp_path / "reports" / "daily"), "delete_after": "9d"},
            {"name": "dumps", "path": str(tmp_path / "state" / "db-backups"), "delete_after": "9d"},
        ]
    )
    assert not (tmp_path / "state").exists() and not (tmp_path / "reports").exists()
    assert _warnings(config) == {}


def test_cleanup_root_outside_what_hostkeeper_creates_still_warns(
    make_config: Callable[..., Config], tmp_path: Path
) -> None:
    absent = tmp_path / "srv" / "uploads"
    config = make_config(cleanup=[{"name": "u", "path": str(absent), "delete_after": "1d"}])
    assert _warnings(config) == {"cleanup[0].path": f"{absent} is not a directory here"}


def test_a_directory_that_cannot_be_created_is_a_warning(
    make_config: Callable[..., Config], tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should go\n")
    config = make_config(
        paths={"state_dir": str(blocker / "state"), "report_dir": str(blocker)},
        cleanup=[{"name": "r", "path": str(blocker / "old"), "delete_after": "1d"}],
    )
    assert _warnings(config) == {
        "paths.state_dir": f"{blocker / 'state'} cannot be created: {blocker} is not a directory",
        "paths.report_dir": f"{blocker} is not a directory",
        "cleanup[0].path": f"{blocker / 'old'} cannot be created: {blocker} is not a directory",
    }


def test_validate_strict_passes_before_the_daemon_created_its_directories(
    cli: Cli, config_file: Callable[..., Path], tmp_path: Path
) -> None:
    # The README's install steps: `make install`, then `config validate --strict`.
    etc = tmp_path / "etc"
    etc.mkdir()
    path = config_file(
        cleanup=[{"name": "old-reports", "path": str(tmp_path / "reports"), "delete_after": "90d"}],
        backups=[{"name": "config", "sources": [str(etc)]}],
        procedures=_procedure({"backup": "config"}, "cleanup"),
    )
    result = cli("--config", str(path), "config", "validate", "--strict")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    for directory in ("state", "reports", "backups"):
        assert not (tmp_path / directory).exists()


def test_validate_strict_still_fails_on_a_missing_backup_source(
    cli: Cli, config_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = config_file(
        cleanup=[{"name": "old-reports", "path": str(tmp_path / "reports"), "delete_after": "90d"}],
        backups=[{"name": "config", "sources": [str(tmp_path / "etc")]}],
        procedures=_procedure({"backup": "config"}, "cleanup"),
    )
    result = cli("--config", str(path), "config", "validate", "--strict")
    assert result.returncode == 1
    expected = f"backups[0].sources[0]: warning: {tmp_path / 'etc'} does not exist here"
    assert expected in result.stderr
    assert "cleanup" not in result.stderr
