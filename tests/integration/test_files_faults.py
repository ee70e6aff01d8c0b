"""Faults with real processes: kill -9 mid-work, a full filesystem, a live writer.

Each killed run must leave no partial archive listed or passing verification, nothing
under a `.tmp` name after the next run, and every source byte and log line intact.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

DAY = 86400


def sha(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while data := handle.read(1 << 20):
            digest.update(data)
    return digest.hexdigest()


def write_lines(path: Path, count: int, start: int = 1) -> None:
    with open(path, "w") as handle:
        step = 100_000
        for base in range(start, start + count, step):
            top = min(base + step, start + count)
            handle.write("".join(f"line {n} of the log with some text\n" for n in range(base, top)))


def hostkeeper(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hostkeeper", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_hostkeeper(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hostkeeper", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def kill_when(process: subprocess.Popen[str], appeared: Callable[[], bool]) -> None:
    """SIGKILL `process` as soon as `appeared()` is true (it must happen mid-work)."""
    deadline = time.monotonic() + 120
    while not appeared():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"finished before it could be killed mid-work: {out} {err}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the work never started")
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith(".tmp"))


@pytest.fixture
def write_config(tmp_path: Path, config_data: Any) -> Callable[..., Path]:
    def write(**sections: Any) -> Path:
        path = tmp_path / "hostkeeper.yaml"
        data = config_data(**sections)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write


# -- kill -9 ---------------------------------------------------------------------------


def test_kill_during_a_backup_leaves_nothing_listed_and_the_next_run_cleans_up(
    tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    sources = tmp_path / "data"
    sources.mkdir()
    (sources / "small.txt").write_text("small\n")
    with open(sources / "big.bin", "wb") as handle:
        for _ in range(12):
            handle.write(os.urandom(10 * 1024 * 1024))
    before = {p.name: sha(p) for p in sources.iterdir()}
    config = write_config(backups=[{"name": "data", "sources": [str(sources)]}])
    set_dir = tmp_path / "backups" / "data"

    process = hostkeeper(config, "backup", "create", "data")
    kill_when(process, lambda: bool(set_dir.is_dir() and temp_files(set_dir)))

    assert temp_files(set_dir), "the killed run left its temp file (to be cleaned next run)"
    assert json.loads(run_hostkeeper(config, "--json", "backup", "list").stdout) == []
    verified = run_hostkeeper(config, "--json", "backup", "verify", "--all")
    assert verified.returncode == 0 and json.loads(verified.stdout) == []

    done = run_hostkeeper(config, "backup", "create", "data")
    assert done.returncode == 0, done.stderr
    assert temp_files(set_dir) == []
    listed = json.loads(run_hostkeeper(config, "--json", "backup", "list").stdout)
    assert len(listed) == 1
    assert run_hostkeeper(config, "backup", "verify", "--all").returncode == 0
    assert {p.name: sha(p) for p in sources.iterdir()} == before


def test_kill_during_a_compression_loses_nothing(
    tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    big = app / "big.log"
    write_lines(big, 3_000_000)
    old = time.time() - 10 * DAY
    os.utime(big, (old, old))
    digest = sha(big)
    config = write_config(
        cleanup=[{"name": "old", "path": str(app), "match": "*.log", "compress_after": "7d"}]
    )

    process = hostkeeper(config, "cleanup")
    kill_when(process, lambda: (app / "big.log.gz.tmp").exists())

    assert sha(big) == digest  # the source is untouched until its .gz is in place
    done = run_hostkeeper(config, "cleanup")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in app.iterdir()) == ["big.log.gz"]
    with gzip.open(app / "big.log.gz", "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == digest


def all_lines(directory: Path, stem: str) -> list[int]:
    numbers: list[int] = []
    for path in sorted(directory.iterdir()):
        if not path.name.startswith(stem):
            continue
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        numbers.extend(int(line.split()[1]) for line in data.decode().splitlines())
    return sorted(numbers)


def test_kill_during_a_rotation_loses_no_line(
    tmp_path: Path, write_config: Callable[..., Path]
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_lines(logs / "app.log", 3_000_000)
    write_lines(logs / "app.log.1", 1000, start=3_000_001)
    config = write_config(
        logs=[
            {
                "name": "app",
                "paths": [f"{logs}/app.log"],
                "keep": 5,
                "compress": True,
                "delay_compress": False,
            }
        ]
    )

    process = hostkeeper(config, "rotate", "--force")
    kill_when(process, lambda: bool(temp_files(logs)))

    done = run_hostkeeper(config, "rotate")
    assert done.returncode == 0, done.stderr
    assert temp_files(logs) == []
    assert all(p.name.endswith(".gz") for p in logs.iterdir() if p.name != "app.log")
    assert all_lines(logs, "app.log") == list(range(1, 3_001_001))


# -- a full filesystem -----------------------------------------------------------------


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a 1 MiB tmpfs needs root")
    mount = tmp_path / "backups"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs failed here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_filesystem_fails_the_backup_clearly_and_keeps_older_archives(
    tmp_path: Path, write_config: Callable[..., Path], small_filesystem: Path
) -> None:
    sources = tmp_path / "etc"
    sources.mkdir()
    (sources / "app.yaml").write_text("a: 1\n")
    config = write_config(
        procedures={"nightly": {"schedule": {"every": "1h"}, "steps": [{"backup": "etc"}]}},
        backups=[{"name": "etc", "sources": [str(sources)], "keep": {"daily": 10}}],
    )
    assert run_hostkeeper(config, "backup", "create", "etc").returncode == 0
    [older] = json.loads(run_hostkeeper(config, "--json", "backup", "list").stdout)
    (sources / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024))

    done = run_hostkeeper(config, "run", "nightly")

    assert done.returncode == 1
    runs = json.loads(run_hostkeeper(config, "--json", "runs").stdout)
    assert runs[0]["status"] == "failed"
    assert "no space left on the device" in runs[0]["error"]
    assert "older archives are untouched" in runs[0]["error"]
    assert json.loads(run_hostkeeper(config, "--json", "backup", "list").stdout) == [older]
    assert run_hostkeeper(config, "backup", "verify", "--all").returncode == 0
    assert temp_files(small_filesystem) == []


# -- a live writer that reopens on SIGHUP ---------------------------------------------

WRITER = """
import signal, sys, time
path = sys.argv[1]
state = {"reopen": False, "stop": False}
signal.signal(signal.SIGHUP, lambda *_: state.update(reopen=True))
signal.signal(signal.SIGTERM, lambda *_: state.update(stop=True))
handle = open(path, "a", buffering=1)
print("ready", flush=True)
number = 0
while not state["stop"]:
    if state["reopen"]:
        state["reopen"] = False
        handle.close()
        handle = open(path, "a", buffering=1)
    number += 1
    handle.write(f"line {number} written by the live writer\\n")
    if number % 50 == 0:
        time.sleep(0.001)
handle.close()
print(number, flush=True)
"""


@pytest.mark.parametrize("delay_compress", [False, True])
def test_a_live_writer_reopening_on_sighup_loses_no_line(
    tmp_path: Path, write_config: Callable[..., Path], delay_compress: bool
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.log"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(log)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        config = write_config(
            logs=[
                {
                    "name": "app",
                    "paths": [str(log)],
                    "keep": 20,
                    "compress": True,
                    "delay_compress": delay_compress,
                    "after_rotate": ["kill", "-HUP", str(writer.pid)],
                }
            ]
        )
        for _round in range(6):
            time.sleep(0.2)
            done = run_hostkeeper(config, "rotate", "--force")
            assert done.returncode == 0, done.stdout + done.stderr
        writer.send_signal(signal.SIGTERM)
        written = int(writer.communicate(timeout=30)[0].strip())
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert written > 1000
    assert all_lines(logs, "app.log") == list(range(1, written + 1))
    generations = sorted(p.name for p in logs.iterdir())
    assert len(generations) == 7 and temp_files(logs) == []
    compressed = [name for name in generations if name.endswith(".gz")]
    assert len(compressed) == (5 if delay_compress else 6)
