from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hostkeeper.adapters.fs import atomic_write


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


def test_failed_atomic_write_keeps_the_old_file_and_removes_the_temp(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["state.json"]
