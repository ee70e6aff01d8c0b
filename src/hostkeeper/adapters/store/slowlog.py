"""Slow statement capture (`db slow-queries`): SQLAlchemy cursor events time every
statement; those slower than `database.slow_query` are aggregated by shape in memory and
flushed to the `slow_queries` table now and then, never from inside the event itself."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, select, update

from hostkeeper.adapters.store.schema import slow_queries

_IN_LIST = re.compile(
    r"\(\s*(?:\?|%\([^)]*\)s|\$\d+|:\w+)(?:\s*,\s*(?:\?|%\([^)]*\)s|\$\d+|:\w+))+\s*\)"
)
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_STRING = re.compile(r"'(?:[^']|'')*'")
_SPACE = re.compile(r"\s+")


def statement_shape(statement: str) -> str:
    """The statement with literals and parameter lists folded: one shape per query kind."""
    shape = _STRING.sub("?", statement)
    shape = _NUMBER.sub("?", shape)
    shape = _IN_LIST.sub("(...)", shape)
    return _SPACE.sub(" ", shape).strip()[:2000]


@dataclass
class _Aggregate:
    count: int = 0
    total: float = 0.0
    maximum: float = 0.0
    first_seen: float = 0.0
    last_seen: float = 0.0


class SlowQueryRecorder:
    def __init__(self, threshold_seconds: float, host: str) -> None:
        self.threshold = threshold_seconds
        self.host = host
        self._pending: dict[str, _Aggregate] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        conn.info.setdefault("hostkeeper_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        starts = conn.info.get("hostkeeper_started")
        if not starts:
            return
        elapsed = time.perf_counter() - starts.pop()
        if elapsed < self.threshold or getattr(self._local, "flushing", False):
            return
        shape = statement_shape(statement)
        now = time.time()
        with self._lock:
            aggregate = self._pending.setdefault(shape, _Aggregate(first_seen=now))
            aggregate.count += 1
            aggregate.total += elapsed
            aggregate.maximum = max(aggregate.maximum, elapsed)
            aggregate.last_seen = now

    def flush(self, engine: Engine) -> int:
        """Merge what was captured into the table; returns the number of shapes written.
        `engine` should start its transactions as a writer (the store's BEGIN IMMEDIATE
        on SQLite): a read that turns into a write fails at once, without waiting, when
        another writer committed meanwhile. What a failed flush held is kept for the
        next one."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        self._local.flushing = True
        try:
            with engine.begin() as connection:
                for shape, aggregate in pending.items():
                    _merge(connection, self.host, shape, aggregate)
        except Exception:
            self._keep(pending)
            raise
        finally:
            self._local.flushing = False
        return len(pending)

    def _keep(self, unwritten: dict[str, _Aggregate]) -> None:
        with self._lock:
            for shape, aggregate in unwritten.items():
                since = self._pending.get(shape)
                if since is not None:  # captured again meanwhile
                    aggregate.count += since.count
                    aggregate.total += since.total
                    aggregate.maximum = max(aggregate.maximum, since.maximum)
                    aggregate.last_seen = max(aggregate.last_seen, since.last_seen)
                self._pending[shape] = aggregate


def _merge(connection: Any, host: str, shape: str, aggregate: _Aggregate) -> None:
    key = hashlib.sha256(shape.encode()).hexdigest()
    first = datetime.fromtimestamp(aggregate.first_seen, UTC)
    last = datetime.fromtimestamp(aggregate.last_seen, UTC)
    row = (
        connection.execute(
            select(slow_queries).where(
                slow_queries.c.host == host, slow_queries.c.shape_hash == key
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        connection.execute(
            _dialect_insert(connection.dialect.name)(slow_queries)
            .values(
                host=host,
                shape_hash=key,
                shape=shape,
                count=aggregate.count,
                total_seconds=aggregate.total,
                max_seconds=aggregate.maximum,
                first_seen=first,
                last_seen=last,
            )
            .on_conflict_do_nothing()
        )
        return
    connection.execute(
        update(slow_queries)
        .where(slow_queries.c.host == host, slow_queries.c.shape_hash == key)
        .values(
            count=row["count"] + aggregate.count,
            total_seconds=row["total_seconds"] + aggregate.total,
            max_seconds=max(row["max_seconds"], aggregate.maximum),
            last_seen=last,
        )
    )


def _dialect_insert(dialect_name: str) -> Any:
    """The dialect's INSERT (with ON CONFLICT). Imported on use: loading the PostgreSQL
    dialect at start costs a SQLite daemon about 2 MiB of RSS and 40 ms."""
    if dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert
