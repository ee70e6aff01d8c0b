"""Metric samples, rollups, retention and baseline versions behave the same on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store import baselines as baseline_store
from hostkeeper.adapters.store.metrics import (
    Maintenance,
    expire,
    latest_value,
    latest_values,
    linear_sums,
    maintain,
    metric_names,
    points,
    previous_sizes,
    recent_values,
    record_sizes,
    roll_up,
    rollup_progress,
    window_values,
    write_samples,
)
from hostkeeper.core.baselines import BaselineStatus, MetricStats
from hostkeeper.core.metrics import FIVE_MINUTES, HOUR, RAW, RetentionCutoffs, Sample

T0 = 1_800_000_000.0  # aligned to the hour
DAY = 86400.0


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _series(
    metric: str, start: float, count: int, step: float, value: Callable[[int], float]
) -> list[Sample]:
    return [Sample(metric, start + i * step, float(value(i))) for i in range(count)]


# -- samples -------------------------------------------------------------------------------


def test_sample_values_and_times_round_trip_exactly(store: Store) -> None:
    # PostgreSQL takes batches through COPY: no value may be rounded on the way.
    awkward = [0.1, 1 / 3, -2.5e-300, 1.7976931348623157e308, 123456789.123456789, 0.0]
    batch = [Sample("odd.values", T0 + i * 0.001 + 1e-4, v) for i, v in enumerate(awkward)]
    assert write_samples(store, batch) == len(batch)
    stored = points(store, "odd.values", _at(T0 - 1))
    assert [(p.at, p.value) for p in stored] == [(_at(s.ts), s.value) for s in batch]


def test_a_batch_with_one_bad_row_stores_nothing(store: Store) -> None:
    write_samples(store, [Sample("cpu.percent", T0, 1.0)])
    bad = [Sample("cpu.percent", T0 + 10, 2.0), Sample("cpu.percent", T0 + 20, None)]  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017 (each driver names it its own way)
        write_samples(store, bad)
    assert [p.value for p in points(store, "cpu.percent", _at(T0 - 1))] == [1.0]


def test_batches_round_trip_with_series_created_on_first_use(store: Store) -> None:
    assert write_samples(store, []) == 0
    written = write_samples(store, [Sample("cpu.percent", T0, 12.5), Sample("load.5m", T0, 0.75)])
    written += write_samples(
        store, [Sample("cpu.percent", T0 + 10, 14.0), Sample("disk./.used_percent", T0 + 10, 61)]
    )
    assert written == 4
    assert metric_names(store) == ["cpu.percent", "disk./.used_percent", "load.5m"]
    assert latest_value(store, "cpu.percent") is not None
    latest = latest_value(store, "cpu.percent")
    assert latest is not None
    assert (latest.at, latest.value) == (_at(T0 + 10), 14.0)
    assert latest_value(store, "no.such.metric") is None
    assert [p.value for p in recent_values(store, "cpu.percent", _at(T0))] == [12.5, 14.0]
    assert [p.value for p in recent_values(store, "cpu.percent", _at(T0 + 1))] == [14.0]
    assert set(latest_values(store)) == {"cpu.percent", "disk./.used_percent", "load.5m"}
    assert set(latest_values(store, ["load.5m", "nope"])) == {"load.5m"}


def test_hosts_sharing_one_database_keep_their_metrics_apart(store: Store, store_url: str) -> None:
    other = open_store(store_url, host="host-b")
    try:
        write_samples(store, [Sample("cpu.percent", T0, 1.0)])
        write_samples(other, [Sample("cpu.percent", T0, 99.0), Sample("swap.percent", T0, 5)])
        assert metric_names(store) == ["cpu.percent"]
        assert metric_names(other) == ["cpu.percent", "swap.percent"]
        a = latest_value(store, "cpu.percent")
        b = latest_value(store, "cpu.percent", host="host-b")
        assert a is not None and b is not None
        assert (a.value, b.value) == (1.0, 99.0)
    finally:
        other.dispose()


# -- rollups -------------------------------------------------------------------------------


def _load_two_hours(store: Store) -> list[Sample]:
    batch = _series("cpu.percent", T0, 720, 10.0, lambda i: (i * 7) % 101 / 2)
    batch += _series("load.5m", T0 + 5, 720, 10.0, lambda i: 1 + (i % 13) / 10)
    write_samples(store, batch)
    return batch


def test_five_minute_and_hourly_rollups_hold_min_mean_max_count(store: Store) -> None:
    batch = _load_two_hours(store)
    written = roll_up(store, now=T0 + 2 * HOUR + 30)
    assert written == {FIVE_MINUTES: 2 * 24, HOUR: 2 * 2}
    buckets: dict[tuple[str, float], list[float]] = defaultdict(list)
    hours: dict[tuple[str, float], list[float]] = defaultdict(list)
    for sample in batch:
        buckets[(sample.metric, sample.ts - sample.ts % FIVE_MINUTES)].append(sample.value)
        hours[(sample.metric, sample.ts - sample.ts % HOUR)].append(sample.value)
    for metric in ("cpu.percent", "load.5m"):
        five = points(store, metric, _at(T0), _at(T0 + 2 * HOUR), FIVE_MINUTES)
        assert len(five) == 24
        for point in five:
            values = buckets[(metric, point.at.timestamp())]
            assert point.count == len(values) == 30
            assert point.min == min(values)
            assert point.max == max(values)
            assert point.value == pytest.approx(statistics.fmean(values), rel=1e-12)
        hourly = points(store, metric, _at(T0), _at(T0 + 2 * HOUR), HOUR)
        assert [p.at.timestamp() for p in hourly] == [T0, T0 + HOUR]
        for point in hourly:
            values = hours[(metric, point.at.timestamp())]
            assert point.count == 360
            assert (point.min, point.max) == (min(values), max(values))
            assert point.value == pytest.approx(statistics.fmean(values), rel=1e-12)


def test_rollups_recompute_the_newest_bucket_when_late_samples_arrive(store: Store) -> None:
    write_samples(store, _series("m", T0, 20, 10.0, lambda i: 10))  # T0 .. T0+190
    roll_up(store, now=T0 + FIVE_MINUTES + 1)
    [first] = points(store, "m", _at(T0), _at(T0 + HOUR), FIVE_MINUTES)
    assert (first.count, first.value) == (20, 10.0)
    write_samples(store, [Sample("m", T0 + 250, 40.0)])  # late, into the same bucket
    roll_up(store, now=T0 + 2 * FIVE_MINUTES + 1)
    [again] = points(store, "m", _at(T0), _at(T0 + HOUR), FIVE_MINUTES)
    assert again.count == 21
    assert again.max == 40.0
    assert roll_up(store, now=T0 + 2 * FIVE_MINUTES + 1)[FIVE_MINUTES] == 1  # idempotent
    assert len(points(store, "m", _at(T0), _at(T0 + HOUR), FIVE_MINUTES)) == 1


def test_incomplete_buckets_are_not_rolled_up(store: Store) -> None:
    write_samples(store, _series("m", T0, 10, 10.0, lambda i: i))
    assert roll_up(store, now=T0 + 120) == {FIVE_MINUTES: 0, HOUR: 0}
    assert rollup_progress(store).five_minute_until is None


def test_linear_sums_over_raw_samples_and_rollups(store: Store) -> None:
    write_samples(store, _series("disk./.used_percent", T0, 720, 10.0, lambda i: 50 + i / 100))
    roll_up(store, now=T0 + 2 * HOUR)
    n, sum_x, sum_y, sum_xx, sum_xy, first_x, last_x = linear_sums(
        store, "disk./.used_percent", T0, T0 + 2 * HOUR, RAW
    )
    xs = [i * 10.0 for i in range(720)]
    ys = [50 + i / 100 for i in range(720)]
    assert n == 720
    assert sum_x == pytest.approx(sum(xs))
    assert sum_y == pytest.approx(sum(ys))
    assert sum_xx == pytest.approx(sum(x * x for x in xs))
    assert sum_xy == pytest.approx(sum(x * y for x, y in zip(xs, ys, strict=True)))
    assert (first_x, last_x) == pytest.approx((0.0, xs[-1]))
    assert linear_sums(store, "disk./.used_percent", T0, T0 + 2 * HOUR, FIVE_MINUTES)[0] == 24
    assert linear_sums(store, "unknown", T0, T0 + 1, RAW) == (0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


# -- retention -----------------------------------------------------------------------------


def test_expire_deletes_rows_older_than_the_cutoffs_for_this_host_only(
    store: Store, store_url: str
) -> None:
    other = open_store(store_url, host="host-b")
    try:
        _load_two_hours(store)
        write_samples(other, _series("cpu.percent", T0, 10, 10.0, lambda i: i))
        roll_up(store, now=T0 + 2 * HOUR)
        deleted = expire(
            store, RetentionCutoffs(raw=T0 + HOUR, five_minute=T0 + HOUR, hourly=T0 + 1)
        )
        assert deleted == {RAW: 2 * 360, FIVE_MINUTES: 2 * 12, HOUR: 2}
        assert recent_values(store, "cpu.percent", _at(T0))[0].at == _at(T0 + HOUR)
        assert len(recent_values(other, "cpu.percent", _at(T0))) == 10
    finally:
        other.dispose()


def test_maintain_keeps_samples_until_they_are_rolled_up(store: Store) -> None:
    # Nine days of one sample a minute; raw retention is one day.
    batch = _series("cpu.percent", T0, int(9 * DAY / 60), 60.0, lambda i: i % 50)
    write_samples(store, batch)
    now = T0 + 9 * DAY
    result = maintain(store, now, DAY, 3 * DAY, 30 * DAY)
    assert isinstance(result, Maintenance)
    assert result.rolled_up[FIVE_MINUTES] == 9 * 288
    assert result.rolled_up[HOUR] == 9 * 24
    remaining = recent_values(store, "cpu.percent", _at(T0))
    assert remaining[0].at == _at(now - DAY)
    five = points(store, "cpu.percent", _at(T0), _at(now), FIVE_MINUTES)
    assert five[0].at == _at(now - 3 * DAY)
    hourly = points(store, "cpu.percent", _at(T0), _at(now), HOUR)
    assert len(hourly) == 9 * 24
    assert sum(p.count or 0 for p in hourly) == len(batch)


# -- baselines -----------------------------------------------------------------------------


def test_window_values_are_each_metrics_values_in_time_order(store: Store) -> None:
    batch = _series("cpu.percent", T0, 1000, 10.0, lambda i: round((i * 37) % 100 / 3, 1))
    batch += _series("load.5m", T0, 10, 10.0, lambda i: i)
    write_samples(store, list(reversed(batch)))
    found = {
        name: list(values)
        for name, values in window_values(
            store, ["load.5m", "unknown", "cpu.percent"], T0 + 100, T0 + 5000
        )
    }
    assert list(found) == ["load.5m", "unknown", "cpu.percent"]
    assert found["cpu.percent"] == [
        s.value for s in batch if s.metric == "cpu.percent" and T0 + 100 <= s.ts < T0 + 5000
    ]
    assert found["load.5m"] == []  # its ten samples end before T0 + 100
    assert found["unknown"] == []


def test_compute_stats_matches_the_statistics_module(store: Store) -> None:
    batch = _series("load.5m", T0, 3000, 10.0, lambda i: round(1 + ((i * 7919) % 400) / 100, 2))
    write_samples(store, batch)
    stats = baseline_store.compute_stats(store, ["load.5m", "absent"], _at(T0), _at(T0 + 30_000))
    values = sorted(s.value for s in batch)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    found = stats["load.5m"]
    assert found.n == 3000
    assert found.mean == pytest.approx(statistics.fmean(values))
    assert found.stddev == pytest.approx(statistics.stdev(values))
    assert (found.p50, found.p95, found.p99) == pytest.approx((cuts[49], cuts[94], cuts[98]))
    assert stats["absent"] == MetricStats(n=0)


def test_baseline_versions_lifecycle(store: Store, tmp_path: Path) -> None:
    start, end = _at(T0), _at(T0 + 7 * DAY)
    one = {"cpu.percent": MetricStats(2000, 30.0, 5.0, 1.0, 90.0, 29.0, 40.0, 60.0)}
    number, pruned = baseline_store.create_version(store, one, start, end, end, keep_versions=3)
    assert (number, pruned) == (1, [])
    assert baseline_store.active_baseline(store) == {}
    assert baseline_store.activate(store, 1) is None
    assert baseline_store.active_baseline(store) == one
    two = {"cpu.percent": MetricStats(2100, 33.0, 6.0)}
    assert baseline_store.create_version(store, two, start, end, end, 3)[0] == 2
    baseline_store.reject(store, 2, "cpu.percent moved")
    assert baseline_store.create_version(store, two, start, end, end, 3)[0] == 3
    assert baseline_store.activate(store, 3) == 1
    statuses = {v.version: v.status for v in baseline_store.list_versions(store)}
    assert statuses == {
        3: BaselineStatus.ACTIVE,
        2: BaselineStatus.REJECTED,
        1: BaselineStatus.SUPERSEDED,
    }
    assert baseline_store.get_version(store, 2).note == "cpu.percent moved"  # type: ignore[union-attr]
    # A fourth version prunes the oldest; the active one (v3) is never pruned.
    number, pruned = baseline_store.create_version(store, two, start, end, end, 3)
    assert (number, pruned) == (4, [1])
    assert baseline_store.version_stats(store, 1) == {}
    assert baseline_store.activate(store, 2, BaselineStatus.ROLLED_BACK) == 3
    assert baseline_store.active_version(store).version == 2  # type: ignore[union-attr]
    version = baseline_store.get_version(store, 2)
    assert version is not None
    path = baseline_store.export_version(store, version, tmp_path / "exports")
    document = json.loads(path.read_text())
    assert document["version"] == 2
    assert document["stats"]["cpu.percent"]["mean"] == 33.0
    assert not list(path.parent.glob(".*.tmp"))


def test_baseline_versions_are_per_host(store: Store, store_url: str) -> None:
    other = open_store(store_url, host="host-b")
    try:
        when = _at(T0)
        stats = {"m": MetricStats(5, 1.0)}
        assert baseline_store.create_version(store, stats, when, when, when, 10)[0] == 1
        assert baseline_store.create_version(other, stats, when, when, when, 10)[0] == 1
        baseline_store.activate(other, 1)
        assert baseline_store.active_baseline(store) == {}
        assert baseline_store.active_baseline(other) == stats
    finally:
        other.dispose()


# -- directory sizes -----------------------------------------------------------------------


def test_previous_sizes_are_the_newest_before_a_time(store: Store) -> None:
    record_sizes(store, {"/var/log": 1000, "/srv": 5}, _at(T0))
    record_sizes(store, {"/var/log": 1500}, _at(T0 + DAY))
    found = previous_sizes(store, ["/var/log", "/srv", "/nowhere"], _at(T0 + 2 * DAY))
    assert found["/var/log"].size_bytes == 1500
    assert found["/srv"].measured_at == _at(T0)
    assert "/nowhere" not in found
    assert previous_sizes(store, ["/var/log"], _at(T0 + 1))["/var/log"].size_bytes == 1000
    assert previous_sizes(store, ["/var/log"], _at(T0)) == {}
