"""Cleanup of 100,000 files in nested directories, half older than the cutoff, against
`find DIR -name '*.log' -mtime +30 -delete` on an identical tree.

"As fast as find" is judged on elapsed time: hostkeeper sweeps several directories at
once (two threads per core, at most four), find one file at a time. CPU seconds (user +
system) are reported beside it, against find and against a bare single-threaded Python
loop (scandir, lstat, unlink: the least any Python code does here), so the cost of the
threads and of hostkeeper's own bookkeeping stays visible. The trees are synced to disk
before any side runs: files 30 days old were written back long ago, and unsynced files
would let whoever runs first pay for the others' writeback. hostkeeper runs the real
`cleanup` path in-process (lock, sweep, rule, unlinkat, record in the store).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bench.filedata import Timing, time_call, time_command, tool
from bench.harness import Context, Floor, Result, Target, median, spread, stage

NAME = "cleanup"
SUMMARY = "delete half of 100,000 files: hostkeeper vs find -mtime +30 -delete"
DAY = 86400


def now() -> datetime:
    return datetime.now(UTC)


def build_tree(root: Path, files: int) -> None:
    """files spread over 10 x 10 directories; every other file is 40 days old."""
    old = time.time() - 40 * DAY
    per_directory = max(files // 100, 1)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for first in range(10):
        for second in range(10):
            directory = root / f"d{first}" / f"e{second}"
            directory.mkdir(parents=True)
            dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for index in range(per_directory):
                    fd = os.open(f"f{index}.log", flags, 0o644, dir_fd=dir_fd)
                    os.write(fd, b"x" * 64)
                    if index % 2 == 0:
                        os.utime(fd, (old, old))
                    os.close(fd)
            finally:
                os.close(dir_fd)


def remaining(root: Path) -> int:
    return sum(len(names) for _path, _dirs, names in os.walk(root))


def run(context: Context) -> list[Result]:
    from hostkeeper.config import Config
    from hostkeeper.services.store_setup import prepare_store
    from hostkeeper.steps.cleanup import clean

    files = 20_000 if context.quick else 100_000
    runs = context.repeat(full=5, quick=3)
    base = context.work_dir / "cleanup"
    find = tool("find")
    state = base / "state"
    config = Config.model_validate(
        yaml.safe_load(
            f"""
            paths: {{state_dir: {state}}}
            database: {{url: "sqlite:///{state}/hk.db"}}
            cleanup:
              - {{name: bench, path: {base}/ours, match: "*.log", delete_after: 30d}}
            """
        )
    )
    store = prepare_store(config)
    timings: dict[str, list[Timing]] = {"ours": [], "find": [], "python": []}
    cutoff = time.time() - 30 * DAY
    sides: dict[str, Callable[[], Timing]] = {
        "ours": lambda: time_call(lambda: clean(config, store, now=now())),
        "python": lambda: time_call(lambda: bare_python_cleanup(base / "python", cutoff)),
    }
    if find:
        argv = [find, str(base / "find"), "-name", "*.log", "-mtime", "+30", "-delete"]
        sides["find"] = lambda: time_command(argv)
    for number in range(runs):
        with stage(f"run {number + 1}: {len(sides)} trees of {files:,} files"):
            for side in sides:
                build_tree(base / side, files)
            os.sync()
        # rotate who goes first: a later side finds the journal and caches warmer
        order = list(sides)
        for side in order[number % len(order) :] + order[: number % len(order)]:
            timings[side].append(sides[side]())
        for side in sides:
            left = remaining(base / side)
            assert left == files // 2, (side, left)
            _remove_tree(base / side)
    store.dispose()
    if not find:
        context.note("cleanup: `find` is not installed; the comparison was skipped")

    def middle(side: str, measure: str) -> float:
        return round(median([getattr(t, measure) for t in timings[side]]), 3)

    detail = {
        f"{side}_{measure}": spread([getattr(t, measure) for t in timings[side]])
        for side in sides
        for measure in ("cpu", "wall")
    }
    results = []
    for measure, word in (("wall", "elapsed"), ("cpu", "CPU")):
        floor = Floor(middle("find", measure), "s", f"find -delete {word}") if find else None
        target = Target("<=", floor.value, "s") if floor and measure == "wall" else None
        results.append(
            Result(
                NAME,
                f"{files:,} files, half deleted, {word}",
                middle("ours", measure),
                "s",
                floor,
                target,
                detail,
            )
        )
    results.append(
        Result(
            NAME,
            f"{files:,} files, half deleted, CPU vs bare Python",
            middle("ours", "cpu"),
            "s",
            Floor(middle("python", "cpu"), "s", "scandir+lstat+unlink loop CPU"),
            None,
            detail,
        )
    )
    return results


def bare_python_cleanup(root: Path, cutoff: float) -> None:
    """The least a Python cleanup does: one thread, no checks, no bookkeeping."""
    stack = [os.open(root, os.O_RDONLY | os.O_DIRECTORY)]
    while stack:
        dir_fd = stack.pop()
        with os.scandir(dir_fd) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=dir_fd))
                elif (
                    entry.name.endswith(".log")
                    and entry.stat(follow_symlinks=False).st_mtime < cutoff
                ):
                    os.unlink(entry.name, dir_fd=dir_fd)
        os.close(dir_fd)


def _remove_tree(root: Path) -> None:
    for path, directories, names in os.walk(root, topdown=False):
        for name in names:
            os.unlink(os.path.join(path, name))
        for name in directories:
            os.rmdir(os.path.join(path, name))
    os.rmdir(root)
