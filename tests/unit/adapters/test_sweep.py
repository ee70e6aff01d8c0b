"""The directory sweep on real trees: every directory once, on one thread or several,
never through a symlink or into another filesystem, and no descriptor left open."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from hostkeeper.adapters.fs import Candidate, open_root
from hostkeeper.adapters.sweep import lstat_at, sweep, unlink_at


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def log_names(name: str) -> str | None:
    return "log" if name.endswith(".log") else None


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for first in range(4):
        for second in range(3):
            directory = root / f"d{first}" / f"e{second}"
            directory.mkdir(parents=True)
            for index in range(5):
                (directory / f"f{index}.log").write_text("x")
            (directory / "keep.txt").write_text("not a candidate")
    (root / "top.log").write_text("top")
    return root


def listing(root: Path, workers: int) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}

    def work(dir_fd: int, relpath: str, candidates: list[Candidate[str]]) -> None:
        assert all(tag == "log" for _ino, _name, tag in candidates)
        assert [ino for ino, _name, _tag in candidates] == sorted(
            ino for ino, _name, _tag in candidates
        )
        seen[relpath] = sorted(name for _ino, name, _tag in candidates)

    root_fd = open_root(root)
    try:
        for _ in sweep(root_fd, log_names, work, workers=workers):
            pass
    finally:
        os.close(root_fd)
    return seen


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_every_directory_is_visited_once_with_its_matching_files(tree: Path, workers: int) -> None:
    before = open_descriptors()
    seen = listing(tree, workers)
    assert len(seen) == 1 + 4 + 12
    assert seen[""] == ["top.log"]
    assert seen["d2"] == []
    assert seen["d3/e1"] == [f"f{index}.log" for index in range(5)]
    assert open_descriptors() == before


def test_several_workers_really_run_directories_at_the_same_time(tree: Path) -> None:
    threads: set[str] = set()
    both_inside = threading.Barrier(2, timeout=10)
    met: list[str] = []

    def work(dir_fd: int, relpath: str, candidates: list[Candidate[str]]) -> None:
        threads.add(threading.current_thread().name)
        if relpath.count("/") == 1 and not met:
            # two leaf directories wait for each other: only possible on two threads
            try:
                both_inside.wait()
                met.append(relpath)
            except threading.BrokenBarrierError:
                pass

    root_fd = open_root(tree)
    try:
        list(sweep(root_fd, log_names, work, workers=2))
    finally:
        os.close(root_fd)
    assert met and len(threads) == 2


def test_symlinked_directories_are_reported_and_not_entered(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.log").write_text("never")
    (tree / "d0" / "escape").symlink_to(outside, target_is_directory=True)
    (tree / "d0" / "link.log").symlink_to(outside / "victim.log")
    skipped: list[tuple[str, str]] = []
    seen: list[str] = []
    root_fd = open_root(tree)
    try:
        for names in sweep(
            root_fd,
            log_names,
            lambda fd, relpath, candidates: [n for _i, n, _t in candidates],
            workers=2,
            skipped=skipped,
        ):
            seen += names
    finally:
        os.close(root_fd)
    assert "victim.log" not in seen and "link.log" not in seen
    assert ("d0/link.log", "is a symlink, not followed") in skipped
    assert "d0/escape" not in [path for path, _reason in skipped]  # not a match: silent


def test_a_directory_swapped_for_a_symlink_before_it_is_opened_is_skipped(
    tree: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f0.log").write_text("never")
    skipped: list[tuple[str, str]] = []
    seen: list[str] = []

    def work(dir_fd: int, relpath: str, candidates: list[Candidate[str]]) -> None:
        seen.append(relpath)
        if relpath == "":
            # listed as a directory, swapped before the sweep opens it
            (tree / "d1").rename(tmp_path / "d1.moved")
            (tree / "d1").symlink_to(outside, target_is_directory=True)

    root_fd = open_root(tree)
    try:
        list(sweep(root_fd, log_names, work, workers=1, skipped=skipped))
    finally:
        os.close(root_fd)
    assert ("d1", "is (now) a symlink, not followed") in skipped
    assert not any(relpath.startswith("d1") for relpath in seen)
    assert (outside / "f0.log").read_text() == "never"


@pytest.mark.parametrize("workers", [1, 2])
def test_stopping_midway_closes_every_descriptor(tree: Path, workers: int) -> None:
    class Stop(Exception):
        pass

    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise Stop

    before = open_descriptors()
    root_fd = open_root(tree)
    try:
        with pytest.raises(Stop):
            list(sweep(root_fd, log_names, lambda *_: None, workers=workers, check=check))
    finally:
        os.close(root_fd)
    assert open_descriptors() == before


@pytest.mark.parametrize("workers", [1, 2])
def test_an_error_in_work_reaches_the_caller_and_closes_every_descriptor(
    tree: Path, workers: int
) -> None:
    def work(dir_fd: int, relpath: str, candidates: list[Candidate[str]]) -> None:
        if relpath == "d2/e2":
            raise PermissionError(13, "Permission denied")

    before = open_descriptors()
    root_fd = open_root(tree)
    try:
        with pytest.raises(PermissionError):
            list(sweep(root_fd, log_names, work, workers=workers))
    finally:
        os.close(root_fd)
    assert open_descriptors() == before


def test_not_recursive_lists_only_the_root(tree: Path) -> None:
    seen = []
    root_fd = open_root(tree)
    try:
        for relpath in sweep(root_fd, log_names, lambda fd, rel, c: rel, recursive=False):
            seen.append(relpath)
    finally:
        os.close(root_fd)
    assert seen == [""]


def test_lstat_at_and_unlink_at_say_why_not(tree: Path, tmp_path: Path) -> None:
    directory = tree / "d0" / "e0"
    (directory / "link.log").symlink_to(tmp_path)
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert isinstance(lstat_at(dir_fd, "f0.log"), os.stat_result)
        assert lstat_at(dir_fd, "link.log") == "is no longer a regular file"
        assert lstat_at(dir_fd, "gone.log") == "vanished during the walk"
        assert unlink_at(dir_fd, "f0.log") is None
        assert unlink_at(dir_fd, "f0.log") == "vanished before deletion"
        assert unlink_at(dir_fd, "link.log") is None  # the link, never its target
    finally:
        os.close(dir_fd)
    assert tmp_path.is_dir()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_mounted_filesystem_below_the_root_is_not_entered(tree: Path) -> None:
    mount = tree / "d0" / "mnt"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]).returncode:
        pytest.skip("mount -t tmpfs failed here")
    try:
        (mount / "other.log").write_text("x")
        skipped: list[tuple[str, str]] = []
        root_fd = open_root(tree)
        try:
            visited = list(
                sweep(root_fd, log_names, lambda fd, rel, c: rel, workers=2, skipped=skipped)
            )
        finally:
            os.close(root_fd)
        assert "d0/mnt" not in visited
        assert ("d0/mnt", "on another filesystem, not entered") in skipped
    finally:
        subprocess.run(["umount", str(mount)], check=True)
