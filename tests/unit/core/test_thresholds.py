"""Threshold suggestions: percentiles, Tukey fences, rounding and firing counts."""

from __future__ import annotations

import random
import statistics

import pytest

from hostkeeper.core import thresholds as th
from hostkeeper.core.thresholds import Direction


def test_percentile_interpolates_linearly_like_numpy() -> None:
    ordered = [1.0, 2.0, 3.0, 4.0]
    assert th.percentile(ordered, 0) == 1.0
    assert th.percentile(ordered, 100) == 4.0
    assert th.percentile(ordered, 50) == 2.5
    assert th.percentile(ordered, 25) == pytest.approx(1.75)


def test_percentile_agrees_with_statistics_quantiles_inclusive() -> None:
    rng = random.Random(7)
    values = sorted(rng.gauss(50, 10) for _ in range(1001))
    quartiles = statistics.quantiles(values, n=4, method="inclusive")
    assert th.percentile(values, 25) == pytest.approx(quartiles[0])
    assert th.percentile(values, 75) == pytest.approx(quartiles[2])
    percentiles = statistics.quantiles(values, n=100, method="inclusive")
    assert th.percentile(values, 99) == pytest.approx(percentiles[98])


def test_percentile_rejects_no_values_and_bad_percents() -> None:
    with pytest.raises(ValueError):
        th.percentile([], 50)
    with pytest.raises(ValueError):
        th.percentile([1.0], 101)


