"""Cleanup applied to real trees: ages, compression, symlinks and races."""

from __future__ import annotations

import gzip
import os
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hostkeeper.adapters.fs import open_root
from hostkeeper.adapters.locks import LockHeld
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.files import recent_file_actions
from hostkeeper.config import Config
from hostkeeper.core.cleanup import CleanupKind
from hostkeeper.steps.cleanup import CleanupOutcome, _apply, clean, plan_policy
from hostkeeper.steps.file_locks import files_lock_path

NOW = datetime.now(UTC)
DAY = 86400


def age(path: Path, days: float) -> Path:
    moment = time.time() - days * DAY
    os.utime(path, (moment, moment), follow_symlinks=False)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "app"
    (base / "nested" / "deeper").mkdir(parents=True)
    (base / "fresh.log").write_text("fresh\n")
    age(base / "fresh.log", 1)
    (base / "week.log").write_bytes(b"week line\n" * 1000)
    age(base / "week.log", 10)
    (base / "nested" / "old.log").write_text("old\n")
    age(base / "nested" / "old.log", 40)
    (base / "nested" / "deeper" / "older.log.gz").write_bytes(gzip.compress(b"older\n"))
    age(base / "nested" / "deeper" / "older.log.gz", 50)
    (base / "nested" / "keep.txt").write_text("not matched\n")
    age(base / "nested" / "keep.txt", 400)
    return base


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    place = tmp_path / "outside"
    place.mkdir()
    (place / "victim.log").write_text("never delete me\n")
    age(place / "victim.log", 400)
    return place


@pytest.fixture
def config_for(make_config: Callable[..., Config], root: Path) -> Callable[..., Config]:
    def build(**fields: Any) -> Config:
        policy = {
            "name": "old",
            "path": str(root),
            "match": "*.log",
            "compress_after": "7d",
            "delete_after": "30d",
        } | fields
        return make_config(cleanup=[policy])

    return build


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def test_compresses_week_old_and_deletes_month_old_files(
    config_for: Callable[..., Config], store: Store, root: Path
) -> None:
    mtime = (root / "week.log").stat().st_mtime
    [outcome] = clean(config_for(), store, now=NOW)
    assert outcome.errors == []
    assert tree(root) == ["fresh.log", "nested/keep.txt", "week.log.gz"]
    assert gzip.decompress((root / "week.log.gz").read_bytes()) == b"week line\n" * 1000
    assert (root / "week.log.gz").stat().st_mtime == mtime
    assert (outcome.deleted, outcome.compressed) == (2, 1)
    freed = 4 + len(gzip.compress(b"older\n")) + 10_000 - (root / "week.log.gz").stat().st_size
    assert outcome.bytes_freed == freed
    recorded = recent_file_actions(store, kind="cleanup")[0]
    assert (recorded["files_deleted"], recorded["files_compressed"]) == (2, 1)
    assert recorded["bytes_freed"] == freed


def test_dry_run_plans_without_touching(
    config_for: Callable[..., Config], store: Store, root: Path
) -> None:
    before = tree(root)
    [outcome] = clean(config_for(), store, now=NOW, dry_run=True)
    assert outcome.plan is not None
    assert [(a.kind, a.relpath) for a in outcome.plan.actions] == [
        (CleanupKind.DELETE, "nested/deeper/older.log.gz"),
        (CleanupKind.DELETE, "nested/old.log"),
        (CleanupKind.COMPRESS, "week.log"),
    ]
    assert tree(root) == before and recent_file_actions(store) == []


def test_not_recursive_stays_at_the_top(
    config_for: Callable[..., Config], store: Store, root: Path
) -> None:
    clean(config_for(recursive=False), store, now=NOW)
    assert "nested/old.log" in tree(root)


def test_symlinks_to_a_directory_and_a_file_outside_are_never_followed(
    config_for: Callable[..., Config], store: Store, root: Path, outside: Path
) -> None:
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "victim.log").symlink_to(outside / "victim.log")
    [outcome] = clean(config_for(), store, now=NOW)
    assert (outside / "victim.log").read_text() == "never delete me\n"
    assert ("victim.log", "is a symlink, not followed") in outcome.skipped
    assert (root / "victim.log").is_symlink()


def test_a_file_replaced_by_a_symlink_between_listing_and_deletion(
    config_for: Callable[..., Config], root: Path, outside: Path
) -> None:
    config = config_for()
    root_fd = open_root(root)
    try:
        plan, _problems = plan_policy(config.cleanup[0], root_fd, NOW)
        old = root / "nested" / "old.log"
        old.unlink()
        old.symlink_to(outside / "victim.log")
        week = root / "week.log"
        week.rename(root / "week.moved")
        week.symlink_to(outside / "victim.log")
        outcome = CleanupOutcome("old", str(root))
        _apply(root_fd, plan, outcome, None)
    finally:
        os.close(root_fd)
    assert (outside / "victim.log").read_text() == "never delete me\n"
    assert not (outside / "victim.log.gz").exists()
    assert ("nested/old.log", "is no longer a regular file") in outcome.skipped
    assert old.is_symlink() and week.is_symlink()


