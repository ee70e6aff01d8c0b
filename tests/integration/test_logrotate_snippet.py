"""The packaged logrotate snippet, checked and run by the real logrotate.

The snippet is copied into tmp_path with /var/log/hostkeeper rewritten to a directory
there; everything else (directives, postrotate) is the shipped text unless a test says
otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from tests.peers import missing_peer

REPO_ROOT = Path(__file__).resolve().parents[2]
SNIPPET = REPO_ROOT / "packaging" / "logrotate" / "hostkeeper"
SHIPPED_LOG_DIR = "/var/log/hostkeeper"
RELOAD_COMMAND = "systemctl reload hostkeeper >/dev/null 2>&1 || true"
LONG_AGO = datetime(2000, 1, 1)

LOGROTATE = shutil.which("logrotate") or next(
    (p for p in ("/usr/sbin/logrotate", "/sbin/logrotate") if Path(p).is_file()), None
)
if LOGROTATE is None:
    missing_peer("logrotate is not installed (Debian package `logrotate`)", module_level=True)


def snippet_for(log_dir: Path, postrotate: str | None = None) -> str:
    """The shipped snippet with its log directory (and optionally postrotate) replaced."""
    text = SNIPPET.read_text(encoding="utf-8")
    assert f"{SHIPPED_LOG_DIR}/*.log" in text
    text = text.replace(SHIPPED_LOG_DIR, str(log_dir))
    if postrotate is not None:
        assert RELOAD_COMMAND in text, "the postrotate script no longer reloads hostkeeper"
        text = text.replace(RELOAD_COMMAND, postrotate)
    return text


def write_config(directory: Path, text: str) -> Path:
    config = directory / "logrotate.conf"
    config.write_text(text, encoding="utf-8")
    config.chmod(0o644)  # logrotate ignores configuration files others may write
    return config


def write_state(path: Path, last_rotated: dict[Path, datetime]) -> None:
    """A logrotate state file saying when each log was last rotated (local time)."""
    lines = ["logrotate state -- version 2"] + [
        f'"{log}" {t.year}-{t.month}-{t.day}-{t.hour}:{t.minute}:{t.second}'
        for log, t in last_rotated.items()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def logrotate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert LOGROTATE is not None
    return subprocess.run(
        [LOGROTATE, *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "log"
    directory.mkdir(mode=0o750)
    return directory


def test_debug_run_parses_the_snippet_and_plans_the_rotation(tmp_path: Path, log_dir: Path) -> None:
    log = log_dir / "hostkeeper.log"
    log.write_text("one line\n", encoding="utf-8")
    state = tmp_path / "state"
    write_state(state, {log: LONG_AGO})
    config = write_config(tmp_path, snippet_for(log_dir))

    result = logrotate("-d", "-s", state, config)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "error:" not in output, output
    assert f"rotating pattern: {log_dir}/*.log" in output
    assert "after 1 days (14 rotations)" in output
    assert "empty log files are not rotated" in output
    assert f"considering log {log}" in output
    assert "log needs rotating" in output
    assert f"renaming {log} to {log}.1" in output
    assert "running postrotate script" in output
    assert RELOAD_COMMAND in output
    # debug mode changes nothing
    assert log.read_text(encoding="utf-8") == "one line\n"
    assert not (log_dir / "hostkeeper.log.1").exists()


def test_debug_run_leaves_empty_and_recent_logs_alone(tmp_path: Path, log_dir: Path) -> None:
    empty = log_dir / "empty.log"
    empty.touch()
    recent = log_dir / "recent.log"
    recent.write_text("fresh\n", encoding="utf-8")
    state = tmp_path / "state"
    # `recent` was rotated earlier today: not due yet under `daily`, which compares
    # calendar days (an hour ago is yesterday shortly after midnight)
    today = datetime.now().replace(hour=0, minute=0, second=1, microsecond=0)
    write_state(state, {empty: LONG_AGO, recent: today})
    config = write_config(tmp_path, snippet_for(log_dir))

    result = logrotate("-d", "-s", state, config)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "log needs rotating" not in output, output
    assert "log does not need rotating (log is empty)" in output
    # logrotate words a rotation earlier today either way, depending on its version
    assert (
        "log does not need rotating (log has been rotated at" in output
        or "log does not need rotating (log has already been rotated)" in output
    ), output


def test_forced_run_rotates_compresses_later_and_runs_postrotate_once(
    tmp_path: Path, log_dir: Path
) -> None:
    marker = tmp_path / "postrotate-ran"
    first = log_dir / "hostkeeper.log"
    second = log_dir / "audit.log"
    for log in (first, second):
        log.write_text(f"{log.name} day 1\n", encoding="utf-8")
        log.chmod(0o640)
    state = tmp_path / "state"
    config = write_config(tmp_path, snippet_for(log_dir, postrotate=f"echo ran >> {marker}"))

    result = logrotate("-s", state, "-f", config)

    assert result.returncode == 0, result.stdout + result.stderr
    # sharedscripts: one postrotate for both files
    assert marker.read_text(encoding="utf-8") == "ran\n"
    for log in (first, second):
        rotated = log.with_name(log.name + ".1")
        assert rotated.read_text(encoding="utf-8") == f"{log.name} day 1\n"  # delaycompress
        # create: a new empty file with the old one's mode
        assert log.exists() and log.stat().st_size == 0
        assert log.stat().st_mode & 0o777 == 0o640
    assert state.is_file()

    # Second rotation: yesterday's file is compressed now; an empty log is not rotated.
    first.write_text("hostkeeper.log day 2\n", encoding="utf-8")
    result = logrotate("-s", state, "-f", config)

    assert result.returncode == 0, result.stdout + result.stderr
    assert marker.read_text(encoding="utf-8") == "ran\nran\n"
    assert (log_dir / "hostkeeper.log.1").read_text(encoding="utf-8") == "hostkeeper.log day 2\n"
    assert (log_dir / "hostkeeper.log.2.gz").is_file()
    assert not (log_dir / "hostkeeper.log.2").exists()
    assert (log_dir / "audit.log.1").is_file()  # notifempty: audit.log was empty
    assert not (log_dir / "audit.log.2.gz").exists()
    unpacked = subprocess.run(
        ["gzip", "-dc", str(log_dir / "hostkeeper.log.2.gz")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert unpacked == "hostkeeper.log day 1\n"


def test_missing_log_directory_is_not_an_error(tmp_path: Path) -> None:
    state = tmp_path / "state"
    config = write_config(tmp_path, snippet_for(tmp_path / "no-such-dir"))

    result = logrotate("-s", state, "-f", config)

    assert result.returncode == 0, result.stdout + result.stderr
