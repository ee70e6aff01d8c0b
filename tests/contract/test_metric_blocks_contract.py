"""Sealed metric blocks behave the same on SQLite and PostgreSQL: what readers return
does not depend on whether rows are plain or sealed, late rows merge into their block,
retention trims blocks exactly, and a store written before blocks existed (plain rows
only, as migration 0002 left it) is sealed online in bounded, resumable transactions."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import baselines as baseline_store
from hostkeeper.adapters.store.blocks import LAYOUTS, RAW_LAYOUT
from hostkeeper.adapters.store.checks import metric_history
from hostkeeper.adapters.store.history import metric_buckets
from hostkeeper.adapters.store.metrics import (
    expire,
    latest_value,
    linear_sums,
    maintain,
    points,
    roll_up,
    seal_due,
    window_values,
    write_samples,
)
from hostkeeper.adapters.store.schema import metric_blocks, rollups, samples, series
from hostkeeper.core.metrics import FIVE_MINUTES, HOUR, RAW, RetentionCutoffs, Sample

T0 = 1_800_000_000.0  # a multiple of the raw window
DAY = 86400.0
WINDOW = RAW_LAYOUT.window


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _collector_like(metric: str, start: float, count: int, seed: int = 1) -> list[Sample]:
    rng = random.Random(seed)
    return [
        Sample(
            metric,
            round(start + index * 10 + rng.uniform(0, 0.004), 3),
            round(min(max(rng.gauss(25, 8), 0), 100), 1),
        )
        for index in range(count)
    ]


def _counts(store: Store) -> tuple[int, int, int]:
    """(plain sample rows, raw blocks, samples inside raw blocks)."""
    with store.read() as connection:
        plain = connection.execute(select(func.count()).select_from(samples)).scalar()
        blocks, inside = connection.execute(
            select(func.count(), func.coalesce(func.sum(metric_blocks.c.count), 0)).where(
                metric_blocks.c.resolution == 0
            )
        ).one()
    return int(plain or 0), int(blocks), int(inside)


def _raw(store: Store, metric: str) -> list[tuple[float, float]]:
    return [(p.at.timestamp(), p.value) for p in points(store, metric, _at(0))]


def test_a_batch_over_many_windows_is_sealed_except_its_newest_window(store: Store) -> None:
    batch = _collector_like("cpu.percent", T0, int(DAY / 10))
    write_samples(store, batch)
    plain, blocks, inside = _counts(store)
    assert blocks == DAY / WINDOW - 1
    assert plain == WINDOW / 10 and plain + inside == len(batch)
    assert _raw(store, "cpu.percent") == [(s.ts, s.value) for s in batch]
    with store.read() as connection:
        stored = connection.execute(select(func.sum(func.length(metric_blocks.c.data)))).scalar()
    assert stored is not None
    assert stored / inside < 4.0  # bytes a sample, the goal of the block layout


def test_collection_rounds_seal_a_window_once_the_next_one_starts(store: Store) -> None:
    batch = _collector_like("load.5m", T0, int(WINDOW / 10) + 3)
    for sample in batch:  # one round at a time, as the daemon's collector writes
        write_samples(store, [sample])
    assert _counts(store) == (3, 1, int(WINDOW / 10))
    newest = latest_value(store, "load.5m")
    assert newest is not None and newest.at == _at(batch[-1].ts)
    assert _raw(store, "load.5m") == [(s.ts, s.value) for s in batch]


def test_late_samples_merge_into_their_sealed_window(store: Store) -> None:
    batch = [Sample("m", T0 + i * 20.0, float(i)) for i in range(int(2 * WINDOW / 20))]
    write_samples(store, batch)
    late = [Sample("m", T0 + 10.0, -1.0), Sample("m", T0 + 30.0, -2.0)]
    write_samples(store, late)  # plain rows inside the sealed window, read in order
    expected = sorted([(s.ts, s.value) for s in batch + late])
    assert _raw(store, "m") == expected
    assert [v for _, values in window_values(store, ["m"], T0, T0 + 60) for v in values] == [
        0.0,
        -1.0,
        1.0,
        -2.0,
        2.0,
    ]
    assert seal_due(store, T0 + 2 * WINDOW) == (2 + int(WINDOW / 20), False)
    plain, blocks, inside = _counts(store)
    assert (plain, blocks, inside) == (0, 2, len(expected))
    assert _raw(store, "m") == expected


def test_readers_agree_on_plain_and_sealed_rows(store: Store) -> None:
    batch = _collector_like("disk./.used_percent", T0, int(DAY / 10), seed=4)
    cut = T0 + DAY / 2 + 0.5
    start, end = T0 + 1000.5, T0 + DAY - 777

    def readings() -> tuple[object, ...]:
        return (
            _raw(store, "disk./.used_percent"),
            metric_history(store, "disk./.used_percent", start, end),
            metric_buckets(store, "disk./.used_percent", _at(start), _at(end), 100),
            linear_sums(store, "disk./.used_percent", start, end, RAW),
            baseline_store.compute_stats(store, ["disk./.used_percent"], _at(start), _at(cut)),
            latest_value(store, "disk./.used_percent"),
        )

    with store.write() as connection:  # plain rows only, as before migration 0003
        series_id = connection.execute(
            insert(series).values(host=store.host, name="disk./.used_percent")
        ).inserted_primary_key[0]  # type: ignore[index]
        connection.execute(
            insert(samples),
            [{"series_id": series_id, "ts": s.ts, "value": s.value} for s in batch],
        )
    before = readings()
    assert seal_due(store, T0 + 2 * DAY) == (len(batch), False)
    assert _counts(store) == (0, DAY / WINDOW, len(batch))
    assert readings() == before


def test_retention_trims_a_block_to_the_exact_sample(store: Store) -> None:
    batch = [Sample("m", T0 + i * 10.0, float(i % 7)) for i in range(int(DAY / 10))]
    write_samples(store, batch)
    cutoff = T0 + WINDOW + 1234.0  # inside the second window
    deleted = expire(store, RetentionCutoffs(raw=cutoff, five_minute=None, hourly=None))
    kept = [s for s in batch if s.ts >= cutoff]
    assert deleted[RAW] == len(batch) - len(kept)
    assert _raw(store, "m") == [(s.ts, s.value) for s in kept]


def test_rollups_are_sealed_and_read_the_same(store: Store) -> None:
    batch = [Sample("m", T0 + i * 60.0, float(i % 50)) for i in range(int(10 * DAY / 60))]
    write_samples(store, batch)
    now = T0 + 10 * DAY
    roll_up(store, now)
    five = points(store, "m", _at(T0), _at(now), FIVE_MINUTES)
    hourly = points(store, "m", _at(T0), _at(now), HOUR)
    result = maintain(store, now, 30 * DAY, 30 * DAY, 30 * DAY)
    assert result.sealed > 0
    with store.read() as connection:
        plain = connection.execute(
            select(rollups.c.resolution, func.min(rollups.c.ts)).group_by(rollups.c.resolution)
        ).all()
    # Only the open windows stay plain: the day and the week that hold the newest buckets.
    assert [(resolution, LAYOUTS[resolution].window_of(ts)) for resolution, ts in plain] == [
        (resolution, LAYOUTS[resolution].window_of(now - 1)) for resolution in (300, 3600)
    ]
    assert points(store, "m", _at(T0), _at(now), FIVE_MINUTES) == five
    assert points(store, "m", _at(T0), _at(now), HOUR) == hourly
    assert len(five) == 10 * 288 and len(hourly) == 10 * 24
    # The next pass recomputes the newest bucket, which lies in a sealed window now.
    write_samples(store, [Sample("m", now - 5.0, 1000.0)])
    roll_up(store, now)
    assert points(store, "m", _at(now - HOUR), _at(now), FIVE_MINUTES)[-1].max == 1000.0
    assert len(points(store, "m", _at(T0), _at(now), FIVE_MINUTES)) == 10 * 288


def test_sealing_in_small_batches_resumes_where_it_stopped(store: Store) -> None:
    batch = [Sample("m", T0 + i * 10.0, float(i % 11)) for i in range(int(DAY / 10))]
    with store.write() as connection:
        series_id = connection.execute(
            insert(series).values(host=store.host, name="m")
        ).inserted_primary_key[0]  # type: ignore[index]
        connection.execute(
            insert(samples),
            [{"series_id": series_id, "ts": s.ts, "value": s.value} for s in batch],
        )
    # Out of time before the first transaction: nothing moved, the rest is left.
    assert seal_due(store, T0 + 2 * DAY, budget_seconds=0.0) == (0, True)
    # Each transaction moves whole windows; a batch smaller than a window takes one.
    assert seal_due(store, T0 + WINDOW * 3, batch_rows=100) == (3 * WINDOW / 10, False)
    assert _counts(store)[1] == 3
    assert _raw(store, "m") == [(s.ts, s.value) for s in batch]
    assert seal_due(store, T0 + 2 * DAY, batch_rows=2000) == (len(batch) - 3 * WINDOW / 10, False)
    assert _counts(store) == (0, DAY / WINDOW, len(batch))
    assert _raw(store, "m") == [(s.ts, s.value) for s in batch]
