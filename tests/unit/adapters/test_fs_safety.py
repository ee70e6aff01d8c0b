"""Walking, deleting and compressing below a root: symlinks, races, other filesystems."""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostkeeper.adapters.compress import (
    CompressionError,
    CompressJob,
    compress_file,
    compress_many,
    compress_to_temp_and_rename,
    remove_compressed_sources,
)
from hostkeeper.adapters.fs import (
    FileEntry,
    UnsafeRoot,
    WalkProblems,
    delete_entry,
    name_matcher,
    open_files,
    open_relative_directory,
    open_root,
    walk_files,
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "top.log").write_text("top\n")
    (root / "a" / "mid.log").write_text("mid\n")
    (root / "a" / "b" / "deep.log").write_text("deep\n")
    (root / "a" / "b" / "skip.txt").write_text("txt\n")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    place = tmp_path / "outside"
    place.mkdir()
    (place / "precious.log").write_text("do not touch\n")
    return place


def walk(root: Path, pattern: str = "*.log") -> tuple[list[FileEntry], WalkProblems]:
    problems = WalkProblems()
    fd = open_root(root)
    try:
        return list(walk_files(fd, include=name_matcher(pattern), problems=problems)), problems
    finally:
        os.close(fd)


def test_walk_lists_matching_regular_files_recursively(tree: Path) -> None:
    entries, problems = walk(tree)
    assert sorted(e.relpath for e in entries) == ["a/b/deep.log", "a/mid.log", "top.log"]
    assert problems.skipped == []
    deep = next(e for e in entries if e.name == "deep.log")
    assert deep.directory == "a/b" and deep.size == 5


def test_walk_never_follows_symlinks_to_directories_or_files_outside(
    tree: Path, outside: Path
) -> None:
    (tree / "escape").symlink_to(outside, target_is_directory=True)
    (tree / "link.log").symlink_to(outside / "precious.log")
    entries, problems = walk(tree)
    assert all("precious" not in e.relpath for e in entries)
    assert ("link.log", "is a symlink, not followed") in problems.skipped


def test_root_that_is_a_symlink_is_refused(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "alias").symlink_to(tree, target_is_directory=True)
    with pytest.raises(UnsafeRoot, match="symlink"):
        open_root(tmp_path / "alias")
    with pytest.raises(UnsafeRoot, match="not a directory"):
        open_root(tree / "top.log")


def test_files_that_vanish_mid_walk_are_skipped(tree: Path) -> None:
    for index in range(50):
        (tree / "a" / f"f{index}.log").write_text("x")
    problems = WalkProblems()
    fd = open_root(tree)
    seen = []
    try:
        for entry in walk_files(fd, include=name_matcher("*.log"), problems=problems):
            seen.append(entry.relpath)
            if len(seen) == 1:
                for path in (tree / "a").glob("f*.log"):
                    path.unlink()
                (tree / "a" / "b" / "deep.log").unlink()
    finally:
        os.close(fd)
    assert "a/b/deep.log" not in seen
    assert len(seen) < 10


def test_a_directory_swapped_for_a_symlink_mid_walk_is_not_entered(
    tree: Path, outside: Path
) -> None:
    problems = WalkProblems()
    fd = open_root(tree)
    seen = []
    try:
        for entry in walk_files(fd, include=name_matcher("*.log"), problems=problems):
            seen.append(entry.relpath)
            if entry.relpath == "top.log":
                os.rename(tree / "a", tree / "a-moved")
                (tree / "a").symlink_to(outside, target_is_directory=True)
    finally:
        os.close(fd)
    assert all("precious" not in path for path in seen)
    assert ("a", "is (now) a symlink, not followed") in problems.skipped


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_walk_does_not_cross_into_another_filesystem(tree: Path) -> None:
    mount = tree / "mnt"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("mount -t tmpfs failed here")
    try:
        (mount / "other.log").write_text("other fs")
        entries, problems = walk(tree)
        assert "mnt/other.log" not in [e.relpath for e in entries]
        assert ("mnt", "on another filesystem, not entered") in problems.skipped
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def entry_of(root: Path, relpath: str) -> tuple[int, FileEntry]:
    entries, _ = walk(root, "*")
    entry = next(e for e in entries if e.relpath == relpath)
    root_fd = open_root(root)
    try:
        return open_relative_directory(root_fd, entry.directory), entry
    finally:
        os.close(root_fd)


def test_delete_entry_removes_the_listed_file(tree: Path) -> None:
    dir_fd, entry = entry_of(tree, "a/b/deep.log")
    try:
        assert delete_entry(dir_fd, entry) is None
    finally:
        os.close(dir_fd)
    assert not (tree / "a" / "b" / "deep.log").exists()


def test_a_file_replaced_by_a_symlink_after_listing_is_not_deleted_through(
    tree: Path, outside: Path
) -> None:
    dir_fd, entry = entry_of(tree, "a/mid.log")
    try:
        (tree / "a" / "mid.log").unlink()
        (tree / "a" / "mid.log").symlink_to(outside / "precious.log")
        assert delete_entry(dir_fd, entry) == "is no longer a regular file"
    finally:
        os.close(dir_fd)
    assert (outside / "precious.log").read_text() == "do not touch\n"
    assert (tree / "a" / "mid.log").is_symlink()


