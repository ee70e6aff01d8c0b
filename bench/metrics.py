"""Metrics: ingest, baseline computation, collector cost and database size.

- Ingest: samples/s through hostkeeper's `write_samples` (which seals every complete
  window of the batch into blocks in the same transaction) vs raw `sqlite3.executemany`
  of the same rows into the plain `samples` table, the layout before blocks;
  SQLAlchemy's `execute(insert(t), dicts)` is shown for reference. Target: at least
  0.7x of raw.
- Baseline: mean, stddev and p50/p95/p99 for 50 metrics over 7 days of 10-second samples
  (3 M rows) read from sealed blocks vs one pure-SQL AVG + SUM(x*x) pass over the same
  rows uncompressed in the plain layout, after ANALYZE (the planner trap of
  BENCH-NOTES). Target: under 3x. Values are recorded at the collector's precision
  (percentages 0.1, loads and disk use 0.01; rates 0.1 with many distinct values); a
  second figure uses full-precision random values, the worst case. The same rows give
  the bytes a raw sample takes in blocks and in the plain layout, and the rate at which
  housekeeping seals a migrated store's plain rows.
- Collector: CPU microseconds per collection round on this host, against the bare
  psutil reads it is made of, and with the round's write to the store.
- Size: the database after 30 simulated days of this host's metrics at 10 s, with
  rollups and retention at the reference defaults (raw 7d, 5m 90d, 1h 730d); then the
  steady state once every retention window is full (the rollups of the days before the
  simulation are added as the collector would have left them), beside the plain layout
  extrapolated from its bytes per row. Target: under 40 MB.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
from sqlalchemy import insert

from bench.filedata import time_call
from bench.harness import Context, Floor, Result, Target, median, progress, spread, stage
from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store import baselines as baseline_store
from hostkeeper.adapters.store.blocks import LAYOUTS, RAW_LAYOUT, seal_rows
from hostkeeper.adapters.store.metrics import maintain, seal_due, write_samples
from hostkeeper.adapters.store.migrate import migrate
from hostkeeper.adapters.store.schema import samples
from hostkeeper.adapters.system import ALL_GROUPS, SystemCollector
from hostkeeper.core.metrics import Sample

NAME = "metrics"
SERIES = 50
SUMMARY = "sample ingest, baseline update (3 M rows), collector cost, DB size after 30 days"
DAY = 86400.0
T0 = 1_800_000_000.0
INSERT_RAW = "INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?)"
FLOOR_SQL = (
    "SELECT series_id, count(*), avg(value), sum(value * value) FROM samples "
    "WHERE series_id IN (SELECT id FROM series WHERE host = ?) AND ts >= ? AND ts < ? "
    "GROUP BY series_id"
)


def _store(directory: Path, name: str) -> Store:
    directory.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{directory / name}", host="bench")
    migrate(store, directory / f"{name}.lock", backup_dir=directory / "db-backups")
    return store


def _database(store: Store) -> Path:
    path = store.sqlite_path
    assert path is not None
    return path


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA busy_timeout=10000")
    return connection


# -- ingest --------------------------------------------------------------------------------


def _ingest_batch(count: int) -> list[Sample]:
    """`count` samples after one per series (which creates the series untimed)."""
    rng = random.Random(1)
    names = [f"bench.metric_{index:02d}" for index in range(SERIES)]
    return [
        Sample(names[index % SERIES], T0 + (index // SERIES) * 10.0, round(rng.random() * 100, 1))
        for index in range(count + SERIES)
    ]


def _ingest_ours(directory: Path, batch: list[Sample]) -> float:
    store = _store(directory, "ours.db")
    write_samples(store, batch[:SERIES])  # the series exist, as for a running collector
    started = time.perf_counter()
    write_samples(store, batch[SERIES:])
    elapsed = time.perf_counter() - started
    store.dispose()
    return elapsed


def _ingest_dicts(directory: Path, batch: list[Sample]) -> float:
    store = _store(directory, "dicts.db")
    write_samples(store, batch[:SERIES])
    ids = _series_ids(_database(store))
    started = time.perf_counter()
    with store.write() as connection:
        connection.execute(
            insert(samples),
            [{"series_id": ids[s.metric], "ts": s.ts, "value": s.value} for s in batch[SERIES:]],
        )
    elapsed = time.perf_counter() - started
    store.dispose()
    return elapsed


def _ingest_raw(directory: Path, batch: list[Sample]) -> float:
    store = _store(directory, "raw.db")
    write_samples(store, batch[:SERIES])
    path = _database(store)
    store.dispose()
    ids = _series_ids(path)
    with contextlib.closing(_connect(path)) as connection:
        started = time.perf_counter()
        # The peer gets its rows ready-made, as tuples with ids: the floor of the work.
        rows = [(ids[s.metric], s.ts, s.value) for s in batch[SERIES:]]
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(INSERT_RAW, rows)
        connection.execute("COMMIT")
        return time.perf_counter() - started


def _series_ids(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return {name: id_ for id_, name in connection.execute("SELECT id, name FROM series")}


def _ingest(context: Context) -> list[Result]:
    count = 200_000 if context.quick else 1_000_000
    runs = context.repeat(full=3, quick=1)
    batch = _ingest_batch(count)
    times: dict[str, list[float]] = {"ours": [], "raw": [], "dicts": []}
    for run in range(runs):
        with stage(f"ingest {count:,} samples, run {run + 1}/{runs}"):
            for key, function in (
                ("raw", _ingest_raw),
                ("ours", _ingest_ours),
                ("dicts", _ingest_dicts),
            ):
                directory = context.work_dir / f"ingest-{key}-{run}"
                times[key].append(function(directory, batch))
    rate = {key: count / median(values) for key, values in times.items()}
    floor = Floor(round(rate["raw"]), "rows/s", "sqlite3.executemany, same schema")
    detail = {key: spread(values) for key, values in times.items()}
    return [
        Result(
            NAME,
            f"ingest {count:,} samples, write_samples",
            rate["ours"],
            "rows/s",
            floor,
            Target(">=", round(0.7 * rate["raw"]), "rows/s"),
            detail,
        ),
        Result(
            NAME,
            f"ingest {count:,} samples, Core execute(insert, dicts)",
            rate["dicts"],
            "rows/s",
            floor,
            None,
            detail,
        ),
    ]


# -- baseline ------------------------------------------------------------------------------


def _metric_values(index: int, count: int, rng: random.Random, exact: bool) -> Iterator[float]:
    """A week of one metric at the collector's precision (or full precision)."""
    kind = index % 5
    for step in range(count):
        day_phase = math.sin(2 * math.pi * step / 8640)
        if kind == 0:  # cpu-like
            value = min(max(rng.gauss(25 + 10 * day_phase, 8), 0), 100)
            digits = 1
        elif kind == 1:  # memory-like
            value = 40 + 5 * day_phase + rng.gauss(0, 0.5)
            digits = 1
        elif kind == 2:  # load-like
            value = max(rng.gauss(1.5 + day_phase, 0.4), 0)
            digits = 2
        elif kind == 3:  # disk use, slowly growing
            value = 55 + 3 * step / count + rng.gauss(0, 0.01)
            digits = 2
        else:  # a byte rate: many distinct values
            value = rng.lognormvariate(12, 1.5)
            digits = 1
        yield value if exact else round(value, digits)


