"""Trends: a least-squares line through a metric's history, and when it reaches 100 %.

The fit takes the five running sums of a line fit, so the store can compute them in one
SQL pass; `x` is seconds since an origin near the data (epoch seconds squared would lose
the precision a double has).

A slope per day is only given from at least MIN_SPAN of data and MIN_POINTS values
(`shortfall`): a line through twenty minutes of a CPU's ups and downs extrapolated to a
day says nothing about the host.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from hostkeeper.core import sufficiency
from hostkeeper.core.metrics import is_usage_metric

DAY = 86400.0
FULL = 100.0
MIN_SPAN = 3 * DAY  # a per-day slope wants several days, so one day's cycle cannot pass for it
MIN_POINTS = 100


@dataclass(frozen=True)
class LinearSums:
    n: int
    sum_x: float
    sum_y: float
    sum_xx: float
    sum_xy: float
    first_x: float = 0.0  # the smallest x, and
    last_x: float = 0.0  # the largest: the span the values cover

    @classmethod
    def of(cls, points: Iterable[tuple[float, float]]) -> LinearSums:
        n = 0
        sum_x = sum_y = sum_xx = sum_xy = 0.0
        first_x, last_x = math.inf, -math.inf
        for x, y in points:
            n += 1
            sum_x += x
            sum_y += y
            sum_xx += x * x
            sum_xy += x * y
            first_x, last_x = min(first_x, x), max(last_x, x)
        if n == 0:
            first_x = last_x = 0.0
        return cls(n, sum_x, sum_y, sum_xx, sum_xy, first_x, last_x)

    @property
    def span(self) -> float:
        return self.last_x - self.first_x


@dataclass(frozen=True)
class Line:
    slope: float  # per unit of x (seconds)
    intercept: float  # value at x = 0

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


def fit(sums: LinearSums) -> Line | None:
    """Least-squares line; None with fewer than two distinct x values."""
    if sums.n < 2:
        return None
    spread = sums.sum_xx - sums.sum_x * sums.sum_x / sums.n
    if spread <= 1e-9 * max(sums.sum_xx, 1.0):
        return None
    slope = (sums.sum_xy - sums.sum_x * sums.sum_y / sums.n) / spread
    intercept = (sums.sum_y - slope * sums.sum_x) / sums.n
    return Line(slope, intercept)


def days_until_full(value_now: float, slope_per_day: float) -> float | None:
    """Days until a usage percentage reaches 100 %; None when it is not rising."""
    if value_now >= FULL:
        return 0.0
    if slope_per_day <= 0:
        return None
    return (FULL - value_now) / slope_per_day


@dataclass(frozen=True)
class Trend:
    metric: str
    n: int
    slope_per_day: float
    value_now: float  # the fitted value at the end of the period
    days_until_full: float | None  # usage metrics only, when rising
    usage: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "n": self.n,
            "slope_per_day": self.slope_per_day,
            "value_now": self.value_now,
            "usage": self.usage,
            "days_until_full": self.days_until_full,
        }

    def describe(self) -> str:
        text = f"{self.metric} {self.slope_per_day:+.3g}/day"
        if self.usage:
            if self.days_until_full is None:
                text += ", not rising"
            else:
                text += f", 100% in {self.days_until_full:.0f} days"
        return text


def shortfall(sums: LinearSums) -> str | None:
    """Why `sums` cover too little to give a slope per day from, or None."""
    return sufficiency.shortfall(sums.span, sums.n, MIN_SPAN, MIN_POINTS)


def trend(metric: str, sums: LinearSums, end_x: float) -> Trend | None:
    """The trend of `metric` from its sums; `end_x` is the end of the period in x units.

    None without enough data (`shortfall`).
    """
    if shortfall(sums) is not None:
        return None
    line = fit(sums)
    if line is None:
        return None
    slope_per_day = line.slope * DAY
    value_now = line.at(end_x)
    usage = is_usage_metric(metric)
    return Trend(
        metric=metric,
        n=sums.n,
        slope_per_day=slope_per_day,
        value_now=value_now,
        days_until_full=days_until_full(value_now, slope_per_day) if usage else None,
        usage=usage,
    )