def test_describe_gives_the_extremes_and_quartiles() -> None:
    distribution = th.describe([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (distribution.n, distribution.minimum, distribution.maximum) == (5, 1.0, 5.0)
    assert (distribution.p25, distribution.p50, distribution.p75) == (2.0, 3.0, 4.0)


def test_no_suggestion_below_the_minimum_number_of_observations() -> None:
    distribution = th.describe([float(v) for v in range(th.MIN_OBSERVATIONS - 1)])
    assert th.suggest_levels(distribution, Direction.ABOVE, th.NON_NEGATIVE) is None


def test_above_levels_are_tukey_fences_over_the_quartiles() -> None:
    # 0..100 evenly: p25 25, p75 75, IQR 50 -> warning 75 + 75 = 150, critical 75 + 150.
    distribution = th.describe([float(v) for v in range(101)])
    levels = th.suggest_levels(distribution, Direction.ABOVE, th.NON_NEGATIVE)
    assert levels == th.Levels(warning=150.0, critical=230.0)  # 225 rounded outwards


def test_below_levels_mirror_the_above_levels() -> None:
    distribution = th.describe([float(v) for v in range(100, 201)])  # p25 125, IQR 50
    levels = th.suggest_levels(distribution, Direction.BELOW, th.Domain(min_spread=0))
    assert levels == th.Levels(warning=50.0, critical=-25.0)


def test_levels_are_clamped_to_the_domain() -> None:
    distribution = th.describe([40.0 + (v % 60) for v in range(240)])
    levels = th.suggest_levels(distribution, Direction.ABOVE, th.PERCENT)
    assert levels is not None
    assert levels.critical == 100.0
    below = th.suggest_levels(distribution, Direction.BELOW, th.PERCENT)
    assert below is not None and below.critical == 0.0


def test_a_flat_metric_gets_at_least_the_minimum_spread() -> None:
    distribution = th.describe([31.0] * 100)  # disk free that never moved
    levels = th.suggest_levels(distribution, Direction.BELOW, th.PERCENT)
    # spread 5 points: 31 - 7.5 and 31 - 15
    assert levels == th.Levels(warning=23.0, critical=16.0)


def test_the_minimum_spread_also_scales_with_the_median() -> None:
    distribution = th.describe([10.0] * 100)
    domain = th.Domain(lowest=0.0, relative_spread=0.25)  # spread 2.5
    levels = th.suggest_levels(distribution, Direction.ABOVE, domain)
    assert levels == th.Levels(warning=14.0, critical=18.0)  # 13.75 and 17.5 outwards


def test_frequent_normal_excursions_trip_the_suggested_levels_and_the_evidence_shows_it() -> None:
    values = [10.0] * 960 + [95.0] * 40  # a batch job: 4 % of the time far out
    points = [(float(index), value) for index, value in enumerate(values)]
    levels = th.suggest_levels(th.describe(values), Direction.ABOVE, th.PERCENT)
    assert levels == th.Levels(warning=18.0, critical=25.0)  # 17.5 and 25 outwards
    assert th.count_firing(points, levels.warning, Direction.ABOVE).samples == 40


def test_an_incident_in_a_small_part_of_the_period_barely_moves_the_suggestion() -> None:
    rng = random.Random(3)
    quiet = [rng.uniform(0.2, 0.6) for _ in range(1000)]
    with_incident = quiet[:950] + [8.0] * 50
    before = th.suggest_levels(th.describe(quiet), Direction.ABOVE, th.NON_NEGATIVE)
    after = th.suggest_levels(th.describe(with_incident), Direction.ABOVE, th.NON_NEGATIVE)
    assert before is not None and after is not None
    assert after.critical == pytest.approx(before.critical, rel=0.2)


@pytest.mark.parametrize(
    ("value", "direction", "expected"),
    [
        (2.31, Direction.ABOVE, 2.4),
        (2.31, Direction.BELOW, 2.3),
        (87.3, Direction.ABOVE, 88.0),
        (87.3, Direction.BELOW, 87.0),
        (1234.0, Direction.ABOVE, 1300.0),
        (0.0123, Direction.ABOVE, 0.013),
        (-7.25, Direction.BELOW, -7.3),
        (2.0, Direction.ABOVE, 2.0),
        (0.0, Direction.ABOVE, 0.0),
    ],
)
def test_round_outwards_never_makes_a_level_stricter(
    value: float, direction: Direction, expected: float
) -> None:
    assert th.round_outwards(value, direction) == expected


def test_durations_round_to_whole_hours_minutes_or_seconds_outwards() -> None:
    assert th.round_duration_outwards(34.5 * 3600, Direction.ABOVE) == 35 * 3600
    assert th.round_duration_outwards(12 * 3600 + 1, Direction.BELOW) == 12 * 3600
    assert th.round_duration_outwards(3 * 3600 + 1, Direction.ABOVE) == 3 * 3600 + 60
    assert th.round_duration_outwards(90.2, Direction.ABOVE) == 91.0
    assert th.round_duration_outwards(3 * 3600 + 59, Direction.BELOW) == 3 * 3600


def _series(values: list[float], step: float = 10.0) -> list[tuple[float, float]]:
    return [(index * step, value) for index, value in enumerate(values)]


def test_count_firing_counts_samples_and_episodes() -> None:
    points = _series([1, 5, 6, 1, 1, 7, 1, 8, 9, 9])
    firing = th.count_firing(points, 4.0, Direction.ABOVE)
    assert (firing.samples, firing.episodes) == (6, 3)
    assert firing.fraction == pytest.approx(0.6)


def test_count_firing_honours_a_hold_time_like_a_rules_for() -> None:
    # Runs beyond 4 start at 0 s, 30 s and 50 s; each value holds until the next point,
    # so they last 20 s (to the 1 at 20 s), 10 s (to the 1 at 40 s) and 20 s (to the end).
    points = _series([5, 5, 1, 5, 1, 5, 5, 5])
    assert th.count_firing(points, 4.0, Direction.ABOVE, hold=21).episodes == 0
    assert th.count_firing(points, 4.0, Direction.ABOVE, hold=20).episodes == 2
    assert th.count_firing(points, 4.0, Direction.ABOVE, hold=10).episodes == 3
    assert th.count_firing(points, 4.0, Direction.ABOVE, hold=0).episodes == 3
    assert th.count_firing(points, 4.0, Direction.ABOVE, hold=20).samples == 6


def test_a_sparse_observation_holds_until_the_next_one() -> None:
    hourly = [(0.0, 100.0), (3600.0, 40.0), (7200.0, 100.0), (10800.0, 40.0)]
    firing = th.count_firing(hourly, 50.0, Direction.BELOW, hold=300)
    assert firing.episodes == 1  # the last 40 has no later point: it lasted 0 s so far


def test_count_firing_is_strict_unless_inclusive_and_works_below() -> None:
    points = _series([50, 49, 50, 51])
    assert th.count_firing(points, 50, Direction.BELOW).samples == 1
    assert th.count_firing(points, 50, Direction.BELOW, inclusive=True).samples == 3
    assert th.count_firing(points, 50, Direction.ABOVE).samples == 1


def test_count_firing_over_no_points_is_zero() -> None:
    assert th.count_firing([], 1.0, Direction.ABOVE) == th.Firing(0, 0, 0.0)


def test_count_states_counts_runs_of_wanted_states() -> None:
    points = [
        (0.0, "ok"),
        (60.0, "warning"),
        (120.0, "critical"),
        (180.0, "ok"),
        (240.0, "critical"),
    ]
    firing = th.count_states(points, ["warning", "critical"])
    assert (firing.samples, firing.episodes) == (3, 2)
    assert th.count_states(points, ["warning", "critical"], hold=120).episodes == 1
    assert th.count_states(points, ["unknown"]).samples == 0


def test_levels_pick_the_one_matching_a_rules_severity() -> None:
    levels = th.Levels(warning=2.0, critical=4.0)
    assert levels.level_for("critical") == 4.0
    assert levels.level_for("warning") == 2.0
    assert levels.level_for("info") == 2.0


def test_twenty_minutes_of_samples_are_not_enough_to_suggest_levels() -> None:
    timestamps = [1.7e9 + 10.0 * i for i in range(121)]  # ten-second samples, 20 minutes
    assert th.shortfall(timestamps) == (
        "not enough data: 20 min of the 24 h needed, 121 values of the 100 needed"
    )


def test_a_long_span_with_few_observations_is_not_enough_either() -> None:
    daily = [1.7e9 + 86400.0 * day for day in range(7)]  # one check result a day
    assert th.shortfall(daily) == (
        "not enough data: 6 days of the 24 h needed, 7 values of the 100 needed"
    )
    assert th.shortfall([]) is not None


def test_a_day_of_minutely_samples_is_enough() -> None:
    assert th.shortfall([1.7e9 + 60.0 * i for i in range(24 * 60 + 1)]) is None
