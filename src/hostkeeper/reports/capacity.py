"""`report: capacity`: how long until each disk and memory limit at the current trend.

report_dir/capacity/capacity_YYYYMMDD.html: for every usage metric recorded
(`*.used_percent`, `memory.percent`, `swap.percent`), a least-squares line over the
period (90 days by default), the projected date it reaches 100 %, and a chart of the
values with the regression line and its projection.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.metrics import linear_sums, metric_names
from hostkeeper.config import Config
from hostkeeper.core.metrics import RAW, is_usage_metric
from hostkeeper.core.trends import LinearSums, Trend, trend
from hostkeeper.reports import page
from hostkeeper.reports.common import metric_series, report_path, write_text
from hostkeeper.reports.svg import Band, Series, line_chart
from hostkeeper.reports.trends import data_start, fitted_line, full_on, projection
from hostkeeper.services.trends import RESOLUTION_NAMES, source_resolution

NAME = "capacity"
TITLE = "Capacity planning"
PERIOD = timedelta(days=90)
HORIZON = timedelta(days=90)
SOON = 30  # days: a limit reached sooner than this is flagged


def build(
    config: Config, store: Store, now: datetime, period: timedelta = PERIOD
) -> tuple[str, dict[str, Any]]:
    start = now - period
    resolution = source_resolution(config, period)
    metrics = [m for m in metric_names(store) if is_usage_metric(m)]
    found: dict[str, Trend | None] = {}
    for metric in metrics:
        sums = LinearSums(
            *linear_sums(store, metric, start.timestamp(), now.timestamp(), resolution)
        )
        if sums.n == 0 and resolution != RAW:  # no rollups yet: the raw samples
            sums = LinearSums(*linear_sums(store, metric, start.timestamp(), now.timestamp(), RAW))
        found[metric] = trend(metric, sums, period.total_seconds())
    charts = []
    for metric, one in found.items():
        pairs = metric_series(store, metric, start, now)
        lines = [Series(metric, pairs)]
        if one is not None:
            lines += [
                fitted_line(one, data_start(pairs, start), now),
                projection(one, now, HORIZON),
            ]
        charts.append(
            line_chart(
                f"{metric}, projected {HORIZON.days} days",
                lines,
                unit="%",
                band=Band(100.0, 100.0, "limit", line=100.0, line_label="100 %"),
                y_min=0,
                y_max=100,
                period=(start, now + HORIZON),
            )
        )
    limits = {
        m: (None if t is None else t.days_until_full) for m, t in found.items() if t is not None
    }
    data: dict[str, Any] = {
        "report": "capacity",
        "host": store.host,
        "generated_at": now.isoformat(),
        "period": {"start": start.isoformat(), "end": now.isoformat()},
        "source": RESOLUTION_NAMES[resolution],
        "trends": {m: (None if t is None else t.as_dict()) for m, t in found.items()},
        "totals": {
            "metrics": len(found),
            "full_within_30_days": sum(d is not None and d < SOON for d in limits.values()),
        },
    }
    text = page.render(
        "capacity.html",
        {
            "title": f"Capacity planning — {store.host}",
            "subtitle": (
                f"{page.when(start)} to {page.when(now)}; {RESOLUTION_NAMES[resolution]} values"
            ),
            "trends": found,
            "soon": SOON,
            "full_on": lambda one: full_on(one, now),
            "regression_charts": charts,
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
    path = output or report_path(config, now, "capacity", "capacity", "html")
    return write_text(path, text), data
