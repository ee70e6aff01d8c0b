"""Rollback of the configuration set: restore in place, validate, undo when invalid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from hostkeeper.adapters.archive import create_archive
from hostkeeper.rollback import rollback, target_from_file

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


def test_rollback_restores_files_in_place_keeping_the_current_ones_aside(
    setup: tuple[Path, Path],
) -> None:
    etc, backups = setup
    good_config = (etc / "hostkeeper.yaml").read_text()
    archive(etc, backups)
    (etc / "hostkeeper.yaml").write_text(good_config + "a_typo: true\n")
    (etc / "extra.conf").write_text("bad extra\n")
    target = target_from_file(etc / "hostkeeper.yaml")
    assert target.backup_dir == backups  # read leniently from the invalid file
    reloads: list[str] = []
    outcome = rollback(target, now=NOW, reload=lambda: reloads.append("x") or "reloaded")
    assert outcome.ok and outcome.valid and not outcome.undone, outcome.errors
    assert (etc / "hostkeeper.yaml").read_text() == good_config
    assert (etc / "extra.conf").read_text() == "good extra\n"
    aside = sorted(p.name for p in etc.iterdir() if ".pre-rollback-" in p.name)
    assert aside == [
        "extra.conf.pre-rollback-20240630T120000Z",
        "hostkeeper.yaml.pre-rollback-20240630T120000Z",
    ]
    assert (etc / aside[0]).read_text() == "bad extra\n"
    assert reloads == ["x"] and outcome.reload == "reloaded"
    assert not list(Path(target.state_dir).glob("rollback-*"))


def test_an_archive_with_an_invalid_config_is_undone(setup: tuple[Path, Path]) -> None:
    etc, backups = setup
    current = (etc / "hostkeeper.yaml").read_text()
    (etc / "hostkeeper.yaml").write_text("version: 1\nunknown_section: true\n")
    (etc / "added.conf").write_text("only in the archive\n")
    archive(etc, backups)
    (etc / "added.conf").unlink()
    (etc / "hostkeeper.yaml").write_text(current)
    reloads: list[str] = []
    outcome = rollback(
        target_from_file(etc / "hostkeeper.yaml"), now=NOW, reload=lambda: reloads.append("x") or ""
    )
    assert not outcome.ok and outcome.undone
    assert any("unknown_section" in error for error in outcome.errors)
    assert (etc / "hostkeeper.yaml").read_text() == current
    assert not (etc / "added.conf").exists()
    assert sorted(p.name for p in etc.iterdir()) == ["extra.conf", "hostkeeper.yaml"]
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
