from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from hostkeeper.adapters.store import Store, maintenance
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


def test_database_backups_keep_the_newest_and_touch_nothing_else(
    store: Store, tmp_path: Path
) -> None:
    copies = tmp_path / "backups" / "database"
    copies.mkdir(parents=True)
    stem = store.sqlite_path.stem if store.sqlite_path else "hostkeeper"
    older = [f"{stem}-2026010{day}T020000Z.db" for day in range(1, 5)]
    for name in older:
        (copies / name).write_bytes(b"an old copy")
    outsider = tmp_path / "precious.db"
    outsider.write_bytes(b"not a backup")
    decoys = [
        f"{stem}-notes.db",  # not a stamped copy
        f"{stem}-20260101T020000Z.db.keep",  # a copy an operator set aside
        "other-20260101T020000Z.db",  # another database's copy
        f"{stem}.db.pre-0001-20260101T020000Z",  # a pre-migration copy: its own kind
    ]
    for name in decoys:
        (copies / name).write_bytes(b"keep me")
    link = copies / f"{stem}-20250101T020000Z.db"  # named like the oldest copy
    link.symlink_to(outsider)

    result = maintenance.backup(store, tmp_path / "backups", keep=3)

    assert result.ok, result.summary
    made = Path(result.details["path"])
    assert result.details["pruned"] == older[:2]
    remaining = sorted(p.name for p in copies.iterdir())
    assert remaining == sorted([*older[2:], made.name, *decoys, link.name])
    assert outsider.read_bytes() == b"not a backup"
    with sqlite3.connect(made) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_copies_made_in_the_same_second_get_their_own_names(store: Store, tmp_path: Path) -> None:
    made = {maintenance.backup(store, tmp_path, keep=10).details["path"] for _ in range(3)}
    assert len(made) == 3
    assert all(Path(path).is_file() for path in made)
