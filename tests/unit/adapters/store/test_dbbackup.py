from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.dbbackup import backup_database


def test_online_backup_of_a_database_being_written(store: Store, tmp_path: Path) -> None:
    with store.write() as connection:
        connection.execute(text("CREATE TABLE load (id INTEGER PRIMARY KEY, payload TEXT)"))
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with store.write() as connection:
                connection.execute(
                    text("INSERT INTO load (payload) VALUES (:p)"), [{"p": "x" * 200}] * 200
                )

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        target = tmp_path / "backups" / "database" / "copy.db"
        result = backup_database(store, target)
    finally:
        stop.set()
        thread.join()
    assert result.integrity == "ok" and result.path == target and result.size > 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
    # a self-contained file: no -wal/-shm and no temp beside it
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db"]
