"""The store's own backup: SQLite's online backup API, never a file copy.

The copy is made page by page while the daemon keeps writing (the backup restarts
itself when the source changes under it), checked with `PRAGMA integrity_check`,
switched to a self-contained rollback journal (no -wal/-shm beside it), fsynced and
renamed into place. A failed check leaves nothing under the target name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from hostkeeper.adapters.fs import fsync_directory, make_private_directory
from hostkeeper.adapters.store.database import Store

PAGES_PER_STEP = 1024


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


def _remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()