def test_a_changed_or_replaced_file_is_kept(tree: Path) -> None:
    dir_fd, entry = entry_of(tree, "top.log")
    try:
        with open(tree / "top.log", "a") as handle:
            handle.write("more\n")
        assert delete_entry(dir_fd, entry) == "changed since it was listed"
        (tree / "new.tmp").write_text("top\n")
        os.replace(tree / "new.tmp", tree / "top.log")  # a new inode under the old name
        assert delete_entry(dir_fd, entry) == "was replaced since it was listed"
        (tree / "top.log").unlink()
        assert delete_entry(dir_fd, entry) == "vanished before deletion"
    finally:
        os.close(dir_fd)


def test_a_parent_swapped_for_a_symlink_after_listing_cannot_be_reopened(
    tree: Path, outside: Path
) -> None:
    entries, _ = walk(tree)
    os.rename(tree / "a", tree / "a-moved")
    (tree / "a").symlink_to(outside, target_is_directory=True)
    root_fd = open_root(tree)
    try:
        with pytest.raises(OSError):
            open_relative_directory(root_fd, "a/b")
        with pytest.raises(OSError):
            open_relative_directory(root_fd, "../outside")
    finally:
        os.close(root_fd)
    assert [e for e in entries if e.relpath == "a/mid.log"]
    assert (outside / "precious.log").exists()


def test_compression_keeps_mode_and_mtime_and_removes_the_source(tmp_path: Path) -> None:
    source = tmp_path / "app.log"
    data = b"".join(b"line %d\n" % index for index in range(20000))
    source.write_bytes(data)
    os.chmod(source, 0o640)
    os.utime(source, (1_600_000_000, 1_600_000_000))
    compress_file(source)
    packed = tmp_path / "app.log.gz"
    assert not source.exists()
    assert gzip.decompress(packed.read_bytes()) == data
    info = packed.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_mtime == 1_600_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log.gz"]
    subprocess.run(["gzip", "-t", str(packed)], check=True)


def test_big_files_are_compressed_in_parallel_chunks(tmp_path: Path) -> None:
    source = tmp_path / "big.log"
    data = b"".join(b"%08d some log text that repeats a little\n" % i for i in range(300_000))
    source.write_bytes(data)
    fd = open_root(tmp_path)
    try:
        done, failed = compress_many([CompressJob(fd, "big.log", size=len(data))], workers=2)
        assert failed == [] and done[0].original_bytes == len(data)
        remove_compressed_sources(done)
    finally:
        os.close(fd)
    assert gzip.decompress((tmp_path / "big.log.gz").read_bytes()) == data


def test_compressing_a_symlink_is_refused_and_a_stale_temp_is_replaced(
    tmp_path: Path, outside: Path
) -> None:
    (tmp_path / "link.log").symlink_to(outside / "precious.log")
    (tmp_path / "real.log").write_text("real\n")
    (tmp_path / "real.log.gz.tmp").write_text("left by a crash")
    fd = open_root(tmp_path)
    try:
        with pytest.raises(CompressionError, match="symlink"):
            compress_to_temp_and_rename(fd, "link.log")
        done = compress_to_temp_and_rename(fd, "real.log")
        remove_compressed_sources([done])
    finally:
        os.close(fd)
    assert not (tmp_path / "real.log.gz.tmp").exists()
    assert gzip.decompress((tmp_path / "real.log.gz").read_bytes()) == b"real\n"
    assert not (outside / "precious.log.gz").exists()


APPENDER = """
import sys, time
with open(sys.argv[1], "a") as handle:
    print("started", flush=True)
    while True:
        handle.write("x" * 1000 + "\\n")
        handle.flush()
        time.sleep(0.001)
"""


@pytest.fixture
def appender(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    target = tmp_path / "growing.log"
    target.write_bytes(b"y" * (40 * 1024 * 1024))
    process = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "started"
    yield target, process
    process.kill()
    process.wait()
    process.stdout.close()


def test_a_file_growing_during_compression_is_kept_and_the_temp_removed(
    appender: tuple[Path, subprocess.Popen[str]],
) -> None:
    target, _process = appender
    fd = open_root(target.parent)
    try:
        with pytest.raises(CompressionError, match="changed while it was being compressed"):
            compress_to_temp_and_rename(fd, target.name, level=9)
    finally:
        os.close(fd)
    assert not Path(str(target) + ".gz.tmp").exists()
    assert not Path(str(target) + ".gz").exists()
    assert target.stat().st_size > 40 * 1024 * 1024


def test_open_files_sees_a_file_another_process_holds(
    appender: tuple[Path, subprocess.Popen[str]],
) -> None:
    target, process = appender
    info = target.stat()
    assert (info.st_dev, info.st_ino) in open_files()
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while (info.st_dev, info.st_ino) in open_files() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (info.st_dev, info.st_ino) not in open_files()
