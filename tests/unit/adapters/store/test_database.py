"""SQLite connections: WAL, foreign keys, busy timeout, and BEGIN IMMEDIATE writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store.database import BUSY_TIMEOUT_MS
from hostkeeper.adapters.store.schema import runs, step_results


def _insert_run(connection: object, procedure: str = "p") -> int:
    result = connection.execute(  # type: ignore[attr-defined]
        insert(runs).values(
            host="h",
            procedure=procedure,
            trigger="manual",
            status="running",
            started_at=datetime.now(UTC),
            dry_run=False,
        )
    )
    run_id: int = result.inserted_primary_key[0]
    return run_id


def test_connections_use_wal_foreign_keys_and_busy_timeout(store: Store) -> None:
    with store.read() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS
    with store.write() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_foreign_keys_are_enforced(store: Store) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.write() as connection:
        connection.execute(
            insert(step_results).values(
                run_id=999,
                position=0,
                phase="steps",
                name="run",
                label="run: x",
                status="succeeded",
                started_at=datetime.now(UTC),
            )
        )


def test_deleting_a_run_cascades_to_its_steps(store: Store) -> None:
    with store.write() as connection:
        run_id = _insert_run(connection)
        connection.execute(
            insert(step_results).values(
                run_id=run_id,
                position=0,
                phase="steps",
                name="run",
                label="run: x",
                status="succeeded",
                started_at=datetime.now(UTC),
            )
        )
    with store.write() as connection:
        connection.execute(runs.delete().where(runs.c.id == run_id))
    with store.read() as connection:
        assert connection.execute(select(func.count()).select_from(step_results)).scalar() == 0


def test_write_takes_the_write_lock_before_its_first_statement(store: Store) -> None:
    assert store.sqlite_path is not None
    other = sqlite3.connect(store.sqlite_path, timeout=0, isolation_level=None)
    try:
        with store.write(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_read_does_not_take_the_write_lock(store: Store) -> None:
    assert store.sqlite_path is not None
    other = sqlite3.connect(store.sqlite_path, timeout=0, isolation_level=None)
    try:
        with store.read() as connection:
            connection.execute(select(func.count()).select_from(runs)).scalar()
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_concurrent_read_then_write_transactions_in_threads_never_see_locked(
    store: Store,
) -> None:
    # Deferred transactions that read and then write deadlock in SQLite ("database is
    # locked" at once, busy_timeout cannot help); BEGIN IMMEDIATE serialises them.
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(name: str) -> None:
        start.wait()
        try:
            for _ in range(15):
                with store.write() as connection:
                    connection.execute(select(func.count()).select_from(runs)).scalar()
                    time.sleep(0.002)
                    _insert_run(connection, name)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with store.read() as connection:
        assert connection.execute(select(func.count()).select_from(runs)).scalar() == 60


_PROCESS_WRITER = """
import sys, time
from datetime import UTC, datetime
from sqlalchemy import func, insert, select
from hostkeeper.adapters.store import open_store
from hostkeeper.adapters.store.schema import runs

store = open_store(sys.argv[1])
for _ in range(20):
    with store.write() as connection:
        connection.execute(select(func.count()).select_from(runs)).scalar()
        time.sleep(0.002)
        connection.execute(insert(runs).values(
            host="h", procedure=sys.argv[2], trigger="manual", status="running",
            started_at=datetime.now(UTC), dry_run=False))
"""


def test_concurrent_writers_in_two_processes_never_see_locked(store: Store) -> None:
    url = str(store.engine.url)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS_WRITER, url, name],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    with store.read() as connection:
        assert connection.execute(select(func.count()).select_from(runs)).scalar() == 40


def test_open_store_creates_the_database_directory(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "hk.db"
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.ping()
        assert store.sqlite_path == path
        assert store.is_sqlite
    finally:
        store.dispose()
    assert path.exists()


def test_ping_is_false_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    path = tmp_path / "hk.db"
    store = open_store(f"sqlite:///{path}")
    path.mkdir()  # a directory where the database file should be
    try:
        assert store.ping() is False
    finally:
        store.dispose()


def test_naive_datetimes_are_refused_and_aware_ones_come_back_in_utc(store: Store) -> None:
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError, match="naive datetime"), store.write() as connection:
        connection.execute(
            insert(runs).values(
                host="h",
                procedure="p",
                trigger="manual",
                status="running",
                started_at=datetime(2025, 1, 1),
                dry_run=False,
            )
        )
    from zoneinfo import ZoneInfo

    berlin = datetime(2025, 1, 1, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    with store.write() as connection:
        connection.execute(
            insert(runs).values(
                host="h",
                procedure="p",
                trigger="manual",
                status="running",
                started_at=berlin,
                dry_run=False,
            )
        )
    with store.read() as connection:
        stored = connection.execute(select(runs.c.started_at)).scalar()
    assert stored == datetime(2025, 1, 1, 11, 0, tzinfo=UTC)
    assert stored.tzinfo is UTC


def test_a_new_database_and_its_wal_are_private_under_umask_022(tmp_path: Path) -> None:
    import os
    import stat

    previous = os.umask(0o022)
    try:
        store = open_store(f"sqlite:///{tmp_path / 'state' / 'hostkeeper.db'}")
        try:
            with store.write() as connection:
                connection.execute(text("CREATE TABLE t (x INTEGER)"))
                connection.execute(text("INSERT INTO t VALUES (1)"))
            created = sorted((tmp_path / "state").iterdir())
            assert [p.name for p in created][:2] == ["hostkeeper.db", "hostkeeper.db-shm"]
            for path in created:
                assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
            assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o750
        finally:
            store.dispose()
    finally:
        os.umask(previous)


def _descriptors_on(database: Path) -> int:
    """Open descriptors of this process on the database file or its WAL."""
    names = {str(database), f"{database}-wal"}
    count = 0
    for entry in Path("/proc/self/fd").iterdir():
        try:
            if str(entry.readlink()) in names:
                count += 1
        except OSError:  # closed between listing and reading
            continue
    return count


def test_a_busy_moment_leaves_two_connections_open_and_grows_nothing(tmp_path: Path) -> None:
    """Eight threads at once get eight connections; afterwards two stay in the pool, so
    the page caches kept do not grow with the busiest moment the daemon ever had. SQLite
    keeps the descriptors of closed connections for reuse while others are open (closing
    one would drop the process's locks): a second busy moment adds none."""
    database = tmp_path / "hk.db"
    store = open_store(f"sqlite:///{database}")
    try:
        with store.write() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))

        def busy_moment() -> int:
            all_in = threading.Barrier(8)

            def reader() -> None:
                with store.read() as connection:
                    connection.execute(text("SELECT count(*) FROM t")).scalar()
                    all_in.wait(timeout=30)

            threads = [threading.Thread(target=reader) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not any(thread.is_alive() for thread in threads)
            assert store.engine.pool.checkedin() == 2  # type: ignore[attr-defined]
            return _descriptors_on(database)

        first = busy_moment()
        assert busy_moment() <= first
    finally:
        store.dispose()
    assert _descriptors_on(database) == 0