def _fill_week(store: Store, metrics: int, days: float, exact: bool) -> tuple[list[str], float]:
    count = int(days * DAY / 10)
    names = [f"bench.baseline_{index:02d}" for index in range(metrics)]
    write_samples(store, [Sample(name, T0, 0.0) for name in names])  # series ids
    ids = _series_ids(_database(store))
    rng = random.Random(5)
    with contextlib.closing(_connect(_database(store))) as connection:
        connection.execute("DELETE FROM samples")
        connection.execute("BEGIN IMMEDIATE")
        for index, name in enumerate(names):
            series_id = ids[name]
            values = _metric_values(index, count, rng, exact)
            connection.executemany(
                INSERT_RAW,
                ((series_id, T0 + step * 10.0, value) for step, value in enumerate(values)),
            )
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    return names, T0 + count * 10.0


def _floor_pass(path: Path, end: float) -> tuple[float, str]:
    with contextlib.closing(_connect(path)) as connection:
        plan = " / ".join(
            str(row[-1])
            for row in connection.execute("EXPLAIN QUERY PLAN " + FLOOR_SQL, ("bench", T0, end))
        )
        started = time.perf_counter()
        rows = connection.execute(FLOOR_SQL, ("bench", T0, end)).fetchall()
        elapsed = time.perf_counter() - started
    assert rows, "the floor query found no rows"
    return elapsed, plan


