"""Metric samples in the store: batched writes, rollups, retention and reads.

Samples refer to their metric through a `series` row per (host, name); the ids are
cached per store. Each series keeps its open window as plain `samples` rows and older
windows as sealed blocks (blocks.py, about two bytes a sample); every reader here
merges both. Rollups are computed from what the readers return, 5-minute buckets from
raw samples and hourly ones from 5-minute rollups, each pass recomputing its newest
bucket, which may have been partial, and are sealed the same way.

Kept whole: samples, rollups and baselines share the series ids and the bucketing that
the contract tests pin on SQLite and PostgreSQL; the block format is blocks.py.
"""

from __future__ import annotations

import math
import operator
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Select, delete, insert, select, text
from sqlalchemy.exc import DBAPIError

from hostkeeper.adapters.store.blocks import (
    LAYOUTS,
    RAW_LAYOUT,
    Layout,
    Row,
    Span,
    delete_span,
    latest_row,
    newest_time,
    oldest_plain,
    oldest_time,
    read_rows,
    read_values,
    seal_plain,
)
from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import disk_usage, rollups, samples, series
from hostkeeper.core.metrics import (
    FIVE_MINUTES,
    HOUR,
    RAW,
    RetentionCutoffs,
    Sample,
    retention_cutoffs,
    rollup_range,
)

# -- series ids ----------------------------------------------------------------------------


class _SeriesCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: dict[tuple[str, str], int] = {}  # (host, name) -> id
        # series id -> window start before which its plain rows were sealed (a hint:
        # housekeeping seals whatever another process left)
        self.sealed: dict[int, float] = {}
        # PostgreSQL refuses COPY into a table whose row-level security applies to the
        # role (a host's role in a least-privilege fleet, docs/fleet.md); None: not asked.
        self.copy_allowed: bool | None = None


