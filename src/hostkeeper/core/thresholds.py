"""Threshold suggestions from observed history: pure functions, no I/O.

Suggested levels sit outside the period's normal range by Tukey's outlier fences: with
the quartiles p25 and p75 and their distance (the interquartile range, IQR),

    above is worse:  warning = p75 + 1.5 x spread, critical = p75 + 3 x spread
    below is worse:  warning = p25 - 1.5 x spread, critical = p25 - 3 x spread

where spread is the IQR, but at least the domain's minimum spread and a fraction of the
median (a metric that barely moved would otherwise get levels a hair from its normal
value). Levels are clamped to the domain (0-100 for percentages) and rounded outwards
(never stricter) to two significant digits. Quartiles move little when an incident takes
a small part of the period, so a bad night does not drag the suggestion along and the
suggested levels would catch it again; the price is that a metric with frequent but
normal excursions (a nightly batch job) gets levels those excursions trip, which the
evidence then shows.

The evidence for a level is how often it would have tripped over the same observations:
`samples` beyond it and `episodes`, the runs of consecutive observations beyond it that
lasted at least `hold` (a rule's `for:`), i.e. how many alerts it would have raised.

No level is suggested from less than MIN_SPAN of history or fewer than MIN_OBSERVATIONS
observations: twenty minutes of ten-second samples are plenty of numbers but miss the
nightly batch job and the backup window a level has to live with (`shortfall`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hostkeeper.core import sufficiency

MIN_OBSERVATIONS = 100  # fewer observations: no suggestion, the quartiles mean little
MIN_SPAN = 24 * 3600.0  # seconds of history: a shorter one has not seen a whole day
MILD_FENCE = 1.5
FAR_FENCE = 3.0


class Direction(StrEnum):
    ABOVE = "above"  # larger values are worse (load, age, `x > N` rules)
    BELOW = "below"  # smaller values are worse (free space, health score, `x < N`)

    def trips(self, value: float, level: float, inclusive: bool = False) -> bool:
        """Whether `value` is beyond `level` in this direction (`inclusive`: <= or >=)."""
        if self is Direction.ABOVE:
            return value >= level if inclusive else value > level
        return value <= level if inclusive else value < level

    def stricter(self, first: float, second: float) -> bool:
        """Whether level `first` trips earlier than level `second`."""
        return first < second if self is Direction.ABOVE else first > second


@dataclass(frozen=True)
class Domain:
    """Where a value can lie and how narrow a normal range is still taken seriously."""

    lowest: float | None = None
    highest: float | None = None
    min_spread: float = 0.0  # in the value's own unit
    relative_spread: float = 0.1  # as a fraction of |median|

    def clamp(self, value: float) -> float:
        if self.lowest is not None:
            value = max(value, self.lowest)
        if self.highest is not None:
            value = min(value, self.highest)
        return value


PERCENT = Domain(lowest=0.0, highest=100.0, min_spread=5.0, relative_spread=0.0)
NON_NEGATIVE = Domain(lowest=0.0, min_spread=0.0, relative_spread=0.1)


@dataclass(frozen=True)
class Distribution:
    n: int
    minimum: float
    p1: float
    p25: float
    p50: float
    p75: float
    p95: float
    p99: float
    maximum: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "min": _tidy(self.minimum),
            "p1": _tidy(self.p1),
            "p25": _tidy(self.p25),
            "p50": _tidy(self.p50),
            "p75": _tidy(self.p75),
            "p95": _tidy(self.p95),
            "p99": _tidy(self.p99),
            "max": _tidy(self.maximum),
        }


@dataclass(frozen=True)
class Levels:
    warning: float
    critical: float

    def level_for(self, severity: str) -> float:
        """The level matching an alert rule's severity (critical, else warning)."""
        return self.critical if severity == "critical" else self.warning


@dataclass(frozen=True)
class Firing:
    samples: int  # observations beyond the level
    episodes: int  # alerts it would have raised
    fraction: float  # samples / observations

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "episodes": self.episodes,
            "fraction": round(self.fraction, 6),
        }


def percentile(ordered: Sequence[float], percent: float) -> float:
    """Linear-interpolated percentile (numpy's default) of ascending `ordered` values."""
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= percent <= 100:
        raise ValueError("percent must be within 0-100")
    position = (len(ordered) - 1) * percent / 100
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


