"""Per-day log files: appended line by line, 0640, reopened after rotation, followed
across rotation by the reader."""

from __future__ import annotations

import gzip
import os
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hostkeeper.adapters.daylog import (
    LineLog,
    maintenance_log_path,
    maintenance_logs,
    validation_log_path,
)
from hostkeeper.adapters.logfollow import Follower, read_log


@pytest.fixture
def no_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_paths_name_the_procedure_and_the_day(tmp_path: Path) -> None:
    assert maintenance_log_path(tmp_path, "weekly", date(2026, 1, 4)) == (
        tmp_path / "maintenance" / "weekly_maintenance_20260104.log"
    )
    at = datetime(2026, 1, 4, 3, 2, 1, tzinfo=UTC)
    assert validation_log_path(tmp_path, at) == (
        tmp_path / "validation" / "validation_20260104_030201.log"
    )


def test_each_line_is_in_the_file_as_soon_as_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "maintenance" / "weekly_maintenance_20260104.log"
    with LineLog(path) as log:
        log.write("first")
        assert path.read_text() == "first\n"
        log.write("second\n")
        assert path.read_text() == "first\nsecond\n"


def test_a_new_file_is_0640_whatever_the_umask(tmp_path: Path, no_umask: None) -> None:
    path = tmp_path / "maintenance" / "daily_maintenance_20260104.log"
    LineLog(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not stat.S_IMODE(path.parent.stat().st_mode) & 0o007


def test_an_existing_file_readable_by_all_is_closed_to_others(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("old\n")
    path.chmod(0o644)
    with LineLog(path) as log:
        log.write("new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_text() == "old\nnew\n"


def test_after_a_rename_the_next_line_goes_to_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    with LineLog(path) as log:
        log.write("one")
        log.write("two")
        path.rename(tmp_path / "x.log.1")
        log.write("three")
        log.write("four")
    assert (tmp_path / "x.log.1").read_text() == "one\ntwo\n"
    assert path.read_text() == "three\nfour\n"


def test_after_the_file_is_removed_the_next_line_creates_it(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    with LineLog(path) as log:
        log.write("one")
        path.unlink()
        log.write("two")
    assert path.read_text() == "two\n"


def test_a_symlink_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("")
    path = tmp_path / "x.log"
    path.symlink_to(target)
    with pytest.raises(OSError):
        LineLog(path)
    assert target.read_text() == ""


def test_an_unwritable_directory_is_an_oserror(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        LineLog(blocker / "maintenance" / "x.log")


def test_the_follower_reads_each_line_once_across_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    follower = Follower(lambda: [path])
    assert follower.poll() == []  # not there yet
    with LineLog(path) as log:
        log.write("one")
        log.write("two")
        assert [line for _, line in follower.poll()] == ["one", "two"]
        log.write("three")
        path.rename(tmp_path / "x.log.1")  # rotated between two polls
        log.write("four")  # lands in the new file
        assert [line for _, line in follower.poll()] == ["three", "four"]
        log.write("five")
        assert [line for _, line in follower.poll()] == ["five"]
    follower.close()


def test_the_follower_returns_whole_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    follower = Follower(lambda: [path])
    with path.open("ab", buffering=0) as stream:
        stream.write(b"par")
        assert follower.poll() == []
        stream.write(b"tial\nnext")
        assert [line for _, line in follower.poll()] == ["partial"]
        stream.write(b"\n")
        assert [line for _, line in follower.poll()] == ["next"]
    follower.close()


def test_the_follower_rereads_a_file_truncated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_text("one\ntwo\n")
    follower = Follower(lambda: [path])
    assert len(follower.poll()) == 2
    path.write_text("")  # copytruncate
    with path.open("a") as stream:
        stream.write("three\n")
    assert [line for _, line in follower.poll()] == ["three"]
    follower.close()


def test_files_appearing_later_are_followed_too(tmp_path: Path) -> None:
    folder = tmp_path / "maintenance"
    folder.mkdir()
    follower = Follower(lambda: sorted(folder.glob("*.log")))
    (folder / "a.log").write_text("a1\n")
    assert follower.poll() == [(folder / "a.log", "a1")]
    (folder / "b.log").write_text("b1\n")
    assert follower.poll() == [(folder / "b.log", "b1")]
    follower.close()


def test_read_log_reads_plain_and_gzipped_files(tmp_path: Path) -> None:
    plain = tmp_path / "x.log"
    plain.write_text("one\ntwo\n")
    packed = tmp_path / "y.log.gz"
    with gzip.open(packed, "wt") as stream:
        stream.write("three\n")
    assert read_log(plain) == ["one", "two"]
    assert read_log(packed) == ["three"]


def test_maintenance_logs_lists_day_logs_newest_day_first(tmp_path: Path) -> None:
    folder = tmp_path / "maintenance"
    folder.mkdir()
    for name in (
        "weekly_maintenance_20260104.log",
        "daily_maintenance_20260104.log",
        "daily_maintenance_20260103.log.gz",
        "my-app_maintenance_2_maintenance_20260102.log",
        "daily_maintenance_20260104.log.1",  # a rotated copy: not a day log
        "notes.txt",
    ):
        (folder / name).write_text("x\n")
    (folder / "daily_maintenance_20260105.log").mkdir()  # not a file
    found = maintenance_logs(tmp_path)
    assert [(f.procedure, f.day.isoformat()) for f in found] == [
        ("daily", "2026-01-04"),
        ("weekly", "2026-01-04"),
        ("daily", "2026-01-03"),
        ("my-app_maintenance_2", "2026-01-02"),
    ]
    assert [f.path.name for f in maintenance_logs(tmp_path, "daily", date(2026, 1, 3))] == [
        "daily_maintenance_20260103.log.gz"
    ]
    assert maintenance_logs(tmp_path / "missing") == []
