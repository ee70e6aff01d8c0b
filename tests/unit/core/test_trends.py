"""Least-squares trends and the projection to 100 %."""

from __future__ import annotations

import random

import pytest

from hostkeeper.core.trends import DAY, LinearSums, days_until_full, fit, shortfall, trend


def test_fit_recovers_an_exact_line() -> None:
    line = fit(LinearSums.of((x, 3.0 + 0.5 * x) for x in range(10)))
    assert line is not None
    assert line.slope == pytest.approx(0.5)
    assert line.intercept == pytest.approx(3.0)


def test_fit_of_noisy_points_matches_the_statistics_module() -> None:
    import statistics

    rng = random.Random(3)
    xs = [float(i * 10) for i in range(6048)]
    ys = [20 + 1e-4 * x + rng.gauss(0, 2) for x in xs]
    line = fit(LinearSums.of(zip(xs, ys, strict=True)))
    expected = statistics.linear_regression(xs, ys)
    assert line is not None
    assert line.slope == pytest.approx(expected.slope, rel=1e-9)
    assert line.intercept == pytest.approx(expected.intercept, rel=1e-9)


def test_no_line_through_fewer_than_two_distinct_times() -> None:
    assert fit(LinearSums.of([])) is None
    assert fit(LinearSums.of([(5.0, 1.0)])) is None
    assert fit(LinearSums.of([(5.0, 1.0), (5.0, 3.0)])) is None


def test_days_until_full() -> None:
    assert days_until_full(80.0, 2.0) == pytest.approx(10.0)
    assert days_until_full(80.0, 0.0) is None
    assert days_until_full(80.0, -1.0) is None
    assert days_until_full(100.0, 1.0) == 0.0


def test_disk_growing_half_a_percent_a_day_is_full_in_time() -> None:
    week = 7 * DAY
    points = [(x, 60.0 + 0.5 * x / DAY) for x in range(0, int(week), 300)]
    found = trend("disk./.used_percent", LinearSums.of(points), week)
    assert found is not None
    assert found.usage
    assert found.slope_per_day == pytest.approx(0.5)
    assert found.value_now == pytest.approx(63.5)
    assert found.days_until_full == pytest.approx(73.0)
    assert "100% in 73 days" in found.describe()


def test_cpu_is_not_projected_to_full() -> None:
    points = [(float(x), 10.0 + x / DAY) for x in range(0, 4 * 86400, 600)]
    found = trend("cpu.percent", LinearSums.of(points), 4 * 86400)
    assert found is not None
    assert not found.usage
    assert found.days_until_full is None
    assert found.slope_per_day == pytest.approx(1.0)


def test_twenty_minutes_of_samples_give_no_slope_but_say_what_is_missing() -> None:
    # 120 ten-second samples of a CPU cooling down: a steep line, and no evidence at all
    points = [(x * 10.0, 60.0 - x * 0.17) for x in range(120)]
    sums = LinearSums.of(points)
    assert trend("cpu.percent", sums, 1200.0) is None
    assert shortfall(sums) == (
        "not enough data: 20 min of the 3 days needed, 120 values of the 100 needed"
    )


def test_three_days_but_too_few_values_give_no_slope() -> None:
    points = [(x * 3 * DAY / 49, 50.0 + x) for x in range(50)]
    sums = LinearSums.of(points)
    assert trend("disk./.used_percent", sums, 3 * DAY) is None
    assert shortfall(sums) == (
        "not enough data: 3 days of the 3 days needed, 50 values of the 100 needed"
    )


def test_sums_know_the_span_of_their_values() -> None:
    sums = LinearSums.of([(30.0, 1.0), (10.0, 2.0), (70.0, 3.0)])
    assert (sums.first_x, sums.last_x, sums.span) == (10.0, 70.0, 60.0)
    assert LinearSums.of([]).span == 0.0
