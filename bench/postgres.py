"""The metrics ingest and baseline benchmarks on PostgreSQL beside SQLite, in one run.

A private PostgreSQL server (Debian's binaries, tests/postgres_server.py: free port,
own socket directory, fsync off like the tests) is started for the run. Each figure is
measured on both backends with the same rows, and the PostgreSQL figure is shown with
the SQLite one as its peer, so the ratio column reads "PostgreSQL / SQLite"; a second
line compares PostgreSQL against its own floor (COPY for ingest, one SQL AVG + SUM(x*x)
pass for the baseline). Without the PostgreSQL binaries the benchmark is skipped with
a note (`apt-get install postgresql`).

- Ingest: samples/s through `write_samples` into a migrated store.
- Baseline: `compute_stats` (mean, stddev, p50/p95/p99) of 50 metrics over a window of
  10-second samples at the collector's precision, read from sealed blocks, after
  ANALYZE; the floor is one SQL pass over the same rows uncompressed (plain layout).
- Size: bytes a raw sample takes in PostgreSQL's blocks table (with its TOAST and key
  index) beside the plain samples table with its index.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.harness import Context, Floor, Result, Target, median, spread, stage
from bench.metrics import DAY, SERIES, T0, _fill_week, _ingest_batch, _metric_values
from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store import baselines as baseline_store
from hostkeeper.adapters.store.blocks import RAW_LAYOUT
from hostkeeper.adapters.store.metrics import seal_due, write_samples
from hostkeeper.adapters.store.migrate import migrate
from hostkeeper.adapters.store.schema import series
from hostkeeper.core.metrics import Sample

NAME = "postgres"
SUMMARY = "metrics ingest and baseline on PostgreSQL beside SQLite (ratios PG / SQLite)"
METRICS = 50
FLOOR_SQL = (
    "SELECT series_id, count(*), avg(value), sum(value * value) FROM samples "
    "WHERE series_id IN (SELECT id FROM series WHERE host = %s) AND ts >= %s AND ts < %s "
    "GROUP BY series_id"
)


@contextlib.contextmanager
def _server(context: Context) -> Iterator[Any]:
    from tests.postgres_server import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        yield None
        return
    server = PostgresServer(bindir)
    with stage(f"starting PostgreSQL from {bindir}"):
        server.start()
    try:
        yield server
    finally:
        server.stop()


def _migrated(url: str, directory: Path) -> Store:
    directory.mkdir(parents=True, exist_ok=True)
    store = open_store(url, host="bench")
    migrate(store, directory / "migrate.lock")
    return store


def _sqlite(directory: Path, name: str) -> Store:
    return _migrated(f"sqlite:///{directory / name}", directory)


def _libpq(url: str) -> str:
    """psycopg's connection string for a postgresql+psycopg:// SQLAlchemy URL."""
    rest = url.split("://", 1)[1]
    user_host, database = rest.split("/", 1)
    user, hostport = user_host.split("@", 1)
    host, port = hostport.split(":", 1)
    return f"host={host} port={port} user={user} dbname={database}"


def _series_ids(store: Store) -> dict[str, int]:
    with store.read() as connection:
        rows = connection.execute(select(series.c.id, series.c.name)).all()
    return {name: id_ for id_, name in rows}


def _timed_ingest(store: Store, batch: list[Sample]) -> float:
    write_samples(store, batch[:SERIES])  # the series exist, as for a running collector
    started = time.perf_counter()
    write_samples(store, batch[SERIES:])
    return time.perf_counter() - started


def _copy_rows(url: str, rows: Any) -> float:
    import psycopg

    with psycopg.connect(_libpq(url)) as connection:
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY samples (series_id, ts, value) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        connection.commit()
        return time.perf_counter() - started


def _ingest(context: Context, server: Any) -> list[Result]:
    count = 100_000 if context.quick else 500_000
    runs = context.repeat(full=3, quick=1)
    batch = _ingest_batch(count)
    times: dict[str, list[float]] = {"sqlite": [], "postgres": [], "copy": []}
    for run in range(runs):
        with stage(f"ingest {count:,} samples on SQLite and PostgreSQL, run {run + 1}/{runs}"):
            lite = _sqlite(context.work_dir / f"pg-ingest-sqlite-{run}", "ingest.db")
            times["sqlite"].append(_timed_ingest(lite, batch))
            lite.dispose()
            url = server.new_database()
            pg = _migrated(url, context.work_dir / f"pg-ingest-{run}")
            times["postgres"].append(_timed_ingest(pg, batch))
            pg.dispose()
            url = server.new_database()
            floor_store = _migrated(url, context.work_dir / f"pg-copy-{run}")
            write_samples(floor_store, batch[:SERIES])
            ids = _series_ids(floor_store)
            floor_store.dispose()
            rows = [(ids[s.metric], s.ts, s.value) for s in batch[SERIES:]]
            times["copy"].append(_copy_rows(url, rows))
    rate = {key: count / median(values) for key, values in times.items()}
    detail = {key: spread(values) for key, values in times.items()}
    return [
        Result(
            NAME,
            f"ingest {count:,} samples, write_samples, PostgreSQL vs SQLite",
            rate["postgres"],
            "rows/s",
            Floor(round(rate["sqlite"]), "rows/s", "write_samples on SQLite, same run"),
            None,
            detail,
        ),
        Result(
            NAME,
            f"ingest {count:,} samples, write_samples, PostgreSQL vs COPY",
            rate["postgres"],
            "rows/s",
            Floor(round(rate["copy"]), "rows/s", "psycopg COPY into the same schema"),
            None,
            detail,
        ),
    ]


