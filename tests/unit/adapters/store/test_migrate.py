"""Migrations: fresh databases, the head revision, schema drift, backups, concurrency."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    func,
    insert,
    inspect,
    select,
)

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store import migrate as migrate_module
from hostkeeper.adapters.store.dbbackup import backup_database
from hostkeeper.adapters.store.migrate import (
    current_revision,
    migrate,
    migrations_directory,
    run_alembic,
)
from hostkeeper.adapters.store.schema import (
    SCHEMA_REVISION,
    alert_events,
    alerts,
    metadata,
    runs,
    step_results,
)

TABLES = {"runs", "step_results", "procedure_state", "alerts"}


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'hk.db'}")
    yield store
    store.dispose()


def _head() -> str | None:
    return ScriptDirectory(str(migrations_directory())).get_current_head()


def test_schema_revision_is_alembic_head() -> None:
    assert _head() == SCHEMA_REVISION


def test_fresh_database_migrates_to_head_without_a_backup(
    empty_store: Store, tmp_path: Path
) -> None:
    assert current_revision(empty_store) is None
    backup = migrate(empty_store, tmp_path / "migrate.lock", tmp_path / "backups")
    assert backup is None
    assert current_revision(empty_store) == SCHEMA_REVISION
    with empty_store.read() as connection:
        assert set(inspect(connection).get_table_names()) >= TABLES
    assert not (tmp_path / "backups").exists()


def test_migrated_schema_matches_the_metadata(empty_store: Store, tmp_path: Path) -> None:
    migrate(empty_store, tmp_path / "migrate.lock")
    with empty_store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_migrate_at_head_does_nothing(empty_store: Store, tmp_path: Path) -> None:
    migrate(empty_store, tmp_path / "migrate.lock")
    assert migrate(empty_store, tmp_path / "migrate.lock", tmp_path / "backups") is None
    assert not (tmp_path / "backups").exists()


def test_downgrade_to_base_and_upgrade_again(empty_store: Store, tmp_path: Path) -> None:
    migrate(empty_store, tmp_path / "migrate.lock")
    run_alembic(empty_store, "downgrade", "base")
    with empty_store.read() as connection:
        assert not TABLES & set(inspect(connection).get_table_names())
    assert current_revision(empty_store) is None
    migrate(empty_store, tmp_path / "migrate.lock")
    assert current_revision(empty_store) == SCHEMA_REVISION


_NEXT_REVISION = '''\
"""A test-only revision after the shipped head."""

import sqlalchemy as sa
from alembic import op

revision = "ffff"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("dummy", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("dummy")
'''


@pytest.fixture
def install_newer_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make the shipped migrations plus one newer revision ("ffff") the code's target.

    A database at today's head then stands for one left behind by an older release.
    """

    def install() -> None:
        directory = tmp_path / "migrations"
        shutil.copytree(migrations_directory(), directory)
        (directory / "versions" / "ffff_dummy.py").write_text(
            _NEXT_REVISION.format(head=SCHEMA_REVISION)
        )
        monkeypatch.setattr(migrate_module, "migrations_directory", lambda: directory)
        monkeypatch.setattr(migrate_module, "SCHEMA_REVISION", "ffff")

    return install


