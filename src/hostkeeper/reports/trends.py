"""`report: trends`: slopes and projections of the baseline metrics.

report_dir/trends/trends_YYYYMMDD.html: each metric of `baselines.metrics` over the
period (30 days by default) with its least-squares line, the slope per day and, for
usage metrics, the days until 100 % at that slope (the figures of `analyze_trends`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.config import Config
from hostkeeper.core.trends import DAY, Trend
from hostkeeper.reports import page
from hostkeeper.reports.common import metric_series, report_path, write_text
from hostkeeper.reports.svg import Series, line_chart
from hostkeeper.services.trends import RESOLUTION_NAMES, trends

NAME = "trends"
TITLE = "Trends of the baseline metrics"
PERIOD = timedelta(days=30)


def fitted_line(found: Trend, start: datetime, end: datetime) -> Series:
    """The fitted line from `start` to `end` (which may lie beyond the data)."""
    period_end = found.value_now
    return Series(
        "least-squares line",
        [
            (moment.timestamp(), period_end + found.slope_per_day * offset / DAY)
            for moment, offset in (
                (start, (start - end).total_seconds()),
                (end, 0.0),
            )
        ],
    )


def data_start(pairs: list[tuple[float, float]], start: datetime) -> datetime:
    """Where the data begins: a fitted line is drawn over the data, not before it."""
    return max(start, datetime.fromtimestamp(pairs[0][0], UTC)) if pairs else start


def projection(found: Trend, now: datetime, horizon: timedelta) -> Series:
    return Series(
        "projection",
        [
            (now.timestamp(), found.value_now),
            (
                (now + horizon).timestamp(),
                found.value_now + found.slope_per_day * horizon.total_seconds() / DAY,
            ),
        ],
    )


def full_on(found: Trend, now: datetime) -> str:
    if not found.usage:
        return "-"
    if found.days_until_full is None:
        return "not rising"
    return (
        f"{found.days_until_full:.0f} days ({now + timedelta(days=found.days_until_full):%Y-%m-%d})"
    )


def build(
    config: Config, store: Store, now: datetime, period: timedelta = PERIOD
) -> tuple[str, dict[str, Any]]:
    start = now - period
    found, resolution = trends(config, store, now, period)
    charts = []
    for metric, one in found.items():
        pairs = metric_series(store, metric, start, now)
        lines = [Series(metric, pairs)]
        if one is not None:
            lines.append(fitted_line(one, data_start(pairs, start), now))
        charts.append(line_chart(metric, lines, period=(start, now)))
    data: dict[str, Any] = {
        "report": "trends",
        "host": store.host,
        "generated_at": now.isoformat(),
        "period": {"start": start.isoformat(), "end": now.isoformat()},
        "source": RESOLUTION_NAMES[resolution],
        "trends": {m: (None if t is None else t.as_dict()) for m, t in found.items()},
        "totals": {
            "metrics": len(found),
            "fitted": sum(t is not None for t in found.values()),
        },
    }
    text = page.render(
        "trends.html",
        {
            "title": f"Trends — {store.host}",
            "subtitle": f"{page.when(start)} to {page.when(now)}",
            "source": RESOLUTION_NAMES[resolution],
            "trends": found,
            "full_on": lambda one: full_on(one, now),
            "trend_charts": charts,
        },
    )
    return text, data


def write(
    config: Config,
    store: Store,
    now: datetime,
    *,
    period: timedelta | None = None,
    output: Path | None = None,
    config_path: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    text, data = build(config, store, now, period or PERIOD)
    path = output or report_path(config, now, "trends", "trends", "html")
    return write_text(path, text), data