def _baseline_figure(
    context: Context, label: str, days: float, exact: bool, runs: int
) -> tuple[list[Result], dict[str, object]]:
    metrics = 50
    directory = context.work_dir / f"baseline-{'exact' if exact else 'recorded'}"
    plain = _store(directory, "plain.db")
    sealed = _store(directory, "sealed.db")
    with stage(f"baseline: writing {metrics} metrics x {days:g} days ({label}), twice"):
        names, end = _fill_week(plain, metrics, days, exact)
        _fill_week(sealed, metrics, days, exact)
    rows = metrics * int(days * DAY / 10)
    with stage(f"baseline: sealing {rows:,} plain rows into blocks ({label})"):
        started = time.perf_counter()
        sealed_rows, _ = seal_due(sealed, end + 2 * RAW_LAYOUT.window)
        seal_seconds = time.perf_counter() - started
    assert sealed_rows == rows, (sealed_rows, rows)
    with contextlib.closing(_connect(_database(sealed))) as connection:
        connection.execute("ANALYZE")
    start_at = datetime.fromtimestamp(T0, UTC)
    end_at = datetime.fromtimestamp(end, UTC)
    ours: list[float] = []
    floor: list[float] = []
    plan = ""
    for run in range(runs):
        with stage(f"baseline ({label}) run {run + 1}/{runs}"):
            elapsed, plan = _floor_pass(_database(plain), end)
            floor.append(elapsed)
            timing = time_call(
                lambda: baseline_store.compute_stats(sealed, names, start_at, end_at)
            )
            ours.append(timing.wall)
    stats = baseline_store.compute_stats(sealed, names[:1], start_at, end_at)
    same = baseline_store.compute_stats(plain, names[:1], start_at, end_at)
    assert stats == same, "sealed blocks and plain rows disagree"
    plain.dispose()
    sealed.dispose()
    sizes = _sample_bytes(_database(plain), _database(sealed), rows)
    detail: dict[str, object] = {
        "rows": rows,
        "floor_plan": plan,
        "ours": spread(ours),
        "floor": spread(floor),
        "first_metric": stats[names[0]].as_dict(),
        "seal_seconds": round(seal_seconds, 2),
        **sizes,
    }
    floor_value = median(floor)
    short = f"{metrics} metrics x {days:g} d ({rows / 1e6:.1f} M rows), {label}"
    plain_bytes = Floor(round(sizes["plain_file_bytes"], 1), "B", "the plain samples layout")
    return [
        Result(
            NAME,
            f"baseline update from blocks, {short}",
            median(ours),
            "s",
            Floor(round(floor_value, 4), "s", "one SQL AVG + SUM(x*x) pass, plain rows"),
            Target("<", round(3 * floor_value, 4), "s"),
            detail,
        ),
        Result(
            NAME,
            f"bytes a raw sample in blocks (encoded data), {short}",
            sizes["block_data_bytes"],
            "B",
            plain_bytes,
            Target("<=", 4.0, "B") if not exact else None,
            detail,
        ),
        Result(
            NAME,
            f"bytes a raw sample, whole database after VACUUM, {short}",
            sizes["sealed_file_bytes"],
            "B",
            plain_bytes,
            Target("<=", 4.0, "B") if not exact else None,
            detail,
        ),
        Result(
            NAME,
            f"sealing a migrated store's plain rows, {short}",
            rows / seal_seconds,
            "rows/s",
            None,
            None,
            detail,
        ),
    ], detail


def _sample_bytes(plain: Path, sealed: Path, rows: int) -> dict[str, float]:
    """Bytes a sample: encoded block data, and whole files (VACUUMed, WAL merged)."""
    with contextlib.closing(_connect(sealed)) as connection:
        data = connection.execute(
            "SELECT sum(length(data)) FROM metric_blocks WHERE resolution = 0"
        ).fetchone()[0]
        connection.execute("VACUUM")
    return {
        "block_data_bytes": round(data / rows, 3),
        "sealed_file_bytes": round(_file_mb(sealed) * 1e6 / rows, 3),
        "plain_file_bytes": round(_file_mb(plain) * 1e6 / rows, 3),
    }