def _fill_postgres(store: Store, url: str, days: float) -> list[str]:
    """The same rows bench.metrics writes into SQLite (same seed), by COPY, then ANALYZE."""
    import psycopg

    count = int(days * DAY / 10)
    names = [f"bench.baseline_{index:02d}" for index in range(METRICS)]
    write_samples(store, [Sample(name, T0, 0.0) for name in names])
    ids = _series_ids(store)
    rng = random.Random(5)
    with psycopg.connect(_libpq(url)) as connection:
        connection.execute("DELETE FROM samples")
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY samples (series_id, ts, value) FROM STDIN") as copy,
        ):
            for index, name in enumerate(names):
                for step, value in enumerate(_metric_values(index, count, rng, False)):
                    copy.write_row((ids[name], T0 + step * 10.0, value))
        connection.commit()
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE samples")
    return names


def _pg_floor(url: str, end: float) -> float:
    import psycopg

    with psycopg.connect(_libpq(url)) as connection:
        started = time.perf_counter()
        rows = connection.execute(FLOOR_SQL, ("bench", T0, end)).fetchall()
        elapsed = time.perf_counter() - started
    assert rows, "the floor query found no rows"
    return elapsed


def _relation_bytes(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(f"VACUUM ANALYZE {table}")  # literal table names only
        row = connection.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()
    assert row is not None
    return int(row[0])


def _baseline(context: Context, server: Any) -> list[Result]:
    days = 1.0 if context.quick else 7.0
    runs = context.repeat(full=3, quick=1)
    rows = METRICS * int(days * DAY / 10)
    lite = _sqlite(context.work_dir / "pg-baseline-sqlite", "baseline.db")
    plain_url = server.new_database()
    plain = _migrated(plain_url, context.work_dir / "pg-baseline-plain")
    url = server.new_database()
    pg = _migrated(url, context.work_dir / "pg-baseline")
    with stage(f"baseline: writing {rows / 1e6:.1f} M rows into SQLite and PostgreSQL"):
        names, end = _fill_week(lite, METRICS, days, False)
        _fill_postgres(plain, plain_url, days)
        _fill_postgres(pg, url, days)
    with stage("baseline: sealing the plain rows into blocks on both backends"):
        seal_due(lite, end + 2 * RAW_LAYOUT.window)
        started = time.perf_counter()
        sealed, _ = seal_due(pg, end + 2 * RAW_LAYOUT.window)
        seal_seconds = time.perf_counter() - started
    assert sealed == rows, (sealed, rows)
    plain_bytes = _relation_bytes(plain_url, "samples") / rows
    block_bytes = _relation_bytes(url, "metric_blocks") / rows
    start_at = datetime.fromtimestamp(T0, UTC)
    end_at = datetime.fromtimestamp(end, UTC)
    times: dict[str, list[float]] = {"sqlite": [], "postgres": [], "floor": []}
    for run in range(runs):
        with stage(f"baseline on SQLite and PostgreSQL, run {run + 1}/{runs}"):
            for key, store in (("sqlite", lite), ("postgres", pg)):
                started = time.perf_counter()
                stats = baseline_store.compute_stats(store, names, start_at, end_at)
                times[key].append(time.perf_counter() - started)
                assert len(stats) == METRICS
            times["floor"].append(_pg_floor(plain_url, end))
    same = baseline_store.compute_stats(lite, names[:1], start_at, end_at)[names[0]].as_dict()
    other = baseline_store.compute_stats(pg, names[:1], start_at, end_at)[names[0]].as_dict()
    lite.dispose()
    plain.dispose()
    pg.dispose()
    if same != other:
        context.note(f"postgres: baseline of {names[0]} differs: SQLite {same}, PG {other}")
    detail = {
        "rows": rows,
        "seal_seconds": round(seal_seconds, 2),
        "plain_bytes": round(plain_bytes, 2),
        "block_bytes": round(block_bytes, 2),
        **{key: spread(values) for key, values in times.items()},
    }
    figure = f"baseline update, {METRICS} metrics x {days:g} d ({rows / 1e6:.1f} M rows)"
    return [
        Result(
            NAME,
            f"{figure}, PostgreSQL vs SQLite",
            median(times["postgres"]),
            "s",
            Floor(round(median(times["sqlite"]), 4), "s", "compute_stats on SQLite, same rows"),
            None,
            detail,
        ),
        Result(
            NAME,
            f"{figure}, PostgreSQL vs one SQL pass",
            median(times["postgres"]),
            "s",
            Floor(round(median(times["floor"]), 4), "s", "one SQL AVG + SUM(x*x) pass, plain rows"),
            Target("<", round(3 * median(times["floor"]), 4), "s"),
            detail,
        ),
        Result(
            NAME,
            f"bytes a raw sample on PostgreSQL, blocks table, {rows / 1e6:.1f} M rows",
            block_bytes,
            "B",
            Floor(round(plain_bytes, 1), "B", "the plain samples table with its index"),
            Target("<=", 4.0, "B"),
            detail,
        ),
        Result(
            NAME,
            f"sealing plain rows on PostgreSQL, {rows / 1e6:.1f} M rows",
            rows / seal_seconds,
            "rows/s",
            None,
            None,
            detail,
        ),
    ]


def run(context: Context) -> list[Result]:
    with _server(context) as server:
        if server is None:
            context.note(
                "postgres: skipped: no PostgreSQL binaries under /usr/lib/postgresql/*/bin "
                "(apt-get install postgresql)"
            )
            return []
        return [*_ingest(context, server), *_baseline(context, server)]
