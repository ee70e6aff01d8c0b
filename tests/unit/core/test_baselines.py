"""Baseline statistics, update plans, drift validation and version bookkeeping."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter

import pytest

from hostkeeper.core.baselines import (
    BaselineStatus,
    MetricStats,
    VersionRef,
    drift_percent,
    percentile,
    plan_update,
    rollback_target,
    summarize,
    summarize_counts,
    summarize_values,
    validate,
    versions_to_prune,
)

ACTIVE = BaselineStatus.ACTIVE
CANDIDATE = BaselineStatus.CANDIDATE
SUPERSEDED = BaselineStatus.SUPERSEDED
REJECTED = BaselineStatus.REJECTED
ROLLED_BACK = BaselineStatus.ROLLED_BACK


def _quantiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


@pytest.mark.parametrize("size", [2, 3, 10, 101, 1000, 4321])
def test_percentiles_match_the_statistics_module(size: int) -> None:
    rng = random.Random(size)
    values = sorted(rng.gauss(40, 12) for _ in range(size))
    p50, p95, p99 = _quantiles(values)
    stats = summarize(values)
    assert stats.p50 == pytest.approx(p50, rel=1e-12)
    assert stats.p95 == pytest.approx(p95, rel=1e-12)
    assert stats.p99 == pytest.approx(p99, rel=1e-12)
    assert stats.mean == pytest.approx(statistics.fmean(values), rel=1e-12)
    assert stats.stddev == pytest.approx(statistics.stdev(values), rel=1e-9)
    assert (stats.min, stats.max, stats.n) == (values[0], values[-1], size)


def test_frequency_table_gives_the_same_statistics_as_the_values() -> None:
    rng = random.Random(7)
    # Recorded at one decimal, like cpu.percent: many repeats.
    values = sorted(round(min(max(rng.gauss(30, 9), 0), 100), 1) for _ in range(20_000))
    from_values = summarize(values)
    from_counts = summarize_counts(Counter(values).items())
    for field in ("n", "min", "max", "p50", "p95", "p99"):
        assert getattr(from_counts, field) == getattr(from_values, field), field
    assert from_counts.mean == pytest.approx(from_values.mean, rel=1e-12)
    assert from_counts.stddev == pytest.approx(from_values.stddev, rel=1e-9)
    p50, p95, p99 = _quantiles(values)
    assert (from_counts.p50, from_counts.p95) == pytest.approx((p50, p95), rel=1e-12)
    assert from_counts.p99 == pytest.approx(p99, rel=1e-12)


def test_frequency_table_interpolates_across_a_run_boundary() -> None:
    # ranks 0..3 hold 1.0 and ranks 4..5 hold 2.0; p50 sits at rank 2.5 (inside the 1.0
    # run), p95 at rank 4.75 (inside the 2.0 run), p70 at 3.5 (between the runs).
    stats = summarize_counts([(2.0, 2), (1.0, 4)])
    assert stats.p50 == 1.0
    assert stats.p95 == 2.0
    assert percentile([1.0, 1.0, 1.0, 1.0, 2.0, 2.0], 70) == pytest.approx(1.5)


def test_statistics_of_nothing_and_of_one_value() -> None:
    assert summarize([]) == MetricStats(n=0)
    assert summarize_counts([]) == MetricStats(n=0)
    one = summarize_counts([(5.0, 1)])
    assert (one.n, one.mean, one.stddev, one.p99) == (1, 5.0, None, 5.0)


def test_percentile_outside_0_100_is_an_error() -> None:
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)


def test_z_score_needs_spread() -> None:
    assert MetricStats(n=10, mean=20.0, stddev=5.0).z_score(35.0) == pytest.approx(3.0)
    assert MetricStats(n=10, mean=20.0, stddev=0.0).z_score(35.0) is None
    assert MetricStats(n=0).z_score(1.0) is None


# -- update --------------------------------------------------------------------------------


def test_update_carries_over_metrics_with_too_few_samples() -> None:
    fresh = MetricStats(n=5000, mean=30.0)
    short = MetricStats(n=12, mean=99.0)
    old = MetricStats(n=4000, mean=28.0)
    plan = plan_update(
        {"cpu.percent": fresh, "disk./data.used_percent": short, "new.metric": short},
        {"disk./data.used_percent": old},
        min_samples=1000,
    )
    assert plan.stats == {"cpu.percent": fresh, "disk./data.used_percent": old}
    assert plan.updated == ["cpu.percent"]
    assert plan.carried_over == ["disk./data.used_percent"]
    assert plan.short == {"disk./data.used_percent": 12, "new.metric": 12}
    assert plan.writes_version


def test_update_writes_nothing_when_no_metric_has_enough_samples() -> None:
    plan = plan_update({"cpu.percent": MetricStats(n=999, mean=1.0)}, {}, min_samples=1000)
    assert not plan.writes_version
    assert plan.short == {"cpu.percent": 999}


# -- validation ----------------------------------------------------------------------------


def test_drift_is_relative_to_the_old_mean() -> None:
    assert drift_percent(40.0, 50.0) == pytest.approx(25.0)
    assert drift_percent(40.0, 30.0) == pytest.approx(25.0)
    assert drift_percent(0.0, 0.0) == 0.0
    assert math.isinf(drift_percent(0.0, 0.1))


def test_first_version_validates_with_enough_samples() -> None:
    result = validate({"cpu.percent": MetricStats(n=1000, mean=30.0)}, None, 25.0, 1000)
    assert result.ok
    assert result.verdicts[0].drift_percent is None


def test_first_version_fails_below_min_samples() -> None:
    result = validate({"cpu.percent": MetricStats(n=999, mean=30.0)}, None, 25.0, 1000)
    assert not result.ok
    assert result.problems == ["cpu.percent: 999 samples, fewer than min_samples 1000"]


def test_mean_moving_more_than_the_threshold_fails() -> None:
    active = {"cpu.percent": MetricStats(n=5000, mean=40.0), "load.5m": MetricStats(n=5000, mean=1)}
    candidate = {
        "cpu.percent": MetricStats(n=5000, mean=50.5),
        "load.5m": MetricStats(n=5000, mean=1.2),
    }
    result = validate(candidate, active, 25.0, 1000)
    assert not result.ok
    [problem] = result.problems
    assert problem.startswith("cpu.percent: mean moved 26.2% (40 -> 50.5)")
    load = next(v for v in result.verdicts if v.metric == "load.5m")
    assert load.problem is None
    assert load.drift_percent == pytest.approx(20.0)


def test_drift_exactly_at_the_threshold_passes() -> None:
    active = {"m": MetricStats(n=10, mean=40.0)}
    assert validate({"m": MetricStats(n=10, mean=50.0)}, active, 25.0, 10).ok


def test_metric_new_in_the_candidate_is_only_held_to_min_samples() -> None:
    active = {"cpu.percent": MetricStats(n=5000, mean=40.0)}
    candidate = {
        "cpu.percent": MetricStats(n=5000, mean=41.0),
        "disk./.used_percent": MetricStats(n=5000, mean=80.0),
    }
    assert validate(candidate, active, 25.0, 1000).ok


def test_empty_candidate_fails() -> None:
    assert not validate({}, None, 25.0, 1).ok


# -- versions ------------------------------------------------------------------------------


def test_pruning_deletes_the_oldest_first_but_never_the_active_one() -> None:
    versions = [
        VersionRef(1, ACTIVE),
        VersionRef(2, REJECTED),
        VersionRef(3, SUPERSEDED),
        VersionRef(4, CANDIDATE),
    ]
    assert versions_to_prune(versions, keep=2) == [2, 3]
    assert versions_to_prune(versions, keep=4) == []


def test_pruning_keeps_the_newest_version_even_at_keep_one() -> None:
    versions = [VersionRef(7, ACTIVE), VersionRef(8, CANDIDATE)]
    assert versions_to_prune(versions, keep=1) == []
    versions = [VersionRef(6, SUPERSEDED), VersionRef(7, ACTIVE), VersionRef(8, CANDIDATE)]
    assert versions_to_prune(versions, keep=1) == [6]


def test_rollback_goes_to_the_previous_validated_version() -> None:
    versions = [
        VersionRef(1, SUPERSEDED),
        VersionRef(2, SUPERSEDED),
        VersionRef(3, REJECTED),
        VersionRef(4, ACTIVE),
        VersionRef(5, CANDIDATE),
    ]
    assert rollback_target(versions, None) == 2


def test_rollback_to_a_named_version() -> None:
    versions = [VersionRef(1, SUPERSEDED), VersionRef(2, REJECTED), VersionRef(3, ACTIVE)]
    assert rollback_target(versions, 2) == 2
    with pytest.raises(ValueError, match="already active"):
        rollback_target(versions, 3)
    with pytest.raises(ValueError, match="no baseline version 9"):
        rollback_target(versions, 9)


def test_rollback_needs_an_active_version_and_an_earlier_one() -> None:
    with pytest.raises(ValueError, match="nothing to roll back"):
        rollback_target([VersionRef(1, CANDIDATE)], None)
    with pytest.raises(ValueError, match="no earlier version"):
        rollback_target([VersionRef(1, REJECTED), VersionRef(2, ACTIVE)], None)


def test_a_rolled_back_version_can_be_rolled_back_to_again() -> None:
    # v3 was rolled back to v2 once; v2 was later superseded by v4.
    versions = [VersionRef(2, SUPERSEDED), VersionRef(3, ROLLED_BACK), VersionRef(4, ACTIVE)]
    assert rollback_target(versions, None) == 3


@pytest.mark.parametrize("digits", [1, None])  # few distinct values / all distinct
def test_summarize_values_streams_either_way_to_the_same_statistics(digits: int | None) -> None:
    rng = random.Random(11)
    raw = [rng.lognormvariate(3, 1) for _ in range(7000)]
    values = [round(v, digits) if digits is not None else v for v in raw]
    expected = summarize(sorted(values))
    found = summarize_values(value for value in values)  # a one-shot stream
    for field in ("n", "min", "max", "p50", "p95", "p99"):
        assert getattr(found, field) == getattr(expected, field), field
    assert found.mean == pytest.approx(expected.mean, rel=1e-12)
    assert found.stddev == pytest.approx(expected.stddev, rel=1e-9)
    assert summarize_values(iter([])) == MetricStats(n=0)
