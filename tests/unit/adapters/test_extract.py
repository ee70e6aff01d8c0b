"""Member-by-member extraction, on both code paths: with tarfile's data filter (3.11.4+)
as a second opinion, and without it (Debian 12's 3.11.2), where our vetting is all."""

from __future__ import annotations

import os
import stat
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hostkeeper.adapters.archive import create_archive, restore_archive
from hostkeeper.adapters.extract import UnsafeMember, extract_archive
from tests.hostile_archives import ATTACKS, write_hostile, write_with_modes

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "precious").write_text("keep\n")
    return directory


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_hostile_member_is_refused_and_nothing_stays_extracted(
    tmp_path: Path, outside: Path, attack: str, data_filter: str
) -> None:
    archive = write_hostile(tmp_path / "hostile.tar.gz", ATTACKS[attack], outside)
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(UnsafeMember):
        extract_archive(archive, target)
    assert list(target.iterdir()) == []  # the harmless file before it was removed again
    assert sorted(p.name for p in outside.iterdir()) == ["precious"]
    assert (outside / "precious").read_text() == "keep\n"
    assert not (tmp_path / "planted").exists()


def test_setuid_setgid_sticky_and_foreign_write_bits_are_masked(
    tmp_path: Path, data_filter: str
) -> None:
    archive = write_with_modes(
        tmp_path / "modes.tar.gz",
        {"suid": 0o4755, "sgid": 0o2755, "sticky": 0o1644, "writable": 0o666, "private": 0o400},
    )
    target = tmp_path / "target"
    target.mkdir()
    assert extract_archive(archive, target) == 5
    modes = {p.name: stat.S_IMODE(os.lstat(p).st_mode) for p in target.iterdir()}
    assert modes == {
        "suid": 0o755,
        "sgid": 0o755,
        "sticky": 0o644,
        "writable": 0o644,
        "private": 0o600,
    }


def test_files_are_owned_by_the_restoring_user_not_the_archived_owner(
    tmp_path: Path, data_filter: str
) -> None:
    archive = tmp_path / "owned.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        member = tarfile.TarInfo("file")
        member.uid, member.gid, member.size = 4242, 4242, 0
        tar.addfile(member)
    target = tmp_path / "target"
    target.mkdir()
    extract_archive(archive, target)
    info = os.lstat(target / "file")
    assert (info.st_uid, info.st_gid) == (os.geteuid(), os.getegid())


def test_a_real_archive_restores_and_verifies_on_both_paths(
    tmp_path: Path, data_filter: str
) -> None:
    source = tmp_path / "etc"
    (source / "conf.d").mkdir(parents=True)
    (source / "app.yaml").write_text("key: value\n")
    os.chmod(source / "app.yaml", 0o640)
    (source / "conf.d" / "tool").write_text("#!/bin/sh\n")
    os.chmod(source / "conf.d" / "tool", 0o750)  # noqa: S103 (an executable to restore)
    os.chmod(source / "conf.d", 0o750)  # noqa: S103 (a directory mode to restore)
    made = create_archive("config", [str(source)], [], tmp_path / "backups", NOW)
    target = tmp_path / "restore"
    restored = restore_archive(made.path, target)
    assert restored.ok, restored.problems
    assert restored.files_checked == 2
    copy = target / str(source).lstrip("/")
    assert (copy / "app.yaml").read_text() == "key: value\n"
    assert stat.S_IMODE(os.lstat(copy / "app.yaml").st_mode) == 0o640
    assert stat.S_IMODE(os.lstat(copy / "conf.d" / "tool").st_mode) == 0o750
    assert stat.S_IMODE(os.lstat(copy / "conf.d").st_mode) == 0o750
    assert not (target / "MANIFEST.json").exists()
