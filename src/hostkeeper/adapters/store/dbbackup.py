"""The store's own backup: SQLite's online backup API, never a file copy.

The copy is made page by page while the daemon keeps writing (the backup restarts
itself when the source changes under it), checked with `PRAGMA integrity_check`,
switched to a self-contained rollback journal (no -wal/-shm beside it), fsynced and
renamed into place. A failed check leaves nothing under the target name.

Copies are named by kind and UTC time (`hostkeeper-20261202T020000Z.db` for `db
backup`, `hostkeeper.db.pre-0007-20261202T020000Z` before a migration); after each
successful copy only the newest `database.backup_keep` of that kind are kept, and
nothing whose name is not such a copy is ever touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hostkeeper.adapters.fs import delete_path, fsync_directory, make_private_directory
from hostkeeper.adapters.store.database import Store
from hostkeeper.core.retention import beyond_newest

PAGES_PER_STEP = 1024
DEFAULT_KEEP = 7
_STAMP = "%Y%m%dT%H%M%SZ"
_STAMP_PATTERN = r"(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<sequence>\d+))?"


class DatabaseBackupError(Exception):
    pass


@dataclass(frozen=True)
class DatabaseBackup:
    path: Path
    size: int
    integrity: str


def backup_database(store: Store, target: Path) -> DatabaseBackup:
    """Copy the store's SQLite database to `target`; raise DatabaseBackupError on failure.

    PostgreSQL stores are refused: they are backed up with pg_dump or the server's own
    tools.
    """
    source = store.sqlite_path
    if source is None:
        raise DatabaseBackupError(
            "the store is not a SQLite file; back up PostgreSQL with pg_dump or its own tools"
        )
    make_private_directory(target.parent)
    partial = target.with_name(f".{target.name}.tmp")
    _remove_database_files(partial)
    try:
        origin = sqlite3.connect(source, timeout=10)
        try:
            copy = sqlite3.connect(partial)
            try:
                origin.backup(copy, pages=PAGES_PER_STEP)
                row = copy.execute("PRAGMA integrity_check").fetchone()
                integrity = str(row[0]) if row else "no answer"
                if integrity != "ok":
                    raise DatabaseBackupError(f"the copy failed its integrity check: {integrity}")
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
        finally:
            origin.close()
        fd = os.open(partial, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(partial, 0o600)
        os.replace(partial, target)
        fsync_directory(target.parent)
    except sqlite3.Error as error:
        _remove_database_files(partial)
        raise DatabaseBackupError(f"backup of {source} failed: {error}") from None
    except BaseException:
        _remove_database_files(partial)
        raise
    return DatabaseBackup(target, target.stat().st_size, integrity)


@dataclass(frozen=True)
class CopyKind:
    """One kind of database copy: how its names are made and recognised."""

    prefix: str  # a new copy's name up to the stamp
    prefix_pattern: str  # regular expression for that part of any copy of the kind
    suffix: str  # the name after the stamp (and sequence)

    def name(self, stamp: str, sequence: int = 1) -> str:
        tail = f"-{sequence}" if sequence > 1 else ""
        return f"{self.prefix}{stamp}{tail}{self.suffix}"

    def parse(self, name: str) -> tuple[str, int] | None:
        """(stamp, sequence) when `name` is a copy of this kind, else None."""
        pattern = self.prefix_pattern + _STAMP_PATTERN + re.escape(self.suffix)
        match = re.fullmatch(pattern, name)
        if match is None:
            return None
        return match["stamp"], int(match["sequence"] or 1)


def manual_copies(database: Path) -> CopyKind:
    """`db backup` copies of `database`: `hostkeeper-STAMP.db`."""
    prefix = f"{database.stem}-"
    return CopyKind(prefix, re.escape(prefix), ".db")


def pre_migration_copies(database: Path, revision: str) -> CopyKind:
    """Copies made before a migration, `hostkeeper.db.pre-REVISION-STAMP`; new ones name
    `revision`, and those from every revision count as one kind."""
    start = f"{database.name}.pre-"
    return CopyKind(f"{start}{revision}-", re.escape(start) + r"[A-Za-z0-9_]+-", "")


def new_copy_path(directory: Path, kind: CopyKind, now: datetime) -> Path:
    """A name of `kind` for a copy made at `now` (UTC) that no copy in `directory` has."""
    stamp = now.strftime(_STAMP)
    sequence = 1
    while (directory / kind.name(stamp, sequence)).exists():
        sequence += 1
    return directory / kind.name(stamp, sequence)


@dataclass
class Pruned:
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def prune_copies(kind: CopyKind, keep: int, made: Path) -> Pruned:
    """Remove all but the `keep` newest copies of `kind` beside `made`, the copy just
    written, which always stays. Regular files only; symlinks are never followed."""
    pruned = Pruned()
    directory = made.parent
    stamped = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                key = kind.parse(entry.name)
                if key is not None and entry.is_file(follow_symlinks=False):
                    stamped.append((entry.name, key))
    except OSError as error:
        pruned.problems.append(f"cannot list {directory}: {error.strerror or error}")
        return pruned
    for name in beyond_newest(stamped, keep):
        if name == made.name:
            continue
        reason = delete_path(directory / name)
        if reason is None:
            pruned.removed.append(name)
        else:
            pruned.problems.append(f"{directory / name}: {reason}")
    if pruned.removed:
        fsync_directory(directory)
    return pruned


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()
