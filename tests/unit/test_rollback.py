"""Rollback of the configuration set: restore in place, validate, undo when invalid."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from hostkeeper.adapters.archive import create_archive
from hostkeeper.services.rollback import rollback, target_from_file

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    """A config directory with hostkeeper.yaml (valid) and an extra file, and backup_dir."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (tmp_path / "state").mkdir()
    backups = tmp_path / "backups"
    config = {
        "version": 1,
        "paths": {"state_dir": str(tmp_path / "state"), "backup_dir": str(backups)},
        "database": {"url": f"sqlite:///{tmp_path}/state/db.sqlite"},
        "backups": [{"name": "config", "sources": [str(etc)]}],
    }
    (etc / "hostkeeper.yaml").write_text(yaml.safe_dump(config))
    (etc / "extra.conf").write_text("good extra\n")
    return etc, backups


def archive(etc: Path, backups: Path, when: datetime = NOW) -> Path:
    return create_archive("config", [str(etc)], [], backups / "config", when).path


def recording(reloads: list[str], answer: str) -> Callable[[], str]:
    """A reload that notes each call in `reloads` and answers `answer`."""

    def reload() -> str:
        reloads.append("x")
        return answer

    return reload


def _copies(state: Path) -> list[Path]:
    return sorted(p for p in (state / "rollback").rglob("*") if p.is_file())


