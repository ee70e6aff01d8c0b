"""Opening the store: engine, SQLite pragmas, and read/write transactions."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from hostkeeper.adapters.fs import make_private_directory
from hostkeeper.adapters.store.slowlog import SlowQueryRecorder

BUSY_TIMEOUT_MS = 10_000
# SQLite connections are cheap to open, but each one kept open holds two descriptors
# and up to 2 MiB of page cache. Two cover the daemon at rest (collector and status);
# a busier moment opens more and closes them again, so descriptors and memory stay flat.
SQLITE_KEPT_CONNECTIONS = 2
SQLITE_MORE_CONNECTIONS = 13  # the pool's default limit of 15 at once


class Store:
    """One database shared by the daemon and the CLI.

    `read()` opens a plain transaction; `write()` on SQLite starts with BEGIN IMMEDIATE,
    so a writer takes the write lock up front and waits on busy_timeout instead of
    failing half-way with "database is locked".
    """

    def __init__(
        self, engine: Engine, host: str | None = None, slow_query: float | None = None
    ) -> None:
        self.engine = engine
        self.host = host or socket.gethostname()
        self._writer = engine.execution_options(hostkeeper_begin="IMMEDIATE")
        self.slow_log: SlowQueryRecorder | None = None
        if slow_query is not None:
            self.slow_log = SlowQueryRecorder(slow_query, self.host)
            self.slow_log.install(engine)

    def for_host(self, host: str) -> Store:
        """The same database seen as `host`: its reads and writes are that host's rows
        (the fleet view, the watch for silent hosts)."""
        if host == self.host:
            return self
        return Store(self.engine, host=host)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        database = self.engine.url.database
        if not self.is_sqlite or not database or database == ":memory:":
            return None
        return Path(database)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._writer.begin() as connection:
            yield connection

    def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def may_delete(self, table: str) -> bool:
        """Whether this store's role may delete rows of `table`: always on SQLite; on
        PostgreSQL a host's role in a least-privilege fleet deletes no history, which
        its retention then leaves to the database's owner (docs/fleet.md)."""
        if self.is_sqlite:
            return True
        with self.read() as connection:
            allowed = connection.execute(
                text("SELECT has_table_privilege(current_user, :table, 'DELETE')"),
                {"table": table},
            )
            return bool(allowed.scalar())

    def flush_slow_queries(self) -> None:
        """Write captured slow statements to the store (cheap when there are none)."""
        if self.slow_log is not None:
            try:
                self.slow_log.flush(self._writer)
            except Exception:  # losing slow-query statistics never stops the caller
                logging.getLogger("hostkeeper.store").exception("cannot record slow queries")

    def dispose(self) -> None:
        self.flush_slow_queries()
        self.engine.dispose()


def open_store(url: str, host: str | None = None, slow_query: float | None = None) -> Store:
    """Create the engine for `url` (the SQLite file's directory is created if missing)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database
        database = Path(name) if name and name != ":memory:" else None
        pool = (
            {"pool_size": SQLITE_KEPT_CONNECTIONS, "max_overflow": SQLITE_MORE_CONNECTIONS}
            if database is not None
            else {}  # one in-memory database per connection: SQLAlchemy's own pool
        )
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **pool)
        if database is not None:
            make_private_directory(database.parent)
            event.listen(engine, "do_connect", lambda *_args: _create_private_file(database))
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, connect_args=_network_bounds(parsed))
    return Store(engine, host, slow_query)


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row an INSERT added."""
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row always has one
    return int(key[0])


# libpq waits forever by default for a server that does not answer; the daemon keeps
# running through a database outage, so every wait on the network is bounded (a setting
# given in the URL's query wins).
NETWORK_BOUNDS = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def _network_bounds(parsed: Any) -> dict[str, Any]:
    if parsed.get_backend_name() != "postgresql":
        return {}
    return {key: value for key, value in NETWORK_BOUNDS.items() if key not in parsed.query}


def _create_private_file(path: Path) -> None:
    """Create a missing database file readable by its owner and group only, just before
    SQLite would (with 0644 under a login shell's umask); SQLite gives its -wal and -shm
    files the database file's mode, so the empty file made here covers all three."""
    try:
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640
        )
    except FileExistsError:
        return  # an existing database keeps its mode
    try:
        os.fchmod(fd, 0o640)
    finally:
        os.close(fd)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event, not pysqlite, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("hostkeeper_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")
