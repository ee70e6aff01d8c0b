"""Metric arithmetic: counter rates, CPU shares, rollup buckets and retention cut-offs.

Times are Unix epoch seconds (floats), as the store keeps them. Nothing here reads the
clock: callers pass `now` and elapsed seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

RAW = 0  # resolution of raw samples in `metrics show` and the store's readers
FIVE_MINUTES = 300
HOUR = 3600
ROLLUP_RESOLUTIONS = (FIVE_MINUTES, HOUR)

# `metrics show` reads raw samples for spans up to RAW_SPAN_LIMIT, 5-minute rollups up to
# FIVE_MINUTE_SPAN_LIMIT and hourly rollups beyond.
RAW_SPAN_LIMIT = 6 * HOUR
FIVE_MINUTE_SPAN_LIMIT = 7 * 86400

# Usage metrics are the ones whose trend is projected to 100 %.
USAGE_METRICS = frozenset({"memory.percent", "swap.percent"})
USAGE_SUFFIX = ".used_percent"


@dataclass(frozen=True)
class Sample:
    """One metric value at one time."""

    metric: str
    ts: float
    value: float


# -- counters ------------------------------------------------------------------------------


def counter_increase(previous: float, current: float) -> float:
    """How much a monotonic counter grew between two readings.

    A reading below the previous one means the counter restarted from zero (a device
    re-created, a driver reloaded, a 32-bit wrap): the increase is then the new reading,
    as Prometheus' rate() assumes.
    """
    if current < previous:
        return current
    return current - previous


def counter_rate(
    previous: Mapping[str, float], current: Mapping[str, float], elapsed: float
) -> float | None:
    """Per-second rate of a sum of counters keyed by device (disk, interface).

    Each device is differenced on its own, so one device's reset does not swallow the
    others' traffic. A device absent from `previous` (just appeared) contributes nothing
    this time. None when there is nothing to compare or no time passed.
    """
    if elapsed <= 0:
        return None
    keys = previous.keys() & current.keys()
    if not keys:
        return None
    return math.fsum(counter_increase(previous[key], current[key]) for key in keys) / elapsed


@dataclass(frozen=True)
class CpuTimes:
    """Cumulative CPU seconds since boot: everything, idle (with iowait) and iowait alone."""

    total: float
    idle: float
    iowait: float = 0.0


def cpu_percent(previous: CpuTimes, current: CpuTimes) -> float | None:
    """Busy share of CPU time between two readings, 0-100, one decimal (like psutil)."""
    total = current.total - previous.total
    if total <= 0:
        return None
    busy = total - (current.idle - previous.idle)
    return round(min(max(100.0 * busy / total, 0.0), 100.0), 1)


def cpu_iowait_percent(previous: CpuTimes, current: CpuTimes) -> float | None:
    """Share of CPU time spent idle waiting for I/O between two readings, 0-100."""
    total = current.total - previous.total
    if total <= 0:
        return None
    waiting = current.iowait - previous.iowait
    return round(min(max(100.0 * waiting / total, 0.0), 100.0), 1)


def process_cpu_percent(previous_seconds: float, current_seconds: float, elapsed: float) -> float:
    """A process's CPU use over `elapsed` wall seconds; 100 is one full core (like top)."""
    if elapsed <= 0 or current_seconds < previous_seconds:
        return 0.0
    return round(100.0 * (current_seconds - previous_seconds) / elapsed, 1)


# -- names ---------------------------------------------------------------------------------


def disk_metric(path: str, field: str) -> str:
    """`disk./.used_percent`, `disk./var.free_bytes`: the mount path is kept verbatim."""
    return f"disk.{path}.{field}"


def is_usage_metric(name: str) -> bool:
    """Whether a metric is a usage percentage that can be projected to reach 100 %."""
    return name in USAGE_METRICS or name.endswith(USAGE_SUFFIX)


# -- rollups -------------------------------------------------------------------------------


def bucket_start(ts: float, resolution: int) -> float:
    """Start of the `resolution`-second bucket holding `ts` (buckets align to the epoch)."""
    return float(math.floor(ts / resolution) * resolution)


@dataclass(frozen=True)
class RollupRange:
    """Bucket starts in [start, end) to (re)compute at one resolution."""

    start: float
    end: float

    @property
    def empty(self) -> bool:
        return self.end <= self.start


def rollup_range(
    newest_bucket: float | None, oldest_source: float | None, complete_until: float, resolution: int
) -> RollupRange | None:
    """Which buckets a rollup pass computes.

    From the newest bucket already stored (computed again, since samples may have
    arrived after it was first written) or, with none stored, from the bucket of the
    oldest source row; up to the last bucket that is complete at `complete_until`.
    None when there is nothing to do.
    """
    end = bucket_start(complete_until, resolution)
    if newest_bucket is not None:
        start = newest_bucket
    elif oldest_source is not None:
        start = bucket_start(oldest_source, resolution)
    else:
        return None
    result = RollupRange(start, end)
    return None if result.empty else result


# -- retention -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionCutoffs:
    """Rows older than these epoch times are deleted (None: delete nothing)."""

    raw: float | None
    five_minute: float | None
    hourly: float | None


def retention_cutoffs(
    now: float,
    raw_seconds: float,
    five_minute_seconds: float,
    hourly_seconds: float,
    five_minute_until: float | None,
    hourly_until: float | None,
) -> RetentionCutoffs:
    """Cut-offs per `metrics.retention`, never removing data not yet rolled up.

    `five_minute_until` / `hourly_until` are the ends of the rolled-up spans (the end of
    the newest stored bucket); raw samples and 5-minute rollups past them stay until a
    rollup pass has covered them, so a long outage of the daemon loses no history.
    """
    raw = now - raw_seconds
    raw_cutoff = None if five_minute_until is None else min(raw, five_minute_until)
    five = now - five_minute_seconds
    five_cutoff = None if hourly_until is None else min(five, hourly_until)
    return RetentionCutoffs(raw_cutoff, five_cutoff, now - hourly_seconds)


def display_resolution(
    span_seconds: float, raw_retention_seconds: float, five_minute_retention_seconds: float
) -> int:
    """Raw samples for short spans, 5-minute rollups for days, hourly ones beyond.

    A span reaching past what a resolution keeps moves to the coarser one.
    """
    if span_seconds <= min(RAW_SPAN_LIMIT, raw_retention_seconds):
        return RAW
    if span_seconds <= min(FIVE_MINUTE_SPAN_LIMIT, five_minute_retention_seconds):
        return FIVE_MINUTES
    return HOUR