def test_rollback_replaces_only_what_differs_and_keeps_private_copies(
    setup: tuple[Path, Path],
) -> None:
    etc, backups = setup
    state = etc.parent / "state"
    good_config = (etc / "hostkeeper.yaml").read_text()
    (etc / "secret.conf").write_text("password = old\n")
    os.chmod(etc / "secret.conf", 0o640)
    archive(etc, backups)
    (etc / "hostkeeper.yaml").write_text(good_config + "a_typo: true\n")
    (etc / "secret.conf").write_text("password = new\n")
    untouched = os.stat(etc / "extra.conf")
    target = target_from_file(etc / "hostkeeper.yaml")
    assert target.backup_dir == backups  # read leniently from the invalid file
    reloads: list[str] = []
    outcome = rollback(target, now=NOW, reload=recording(reloads, "reloaded"))
    assert outcome.ok and outcome.valid and not outcome.undone, outcome.errors
    assert (etc / "hostkeeper.yaml").read_text() == good_config
    assert (etc / "secret.conf").read_text() == "password = old\n"
    assert stat.S_IMODE(os.stat(etc / "secret.conf").st_mode) == 0o640
    actions = {Path(item.path).name: item.action for item in outcome.files}
    assert actions == {
        "hostkeeper.yaml": "replaced",
        "secret.conf": "replaced",
        "extra.conf": "unchanged",
    }
    # the unchanged file was not rewritten (same inode, same mtime) and not copied
    after = os.stat(etc / "extra.conf")
    assert (after.st_ino, after.st_mtime_ns) == (untouched.st_ino, untouched.st_mtime_ns)
    # nothing beside the originals; the copies are private, under state_dir
    assert sorted(p.name for p in etc.iterdir()) == ["extra.conf", "hostkeeper.yaml", "secret.conf"]
    copies = _copies(state)
    assert [p.name for p in copies] == ["hostkeeper.yaml", "secret.conf"]
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in copies)
    assert outcome.copies_dir is not None
    assert stat.S_IMODE(os.stat(outcome.copies_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(state / "rollback").st_mode) == 0o700
    assert copies[1].read_text() == "password = new\n"
    kept = {Path(item.path).name: item.kept_copy for item in outcome.files}
    assert kept["secret.conf"] == str(copies[1]) and kept["extra.conf"] is None
    assert reloads == ["x"] and outcome.reload == "reloaded"
    assert not list(state.glob("rollback-*"))  # the staging directory is gone


def test_a_file_whose_mode_changed_gets_its_mode_back_in_place(
    setup: tuple[Path, Path],
) -> None:
    etc, backups = setup
    os.chmod(etc / "extra.conf", 0o640)
    archive(etc, backups)
    os.chmod(etc / "extra.conf", 0o666)  # noqa: S103 (the drift rollback repairs)
    inode = os.stat(etc / "extra.conf").st_ino
    outcome = rollback(target_from_file(etc / "hostkeeper.yaml"), now=NOW)
    assert outcome.ok, outcome.errors
    [item] = [i for i in outcome.files if i.path.endswith("extra.conf")]
    assert (item.action, item.detail, item.kept_copy) == ("attributes", "mode 666 -> 640", None)
    info = os.stat(etc / "extra.conf")
    assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_ino == inode
    assert outcome.copies_dir is None and _copies(etc.parent / "state") == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file another owner")
def test_as_root_a_file_whose_owner_changed_gets_its_owner_back(
    setup: tuple[Path, Path],
) -> None:
    etc, backups = setup
    archive(etc, backups)
    os.chown(etc / "extra.conf", 4321, 4321)
    outcome = rollback(target_from_file(etc / "hostkeeper.yaml"), now=NOW)
    assert outcome.ok, outcome.errors
    [item] = [i for i in outcome.files if i.path.endswith("extra.conf")]
    assert item.action == "attributes" and item.detail == "owner 4321:4321 -> 0:0"
    info = os.stat(etc / "extra.conf")
    assert (info.st_uid, info.st_gid) == (0, 0)


def test_when_nothing_differs_nothing_is_written_copied_or_reloaded(
    setup: tuple[Path, Path],
) -> None:
    etc, backups = setup
    archive(etc, backups)
    before = {p.name: os.stat(p) for p in etc.iterdir()}
    reloads: list[str] = []
    outcome = rollback(
        target_from_file(etc / "hostkeeper.yaml"), now=NOW, reload=recording(reloads, "")
    )
    assert outcome.ok and not outcome.changed
    assert {item.action for item in outcome.files} == {"unchanged"}
    after = {p.name: os.stat(p) for p in etc.iterdir()}
    assert {n: (s.st_ino, s.st_mtime_ns) for n, s in after.items()} == {
        n: (s.st_ino, s.st_mtime_ns) for n, s in before.items()
    }
    assert not (etc.parent / "state" / "rollback").exists()
    assert reloads == [] and outcome.reload is None


def test_an_archive_with_an_invalid_config_is_undone(setup: tuple[Path, Path]) -> None:
    etc, backups = setup
    current = (etc / "hostkeeper.yaml").read_text()
    (etc / "hostkeeper.yaml").write_text("version: 1\nunknown_section: true\n")
    (etc / "added.conf").write_text("only in the archive\n")
    archive(etc, backups)
    (etc / "added.conf").unlink()
    (etc / "hostkeeper.yaml").write_text(current)
    os.chmod(etc / "hostkeeper.yaml", 0o600)
    reloads: list[str] = []
    outcome = rollback(
        target_from_file(etc / "hostkeeper.yaml"), now=NOW, reload=recording(reloads, "")
    )
    assert not outcome.ok and outcome.undone
    assert any("unknown_section" in error for error in outcome.errors)
    assert (etc / "hostkeeper.yaml").read_text() == current
    assert stat.S_IMODE(os.stat(etc / "hostkeeper.yaml").st_mode) == 0o600
    assert not (etc / "added.conf").exists()
    assert sorted(p.name for p in etc.iterdir()) == ["extra.conf", "hostkeeper.yaml"]
    assert _copies(etc.parent / "state") == []  # everything is back; no stale secrets
    assert reloads == []


def test_the_newest_archive_that_verifies_is_chosen(setup: tuple[Path, Path]) -> None:
    etc, backups = setup
    archive(etc, backups, NOW - timedelta(days=1))
    (etc / "extra.conf").write_text("newer\n")
    newest = archive(etc, backups, NOW)
    newest.write_bytes(newest.read_bytes()[:-50])  # damaged
    (etc / "extra.conf").write_text("current\n")
    outcome = rollback(target_from_file(etc / "hostkeeper.yaml"), now=NOW)
    assert outcome.ok
    assert outcome.archive is not None and outcome.archive.endswith("20240629T120000Z.tar.gz")
    assert (etc / "extra.conf").read_text() == "good extra\n"


def test_a_named_archive_and_no_archive(setup: tuple[Path, Path]) -> None:
    etc, backups = setup
    first = archive(etc, backups, NOW - timedelta(days=1))
    (etc / "extra.conf").write_text("second\n")
    archive(etc, backups, NOW)
    (etc / "extra.conf").write_text("current\n")
    target = target_from_file(etc / "hostkeeper.yaml")
    outcome = rollback(target, archive=first.name, now=NOW)
    assert outcome.ok and (etc / "extra.conf").read_text() == "good extra\n"
    missing = rollback(target, archive="config-19990101T000000Z.tar.gz", now=NOW)
    assert missing.errors == ["no archive 'config-19990101T000000Z.tar.gz'"]
    empty = target_from_file(etc / "hostkeeper.yaml", backup_set="other")
    assert rollback(empty, now=NOW).errors[-1].startswith("no verified archive of set 'other'")


def test_an_unreadable_config_still_rolls_back_from_a_named_archive_path(
    setup: tuple[Path, Path],
) -> None:
    etc, backups = setup
    good_config = (etc / "hostkeeper.yaml").read_text()
    path = archive(etc, backups)
    (etc / "hostkeeper.yaml").write_text("version: 1\nthis is: [not yaml\n")
    target = target_from_file(etc / "hostkeeper.yaml")
    assert target.backup_dir == Path("/var/backups/hostkeeper")  # the default, nothing better
    outcome = rollback(target, archive=str(path), now=NOW)
    assert outcome.ok, outcome.errors
    assert (etc / "hostkeeper.yaml").read_text() == good_config
