"""`backup: SET`: archive a backup set, record it, then apply the set's retention.

The archive is complete under its name or absent (temp name, fsync, rename); leftovers
of an interrupted run are removed first, under the set's lock. The store mirrors the
backup directory: archives found on disk but unrecorded (a crash after the rename) are
adopted, recorded ones that disappeared are marked missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hostkeeper.adapters.archive import (
    ArchiveFile,
    ArchiveResult,
    BackupError,
    create_archive,
    list_archives,
    parse_archive_name,
    read_sidecar,
    remove_leftovers,
)
from hostkeeper.adapters.fs import delete_path
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.files import archive_rows, mark_archive, record_archive
from hostkeeper.config import Config
from hostkeeper.config.files import BackupSet
from hostkeeper.core.names import safe_path_name
from hostkeeper.core.retention import ArchiveStamp, RetentionDecision, plan_retention
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome
from hostkeeper.steps.file_locks import backup_lock_path, waiting_lock

NAME = "backup"


def backup_set(config: Config, name: str) -> BackupSet:
    for candidate in config.backups:
        if candidate.name == name:
            return candidate
    defined = ", ".join(b.name for b in config.backups) or "none"
    raise KeyError(f"no backup set named {name!r}; defined: {defined}")


def set_directory(config: Config, name: str) -> Path:
    return Path(config.paths.backup_dir) / safe_path_name(name)


def sync_archives(config: Config, store: Store, name: str) -> list[ArchiveFile]:
    """The set's archives on disk (oldest first), with the store brought in line."""
    archives = list_archives(set_directory(config, name), name)
    rows = archive_rows(store, name)
    on_disk = {str(archive.path) for archive in archives}
    for archive in archives:
        row = rows.get(str(archive.path))
        if row is None or row["state"] != "present":
            record_archive(
                store,
                backup_set=name,
                path=str(archive.path),
                created_at=archive.created_at,
                size=archive.size,
                files=row["files"] if row else 0,
                sha256=(row["sha256"] if row else None) or read_sidecar(archive.path) or "",
            )
    for path, row in rows.items():
        if row["state"] == "present" and path not in on_disk:
            mark_archive(store, path, "missing")
    return archives


@dataclass
class BackupOutcome:
    backup_set: str
    result: ArchiveResult | None = None
    removed_leftovers: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        result = self.result
        return {
            "set": self.backup_set,
            "archive": str(result.path) if result else None,
            "sha256": result.sha256 if result else None,
            "bytes": result.size if result else None,
            "files": result.files if result else None,
            "unreadable": [list(item) for item in result.unreadable] if result else [],
            "changed": result.changed if result else [],
            "skipped": [list(item) for item in result.skipped] if result else [],
            "removed_leftovers": self.removed_leftovers,
            "pruned": self.pruned,
            "error": self.error,
        }


def create_backup(
    config: Config,
    store: Store,
    name: str,
    now: datetime,
    *,
    prune_after: bool = True,
    check: Any = None,
) -> BackupOutcome:
    """Archive set `name` now; failures are in the outcome's `error`, not raised."""
    definition = backup_set(config, name)
    outcome = BackupOutcome(name)
    directory = set_directory(config, name)
    with waiting_lock(backup_lock_path(config, name), check=check):
        outcome.removed_leftovers = remove_leftovers(directory)
        # The backup directory never archives itself (a source may contain it).
        backups = str(Path(config.paths.backup_dir).absolute()).rstrip("/")
        exclude = [*definition.exclude, backups, f"{backups}/*"]
        try:
            result = create_archive(name, definition.sources, exclude, directory, now, check=check)
        except BackupError as error:
            outcome.error = str(error)
            sync_archives(config, store, name)
            return outcome
        outcome.result = result
        parsed = parse_archive_name(result.path.name)
        record_archive(
            store,
            backup_set=name,
            path=str(result.path),
            created_at=parsed[1] if parsed else result.created_at,
            size=result.size,
            files=result.files,
            sha256=result.sha256,
            unreadable=result.unreadable,
        )
        if prune_after:
            decisions = _prune_locked(config, store, definition, now, dry_run=False)
            outcome.pruned = [d.name for d in decisions if not d.keep]
    return outcome


def prune(
    config: Config, store: Store, name: str, now: datetime, *, dry_run: bool
) -> list[RetentionDecision]:
    definition = backup_set(config, name)
    if dry_run:
        return _decide(config, store, definition, now)
    with waiting_lock(backup_lock_path(config, name)):
        return _prune_locked(config, store, definition, now, dry_run=False)


def _decide(
    config: Config, store: Store, definition: BackupSet, now: datetime
) -> list[RetentionDecision]:
    archives = sync_archives(config, store, definition.name)
    return plan_retention(
        [ArchiveStamp(archive.name, archive.created_at) for archive in archives],
        daily=definition.keep.daily,
        weekly=definition.keep.weekly,
        monthly=definition.keep.monthly,
        now=now,
        zone=ZoneInfo(config.timezone),
    )


def _prune_locked(
    config: Config, store: Store, definition: BackupSet, now: datetime, *, dry_run: bool
) -> list[RetentionDecision]:
    decisions = _decide(config, store, definition, now)
    if dry_run:
        return decisions
    directory = set_directory(config, definition.name)
    for decision in decisions:
        if decision.keep:
            continue
        path = directory / decision.name
        delete_path(Path(str(path) + ".sha256"))
        delete_path(path)
        mark_archive(store, str(path), "pruned")
    return decisions


def describe(outcome: BackupOutcome) -> str:
    result = outcome.result
    if result is None:
        return outcome.error or "no archive"
    text = (
        f"{result.path.name}: {result.files} files, {result.bytes_in / 1_048_576:.1f} MB "
        f"-> {result.size / 1_048_576:.1f} MB"
    )
    if result.unreadable:
        text += f"; {len(result.unreadable)} unreadable"
    if result.changed:
        text += f"; {len(result.changed)} changed while archived"
    if outcome.pruned:
        text += f"; pruned {len(outcome.pruned)}"
    return text


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    name: str = argument
    if ctx.dry_run:
        definition = backup_set(ctx.config, name)
        return StepOutcome(
            StepStatus.SKIPPED,
            f"dry run: would archive {', '.join(definition.sources)} into "
            f"{set_directory(ctx.config, name)}",
        )
    outcome = create_backup(ctx.config, ctx.store, name, ctx.now(), check=ctx.check_cancelled)
    details = outcome.as_dict()
    ctx.log.info("backup", **{k: v for k, v in details.items() if k != "skipped"})
    if outcome.error:
        return StepOutcome(StepStatus.FAILED, error=outcome.error, details=details)
    result = outcome.result
    assert result is not None
    status = StepStatus.WARNING if result.unreadable or result.changed else StepStatus.SUCCEEDED
    return StepOutcome(status, describe(outcome), details=details)
