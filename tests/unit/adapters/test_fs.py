from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostkeeper.adapters.fs import atomic_write, make_private_directory


@pytest.fixture
def login_umask() -> Iterator[None]:
    """The umask of a root login shell, as the CLI gets it."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_atomic_write_writes_the_data_with_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    atomic_write(target, b'{"a": 1}', mode=0o600)
    assert target.read_bytes() == b'{"a": 1}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_atomic_write_default_mode_is_0640(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    atomic_write(target, b"<html></html>")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_atomic_write_replaces_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json"]


def test_atomic_write_creates_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file"
    atomic_write(target, b"x")
    assert target.read_bytes() == b"x"


def test_private_directory_and_its_missing_parents_are_0750_under_umask_022(
    tmp_path: Path, login_umask: None
) -> None:
    target = make_private_directory(tmp_path / "a" / "b" / "c")
    for path in (tmp_path / "a", tmp_path / "a" / "b", target):
        assert stat.S_IMODE(path.stat().st_mode) == 0o750, path


def test_private_directory_keeps_the_mode_of_an_existing_one(tmp_path: Path) -> None:
    existing = tmp_path / "shared"
    existing.mkdir()
    existing.chmod(0o755)
    make_private_directory(existing / "own")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755
    assert stat.S_IMODE((existing / "own").stat().st_mode) == 0o750


def test_private_directory_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError):
        make_private_directory(tmp_path / "file" / "below")


def test_atomic_write_creates_missing_directories_private(
    tmp_path: Path, login_umask: None
) -> None:
    atomic_write(tmp_path / "reports" / "daily" / "r.html", b"x")
    assert stat.S_IMODE((tmp_path / "reports").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "reports" / "daily").stat().st_mode) == 0o750


def test_failed_atomic_write_keeps_the_old_file_and_removes_the_temp(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json"]


def test_compressing_a_tiny_file_frees_nothing_and_reports_the_growth(tmp_path: Path) -> None:
    from hostkeeper.adapters.compress import compress_file

    tiny = tmp_path / "tiny.log"
    tiny.write_bytes(b"x\n")
    done = compress_file(tiny)
    assert done.compressed_bytes == (tmp_path / "tiny.log.gz").stat().st_size
    assert done.bytes_freed == 0
    assert done.bytes_grown == done.compressed_bytes - 2 > 0
