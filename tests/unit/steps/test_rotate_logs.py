"""Rotation applied to real files, with the real store and real processes."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hostkeeper.adapters.locks import LockHeld
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.files import last_rotations, recent_file_actions
from hostkeeper.config import Config
from hostkeeper.steps.file_locks import files_lock_path
from hostkeeper.steps.rotate_logs import live_logs, reload_daemon, rotate

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    directory.mkdir()
    return directory


@pytest.fixture
def policy_config(make_config: Callable[..., Config], logs: Path) -> Callable[..., Config]:
    def build(**fields: Any) -> Config:
        policy = {"name": "app", "paths": [f"{logs}/*.log"], "keep": 3} | fields
        return make_config(logs=[policy])

    return build


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def content(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def test_create_mode_renames_creates_and_records_state(
    policy_config: Callable[..., Config], store: Store, logs: Path
) -> None:
    log = logs / "app.log"
    log.write_text("one\n")
    os.chmod(log, 0o640)
    config = policy_config(compress=True, delay_compress=True)
    [outcome] = rotate(config, store, now=NOW)
    assert outcome.all_errors == []
    assert names(logs) == ["app.log", "app.log.1"]
    assert log.read_text() == "" and oct(log.stat().st_mode & 0o777) == oct(0o640)
    assert (logs / "app.log.1").read_text() == "one\n"
    assert last_rotations(store, "app") == {str(log): NOW}
    action = recent_file_actions(store, kind="rotate")[0]
    assert action["files_rotated"] == 1 and action["policy"] == "app"
    # not due again the same day, even with content
    log.write_text("two\n")
    [again] = rotate(config, store, now=NOW + timedelta(hours=1))
    assert again.logs[0].plan.reason.startswith("daily: already rotated")
    assert names(logs) == ["app.log", "app.log.1"]
    # next day: the older generation is compressed, the newest waits (delay_compress)
    [third] = rotate(config, store, now=NOW + timedelta(days=1))
    assert names(logs) == ["app.log", "app.log.1", "app.log.2.gz"]
    assert content(logs / "app.log.2.gz") == b"one\n"
    assert third.logs[0].compressed == ["app.log.2"]


def test_generations_beyond_keep_are_deleted(
    policy_config: Callable[..., Config], store: Store, logs: Path
) -> None:
    config = policy_config(keep=2, compress=False)
    for day in range(5):
        (logs / "app.log").write_text(f"day {day}\n")
        rotate(config, store, now=NOW + timedelta(days=day))
    assert names(logs) == ["app.log", "app.log.1", "app.log.2"]
    assert (logs / "app.log.1").read_text() == "day 4\n"
    assert (logs / "app.log.2").read_text() == "day 3\n"


def test_dry_run_changes_nothing_and_records_nothing(
    policy_config: Callable[..., Config], store: Store, logs: Path
) -> None:
    (logs / "app.log").write_text("x\n")
    [outcome] = rotate(policy_config(), store, now=NOW, dry_run=True)
    assert outcome.logs[0].plan.rotate_to == "app.log.1"
    assert names(logs) == ["app.log"]
    assert last_rotations(store, "app") == {} and recent_file_actions(store) == []


def test_copytruncate_keeps_the_same_file(
    policy_config: Callable[..., Config], store: Store, logs: Path
) -> None:
    log = logs / "app.log"
    log.write_text("copied\n")
    inode = log.stat().st_ino
    rotate(policy_config(mode="copytruncate", compress=False), store, now=NOW)
    assert log.stat().st_ino == inode and log.read_text() == ""
    assert (logs / "app.log.1").read_text() == "copied\n"
    assert names(logs) == ["app.log", "app.log.1"]


def test_copytruncate_refuses_a_log_with_a_hard_link_outside_the_directory(
    policy_config: Callable[..., Config], store: Store, logs: Path, tmp_path: Path
) -> None:
    # Someone who can write the log directory links a file they cannot touch into it.
    precious = tmp_path / "elsewhere" / "precious.db"
    precious.parent.mkdir()
    precious.write_text("must survive\n")
    os.link(precious, logs / "app.log")
    (logs / "app.log.1").write_text("older generation\n")
    [outcome] = rotate(policy_config(mode="copytruncate", compress=False), store, now=NOW)
    assert precious.read_text() == "must survive\n"
    [error] = outcome.all_errors
    assert "2 hard links" in error and "copytruncate" in error
    # refused before anything moved: the older generation kept its name
    assert names(logs) == ["app.log", "app.log.1"]
    assert (logs / "app.log.1").read_text() == "older generation\n"


def test_dated_naming(policy_config: Callable[..., Config], store: Store, logs: Path) -> None:
    (logs / "app.log").write_text("x\n")
    rotate(policy_config(naming="dated", compress=True), store, now=NOW)
    assert names(logs) == ["app.log", "app.log-20240630.gz"]


def test_state_is_not_written_when_the_rotation_fails(
    policy_config: Callable[..., Config], store: Store, logs: Path
) -> None:
    (logs / "app.log").write_text("x\n")
    (logs / "app.log.1").mkdir()  # a directory where the generation must go
    [outcome] = rotate(policy_config(compress=False), store, now=NOW)
    assert outcome.all_errors and "app.log" in outcome.all_errors[0]
    assert last_rotations(store, "app") == {}
    assert (logs / "app.log").read_text() == "x\n"
    assert recent_file_actions(store)[0]["errors"] == 1


def test_symlinked_logs_and_generations_matched_by_a_broad_glob_are_not_rotated(
    make_config: Callable[..., Config], logs: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.log"
    outside.write_text("outside\n")
    (logs / "app.log").write_text("x")
    (logs / "app.log.1").write_text("older")
    (logs / "app.log.2.gz").write_bytes(gzip.compress(b"oldest"))
    (logs / "link.log").symlink_to(outside)
    config = make_config(logs=[{"name": "all", "paths": [f"{logs}/*"]}])
    live, problems = live_logs(config.logs[0])
    assert live == [str(logs / "app.log")]
    assert problems == [f"{logs}/link.log: is a symlink, not rotated"]


def test_a_second_rotation_waits_for_the_lock_and_gives_up(
    policy_config: Callable[..., Config],
    store: Store,
    logs: Path,
    hold_lock: Callable[[Path], subprocess.Popen[str]],
) -> None:
    (logs / "app.log").write_text("x\n")
    config = policy_config()
    hold_lock(files_lock_path(config))
    with pytest.raises(LockHeld):
        rotate(config, store, now=NOW, lock_wait=0.5)
    assert names(logs) == ["app.log"]


def test_after_rotate_argv_runs_once_per_policy(
    policy_config: Callable[..., Config], store: Store, logs: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    for name in ("a.log", "b.log"):
        (logs / name).write_text("x\n")
    config = policy_config(after_rotate=[sys.executable, "-c", APPEND_MARKER, str(marker)])
    [outcome] = rotate(config, store, now=NOW)
    assert outcome.after_rotate == f"ran {sys.executable}"
    assert marker.read_text() == "ran\n"


APPEND_MARKER = "import sys; open(sys.argv[1], 'a').write('ran\\n')"


def test_a_failing_after_rotate_is_an_error(
    policy_config: Callable[..., Config], store: Store, logs: Path
) -> None:
    (logs / "app.log").write_text("x\n")
    [outcome] = rotate(policy_config(after_rotate=["false"]), store, now=NOW)
    assert outcome.all_errors == ["after_rotate failed: false exited with status 1"]
    assert last_rotations(store, "app")  # the rotation itself succeeded


HOLDER = """
import sys, time
handle = open(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def holder() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(path: Path) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stdout.readline().strip() == "holding"
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()
        process.wait()


def test_a_rotated_file_still_open_is_compressed_only_once_released(
    policy_config: Callable[..., Config],
    store: Store,
    logs: Path,
    holder: Callable[[Path], subprocess.Popen[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hostkeeper.steps.rotate_logs as module

    monkeypatch.setattr(module, "REOPEN_WAIT_SECONDS", 0.3)
    (logs / "app.log").write_text("held\n")
    process = holder(logs / "app.log")  # a writer that never reopens
    config = policy_config(compress=True)
    [outcome] = rotate(config, store, now=NOW)
    assert outcome.logs[0].deferred == ["app.log.1"]
    assert names(logs) == ["app.log", "app.log.1"]
    process.kill()
    process.wait()
    [later] = rotate(config, store, now=NOW + timedelta(minutes=5))
    assert later.logs[0].compressed == ["app.log.1"]
    assert names(logs) == ["app.log", "app.log.1.gz"]
    assert content(logs / "app.log.1.gz") == b"held\n"


SIGHUP_RECORDER = """
import signal, sys, time
from pathlib import Path
out = Path(sys.argv[1])
signal.signal(signal.SIGHUP, lambda *_: out.write_text("reloaded"))
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""


def test_reload_signals_the_running_daemon_from_its_state_file(
    make_config: Callable[..., Config], tmp_path: Path
) -> None:
    config = make_config()
    flag = tmp_path / "flag"
    # argv[0] carries "hostkeeper" as the daemon's command line does
    process = subprocess.Popen(
        [sys.executable, "-c", SIGHUP_RECORDER, str(flag), "hostkeeper"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        state_dir = Path(config.paths.state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / "daemon.json").write_text(json.dumps({"pid": process.pid}))
        assert reload_daemon(config) == f"reloaded the daemon (pid {process.pid})"
        deadline = time.monotonic() + 10
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert flag.read_text() == "reloaded"
    finally:
        process.kill()
        process.wait()
    assert reload_daemon(config) == "no running daemon to reload"


def test_inside_the_daemon_the_step_asks_the_daemon_itself(
    make_config: Callable[..., Config], tmp_path: Path
) -> None:
    from hostkeeper.daemon.lifecycle import Daemon

    daemon = Daemon(str(tmp_path / "unused.yaml"))
    signalled: list[int] = []
    saved = signal.signal(signal.SIGHUP, lambda signum, _frame: signalled.append(signum))
    try:
        described = reload_daemon(make_config(), daemon.request_reload)
    finally:
        signal.signal(signal.SIGHUP, saved)
    assert described == f"reloaded the daemon (pid {os.getpid()})"
    assert daemon._reload_requested
    assert signalled == []  # no signal: the daemon's own loop reloads
