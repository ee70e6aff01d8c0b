"""CLI verbs on a garbage, truncated or read-only database, and `report --output` on a
directory: one line on stderr saying what is wrong, exit 1, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]

READING = [
    ["status"],
    ["runs"],
    ["schedule"],
    ["alerts", "list"],
    ["metrics", "show", "cpu.percent"],
    ["db", "check"],
    ["db", "stats"],
    ["backup", "list"],
    ["baseline", "show"],
    ["report", "daily"],
]
WRITING = [
    ["alerts", "silence", "r", "--for", "1h"],
    ["db", "vacuum"],
    ["db", "analyze"],
]


@pytest.fixture
def config(config_file: Callable[..., Path], cli: Cli) -> Path:
    path = config_file(alerts={"rules": [{"name": "r", "when": "cpu.percent > 90"}]})
    assert cli("--config", str(path), "db", "stats").returncode == 0  # a migrated database
    return path


def _database(config: Path) -> Path:
    return config.parent / "state" / "hostkeeper.db"


def _one_line_failure(result: subprocess.CompletedProcess[str], says: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert says in result.stderr


def _garbage(database: Path) -> None:
    database.write_bytes(bytes(range(256)) * 64)


def _truncated(database: Path) -> None:
    data = database.read_bytes()
    database.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize("damage", [_garbage, _truncated], ids=["garbage", "truncated"])
@pytest.mark.parametrize("verb", READING + WRITING, ids=" ".join)
def test_verb_on_a_damaged_database_is_one_line(
    cli: Cli, config: Path, damage: Callable[[Path], None], verb: list[str]
) -> None:
    damage(_database(config))

    result = cli("--config", str(config), *verb)

    _one_line_failure(result, "database error: ")


@pytest.fixture
def read_only_database(config: Path) -> Iterator[Path]:
    """The database file made immutable (even root cannot write it), as on a read-only
    filesystem."""
    database = _database(config)
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    made = subprocess.run(["chattr", "+i", str(database)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {made.stderr.decode().strip()}")
    yield database
    subprocess.run(["chattr", "-i", str(database)], check=True)


@pytest.mark.parametrize("verb", WRITING, ids=" ".join)
def test_writing_verb_on_a_read_only_database_is_one_line(
    cli: Cli, config: Path, read_only_database: Path, verb: list[str]
) -> None:
    result = cli("--config", str(config), *verb)

    _one_line_failure(result, "database error: attempt to write a readonly database")


def test_reading_verbs_still_work_on_a_read_only_database(
    cli: Cli, config: Path, read_only_database: Path
) -> None:
    for verb in (["status"], ["runs"], ["db", "check"]):
        result = cli("--config", str(config), *verb)
        assert result.returncode == 0, (verb, result.stderr)


def test_report_output_on_a_directory_is_one_line(cli: Cli, config: Path, tmp_path: Path) -> None:
    directory = tmp_path / "out"
    directory.mkdir()

    result = cli("--config", str(config), "report", "daily", "--output", str(directory))

    _one_line_failure(result, f"--output {directory} is a directory; name a file")
    assert list(directory.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
