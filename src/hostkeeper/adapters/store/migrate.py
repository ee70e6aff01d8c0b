"""Bringing the schema to the current revision at start, safely.

Under a file lock (two processes starting at once migrate once), an existing SQLite
database is first copied with the online backup API, then Alembic upgrades it. Alembic
is imported only when the stored revision differs from SCHEMA_REVISION.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, inspect, text

from hostkeeper.adapters.locks import FileLock
from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.dbbackup import (
    DEFAULT_KEEP,
    backup_database,
    new_copy_path,
    pre_migration_copies,
    prune_copies,
)
from hostkeeper.adapters.store.lease import lock_key
from hostkeeper.adapters.store.schema import SCHEMA_REVISION

MIGRATION_LOCK = "hostkeeper.migrate"


def current_revision(store: Store) -> str | None:
    with store.read() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        return row[0] if row else None


def migrations_directory() -> Path:
    """Installed packages carry the scripts inside; a source checkout has them at the top."""
    packaged = Path(__file__).resolve().parents[2] / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[4] / "migrations"


def migrate(
    store: Store,
    lock_path: Path,
    backup_dir: Path | None = None,
    on_progress: Callable[[str], None] | None = None,
    backup_keep: int = DEFAULT_KEEP,
) -> str | None:
    """Upgrade to SCHEMA_REVISION; return the backup file made first, if any.

    Of the pre-migration copies in `backup_dir`, the `backup_keep` newest stay.
    """
    if current_revision(store) == SCHEMA_REVISION:
        return None
    progress = on_progress or (lambda _message: None)
    with FileLock(lock_path, blocking=True):
        revision = current_revision(store)
        if revision == SCHEMA_REVISION:
            return None  # another process migrated while we waited for the lock
        backup_file = None
        database = store.sqlite_path
        if revision is not None and database is not None and database.exists():
            kind = pre_migration_copies(database, revision)
            target = new_copy_path(backup_dir or database.parent, kind, datetime.now(UTC))
            progress(f"backing up the database to {target} before migrating")
            backup_database(store, target)
            backup_file = str(target)
            pruned = prune_copies(kind, backup_keep, target)
            for name in pruned.removed:
                progress(f"removed the older pre-migration copy {name}")
            for problem in pruned.problems:
                progress(f"could not remove an older pre-migration copy: {problem}")
        progress(f"migrating the database from {revision or 'empty'} to {SCHEMA_REVISION}")
        upgrade(store, SCHEMA_REVISION)
        return backup_file


def upgrade(store: Store, revision: str = "head") -> None:
    run_alembic(store, "upgrade", revision)


def run_alembic(store: Store, verb: str, revision: str) -> None:
    """Alembic's `upgrade` or `downgrade` to `revision`, in one transaction.

    On SQLite, foreign keys are off meanwhile and checked before the commit: batch mode
    rebuilds a table by copying it and dropping the old one, and dropping a parent table
    with foreign keys on deletes the rows that cascade from it (every alert's events
    when migration 0006 rebuilt `alerts`). The pragma only takes effect outside a
    transaction, hence the driver's own connection before BEGIN.
    """
    from alembic import command
    from alembic.config import Config as AlembicConfig

    alembic_config = AlembicConfig()
    alembic_config.set_main_option("script_location", str(migrations_directory()))
    with store.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, False)
            # A writer from the first statement: the CLI may write meanwhile.
            connection.execution_options(hostkeeper_begin="IMMEDIATE")
        try:
            with connection.begin():
                if not sqlite:
                    # The hosts of a fleet share the database and may start at once; the
                    # file lock is per host. Whoever waits here finds the upgrade done.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": lock_key(MIGRATION_LOCK)},
                    )
                alembic_config.attributes["connection"] = connection
                getattr(command, verb)(alembic_config, revision)
                if sqlite:
                    _refuse_dangling_references(connection)
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, True)


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _refuse_dangling_references(connection: Connection) -> None:
    """Roll the migration back rather than commit rows whose parent is gone."""
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if dangling:
        shown = ", ".join(f"{row[0]} rowid {row[1]} -> {row[2]}" for row in dangling[:5])
        raise RuntimeError(f"the migration left {len(dangling)} dangling references: {shown}")
