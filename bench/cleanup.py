"""Cleanup of 100,000 files in nested directories, half older than the cutoff, against
`find DIR -name '*.log' -mtime +30 -delete` on an identical tree.

On a disk the deletions are I/O-bound, so CPU seconds (user + system) are the fair
comparison; wall time is reported beside them. hostkeeper runs the real `cleanup`
path in-process (walk, plan, re-check, unlinkat, record in the store).
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
    from hostkeeper.app import prepare_store
    from hostkeeper.config import Config
    from hostkeeper.tasks.cleanup import clean

    files = 20_000 if context.quick else 100_000
    runs = context.repeat(full=3, quick=1)
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
    ours: list[Timing] = []
    theirs: list[Timing] = []
    sides: list[tuple[str, Callable[[], None]]]
    for number in range(runs):
        with stage(f"run {number + 1}: two trees of {files:,} files"):
            build_tree(base / "ours", files)
            build_tree(base / "theirs", files)
        sides = [
            ("ours", lambda: ours.append(time_call(lambda: clean(config, store, now=now())))),
        ]
        if find:
            argv = [find, str(base / "theirs"), "-name", "*.log", "-mtime", "+30", "-delete"]
            sides.append(("find", lambda argv=argv: theirs.append(time_command(argv))))
        # alternate who goes first: the second one finds the journal and caches warmer
        for _side, measure in sides if number % 2 == 0 else reversed(sides):
            measure()
        left = (remaining(base / "ours"), remaining(base / "theirs"))
        assert left[0] == files // 2, left
        assert not find or left[1] == files // 2, left
        for side in ("ours", "theirs"):
            _remove_tree(base / side)
    store.dispose()
    if not find:
        context.note("cleanup: `find` is not installed; the comparison was skipped")
    cpu_floor = (
        Floor(round(median([t.cpu for t in theirs]), 3), "s", "find -delete CPU")
        if theirs
        else None
    )
    wall_floor = (
        Floor(round(median([t.wall for t in theirs]), 3), "s", "find -delete wall")
        if theirs
        else None
    )
    detail = {
        "ours_cpu": spread([t.cpu for t in ours]),
        "ours_wall": spread([t.wall for t in ours]),
        "find_cpu": spread([t.cpu for t in theirs]) if theirs else None,
        "find_wall": spread([t.wall for t in theirs]) if theirs else None,
    }
    target = Target("<=", cpu_floor.value, "s") if cpu_floor else None
    return [
        Result(
            NAME,
            f"{files:,} files, half deleted, CPU",
            median([t.cpu for t in ours]),
            "s",
            cpu_floor,
            target,
            detail,
        ),
        Result(
            NAME,
            f"{files:,} files, half deleted, wall",
            median([t.wall for t in ours]),
            "s",
            wall_floor,
            None,
            detail,
        ),
    ]


def _remove_tree(root: Path) -> None:
    for path, directories, names in os.walk(root, topdown=False):
        for name in names:
            os.unlink(os.path.join(path, name))
        for name in directories:
            os.rmdir(os.path.join(path, name))
    os.rmdir(root)