def test_a_directory_swapped_for_a_symlink_after_planning_is_not_entered(
    config_for: Callable[..., Config], root: Path, outside: Path
) -> None:
    (outside / "old.log").write_text("outside twin\n")
    age(outside / "old.log", 400)
    config = config_for()
    root_fd = open_root(root)
    try:
        plan, _problems = plan_policy(config.cleanup[0], root_fd, NOW)
        (root / "nested").rename(root / "nested.moved")
        (root / "nested").symlink_to(outside, target_is_directory=True)
        outcome = CleanupOutcome("old", str(root))
        _apply(root_fd, plan, outcome, None)
    finally:
        os.close(root_fd)
    assert (outside / "old.log").read_text() == "outside twin\n"
    assert (outside / "victim.log").exists()
    assert any(path == "nested/old.log" for path, _reason in outcome.skipped)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_cleanup_does_not_cross_into_a_mounted_filesystem(
    config_for: Callable[..., Config], store: Store, root: Path
) -> None:
    mount = root / "mnt"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]).returncode:
        pytest.skip("mount -t tmpfs failed here")
    try:
        (mount / "old.log").write_text("x")
        age(mount / "old.log", 400)
        [outcome] = clean(config_for(), store, now=NOW)
        assert (mount / "old.log").exists()
        assert ("mnt", "on another filesystem, not entered") in outcome.skipped
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_missing_root_is_noted_and_a_symlinked_root_is_an_error(
    make_config: Callable[..., Config], store: Store, tmp_path: Path, root: Path
) -> None:
    (tmp_path / "alias").symlink_to(root, target_is_directory=True)
    config = make_config(
        cleanup=[
            {"name": "gone", "path": str(tmp_path / "gone"), "delete_after": "1d"},
            {"name": "alias", "path": str(tmp_path / "alias"), "delete_after": "1d"},
        ]
    )
    gone, alias = clean(config, store, now=NOW)
    assert gone.errors == [] and gone.missing
    assert gone.skipped == [(str(tmp_path / "gone"), "does not exist; nothing to clean")]
    assert alias.errors == [
        f"{tmp_path / 'alias'} is a symlink; hostkeeper does not follow symlinks"
    ]
    assert "nested/old.log" in tree(root)


def test_a_root_hostkeeper_has_not_created_yet_is_no_warning(
    make_config: Callable[..., Config], store: Store, tmp_path: Path
) -> None:
    # the shipped policy on the report directory, on a fresh install before any report
    reports = tmp_path / "reports"  # paths.report_dir of make_config
    config = make_config(cleanup=[{"name": "reports", "path": str(reports), "delete_after": "1d"}])
    [outcome] = clean(config, store, now=NOW)
    assert outcome.errors == [] and not outcome.missing
    assert outcome.skipped == [(str(reports), "not created yet; nothing to clean")]


def test_a_leftover_temp_file_is_removed_and_the_source_compressed_again(
    config_for: Callable[..., Config], store: Store, root: Path
) -> None:
    (root / "week.log.gz.tmp").write_bytes(b"half a gzip stream")
    clean(config_for(), store, now=NOW)
    assert "week.log.gz.tmp" not in tree(root)
    assert gzip.decompress((root / "week.log.gz").read_bytes()) == b"week line\n" * 1000


def test_cleanup_and_rotation_share_a_lock(
    config_for: Callable[..., Config],
    store: Store,
    root: Path,
    hold_lock: Callable[[Path], subprocess.Popen[str]],
) -> None:
    config = config_for()
    hold_lock(files_lock_path(config))
    with pytest.raises(LockHeld):
        clean(config, store, now=NOW, lock_wait=0.3)
    assert "nested/old.log" in tree(root)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_one_or_several_sweep_threads_clean_the_same(
    make_config: Callable[..., Config],
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
) -> None:
    monkeypatch.setattr("hostkeeper.steps.cleanup.default_workers", lambda: workers)
    base = tmp_path / "many"
    expected_left = []
    for first in range(6):
        for second in range(4):
            directory = base / f"d{first}" / f"e{second}"
            directory.mkdir(parents=True)
            for index in range(10):
                path = directory / f"f{index}.log"
                path.write_bytes(b"x" * index)
                if index % 2:
                    age(path, 40)
                else:
                    expected_left.append(str(path.relative_to(base)))
    config = make_config(
        cleanup=[{"name": "many", "path": str(base), "match": "*.log", "delete_after": "30d"}]
    )
    [outcome] = clean(config, store, now=NOW)
    assert tree(base) == sorted(expected_left)
    assert (outcome.deleted, outcome.planned, outcome.errors) == (120, 120, [])
    assert outcome.bytes_freed == 24 * (1 + 3 + 5 + 7 + 9)
    [dry] = clean(config, store, now=NOW, dry_run=True)
    assert dry.plan is not None and dry.plan.actions == []


def test_a_file_that_cannot_be_deleted_is_an_error_and_the_rest_goes_on(
    config_for: Callable[..., Config], store: Store, root: Path
) -> None:
    # An immutable file refuses unlink even to root (read-only directories do not).
    victim = root / "nested" / "old.log"
    chattr = subprocess.run(["chattr", "+i", str(victim)], capture_output=True)
    if chattr.returncode:
        pytest.skip(f"chattr +i is not available here: {chattr.stderr.decode().strip()}")
    try:
        [outcome] = clean(config_for(), store, now=NOW)
    finally:
        subprocess.run(["chattr", "-i", str(victim)], check=True)
    assert outcome.errors == ["nested/old.log: Operation not permitted"]
    assert "nested/old.log" in tree(root)
    assert "nested/deeper/older.log.gz" not in tree(root) and "week.log.gz" in tree(root)
    assert recent_file_actions(store, kind="cleanup")[0]["errors"] == 1