def _baseline(context: Context) -> list[Result]:
    days = 2.0 if context.quick else 7.0
    runs = context.repeat(full=3, quick=1)
    recorded, detail = _baseline_figure(context, "recorded precision", days, False, runs)
    context.note(f"metrics: baseline floor plan: {detail['floor_plan']}")
    worst, _ = _baseline_figure(context, "full-precision values", days, True, max(runs - 1, 1))
    # The worst case is shown against the same floors but promises nothing.
    worst = [Result(r.benchmark, r.figure, r.value, r.unit, r.floor, None, r.detail) for r in worst]
    return [*recorded, *worst]


# -- collector -----------------------------------------------------------------------------


def _bare_psutil_round() -> None:
    psutil.cpu_times()
    psutil.virtual_memory()
    psutil.swap_memory()
    os.getloadavg()
    psutil.disk_usage("/")
    psutil.disk_io_counters(perdisk=True)
    psutil.net_io_counters(pernic=True)
    psutil.pids()


def _cpu_per_round(work: Callable[[], object], rounds: int) -> float:
    started = time.process_time()
    for _ in range(rounds):
        work()
    return (time.process_time() - started) / rounds * 1e6


def _collector(context: Context) -> list[Result]:
    rounds = 200 if context.quick else 1000
    collector = SystemCollector(ALL_GROUPS, ["/"])
    collector.prime()
    store = _store(context.work_dir / "collector", "collector.db")
    write_samples(store, collector.collect())
    with stage(f"collector: {rounds} rounds"):
        bare = _cpu_per_round(_bare_psutil_round, rounds)
        ours = _cpu_per_round(collector.collect, rounds)
        with_write = _cpu_per_round(lambda: write_samples(store, collector.collect()), rounds // 4)
    samples_per_round = len(collector.collect())
    store.dispose()
    floor = Floor(round(bare, 1), "us", "the bare psutil reads of one round")
    detail = {"rounds": rounds, "samples_per_round": samples_per_round}
    return [
        Result(NAME, "collector, CPU per round", ours, "us", floor, None, detail),
        Result(
            NAME, "collector + store write, CPU per round", with_write, "us", floor, None, detail
        ),
    ]


# -- size ----------------------------------------------------------------------------------


def _size(context: Context) -> list[Result]:
    days = 10 if context.quick else 30
    step_hours = 6
    collector = SystemCollector(ALL_GROUPS, ["/"])
    collector.prime()
    time.sleep(0.2)
    names = [sample.metric for sample in collector.collect()]
    store = _store(context.work_dir / "size", "size.db")
    path = _database(store)
    rng = random.Random(9)
    sizes: dict[int, float] = {}
    rows = 0
    chunk = int(step_hours * 3600 / 10)
    with stage(f"size: {days} days of {len(names)} metrics at 10 s"):
        for block in range(int(days * 24 / step_hours)):
            start = T0 + block * step_hours * 3600
            # The collector's clock: rounds a few milliseconds late, stamped to the ms.
            stamps = [
                round(start + step * 10.0 + rng.uniform(0, 0.005), 3) for step in range(chunk)
            ]
            batch = [
                Sample(name, stamp, round(rng.random() * 100, 1))
                for stamp in stamps
                for name in names
            ]
            write_samples(store, batch)
            rows += len(batch)
            maintain(store, start + step_hours * 3600, 7 * DAY, 90 * DAY, 730 * DAY)
            day = (block + 1) * step_hours // 24
            if (block + 1) * step_hours % 24 == 0 and day in (1, 7, 8, 14, 30, days):
                sizes[day] = _file_mb(path)
                progress(f"day {day}: {sizes[day]:.1f} MB")
    with stage("size: the rollups of the 700 days before, as the collector leaves them"):
        backfill = _backfill_rollups(store, len(names), T0, days, rng)
        maintain(store, T0 + days * DAY, 7 * DAY, 90 * DAY, 730 * DAY)
    steady = _file_mb(path)
    live = _live_mb(path)
    store.dispose()
    plain = _plain_layout_mb(context.work_dir / "size-plain", len(names))
    detail = {
        "metrics": len(names),
        "rows_written": rows,
        "rollup_rows_added": backfill,
        "file_mb_by_day": sizes,
        "steady_file_mb": round(steady, 1),
        "steady_live_mb": round(live, 1),
        "plain_layout_mb": round(plain, 1),
    }
    context.note(
        "metrics: database file by simulated day: "
        + ", ".join(f"day {day} {mb:.0f} MB" for day, mb in sorted(sizes.items()))
        + f"; steady state {steady:.1f} MB, live pages {live:.1f} MB"
        + f" (the plain layout: {plain:.0f} MB)"
    )
    return [
        Result(
            NAME,
            f"database after {days} days, {len(names)} metrics at 10 s",
            sizes[days],
            "MB",
            None,
            None,
            detail,
        ),
        Result(
            NAME,
            f"database in steady state (raw 7 d, 5 m 90 d, 1 h 730 d), {len(names)} metrics",
            steady,
            "MB",
            Floor(round(plain, 1), "MB", "the same rows in the plain layout"),
            Target("<", 40.0, "MB"),
            detail,
        ),
    ]


def _rollup_rows(
    series_ids: list[int], start: float, days: int, rng: random.Random
) -> Iterator[tuple[int, int, float, float, float, float, int]]:
    """Plain rollup rows for `days` before `start`: 5-minute ones for the last 90 days
    (minus the simulated ones), hourly ones for the last 730."""
    for resolution, keep, count in ((300, 90, 30), (3600, 730, 360)):
        first = start - (keep - days) * DAY
        for series_id in series_ids:
            ts = first
            while ts < start:
                low = round(rng.uniform(0, 30), 1)
                high = round(rng.uniform(70, 100), 1)
                yield (series_id, resolution, ts, low, rng.uniform(40, 60), high, count)
                ts += resolution


INSERT_ROLLUP = (
    "INSERT INTO rollups (series_id, resolution, ts, min, mean, max, count) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _backfill_rollups(
    store: Store, metrics: int, start: float, days: int, rng: random.Random
) -> int:
    """Sealed rollups of the days before `start`, written straight into blocks as the
    daemon's housekeeping would have left them (through plain rows they would leave
    freed pages behind that a running store never has)."""
    ids = sorted(_series_ids(_database(store)).values())[:metrics]
    rows = list(_rollup_rows(ids, start, days, rng))
    by_key: dict[tuple[int, int], list[tuple[float, ...]]] = {}
    for series_id, resolution, *rest in rows:
        by_key.setdefault((int(series_id), int(resolution)), []).append(tuple(map(float, rest)))
    for (series_id, resolution), found in by_key.items():
        with store.write() as connection:
            seal_rows(connection, LAYOUTS[resolution], series_id, found)
    return len(rows)


def _plain_layout_mb(directory: Path, metrics: int) -> float:
    """The steady state of the layout before blocks: 7 days of plain samples and every
    rollup as a plain row, written with raw executemany and measured."""
    store = _store(directory, "plain.db")
    path = _database(store)
    names = [f"bench.plain_{index:02d}" for index in range(metrics)]
    write_samples(store, [Sample(name, T0, 0.0) for name in names])
    store.dispose()
    ids = sorted(_series_ids(path).values())
    rng = random.Random(11)
    raw_rows = (
        (series_id, T0 + step * 10.0, round(rng.random() * 100, 1))
        for step in range(int(7 * DAY / 10))
        for series_id in ids
    )
    rollup_rows = list(_rollup_rows(ids, T0, 0, rng))
    with contextlib.closing(_connect(path)) as connection:
        connection.execute("DELETE FROM samples")
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(INSERT_RAW, raw_rows)
        connection.executemany(INSERT_ROLLUP, rollup_rows)
        connection.execute("COMMIT")
    return _file_mb(path)


def _file_mb(path: Path) -> float:
    with contextlib.closing(_connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size / 1e6


def _live_mb(path: Path) -> float:
    with contextlib.closing(_connect(path)) as connection:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
    return float((pages - free) * size / 1e6)


def run(context: Context) -> list[Result]:
    return [*_ingest(context), *_baseline(context), *_collector(context), *_size(context)]
