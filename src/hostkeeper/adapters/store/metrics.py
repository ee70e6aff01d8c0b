"""Metric samples in the store: batched writes, rollups, retention and reads.

Samples refer to their metric through a `series` row per (host, name); the ids are
cached per store. A batch of samples is one INSERT statement, built by SQLAlchemy Core
from the `samples` table and executed once with every row (DBAPI executemany). Rollups
are computed in SQL, 5-minute buckets from raw samples and hourly ones from 5-minute
rollups, each pass recomputing its newest bucket, which may have been partial.

Kept whole: samples, rollups and baselines share the series ids and the bucketing that
the contract tests pin on SQLite and PostgreSQL.
"""

from __future__ import annotations

import operator
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    Select,
    and_,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

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
    """Store a batch of samples in one transaction and one executemany (COPY on
    PostgreSQL); returns the count.

    The statement is SQLAlchemy Core's `insert(samples)`, compiled once per dialect and
    executed with every row at once. Passing the rows as dicts through
    `execute(insert(samples), rows)` costs a parameter-processing step per row that
    measured about 0.35x of sqlite3.executemany; row tuples run at the driver's speed.
    """
    if not batch:
        return 0
    owner = host or store.host
    with store.write() as connection:
        ids = _series_ids(store, connection, {sample.metric for sample in batch}, owner)
        if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
            _copy_samples(connection, [(ids[s.metric], s.ts, s.value) for s in batch])
            return len(batch)
        sql, positional = _sample_insert(connection)
        rows: list[Any]
        if positional:
            rows = [(ids[s.metric], s.ts, s.value) for s in batch]
        else:
            rows = [{"series_id": ids[s.metric], "ts": s.ts, "value": s.value} for s in batch]
        connection.exec_driver_sql(sql, rows)
    return len(batch)


def _copy_samples(connection: Connection, rows: list[tuple[int, float, float]]) -> None:
    """PostgreSQL: COPY FROM STDIN in the transaction of `connection`, about three times
    executemany's rate (bench postgres); binary format, so floats round-trip exactly."""
    driver = connection.connection.driver_connection
    assert driver is not None
    statement = "COPY samples (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(["int4", "float8", "float8"])
        for row in rows:
            copy.write_row(row)


# -- rollups -------------------------------------------------------------------------------