def describe(values: Iterable[float]) -> Distribution:
    """Percentiles and extremes of `values` (at least one)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values to describe")
    return Distribution(
        n=len(ordered),
        minimum=ordered[0],
        p1=percentile(ordered, 1),
        p25=percentile(ordered, 25),
        p50=percentile(ordered, 50),
        p75=percentile(ordered, 75),
        p95=percentile(ordered, 95),
        p99=percentile(ordered, 99),
        maximum=ordered[-1],
    )


def suggest_levels(
    distribution: Distribution,
    direction: Direction,
    domain: Domain,
    rounding: Callable[[float, Direction], float] | None = None,
) -> Levels | None:
    """Warning and critical levels outside the normal range, or None with too few values.

    `rounding` turns a raw level into a presentable one without making it stricter
    (default: two significant digits, `round_outwards`).
    """
    if distribution.n < MIN_OBSERVATIONS:
        return None
    spread = max(
        distribution.p75 - distribution.p25,
        domain.min_spread,
        domain.relative_spread * abs(distribution.p50),
    )
    if direction is Direction.ABOVE:
        warning = distribution.p75 + MILD_FENCE * spread
        critical = distribution.p75 + FAR_FENCE * spread
    else:
        warning = distribution.p25 - MILD_FENCE * spread
        critical = distribution.p25 - FAR_FENCE * spread
    rounding = rounding or round_outwards
    warning = domain.clamp(rounding(warning, direction))
    critical = domain.clamp(rounding(critical, direction))
    return Levels(warning, critical)


def shortfall(
    timestamps: Sequence[float],
    min_span: float = MIN_SPAN,
    min_observations: int = MIN_OBSERVATIONS,
) -> str | None:
    """Why observations at `timestamps` (seconds) are too few or cover too short a time
    to suggest levels from, or None when they suffice."""
    span = max(timestamps) - min(timestamps) if timestamps else 0.0
    return sufficiency.shortfall(span, len(timestamps), min_span, min_observations)


def round_outwards(value: float, direction: Direction, digits: int = 2) -> float:
    """Round to `digits` significant digits, away from the normal side (never stricter)."""
    if value == 0 or not math.isfinite(value):
        return value
    step = 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
    scaled = round(value / step, 9)  # drop float noise such as 2.0000000000000004
    rounded = math.ceil(scaled) if direction is Direction.ABOVE else math.floor(scaled)
    return _tidy(rounded * step)


def count_firing(
    points: Sequence[tuple[float, float]],
    level: float,
    direction: Direction,
    *,
    inclusive: bool = False,
    hold: float = 0.0,
) -> Firing:
    """How often `level` would have tripped over `points` (time-ordered (ts, value) pairs).

    An episode is a run of consecutive points beyond the level; it counts when it lasted
    at least `hold` seconds. A value holds until the next observation, so a run lasts
    from its first point to the first point after it that is not beyond the level (or
    to its own last point, at the end of the data): an hourly health score of 40 counts
    for a `for: 5m` rule, as the rule would have seen it for an hour.
    """
    samples = episodes = 0
    started: float | None = None
    counted = False
    for ts, value in points:
        if direction.trips(value, level, inclusive):
            samples += 1
            if started is None:
                started, counted = ts, False
            if not counted and ts - started >= hold:
                episodes += 1
                counted = True
        elif started is not None:
            if not counted and ts - started >= hold:
                episodes += 1
            started = None
    fraction = samples / len(points) if points else 0.0
    return Firing(samples, episodes, fraction)


def count_states(
    points: Sequence[tuple[float, str]], states: Iterable[str], *, hold: float = 0.0
) -> Firing:
    """Like `count_firing` for check states: episodes of consecutive states in `states`."""
    wanted = set(states)
    flags = [(ts, 1.0 if state in wanted else 0.0) for ts, state in points]
    return count_firing(flags, 0.5, Direction.ABOVE, hold=hold)


def _tidy(value: float) -> float:
    """Drop binary noise from a computed number (0.30000000000000004 -> 0.3)."""
    return float(f"{value:.10g}")


_DURATION_STEPS = ((12 * 3600, 3600), (20 * 60, 60))


def round_duration_outwards(seconds: float, direction: Direction) -> float:
    """Round a duration level (seconds) outwards: whole hours from 12 h, minutes from 20 m."""
    step = next((size for at_least, size in _DURATION_STEPS if abs(seconds) >= at_least), 1)
    scaled = round(seconds / step, 9)
    rounded = math.ceil(scaled) if direction is Direction.ABOVE else math.floor(scaled)
    return float(rounded * step)
