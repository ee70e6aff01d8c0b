"""Baselines: per-metric statistics, their versions, and when a new version may replace
the active one.

Statistics come from sorted values, or from a frequency table (distinct value -> count,
in value order), which is the same sorted sequence run-length encoded: metrics are
recorded at a fixed precision, so a week of 10-second samples has few distinct values.
Percentiles interpolate linearly between closest ranks, as
`statistics.quantiles(method="inclusive")` and numpy's default do.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import accumulate, islice, repeat

PERCENTILES = (50, 95, 99)
PROBE = 2000  # values looked at to choose between a frequency table and a full sort


class BaselineStatus(StrEnum):
    CANDIDATE = "candidate"  # computed by `update`, not validated yet
    ACTIVE = "active"  # the one alert rules compare with; at most one
    SUPERSEDED = "superseded"  # was active until a newer version was validated
    REJECTED = "rejected"  # failed validation
    ROLLED_BACK = "rolled_back"  # was active until an operator rolled back past it


@dataclass(frozen=True)
class MetricStats:
    n: int
    mean: float | None = None
    stddev: float | None = None  # sample standard deviation (n - 1); None below 2 values
    min: float | None = None
    max: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None

    def z_score(self, value: float) -> float | None:
        """How many standard deviations `value` is above the mean; None without spread."""
        if self.mean is None or not self.stddev:
            return None
        return (value - self.mean) / self.stddev

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "n": self.n,
            "mean": self.mean,
            "stddev": self.stddev,
            "min": self.min,
            "max": self.max,
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
        }


EMPTY = MetricStats(n=0)


def percentile(sorted_values: Sequence[float], percent: float) -> float:
    """The `percent` percentile of non-empty ascending values, interpolated linearly."""
    return _interpolate(lambda index: sorted_values[index], len(sorted_values), percent)


def summarize(sorted_values: Sequence[float]) -> MetricStats:
    """Statistics of ascending values."""
    n = len(sorted_values)
    if n == 0:
        return EMPTY
    mean = math.fsum(sorted_values) / n
    p50, p95, p99 = (percentile(sorted_values, p) for p in PERCENTILES)
    return MetricStats(
        n,
        mean,
        _stddev(sorted_values, None, mean, n),
        sorted_values[0],
        sorted_values[-1],
        p50,
        p95,
        p99,
    )


def summarize_counts(value_counts: Iterable[tuple[float, int]]) -> MetricStats:
    """Statistics of a frequency table: (value, count) pairs, each value once, any order."""
    table = {value: count for value, count in value_counts if count > 0}
    if not table:
        return EMPTY
    values = sorted(table)
    counts = [table[value] for value in values]
    n = sum(counts)
    mean = math.fsum(map(operator.mul, values, counts)) / n
    # ends[i] is one past the last rank holding values[i] in the expanded sequence.
    ends = list(accumulate(counts))

    def at(rank: int) -> float:
        return values[bisect.bisect_right(ends, rank)]

    p50, p95, p99 = (_interpolate(at, n, p) for p in PERCENTILES)
    return MetricStats(
        n, mean, _stddev(values, counts, mean, n), values[0], values[-1], p50, p95, p99
    )


def summarize_values(values: Iterable[float]) -> MetricStats:
    """Statistics of values in any order, consumed once (a list is sorted in place).

    Metrics recorded at a fixed precision repeat a few values many times: those are
    counted into a frequency table as they stream in, which costs much less than
    keeping and sorting every sample. Which way pays is judged from the first PROBE
    values.
    """
    stream = iter(values)
    probe = list(islice(stream, PROBE))
    if not probe:
        return EMPTY
    if len(set(probe)) * 4 <= len(probe):
        counts = Counter(probe)
        counts.update(stream)
        return summarize_counts(counts.items())
    probe.extend(stream)
    probe.sort()
    return summarize(probe)


def _stddev(
    values: Sequence[float], counts: Sequence[int] | None, mean: float, n: int
) -> float | None:
    """Sample standard deviation, from deviations to the mean (no cancellation)."""
    if n < 2:
        return None
    if counts is None:
        # math.dist sums the squared deviations in C, with extended precision.
        return math.dist(values, [mean] * len(values)) / math.sqrt(n - 1)
    deviations = list(map(operator.sub, values, repeat(mean)))
    squares = map(operator.mul, map(operator.mul, deviations, deviations), counts)
    return math.sqrt(math.fsum(squares) / (n - 1))


def _interpolate(value_at: Callable[[int], float], n: int, percent: float) -> float:
    if n == 0:
        raise ValueError("no values")
    if not 0 <= percent <= 100:
        raise ValueError(f"percentile {percent} is outside 0-100")
    position = percent / 100 * (n - 1)
    lower = math.floor(position)
    fraction = position - lower
    low = value_at(lower)
    if fraction == 0 or lower + 1 >= n:
        return low
    return low + (value_at(lower + 1) - low) * fraction


# -- update --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdatePlan:
    """What `baseline update` writes: fresh statistics where there were enough samples,
    the active version's statistics carried over where there were not."""

    stats: dict[str, MetricStats]
    updated: list[str]
    carried_over: list[str]
    short: dict[str, int]  # metric -> samples found, for those below min_samples

    @property
    def writes_version(self) -> bool:
        return bool(self.updated)


