"""Durations, limits, ids, versions and pids out of any sane range on the command line:
one line naming the argument, the exit status of the verb's help, never a traceback."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]

HUGE = "99999999999999999999"
FOREVER = "999999999d"

CASES = [
    # (arguments, exit status, a piece of the one error line)
    (["alerts", "stats", "--period", FOREVER], 1, "--period: '999999999d' is not a usable"),
    (["report", "daily", "--period", FOREVER], 2, "argument --period: '999999999d' is not"),
    (["metrics", "trends", "--period", FOREVER], 1, "--period: '999999999d' is not a usable"),
    (["thresholds", "--period", FOREVER], 1, "--period: '999999999d' is not a usable"),
    (["metrics", "show", "cpu.percent", "--since", FOREVER], 1, "--since: '999999999d' is not"),
    (["alerts", "silence", "r", "--for", FOREVER], 1, "--for: '999999999d' is not a usable"),
    (["reload", "--timeout", FOREVER], 2, "argument --timeout: '999999999d' is not"),
    (["runs", "--limit", HUGE], 2, "a limit must be between 1 and 1000000"),
    (["runs", "--limit", "-1"], 2, "a limit must be between 1 and 1000000, not -1"),
    (["runs", "--limit", "0"], 2, "a limit must be between 1 and 1000000, not 0"),
    (["alerts", "list", "--limit", HUGE], 2, "a limit must be between 1 and 1000000"),
    (["alerts", "ack", HUGE], 2, "argument ID: an id must be between 1 and"),
    (["alerts", "mark-false-positive", HUGE], 2, "argument ID: an id must be between 1 and"),
    (["alerts", "ack", "-5"], 2, "argument ID: an id must be between 1 and"),
    (["baseline", "show", HUGE], 2, "argument VERSION: a version must be between 1 and"),
    (["baseline", "rollback", HUGE], 2, "argument VERSION: a version must be between 1 and"),
    (["reload", "--pid", HUGE], 2, "argument --pid: a pid must be between 1 and 4194304"),
    (["reload", "--pid", "0"], 2, "argument --pid: a pid must be between 1 and 4194304"),
]


@pytest.fixture
def config(config_file: Callable[..., Path]) -> Path:
    return config_file(alerts={"rules": [{"name": "r", "when": "cpu.percent > 90"}]})


@pytest.mark.parametrize(
    ("arguments", "status", "says"), CASES, ids=[" ".join(case[0]) for case in CASES]
)
def test_out_of_range_argument_is_one_line(
    cli: Cli, config: Path, arguments: list[str], status: int, says: str
) -> None:
    result = cli("--config", str(config), *arguments)

    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    if status == 2:  # argparse: the usage line, then the error
        assert len(lines) == 2 and lines[0].startswith("usage: "), result.stderr
    else:
        assert len(lines) == 1, result.stderr
    assert says in lines[-1]
