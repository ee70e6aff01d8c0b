"""Trends of the baseline metrics over a period, from the resolution that covers it.

Shared by the `analyze_trends` step and the trend, capacity and health reports.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.metrics import linear_sums
from hostkeeper.config import Config
from hostkeeper.core.metrics import FIVE_MINUTES, HOUR, RAW
from hostkeeper.core.trends import LinearSums, Trend, shortfall, trend

RESOLUTION_NAMES = {RAW: "raw", FIVE_MINUTES: "5m", HOUR: "1h"}


def source_resolution(config: Config, period: timedelta) -> int:
    retention = config.metrics.retention
    if period <= retention.raw:
        return RAW
    if period <= retention.five_minute:
        return FIVE_MINUTES
    return HOUR


def trends(
    config: Config, store: Store, now: datetime, period: timedelta
) -> tuple[dict[str, Trend | None], int]:
    """The trend of each baseline metric (None without enough data) and the resolution."""
    found, _why_not, resolution = trends_and_shortfalls(config, store, now, period)
    return found, resolution


def trends_and_shortfalls(
    config: Config, store: Store, now: datetime, period: timedelta
) -> tuple[dict[str, Trend | None], dict[str, str], int]:
    """As `trends`, with why each metric without a trend has none."""
    resolution = source_resolution(config, period)
    start = now - period
    found: dict[str, Trend | None] = {}
    why_not: dict[str, str] = {}
    for metric in config.baselines.metrics:
        sums = LinearSums(
            *linear_sums(store, metric, start.timestamp(), now.timestamp(), resolution)
        )
        found[metric] = trend(metric, sums, period.total_seconds())
        if found[metric] is None:
            why_not[metric] = shortfall(sums) or "not enough data: the values do not vary in time"
    return found, why_not, resolution
