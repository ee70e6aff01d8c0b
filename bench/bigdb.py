"""A large hostkeeper database (default ~1 GB), generated once and cached.

The file is a real, migrated hostkeeper database (the daemon itself creates it, so it
is at the schema revision the code expects), plus one extra table of filler rows
written with raw sqlite3 `executemany` in a single transaction without a journal. It
is cached under the cache directory and rebuilt only when it is missing, smaller than
asked, or at another schema revision than a freshly migrated database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from bench.harness import Context, progress, stage
from bench.process import running_daemon
from bench.site import Site

# The filler table; literal statements, no string building.
CREATE_FILLER = (
    "CREATE TABLE IF NOT EXISTS bench_filler (id INTEGER PRIMARY KEY, ts REAL NOT NULL, "
    "metric TEXT NOT NULL, value REAL NOT NULL, payload BLOB NOT NULL)"
)
INSERT_FILLER = "INSERT INTO bench_filler (ts, metric, value, payload) VALUES (?, ?, ?, ?)"
ROW_PAYLOAD = 960  # bytes: four rows to a 4 KiB page
BATCH = 50_000
_METRICS = ("cpu.percent", "memory.percent", "load.5m", "disk./.used_percent", "net.rx_bytes")


def schema_revision(database: Path) -> str | None:
    if not database.exists():
        return None
    uri = f"file:{database}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def size_mb(database: Path) -> float:
    return database.stat().st_size / 1e6 if database.exists() else 0.0


def _remove(database: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def _rows(count: int, start_ts: float) -> Iterator[tuple[float, str, float, bytes]]:
    payloads = [os.urandom(ROW_PAYLOAD) for _ in range(64)]
    for index in range(count):
        yield (
            start_ts + index * 10.0,
            _METRICS[index % len(_METRICS)],
            (index * 7919) % 10_000 / 100.0,
            payloads[index % len(payloads)],
        )


def fill(database: Path, target_mb: int) -> int:
    """Append filler rows until the file reaches `target_mb`; the number of rows."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")
        connection.execute(CREATE_FILLER)
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        rows = 0
        connection.execute("BEGIN")
        while connection.execute("PRAGMA page_count").fetchone()[0] * page_size < target_mb * 1e6:
            connection.executemany(INSERT_FILLER, _rows(BATCH, 1.7e9 + rows * 10.0))
            rows += BATCH
        connection.execute("COMMIT")
        # The daemon's own setting; WAL is persistent in the file.
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    return rows


def forget_schedules(database: Path) -> None:
    """Let the next start see every schedule as new, so it starts no catch-up runs.

    The cached file outlives the invocation that made it: a start days later would
    otherwise catch up the daily and weekly procedures (and wait for them on stop),
    which is not what this benchmark measures.
    """
    with contextlib.closing(sqlite3.connect(database)) as connection:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'procedure_state'"
        ).fetchone()
        if found:
            connection.execute("DELETE FROM procedure_state")
            connection.commit()


def ensure(context: Context, revision: str | None) -> Path:
    """The cached large database at `revision`, generating it when needed."""
    target_mb = context.database_mb
    database = context.cache_dir / f"hostkeeper-{target_mb}MB.db"
    if (
        database.exists()
        and schema_revision(database) == revision
        and size_mb(database) >= target_mb * 0.95
    ):
        progress(f"using the cached {size_mb(database):.0f} MB database {database}")
        return database
    context.cache_dir.mkdir(parents=True, exist_ok=True)
    _remove(database)
    partial = database.with_name(database.name + ".partial")
    _remove(partial)
    with stage(f"generating a {target_mb} MB hostkeeper database (once; cached)"):
        site = Site.create(context.work_dir, context.reference_config, database=partial)
        with running_daemon(site, label="migrate") as daemon:
            daemon.wait_ready()
        started = time.monotonic()
        rows = fill(partial, target_mb)
        seconds = time.monotonic() - started
        progress(
            f"{rows:,} filler rows, {size_mb(partial):.0f} MB in {seconds:.1f} s "
            f"({rows / seconds:,.0f} rows/s, {size_mb(partial) / seconds:.0f} MB/s)"
        )
    partial.rename(database)
    return database