def plan_update(
    computed: Mapping[str, MetricStats],
    active: Mapping[str, MetricStats],
    min_samples: int,
) -> UpdatePlan:
    stats: dict[str, MetricStats] = {}
    updated: list[str] = []
    carried: list[str] = []
    short: dict[str, int] = {}
    for metric, fresh in computed.items():
        if fresh.n >= min_samples:
            stats[metric] = fresh
            updated.append(metric)
            continue
        short[metric] = fresh.n
        if metric in active:
            stats[metric] = active[metric]
            carried.append(metric)
    return UpdatePlan(stats, updated, carried, short)


# -- validation ----------------------------------------------------------------------------


def drift_percent(old_mean: float, new_mean: float) -> float:
    """How far the mean moved, in percent of the old mean (infinite from a zero mean)."""
    if old_mean == 0:
        return 0.0 if new_mean == 0 else math.inf
    return abs(new_mean - old_mean) / abs(old_mean) * 100.0


@dataclass(frozen=True)
class MetricVerdict:
    metric: str
    n: int
    old_mean: float | None
    new_mean: float | None
    drift_percent: float | None
    problem: str | None = None


@dataclass(frozen=True)
class Validation:
    verdicts: list[MetricVerdict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(verdict.problem is None for verdict in self.verdicts)

    @property
    def problems(self) -> list[str]:
        return [f"{v.metric}: {v.problem}" for v in self.verdicts if v.problem is not None]


def validate(
    candidate: Mapping[str, MetricStats],
    active: Mapping[str, MetricStats] | None,
    drift_threshold: float,
    min_samples: int,
) -> Validation:
    """Judge a candidate against the active version (None: there is none yet).

    A metric fails when it has fewer than `min_samples` values, or when its mean moved
    more than `drift_threshold` percent from the active version's mean. Metrics new in
    the candidate are only held to `min_samples`. An empty candidate fails.
    """
    if not candidate:
        return Validation(
            [MetricVerdict("*", 0, None, None, None, "the version has no statistics")]
        )
    verdicts = []
    for metric in sorted(candidate):
        new = candidate[metric]
        old = (active or {}).get(metric)
        drift = None
        problem = None
        if old is not None and old.mean is not None and new.mean is not None:
            drift = drift_percent(old.mean, new.mean)
        if new.n < min_samples:
            problem = f"{new.n} samples, fewer than min_samples {min_samples}"
        elif new.mean is None:
            problem = "no mean"
        elif drift is not None and drift > drift_threshold:
            assert old is not None and old.mean is not None
            problem = (
                f"mean moved {_format_drift(drift)} ({old.mean:.4g} -> {new.mean:.4g}), "
                f"more than drift_threshold {drift_threshold:g}%"
            )
        verdicts.append(
            MetricVerdict(
                metric, new.n, old.mean if old else None, new.mean, drift, problem=problem
            )
        )
    return Validation(verdicts)


def _format_drift(drift: float) -> str:
    return "from zero" if math.isinf(drift) else f"{drift:.1f}%"


# -- versions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRef:
    version: int
    status: BaselineStatus


def versions_to_prune(versions: Sequence[VersionRef], keep: int) -> list[int]:
    """Versions to delete so at most `keep` remain: oldest first, never the active one
    and never the newest (just written) one."""
    ordered = sorted(versions, key=lambda ref: ref.version)
    if not ordered:
        return []
    newest = ordered[-1].version
    excess = len(ordered) - keep
    doomed = []
    for ref in ordered:
        if excess <= 0:
            break
        if ref.status is BaselineStatus.ACTIVE or ref.version == newest:
            continue
        doomed.append(ref.version)
        excess -= 1
    return doomed


def rollback_target(versions: Sequence[VersionRef], requested: int | None) -> int:
    """The version a rollback activates; raise ValueError when there is none.

    Without `requested`: the newest version older than the active one that was once
    active or validated (superseded or rolled back), so a rollback never activates a
    version that failed validation unless the operator names it.
    """
    by_version = {ref.version: ref for ref in versions}
    active = next((ref for ref in versions if ref.status is BaselineStatus.ACTIVE), None)
    if requested is not None:
        if requested not in by_version:
            raise ValueError(f"there is no baseline version {requested}")
        if active is not None and active.version == requested:
            raise ValueError(f"version {requested} is already active")
        return requested
    if active is None:
        raise ValueError("no baseline version is active, so there is nothing to roll back")
    earlier = [
        ref.version
        for ref in versions
        if ref.version < active.version
        and ref.status in (BaselineStatus.SUPERSEDED, BaselineStatus.ROLLED_BACK)
    ]
    if not earlier:
        raise ValueError(f"no earlier version to roll back to from version {active.version}")
    return max(earlier)
