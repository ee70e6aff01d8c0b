"""`hostkeeper daemon`, the unit's ExecStart, starts without the other verbs' modules (they
would stay in the daemon's memory for as long as it runs); every other form of the
command line still goes through the full parser."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hostkeeper.commands.cli import daemon_invocation


@pytest.mark.parametrize(
    ("arguments", "config"),
    [
        (["daemon"], ""),
        (["--config", "/etc/hk.yaml", "daemon"], "/etc/hk.yaml"),
        (["--config=/etc/hk.yaml", "-v", "daemon"], "/etc/hk.yaml"),
        (["--verbose", "--json", "--config", "a.yaml", "daemon"], "a.yaml"),
    ],
)
def test_a_plain_daemon_command_line_is_recognised(arguments: list[str], config: str) -> None:
    assert daemon_invocation(arguments) == config


@pytest.mark.parametrize(
    "arguments",
    [
        [],
        ["status"],
        ["daemon", "--help"],
        ["--help", "daemon"],
        ["daemon", "extra"],
        ["--config"],
        ["--config", "daemon"],
        ["--bogus", "daemon"],
        ["run", "daemon"],
    ],
)
def test_anything_else_goes_to_the_full_parser(arguments: list[str]) -> None:
    assert daemon_invocation(arguments) is None


def _hostkeeper(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "hostkeeper", *arguments],
        env={key: value for key, value in os.environ.items() if key != "NOTIFY_SOCKET"},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )


def _imported_verbs(stderr: str) -> set[str]:
    modules = {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if "|" in line}
    return {name for name in modules if name.startswith("hostkeeper.commands.")} - {
        "hostkeeper.commands.cli",
        "hostkeeper.commands.helppage",
    }


def test_the_daemon_loads_no_other_verb(tmp_path: Path) -> None:
    broken = tmp_path / "hostkeeper.yaml"
    broken.write_text("version: 1\nprocedures: [\n")  # refused before anything starts
    result = _hostkeeper(tmp_path, "--config", str(broken), "daemon")
    assert result.returncode == 1
    assert "invalid configuration" in result.stderr
    assert _imported_verbs(result.stderr) == set()


def test_daemon_help_is_the_full_parsers(tmp_path: Path) -> None:
    result = _hostkeeper(tmp_path, "daemon", "--help")
    assert result.returncode == 0, result.stderr
    assert "systemctl start hostkeeper" in result.stdout
    assert "hostkeeper.commands.procedures" in _imported_verbs(result.stderr)
