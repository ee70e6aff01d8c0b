"""Backup sets end to end in-process: create, retention, verify, restore test, store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hostkeeper.adapters.archive import list_archives
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.files import archive_rows, last_restore_tests, newest_archives
from hostkeeper.config import Config
from hostkeeper.steps.backup import create_backup, prune, sync_archives
from hostkeeper.steps.restore_test import restore_test
from hostkeeper.steps.verify_backups import verify

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    directory = tmp_path / "etc"
    directory.mkdir()
    (directory / "app.yaml").write_text("a: 1\n")
    (directory / "notes.swp").write_text("swap")
    return directory


@pytest.fixture
def config_for(make_config: Callable[..., Config], etc: Path) -> Callable[..., Config]:
    def build(**fields: Any) -> Config:
        backup = {"name": "config", "sources": [str(etc)], "exclude": ["*.swp"]} | fields
        return make_config(backups=[backup])

    return build


def test_create_records_the_archive_and_excludes(
    config_for: Callable[..., Config], store: Store
) -> None:
    config = config_for()
    outcome = create_backup(config, store, "config", NOW)
    assert outcome.error is None and outcome.result is not None
    assert outcome.result.files == 1
    row = archive_rows(store, "config")[str(outcome.result.path)]
    assert row["files"] == 1 and row["sha256"] == outcome.result.sha256
    assert row["created_at"] == NOW and row["state"] == "present"
    assert newest_archives(store)["config"]["path"] == str(outcome.result.path)


def test_retention_runs_after_each_backup_and_keeps_the_newest(
    config_for: Callable[..., Config], store: Store
) -> None:
    config = config_for(keep={"daily": 2})
    for day in range(4):
        create_backup(config, store, "config", NOW + timedelta(days=day))
    directory = Path(config.paths.backup_dir) / "config"
    kept = [a.name for a in list_archives(directory, "config")]
    assert kept == ["config-20240702T120000Z.tar.gz", "config-20240703T120000Z.tar.gz"]
    rows = archive_rows(store, "config")
    assert sorted(r["state"] for r in rows.values()) == ["present", "present", "pruned", "pruned"]
    assert sorted(p.name for p in directory.iterdir()) == [
        "config-20240702T120000Z.tar.gz",
        "config-20240702T120000Z.tar.gz.sha256",
        "config-20240703T120000Z.tar.gz",
        "config-20240703T120000Z.tar.gz.sha256",
    ]


def test_prune_dry_run_decides_without_deleting(
    config_for: Callable[..., Config], store: Store
) -> None:
    config = config_for(keep={"daily": 1})
    for day in range(3):
        create_backup(config, store, "config", NOW + timedelta(days=day), prune_after=False)
    decisions = prune(config, store, "config", NOW + timedelta(days=3), dry_run=True)
    assert [d.keep for d in decisions] == [True, False, False]
    assert len(list_archives(Path(config.paths.backup_dir) / "config", "config")) == 3


def test_verify_records_results_and_detects_tampering(
    config_for: Callable[..., Config], store: Store
) -> None:
    config = config_for()
    path = create_backup(config, store, "config", NOW).result.path  # type: ignore[union-attr]
    [ok] = verify(config, store, NOW)
    assert ok.result.ok
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    [bad] = verify(config, store, NOW)
    assert not bad.result.ok
    row = archive_rows(store)[str(path)]
    assert row["verify_ok"] is False and "sidecar" in row["verify_detail"]


def test_an_archive_renamed_in_but_never_recorded_is_adopted(
    config_for: Callable[..., Config], store: Store, tmp_path: Path
) -> None:
    config = config_for()
    path = create_backup(config, store, "config", NOW).result.path  # type: ignore[union-attr]
    # as if the process died after the rename, before the store insert: another store
    from hostkeeper.services.store_setup import prepare_store

    other = config.model_copy(
        update={
            "database": config.database.model_copy(update={"url": f"sqlite:///{tmp_path}/other.db"})
        }
    )
    fresh = prepare_store(other)
    try:
        archives = sync_archives(other, fresh, "config")
        assert [a.path for a in archives] == [path]
        assert archive_rows(fresh)[str(path)]["state"] == "present"
        [verified] = verify(other, fresh, NOW)
        assert verified.result.ok and archive_rows(fresh)[str(path)]["files"] == 1
    finally:
        fresh.dispose()


def test_a_vanished_archive_is_marked_missing(
    config_for: Callable[..., Config], store: Store
) -> None:
    config = config_for()
    path = create_backup(config, store, "config", NOW).result.path  # type: ignore[union-attr]
    path.unlink()
    assert sync_archives(config, store, "config") == []
    assert archive_rows(store)[str(path)]["state"] == "missing"
    assert newest_archives(store) == {}


def test_restore_test_checks_the_newest_archive_and_records_it(
    config_for: Callable[..., Config], store: Store
) -> None:
    config = config_for()
    create_backup(config, store, "config", NOW)
    newest = create_backup(config, store, "config", NOW + timedelta(days=1))
    test = restore_test(config, store, "config", NOW + timedelta(days=1))
    assert test.ok and test.files_checked == 1
    assert test.archive == str(newest.result.path)  # type: ignore[union-attr]
    recorded = last_restore_tests(store)["config"]
    assert recorded["ok"] is True and recorded["files_checked"] == 1
    scratch = Path(config.paths.state_dir) / "restore-tests"
    assert list(scratch.iterdir()) == []


def test_restore_test_fails_for_a_damaged_archive_and_for_no_archive(
    config_for: Callable[..., Config], store: Store
) -> None:
    config = config_for()
    empty = restore_test(config, store, "config", NOW)
    assert not empty.ok and empty.problems == ["set 'config' has no archive to test"]
    path = create_backup(config, store, "config", NOW).result.path  # type: ignore[union-attr]
    path.write_bytes(path.read_bytes()[:-100])
    broken = restore_test(config, store, "config", NOW)
    assert not broken.ok
    assert last_restore_tests(store)["config"]["ok"] is False


def test_unknown_set_is_refused(config_for: Callable[..., Config], store: Store) -> None:
    with pytest.raises(KeyError, match="no backup set named 'nope'"):
        create_backup(config_for(), store, "nope", NOW)


def test_a_source_containing_the_backup_directory_does_not_archive_it(
    make_config: Callable[..., Config], store: Store, tmp_path: Path
) -> None:
    (tmp_path / "data.txt").write_text("data\n")
    config = make_config(backups=[{"name": "all", "sources": [str(tmp_path)]}])
    create_backup(config, store, "all", NOW)
    second = create_backup(config, store, "all", NOW + timedelta(days=1))
    assert second.result is not None
    from hostkeeper.adapters.archive import verify_archive

    verified = verify_archive(second.result.path)
    assert verified.ok and verified.manifest is not None
    archived = [entry["path"] for entry in verified.manifest["files"]]
    assert f"{str(tmp_path).lstrip('/')}/data.txt" in archived
    assert not any("/backups/" in path for path in archived)


def test_a_restore_test_that_cannot_run_is_recorded_as_failed_with_its_reason(
    config_for: Callable[..., Config], store: Store
) -> None:
    config = config_for()
    create_backup(config, store, "config", NOW)
    scratch = Path(config.paths.state_dir) / "restore-tests"
    scratch.write_text("a file where the scratch directory belongs\n")
    test = restore_test(config, store, "config", NOW)
    assert not test.ok
    assert test.problems == [f"restore test could not run: {scratch}: File exists"]
    recorded = last_restore_tests(store)["config"]
    assert recorded["ok"] is False and recorded["detail"] == test.problems[0]