_caches: weakref.WeakKeyDictionary[Store, _SeriesCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache(store: Store) -> _SeriesCache:
    with _caches_lock:
        cache = _caches.get(store)
        if cache is None:
            cache = _caches[store] = _SeriesCache()
        return cache


def forget_series_ids(store: Store) -> None:
    """Drop cached ids (after the database was replaced underneath, e.g. a restore)."""
    with _caches_lock:
        _caches.pop(store, None)


def _series_ids(
    store: Store, connection: Connection, names: Iterable[str], host: str
) -> dict[str, int]:
    """Ids of the named series of `host`, creating missing ones (inside a write)."""
    cache = _cache(store)
    wanted = set(names)
    with cache.lock:
        found = {name: cache.ids[(host, name)] for name in wanted if (host, name) in cache.ids}
    missing = sorted(wanted - found.keys())
    if missing:
        _insert_missing_series(connection, host, missing)
        rows = connection.execute(
            select(series.c.name, series.c.id).where(
                series.c.host == host, series.c.name.in_(missing)
            )
        ).all()
        with cache.lock:
            for name, series_id in rows:
                cache.ids[(host, name)] = series_id
                found[name] = series_id
    return found


def _insert_missing_series(connection: Connection, host: str, names: list[str]) -> None:
    rows = [{"host": host, "name": name} for name in names]
    dialect = connection.dialect.name
    # Imported here: the PostgreSQL dialect module alone costs ~25 ms at start-up.
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        connection.execute(sqlite.insert(series).on_conflict_do_nothing(), rows)
    elif dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        connection.execute(postgresql.insert(series).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - the store supports SQLite and PostgreSQL only
        raise RuntimeError(f"unsupported database {dialect}")


def _lookup_series(connection: Connection, host: str, names: Iterable[str]) -> dict[str, int]:
    """Ids of existing series (reads only; unknown names are absent)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = connection.execute(
        select(series.c.name, series.c.id).where(series.c.host == host, series.c.name.in_(wanted))
    ).all()
    return {name: series_id for name, series_id in rows}


def _host_series(host: str) -> Select[tuple[int]]:
    return select(series.c.id).where(series.c.host == host)


# -- writing -------------------------------------------------------------------------------

_SAMPLE_COLUMNS = ("series_id", "ts", "value")
_compiled_inserts: dict[str, tuple[str, bool]] = {}


def _sample_insert(connection: Connection) -> tuple[str, bool]:
    """SQL of `insert(samples)` for this dialect, and whether it takes positional rows."""
    key = f"{connection.dialect.name}:{connection.dialect.paramstyle}"
    compiled = _compiled_inserts.get(key)
    if compiled is None:
        statement = insert(samples).compile(
            dialect=connection.dialect, column_keys=list(_SAMPLE_COLUMNS)
        )
        if statement.positional and tuple(statement.positiontup or ()) != _SAMPLE_COLUMNS:
            raise RuntimeError(f"unexpected parameter order {statement.positiontup}")
        compiled = _compiled_inserts[key] = (str(statement), bool(statement.positional))
    return compiled


def write_samples(store: Store, batch: Sequence[Sample], host: str | None = None) -> int:
    """Store a batch of samples in one transaction; returns the count.

    Each series' samples in its newest window go to the plain `samples` rows (the open
    block; one executemany, COPY on PostgreSQL); samples of older windows, with the
    plain rows still there, are sealed into blocks at once. So a collection round is one
    small INSERT, and a large batch (a catch-up, an import) is mostly encoded straight
    into blocks. The statement is Core's `insert(samples)` compiled once per dialect
    and run with row tuples: dicts through `execute(insert(samples), rows)` cost a
    parameter-processing step per row (about 0.35x of sqlite3.executemany).
    """
    if not batch:
        return 0
    owner = host or store.host
    cache = _cache(store)
    sealed_now: dict[int, float] = {}
    with store.write() as connection:
        ids = _series_ids(store, connection, {sample.metric for sample in batch}, owner)
        by_series: dict[int, list[tuple[float, float]]] = {}
        for sample in batch:
            by_series.setdefault(ids[sample.metric], []).append((sample.ts, sample.value))
        rows: list[tuple[int, float, float]] = []
        for series_id, pairs in by_series.items():
            open_window = RAW_LAYOUT.window_of(max(pair[0] for pair in pairs))
            older = [pair for pair in pairs if pair[0] < open_window]
            with cache.lock:
                sealed_before = cache.sealed.get(series_id)
            if older or sealed_before is None or sealed_before < open_window:
                seal_plain(connection, RAW_LAYOUT, series_id, open_window, older)
                sealed_now[series_id] = open_window
                pairs = [pair for pair in pairs if pair[0] >= open_window] if older else pairs
            rows.extend((series_id, ts, value) for ts, value in pairs)
        _insert_plain(store, connection, rows)
    with cache.lock:
        cache.sealed.update(sealed_now)
    return len(batch)


def _insert_plain(
    store: Store, connection: Connection, rows: list[tuple[int, float, float]]
) -> None:
    if not rows:
        return
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        cache = _cache(store)
        if cache.copy_allowed is None:
            active = connection.execute(text("SELECT row_security_active('samples')"))
            cache.copy_allowed = not active.scalar()
        if cache.copy_allowed:
            _copy_samples(connection, rows)
            return
    sql, positional = _sample_insert(connection)
    if positional:
        connection.exec_driver_sql(sql, rows)
    else:
        named = [{"series_id": row[0], "ts": row[1], "value": row[2]} for row in rows]
        connection.exec_driver_sql(sql, named)


def _copy_samples(connection: Connection, rows: list[tuple[int, float, float]]) -> None:
    """PostgreSQL: COPY FROM STDIN in the transaction of `connection`, about three times
    executemany's rate (bench postgres); binary format, so floats round-trip exactly."""
    driver = connection.connection.driver_connection
    assert driver is not None
    statement = "COPY samples (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
    base_error = connection.dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types(["int4", "float8", "float8"])
            for row in rows:
                if row[2] is None:  # as the NOT NULL column would: the batch stores nothing
                    raise ValueError("a sample without a value")
                copy.write_row(row)
    except base_error as error:
        # The driver's own error, raised past SQLAlchemy: wrapped as SQLAlchemy wraps
        # every other statement's, so a server that went away reads as OperationalError.
        raise DBAPIError.instance(statement, None, error, base_error) from error


# -- rollups -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollupProgress:
    """Ends of the rolled-up spans (epoch seconds), None before the first rollup."""

    five_minute_until: float | None
    hourly_until: float | None


def _newest_bucket(connection: Connection, host: str, resolution: int) -> float | None:
    return newest_time(connection, LAYOUTS[resolution], _host_series(host))


def _oldest_sample(connection: Connection, host: str) -> float | None:
    return oldest_time(connection, RAW_LAYOUT, _host_series(host))


def _oldest_rollup(connection: Connection, host: str, resolution: int) -> float | None:
    return oldest_time(connection, LAYOUTS[resolution], _host_series(host))


def rollup_progress(store: Store, host: str | None = None) -> RollupProgress:
    owner = host or store.host
    with store.read() as connection:
        return _progress(connection, owner)


def _progress(connection: Connection, host: str) -> RollupProgress:
    five = _newest_bucket(connection, host, FIVE_MINUTES)
    hourly = _newest_bucket(connection, host, HOUR)
    return RollupProgress(
        None if five is None else five + FIVE_MINUTES,
        None if hourly is None else hourly + HOUR,
    )


# A catch-up after a long outage is split into transactions of at most this much time
# (about 100,000 rows for 50 metrics at 10 s), so other writers wait seconds, not minutes.
CHUNK_SECONDS = {RAW: 6 * HOUR, FIVE_MINUTES: 7 * 86400, HOUR: 90 * 86400}


def _chunks(start: float, end: float, size: float) -> Iterator[tuple[float, float]]:
    while start < end:
        yield start, min(start + size, end)
        start += size


def _host_ids(connection: Connection, host: str) -> list[int]:
    query = _host_series(host).order_by(series.c.id)
    return [int(row.id) for row in connection.execute(query)]


def roll_up(store: Store, now: float, host: str | None = None) -> dict[int, int]:
    """Compute the 5-minute and hourly rollups that are due; rows written per resolution.

    Idempotent: each pass deletes and recomputes its range, so the daemon's collector
    and a `collect_metrics` step may both run it.
    """
    owner = host or store.host
    written = {FIVE_MINUTES: 0, HOUR: 0}
    with store.read() as connection:
        five = rollup_range(
            _newest_bucket(connection, owner, FIVE_MINUTES),
            _oldest_sample(connection, owner),
            now,
            FIVE_MINUTES,
        )
    if five is not None:
        # The start is bucket-aligned and the chunk a whole number of buckets.
        for start, end in _chunks(five.start, five.end, CHUNK_SECONDS[RAW]):
            with store.write() as connection:
                written[FIVE_MINUTES] += _recompute(connection, owner, FIVE_MINUTES, start, end)
    with store.read() as connection:
        five_until = _progress(connection, owner).five_minute_until
        if five_until is None:
            return written
        hourly = rollup_range(
            _newest_bucket(connection, owner, HOUR),
            _oldest_rollup(connection, owner, FIVE_MINUTES),
            min(now, five_until),
            HOUR,
        )
    if hourly is not None:
        for start, end in _chunks(hourly.start, hourly.end, CHUNK_SECONDS[FIVE_MINUTES]):
            with store.write() as connection:
                written[HOUR] += _recompute(connection, owner, HOUR, start, end)
    return written


def _five_minute_buckets(rows: list[Row]) -> list[Row]:
    """(bucket, min, mean, max, count) of raw (ts, value) rows in time order."""
    buckets: list[Row] = []
    for bucket, group in groupby(rows, key=lambda row: math.floor(row[0] / FIVE_MINUTES)):
        values = [row[1] for row in group]
        buckets.append(
            (
                float(bucket * FIVE_MINUTES),
                min(values),
                math.fsum(values) / len(values),
                max(values),
                float(len(values)),
            )
        )
    return buckets


def _hourly_buckets(rows: list[Row]) -> list[Row]:
    """Hourly (bucket, min, mean, max, count) of 5-minute rollup rows in time order."""
    buckets: list[Row] = []
    for bucket, group in groupby(rows, key=lambda row: math.floor(row[0] / HOUR)):
        five = list(group)
        count = math.fsum(row[4] for row in five)
        buckets.append(
            (
                float(bucket * HOUR),
                min(row[1] for row in five),
                math.fsum(row[2] * row[4] for row in five) / count,
                max(row[3] for row in five),
                count,
            )
        )
    return buckets


def _recompute(connection: Connection, host: str, resolution: int, start: float, end: float) -> int:
    span = Span(start, end)
    target = LAYOUTS[resolution]
    source = RAW_LAYOUT if resolution == FIVE_MINUTES else LAYOUTS[FIVE_MINUTES]
    compute = _five_minute_buckets if resolution == FIVE_MINUTES else _hourly_buckets
    written = 0
    for series_id in _host_ids(connection, host):
        delete_span(connection, target, series_id, span)
        buckets = compute(read_rows(connection, source, series_id, span))
        if buckets:
            connection.execute(
                insert(rollups), [target.plain_row(series_id, bucket) for bucket in buckets]
            )
        written += len(buckets)
    return written


def seal_due(
    store: Store,
    now: float,
    host: str | None = None,
    batch_rows: int = 100_000,
    budget_seconds: float | None = None,
) -> tuple[int, bool]:
    """Seal plain rows of complete windows into blocks, at most about `batch_rows` plain
    rows a transaction; (rows sealed, whether some are left because the time budget
    ran out).

    Raw windows are complete once `now` is past them, rollup windows once the rollups
    have passed them. This is also how the rows of a store made before blocks existed
    are converted: online (readers see rows wherever they are), resumable (each
    transaction leaves a consistent store) and, with `budget_seconds`, in slices that
    leave the caller's other work room.
    """
    owner = host or store.host
    started = time.monotonic()
    sealed = 0
    due: list[tuple[Layout, int, float]] = []
    with store.read() as connection:
        progress = _progress(connection, owner)
        reached = {
            RAW: now,
            FIVE_MINUTES: progress.five_minute_until,
            HOUR: progress.hourly_until,
        }
        for series_id in _host_ids(connection, owner):
            for resolution, until in reached.items():
                if until is None:
                    continue
                layout = LAYOUTS[resolution]
                before = layout.window_of(min(until, now))
                if oldest_plain(connection, layout, series_id, before) is not None:
                    due.append((layout, series_id, before))
    for layout, series_id, before in due:
        remaining = True
        while remaining:
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                return sealed, True
            with store.write() as connection:
                count, remaining = seal_plain(
                    connection, layout, series_id, before, limit=batch_rows
                )
            sealed += count
    return sealed, False


def expire(store: Store, cutoffs: RetentionCutoffs, host: str | None = None) -> dict[int, int]:
    """Delete rows older than the cut-offs; rows deleted per resolution (0 = raw)."""
    owner = host or store.host
    deleted = {RAW: 0, FIVE_MINUTES: 0, HOUR: 0}
    with store.read() as connection:
        oldest = {
            RAW: _oldest_sample(connection, owner),
            FIVE_MINUTES: _oldest_rollup(connection, owner, FIVE_MINUTES),
            HOUR: _oldest_rollup(connection, owner, HOUR),
        }
        ids = _host_ids(connection, owner)
    targets = ((RAW, cutoffs.raw), (FIVE_MINUTES, cutoffs.five_minute), (HOUR, cutoffs.hourly))
    for resolution, cutoff in targets:
        first = oldest[resolution]
        if cutoff is None or first is None or first >= cutoff:
            continue
        for _, end in _chunks(first, cutoff, CHUNK_SECONDS[resolution]):
            with store.write() as connection:
                for series_id in ids:
                    deleted[resolution] += delete_span(
                        connection, LAYOUTS[resolution], series_id, Span(None, end)
                    )
    return deleted


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One stored value: a raw sample, or a rollup bucket (`at` is the bucket start)."""

    at: datetime
    value: float  # the sample, or the bucket's mean
    min: float | None = None
    max: float | None = None
    count: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"at": self.at.isoformat(), "value": self.value}
        if self.count is not None:
            data.update(min=self.min, max=self.max, count=self.count)
        return data


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def metric_names(store: Store, host: str | None = None) -> list[str]:
    """Names of every metric recorded for `host` (default: this host), sorted."""
    owner = host or store.host
    with store.read() as connection:
        return sorted(
            connection.execute(select(series.c.name).where(series.c.host == owner)).scalars()
        )


def latest_value(store: Store, metric: str, host: str | None = None) -> Point | None:
    """The newest raw sample of `metric`, or None when it was never recorded."""
    return latest_values(store, [metric], host).get(metric)


def latest_values(
    store: Store, metrics: Iterable[str] | None = None, host: str | None = None
) -> dict[str, Point]:
    """The newest raw sample of each metric (all of the host's metrics by default)."""
    owner = host or store.host
    found: dict[str, Point] = {}
    with store.read() as connection:
        if metrics is None:
            rows = connection.execute(
                select(series.c.name, series.c.id).where(series.c.host == owner)
            ).all()
            ids = {name: series_id for name, series_id in rows}
        else:
            ids = _lookup_series(connection, owner, metrics)
        for name, series_id in sorted(ids.items()):
            row = latest_row(connection, RAW_LAYOUT, series_id)
            if row is not None:
                found[name] = Point(_when(row[0]), row[1])
    return found


def recent_values(
    store: Store,
    metric: str,
    since: datetime,
    until: datetime | None = None,
    host: str | None = None,
) -> list[Point]:
    """Raw samples of `metric` from `since` (inclusive) to `until` (inclusive), oldest first."""
    return points(store, metric, since, until, RAW, host)


def raw_samples(
    store: Store, metric: str, since: float, until: float | None = None, host: str | None = None
) -> list[tuple[float, float]]:
    """Raw samples `(ts, value)` of `metric` with since <= ts <= until, oldest first."""
    owner = host or store.host
    with store.read() as connection:
        series_id = _lookup_series(connection, owner, [metric]).get(metric)
        if series_id is None:
            return []
        rows = read_rows(connection, RAW_LAYOUT, series_id, Span(since, until, True))
    return [(row[0], row[1]) for row in rows]


def points(
    store: Store,
    metric: str,
    since: datetime,
    until: datetime | None = None,
    resolution: int = RAW,
    host: str | None = None,
) -> list[Point]:
    """Stored values of `metric` at `resolution` (RAW, FIVE_MINUTES or HOUR), oldest first."""
    owner = host or store.host
    start = since.timestamp()
    end = None if until is None else until.timestamp()
    if resolution == RAW:
        return [
            Point(_when(ts), value) for ts, value in raw_samples(store, metric, start, end, owner)
        ]
    with store.read() as connection:
        series_id = _lookup_series(connection, owner, [metric]).get(metric)
        if series_id is None:
            return []
        # a bucket that started before `since` but reaches into it counts
        rows = read_rows(
            connection, LAYOUTS[resolution], series_id, Span(start - resolution, end, True)
        )
    return [
        Point(_when(ts), mean, low, high, int(count))
        for ts, low, mean, high, count in rows
        if ts > start - resolution
    ]


def window_values(
    store: Store,
    metrics: Iterable[str],
    start: float,
    end: float,
    host: str | None = None,
) -> Iterator[tuple[str, Iterator[float]]]:
    """Each metric's raw values with start <= ts < end, in time order, metric by metric.

    The hot path of baseline updates: the blocks of the window are decoded column by
    column (values only, where a whole block lies inside), in one read transaction. A
    metric never recorded yields no values.
    """
    owner = host or store.host
    names = list(dict.fromkeys(metrics))
    span = Span(start, end)
    with store.read() as connection:
        ids = _lookup_series(connection, owner, names)
        for name in names:
            series_id = ids.get(name)
            if series_id is None:
                yield name, iter(())
                continue
            yield name, iter(read_values(connection, RAW_LAYOUT, series_id, span))


def linear_sums(
    store: Store, metric: str, start: float, end: float, resolution: int, host: str | None = None
) -> tuple[int, float, float, float, float, float, float]:
    """(n, sum x, sum y, sum x*x, sum x*y, min x, max x) of `metric` over [start, end),
    x = ts - start.

    Over raw samples (RAW) or the means of rollups (a bucket placed at its middle).
    """
    owner = host or store.host
    with store.read() as connection:
        series_id = _lookup_series(connection, owner, [metric]).get(metric)
        if series_id is None:
            return (0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        rows = read_rows(connection, LAYOUTS[resolution], series_id, Span(start, end))
    if not rows:
        return (0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    if resolution == RAW:
        xs = [row[0] - start for row in rows]
        ys = [row[1] for row in rows]
    else:
        xs = [row[0] + resolution / 2 - start for row in rows]
        ys = [row[2] for row in rows]
    return (
        len(rows),
        math.fsum(xs),
        math.fsum(ys),
        math.fsum(map(operator.mul, xs, xs)),
        math.fsum(map(operator.mul, xs, ys)),
        min(xs),
        max(xs),
    )


def oldest_raw_sample(store: Store, host: str | None = None) -> float | None:
    owner = host or store.host
    with store.read() as connection:
        return _oldest_sample(connection, owner)


@dataclass(frozen=True)
class Maintenance:
    """What one rollup-and-retention pass did."""

    rolled_up: dict[int, int]  # resolution -> buckets written
    expired: dict[int, int]  # resolution (0 = raw) -> rows deleted
    sealed: int = 0  # plain rows moved into blocks
    sealing_left: bool = False  # the time budget ran out before every window was sealed

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            "rolled_up": {
                "5m": self.rolled_up.get(FIVE_MINUTES, 0),
                "1h": self.rolled_up.get(HOUR, 0),
            },
            "expired": {
                "raw": self.expired.get(RAW, 0),
                "5m": self.expired.get(FIVE_MINUTES, 0),
                "1h": self.expired.get(HOUR, 0),
            },
            "sealed": {"rows": self.sealed, "left": int(self.sealing_left)},
        }

    def describe(self) -> str:
        return (
            f"{self.rolled_up.get(FIVE_MINUTES, 0)} 5-minute and "
            f"{self.rolled_up.get(HOUR, 0)} hourly buckets rolled up, "
            f"{sum(self.expired.values())} expired rows deleted"
        )


def maintain(
    store: Store,
    now: float,
    raw_seconds: float,
    five_minute_seconds: float,
    hourly_seconds: float,
    expire_rows: bool = True,
    host: str | None = None,
    seal_budget: float | None = None,
) -> Maintenance:
    """Roll up what is due, then (with `expire_rows`) apply `metrics.retention`, then
    seal the complete windows into blocks."""
    rolled = roll_up(store, now, host)
    expired = {RAW: 0, FIVE_MINUTES: 0, HOUR: 0}
    if expire_rows:
        progress = rollup_progress(store, host)
        cutoffs = retention_cutoffs(
            now,
            raw_seconds,
            five_minute_seconds,
            hourly_seconds,
            progress.five_minute_until,
            progress.hourly_until,
        )
        expired = expire(store, cutoffs, host)
    sealed, left = seal_due(store, now, host, budget_seconds=seal_budget)
    return Maintenance(rolled, expired, sealed, left)


# -- directory sizes (resource_report) -----------------------------------------------------


@dataclass(frozen=True)
class SizeRecord:
    path: str
    measured_at: datetime
    size_bytes: int


def record_sizes(
    store: Store, sizes: Mapping[str, int], measured_at: datetime, host: str | None = None
) -> None:
    """Store one measurement per path in `disk_usage`."""
    if not sizes:
        return
    owner = host or store.host
    with store.write() as connection:
        connection.execute(
            insert(disk_usage),
            [
                {"host": owner, "path": path, "measured_at": measured_at, "size_bytes": size}
                for path, size in sizes.items()
            ],
        )


def prune_sizes(store: Store, before: datetime) -> int:
    """Delete this host's `disk_usage` measurements older than `before`; rows deleted."""
    with store.write() as connection:
        result = connection.execute(
            delete(disk_usage).where(
                disk_usage.c.host == store.host, disk_usage.c.measured_at < before
            )
        )
    return int(result.rowcount)


def previous_sizes(
    store: Store, paths: Iterable[str], before: datetime, host: str | None = None
) -> dict[str, SizeRecord]:
    """The newest measurement of each path taken before `before`."""
    owner = host or store.host
    found: dict[str, SizeRecord] = {}
    with store.read() as connection:
        for path in dict.fromkeys(paths):
            row = connection.execute(
                select(disk_usage.c.measured_at, disk_usage.c.size_bytes)
                .where(
                    disk_usage.c.host == owner,
                    disk_usage.c.path == path,
                    disk_usage.c.measured_at < before,
                )
                .order_by(disk_usage.c.measured_at.desc())
                .limit(1)
            ).first()
            if row is not None:
                found[path] = SizeRecord(path, row.measured_at, row.size_bytes)
    return found
