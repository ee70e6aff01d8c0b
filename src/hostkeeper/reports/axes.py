"""Where a chart's axes put their ticks and what the ticks say.

The time axis spans the period the chart shows (not just the data in it: a fresh
host's 24 h chart with a minute of samples still reads 24 hours), ticks fall on round
times, and the labels are as fine as the span needs and never repeat. The value axis
uses round steps and never goes below the lowest value the quantity can take (0 for
percentages, sizes, counts, loads and durations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

MINUTE, HOUR, DAY, WEEK = 60, 3600, 86400, 7 * 86400
MAX_TIME_TICKS = 8
MAX_VALUE_TICKS = 6
# Steps below a month, in seconds; months are counted on the calendar.
_STEPS = (
    *(1, 2, 5, 10, 15, 30),
    *(MINUTE * m for m in (1, 2, 5, 10, 15, 30)),
    *(HOUR * h for h in (1, 2, 3, 6, 12)),
    DAY,
    2 * DAY,
    WEEK,
    2 * WEEK,
)
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)
_MONDAY = 4 * DAY  # the epoch was a Thursday: weeks start on the Monday after it


@dataclass(frozen=True)
class Tick:
    at: float  # epoch seconds, or the value on a value axis
    label: str


def time_format(span: float) -> str:
    """The strftime format for ticks on an axis `span` seconds long."""
    if span <= HOUR:
        return "%H:%M:%S"
    if span <= DAY:
        return "%H:%M"
    if span <= 3 * DAY:
        return "%m-%d %H:%M"
    if span <= 2 * WEEK:
        return "%m-%d"
    return "%Y-%m-%d"


def time_ticks(start: float, end: float, max_ticks: int = MAX_TIME_TICKS) -> list[Tick]:
    """At most `max_ticks` ticks on round UTC times in [start, end), labelled for the
    span; past three days ticks fall on midnights, so every label is a distinct day."""
    end = max(end, start + 1)
    span = end - start
    fmt = time_format(span)
    shortest = DAY if span > 3 * DAY else 1
    for step in _STEPS:
        if step < shortest:
            continue
        found = _regular_ticks(start, end, step, max_ticks)
        if found is not None:
            return _labelled(found or [start], fmt)
    for months in _MONTH_STEPS:
        found = _month_ticks(start, end, months)
        if len(found) <= max_ticks:
            return _labelled(found or [start], fmt)
    return _labelled([start], fmt)


def _regular_ticks(start: float, end: float, step: int, limit: int) -> list[float] | None:
    """Multiples of `step` in [start, end), or None if there are more than `limit`."""
    origin = _MONDAY if step % WEEK == 0 else 0
    first = math.ceil((start - origin) / step) * step + origin
    count = math.ceil((end - first) / step)
    if count > limit:
        return None
    return [first + index * step for index in range(max(count, 0))]


def _month_ticks(start: float, end: float, months: int) -> list[float]:
    begin = datetime.fromtimestamp(start, UTC)
    index = begin.year * 12 + begin.month - 1
    index = math.ceil(index / months) * months
    found: list[float] = []
    while True:
        moment = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp()
        if moment >= end:
            return found
        if moment >= start:
            found.append(moment)
        index += months


def _labelled(moments: list[float], fmt: str) -> list[Tick]:
    return [Tick(at, datetime.fromtimestamp(at, UTC).strftime(fmt)) for at in moments]


@dataclass(frozen=True)
class ValueAxis:
    low: float
    high: float
    ticks: tuple[float, ...]


def value_axis(
    low: float,
    high: float,
    *,
    floor: float | None = 0.0,
    fixed_low: float | None = None,
    fixed_high: float | None = None,
    max_ticks: int = MAX_VALUE_TICKS,
) -> ValueAxis:
    """A value axis from `low` to `high` of the data, widened to round steps; never
    below `floor` (None for a quantity that can be negative); `fixed_low`/`fixed_high`
    pin an end (0-100 for a health score)."""
    if fixed_low is not None:
        low = fixed_low
    if fixed_high is not None:
        high = fixed_high
    if floor is not None:
        low, high = max(low, floor), max(high, floor)
    if math.isclose(low, high):
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
        if floor is not None:
            low = max(low, floor)
    step = _round_step((high - low) / (max_ticks - 1))
    axis_low = fixed_low if fixed_low is not None else math.floor(low / step) * step
    axis_high = fixed_high if fixed_high is not None else math.ceil(high / step) * step
    if floor is not None:
        axis_low = max(axis_low, floor)
    first = math.ceil(axis_low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= axis_high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ValueAxis(axis_low, axis_high, tuple(ticks))


def _round_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `raw`."""
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw * (1 - 1e-9):
            return factor * magnitude
    return 10 * magnitude