def test_database_at_an_older_revision_is_backed_up_before_migrating(
    empty_store: Store, tmp_path: Path, install_newer_migrations: Callable[[], None]
) -> None:
    migrate(empty_store, tmp_path / "migrate.lock")
    with empty_store.write() as connection:
        connection.execute(
            insert(runs).values(
                host="h",
                procedure="daily",
                trigger="manual",
                status="succeeded",
                started_at=datetime(2025, 1, 1, tzinfo=UTC),
                dry_run=False,
            )
        )
    install_newer_migrations()
    messages: list[str] = []

    backup = migrate(empty_store, tmp_path / "migrate.lock", tmp_path / "backups", messages.append)

    assert backup is not None
    backup_path = Path(backup)
    assert backup_path.parent == tmp_path / "backups"
    assert backup_path.name.startswith(f"hk.db.pre-{SCHEMA_REVISION}-")
    # Only the copy itself: no partial file, no -wal/-shm left beside it.
    assert [p.name for p in backup_path.parent.iterdir()] == [backup_path.name]
    with sqlite3.connect(backup_path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (
            SCHEMA_REVISION,
        )
        assert copy.execute("SELECT procedure FROM runs").fetchall() == [("daily",)]
    assert current_revision(empty_store) == "ffff"
    with empty_store.read() as connection:
        assert "dummy" in inspect(connection).get_table_names()
        assert connection.execute(select(runs.c.procedure)).scalars().all() == ["daily"]
    assert any("backing up" in message for message in messages)
    assert any(f"from {SCHEMA_REVISION} to ffff" in message for message in messages)


def test_pre_migration_copies_keep_the_newest_of_any_revision(
    empty_store: Store, tmp_path: Path, install_newer_migrations: Callable[[], None]
) -> None:
    migrate(empty_store, tmp_path / "migrate.lock")
    copies = tmp_path / "backups"
    copies.mkdir()
    older = ["hk.db.pre-0001-20250101T000000Z", "hk.db.pre-0002-20250201T000000Z"]
    for name in older:
        (copies / name).write_bytes(b"an old copy")
    (copies / "hk-20250101T000000Z.db").write_bytes(b"a db backup copy: another kind")
    install_newer_migrations()

    made = migrate(empty_store, tmp_path / "migrate.lock", copies, backup_keep=2)

    assert made is not None
    assert sorted(p.name for p in copies.iterdir()) == sorted(
        ["hk-20250101T000000Z.db", older[1], Path(made).name]
    )


def test_backup_copies_a_live_wal_database(empty_store: Store, tmp_path: Path) -> None:
    migrate(empty_store, tmp_path / "migrate.lock")
    with empty_store.write() as connection:
        connection.execute(
            insert(runs).values(
                host="h",
                procedure="weekly",
                trigger="scheduled",
                status="running",
                started_at=datetime(2025, 1, 1, tzinfo=UTC),
                dry_run=False,
            )
        )
    # The row may still sit in the -wal file; the backup API must include it anyway.
    with empty_store.read() as reader:
        reader.execute(select(runs.c.id)).all()
        target = tmp_path / "copies" / "hk.db.bak"
        backup_database(empty_store, target)
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT procedure FROM runs").fetchall() == [("weekly",)]


_MIGRATOR = """
import sys
from pathlib import Path
from hostkeeper.adapters.store import open_store
from hostkeeper.adapters.store.migrate import migrate
store = open_store(sys.argv[1])
migrate(store, Path(sys.argv[2]), Path(sys.argv[3]))
"""


def test_concurrent_migrations_from_two_processes_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hk.db'}"
    argv = [sys.executable, "-c", _MIGRATOR, url, str(tmp_path / "m.lock"), str(tmp_path / "b")]
    processes = [subprocess.Popen(argv, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    store = open_store(url)
    try:
        assert current_revision(store) == SCHEMA_REVISION
    finally:
        store.dispose()


def test_rebuilding_a_parent_table_keeps_the_rows_that_cascade_from_it(
    empty_store: Store, tmp_path: Path
) -> None:
    """0006 rebuilds `alerts` (SQLite batch mode: copy, drop, rename) and 0009 adds and
    drops a column of `runs`; with foreign keys on, dropping the old parent table deleted
    every alert's events and every run's steps."""
    run_alembic(empty_store, "upgrade", "0005")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with empty_store.write() as connection:
        connection.exec_driver_sql(
            "INSERT INTO alerts (host, rule, severity, state, pending_since, notifications, "
            "false_positive) VALUES ('h', 'disk', 'warning', 'firing', ?, 0, 0)",
            (at,),
        )
        connection.exec_driver_sql(
            "INSERT INTO alert_events (alert_id, kind, at) VALUES (1, 'fired', ?)", (at,)
        )
        connection.exec_driver_sql(
            "INSERT INTO runs (host, procedure, trigger, status, started_at, dry_run) "
            "VALUES ('h', 'daily', 'scheduled', 'succeeded', ?, 0)",
            (at,),
        )
        connection.exec_driver_sql(
            "INSERT INTO step_results (run_id, position, phase, name, label, status, "
            "started_at) VALUES (1, 0, 'steps', 'cleanup', 'cleanup', 'succeeded', ?)",
            (at,),
        )
    migrate(empty_store, tmp_path / "migrate.lock")
    run_alembic(empty_store, "downgrade", "0008")
    run_alembic(empty_store, "upgrade", "head")

    with empty_store.read() as connection:
        counts = {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar()
            for table in (alerts, alert_events, runs, step_results)
        }
        enforced = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    assert counts == {"alerts": 1, "alert_events": 1, "runs": 1, "step_results": 1}
    assert enforced == 1  # back on for the store's connection


def _row_for(table: Table) -> dict[str, object]:
    """A row of plain values for every column a table made by an older revision needs."""
    values: dict[str, object] = {}
    [*key] = table.primary_key.columns
    for column in table.columns:
        if key == [column] and isinstance(column.type, Integer) and not column.foreign_keys:
            continue  # the row gets id 1
        if column.foreign_keys:
            values[column.name] = 1
        elif isinstance(column.type, Boolean):
            values[column.name] = False
        elif isinstance(column.type, Integer):
            values[column.name] = 1
        elif isinstance(column.type, Float | Numeric):
            values[column.name] = 1.0
        elif isinstance(column.type, DateTime | Date):
            values[column.name] = datetime(2026, 1, 1, tzinfo=UTC)
        elif isinstance(column.type, LargeBinary):
            values[column.name] = b"\\x00"
        else:
            values[column.name] = "x"
    return values


@pytest.mark.parametrize("start", ["0001", "0002", "0003", "0004", "0005", "0006", "0007"])
def test_an_upgrade_keeps_every_row_of_every_table(
    empty_store: Store, tmp_path: Path, start: str
) -> None:
    run_alembic(empty_store, "upgrade", start)
    old = MetaData()
    with empty_store.write() as connection:
        old.reflect(connection)
        for table in old.sorted_tables:
            if table.name != "alembic_version":
                connection.execute(insert(table).values(_row_for(table)))
    migrate(empty_store, tmp_path / "migrate.lock")
    with empty_store.read() as connection:
        after = {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar()
            for table in old.sorted_tables
            if table.name != "alembic_version"
        }
    assert after == dict.fromkeys(after, 1)