def _bucket(column: ColumnElement[float], resolution: int, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":  # epoch times are positive: truncation is floor
        return cast(cast(column / resolution, Integer) * resolution, Float)
    return func.floor(column / resolution) * resolution


@dataclass(frozen=True)
class RollupProgress:
    """Ends of the rolled-up spans (epoch seconds), None before the first rollup."""

    five_minute_until: float | None
    hourly_until: float | None


def _newest_bucket(connection: Connection, host: str, resolution: int) -> float | None:
    # One MIN/MAX-optimized lookup per series on the primary key, instead of one scan
    # over every rollup of the host.
    newest = (
        select(func.max(rollups.c.ts))
        .where(rollups.c.series_id == series.c.id, rollups.c.resolution == resolution)
        .scalar_subquery()
    )
    value = connection.execute(select(func.max(newest)).where(series.c.host == host)).scalar()
    return None if value is None else float(value)


def _oldest_sample(connection: Connection, host: str) -> float | None:
    oldest = select(func.min(samples.c.ts)).where(samples.c.series_id == series.c.id)
    value = connection.execute(
        select(func.min(oldest.scalar_subquery())).where(series.c.host == host)
    ).scalar()
    return None if value is None else float(value)


def _oldest_rollup(connection: Connection, host: str, resolution: int) -> float | None:
    oldest = select(func.min(rollups.c.ts)).where(
        rollups.c.series_id == series.c.id, rollups.c.resolution == resolution
    )
    value = connection.execute(
        select(func.min(oldest.scalar_subquery())).where(series.c.host == host)
    ).scalar()
    return None if value is None else float(value)


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
                written[FIVE_MINUTES] += _recompute(
                    connection, owner, FIVE_MINUTES, start, end, _five_minute_source
                )
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
                written[HOUR] += _recompute(connection, owner, HOUR, start, end, _hourly_source)
    return written


def _five_minute_source(host: str, start: float, end: float, dialect: str) -> Select[Any]:
    return (
        select(
            samples.c.series_id,
            literal(FIVE_MINUTES),
            _bucket(samples.c.ts, FIVE_MINUTES, dialect).label("bucket"),
            func.min(samples.c.value),
            func.avg(samples.c.value),
            func.max(samples.c.value),
            func.count(),
        )
        .where(
            samples.c.series_id.in_(_host_series(host)),
            samples.c.ts >= start,
            samples.c.ts < end,
        )
        .group_by(samples.c.series_id, "bucket")
    )


def _hourly_source(host: str, start: float, end: float, dialect: str) -> Select[Any]:
    source = rollups.alias("five")
    return (
        select(
            source.c.series_id,
            literal(HOUR),
            _bucket(source.c.ts, HOUR, dialect).label("bucket"),
            func.min(source.c.min),
            func.sum(source.c.mean * source.c.count) / func.sum(source.c.count),
            func.max(source.c.max),
            func.sum(source.c.count),
        )
        .where(
            source.c.series_id.in_(_host_series(host)),
            source.c.resolution == FIVE_MINUTES,
            source.c.ts >= start,
            source.c.ts < end,
        )
        .group_by(source.c.series_id, "bucket")
    )


def _recompute(
    connection: Connection,
    host: str,
    resolution: int,
    start: float,
    end: float,
    source: Callable[[str, float, float, str], Select[Any]],
) -> int:
    in_range = and_(
        rollups.c.series_id.in_(_host_series(host)),
        rollups.c.resolution == resolution,
        rollups.c.ts >= start,
        rollups.c.ts < end,
    )
    connection.execute(delete(rollups).where(in_range))
    connection.execute(
        insert(rollups).from_select(
            ["series_id", "resolution", "ts", "min", "mean", "max", "count"],
            source(host, start, end, connection.dialect.name),
        )
    )
    # Counted, not taken from rowcount: drivers disagree on it for INSERT ... SELECT.
    return int(connection.execute(select(func.count()).where(in_range)).scalar() or 0)


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
    targets = ((RAW, cutoffs.raw), (FIVE_MINUTES, cutoffs.five_minute), (HOUR, cutoffs.hourly))
    for resolution, cutoff in targets:
        first = oldest[resolution]
        if cutoff is None or first is None or first >= cutoff:
            continue
        for _, end in _chunks(first, cutoff, CHUNK_SECONDS[resolution]):
            with store.write() as connection:
                if resolution == RAW:
                    statement = delete(samples).where(
                        samples.c.series_id.in_(_host_series(owner)), samples.c.ts < end
                    )
                else:
                    statement = delete(rollups).where(
                        rollups.c.series_id.in_(_host_series(owner)),
                        rollups.c.resolution == resolution,
                        rollups.c.ts < end,
                    )
                deleted[resolution] += _rowcount(connection.execute(statement))
    return deleted


def _rowcount(result: Any) -> int:
    return max(int(result.rowcount or 0), 0)


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
            row = connection.execute(
                select(samples.c.ts, samples.c.value)
                .where(samples.c.series_id == series_id)
                .order_by(samples.c.ts.desc())
                .limit(1)
            ).first()
            if row is not None:
                found[name] = Point(_when(row.ts), row.value)
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
    with store.read() as connection:
        series_id = _lookup_series(connection, owner, [metric]).get(metric)
        if series_id is None:
            return []
        if resolution == RAW:
            query: Select[Any] = select(samples.c.ts, samples.c.value).where(
                samples.c.series_id == series_id, samples.c.ts >= start
            )
            if until is not None:
                query = query.where(samples.c.ts <= until.timestamp())
            rows = connection.execute(query.order_by(samples.c.ts)).all()
            return [Point(_when(ts), value) for ts, value in rows]
        rollup_query: Select[Any] = select(
            rollups.c.ts, rollups.c.mean, rollups.c.min, rollups.c.max, rollups.c.count
        ).where(
            rollups.c.series_id == series_id,
            rollups.c.resolution == resolution,
            # a bucket that started before `since` but reaches into it counts
            rollups.c.ts > start - resolution,
        )
        if until is not None:
            rollup_query = rollup_query.where(rollups.c.ts <= until.timestamp())
        rows = connection.execute(rollup_query.order_by(rollups.c.ts)).all()
        return [Point(_when(ts), mean, low, high, count) for ts, mean, low, high, count in rows]


_VALUES_OF_SERIES = (
    "SELECT value FROM samples WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts"
)


def window_values(
    store: Store,
    metrics: Iterable[str],
    start: float,
    end: float,
    host: str | None = None,
) -> Iterator[tuple[str, Iterator[float]]]:
    """Each metric's raw values with start <= ts < end, in time order, metric by metric.

    The hot path of baseline updates: millions of rows are read through the covering
    (series_id, ts, value) index, in one read transaction, straight from the driver's
    cursor, without SQLAlchemy building a row object for each. Each metric's values
    stream from the cursor: consume them before asking for the next metric. A metric
    never recorded yields no values.
    """
    owner = host or store.host
    names = list(dict.fromkeys(metrics))
    with store.read() as connection:
        ids = _lookup_series(connection, owner, names)
        placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        sql = _VALUES_OF_SERIES.replace("?", placeholder)
        cursor = connection.connection.cursor()
        try:
            for name in names:
                series_id = ids.get(name)
                if series_id is None:
                    yield name, iter(())
                    continue
                cursor.execute(sql, (series_id, start, end))
                yield name, map(_first, _rows(cursor))
        finally:
            cursor.close()


_first = operator.itemgetter(0)


def _rows(cursor: Any) -> Iterable[tuple[float]]:
    """A DBAPI cursor after a one-column SELECT, typed as what it yields."""
    rows: Iterable[tuple[float]] = cursor
    return rows


def linear_sums(
    store: Store, metric: str, start: float, end: float, resolution: int, host: str | None = None
) -> tuple[int, float, float, float, float, float, float]:
    """(n, sum x, sum y, sum x*x, sum x*y, min x, max x) of `metric` over [start, end),
    x = ts - start.

    Over raw samples (RAW) or the means of rollups; one pass in SQL for a trend fit.
    """
    owner = host or store.host
    with store.read() as connection:
        series_id = _lookup_series(connection, owner, [metric]).get(metric)
        if series_id is None:
            return (0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        if resolution == RAW:
            x: ColumnElement[float] = samples.c.ts - start
            y: ColumnElement[float] = samples.c.value
            condition = and_(
                samples.c.series_id == series_id, samples.c.ts >= start, samples.c.ts < end
            )
        else:
            # a bucket is placed at its middle
            x = rollups.c.ts + resolution / 2 - start
            y = rollups.c.mean
            condition = and_(
                rollups.c.series_id == series_id,
                rollups.c.resolution == resolution,
                rollups.c.ts >= start,
                rollups.c.ts < end,
            )
        row = connection.execute(
            select(
                func.count(),
                func.coalesce(func.sum(x), 0.0),
                func.coalesce(func.sum(y), 0.0),
                func.coalesce(func.sum(x * x), 0.0),
                func.coalesce(func.sum(x * y), 0.0),
                func.coalesce(func.min(x), 0.0),
                func.coalesce(func.max(x), 0.0),
            ).where(condition)
        ).one()
    return (
        int(row[0]),
        float(row[1]),
        float(row[2]),
        float(row[3]),
        float(row[4]),
        float(row[5]),
        float(row[6]),
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
) -> Maintenance:
    """Roll up what is due, then (with `expire_rows`) apply `metrics.retention`."""
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
    return Maintenance(rolled, expired)


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
