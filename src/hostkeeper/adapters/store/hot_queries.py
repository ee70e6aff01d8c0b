"""The store's hot queries, as `db index-usage` checks them with EXPLAIN.

Each builds the same statement shape that the code paths named issue, with
representative parameters; keep them in step when a query changes.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select, func, select

from hostkeeper.adapters.store.schema import (
    alerts,
    check_results,
    metric_blocks,
    rollups,
    runs,
    samples,
    series,
    step_results,
)


def _series_id(host: str) -> object:
    return (
        select(series.c.id)
        .where(series.c.host == host, series.c.name == "cpu.percent")
        .scalar_subquery()
    )


HOT_QUERIES: dict[str, Callable[[str], Select[tuple[object, ...]]]] = {
    "runs of a procedure (runs, status)": lambda host: (
        select(runs)
        .where(runs.c.host == host, runs.c.procedure == "daily")
        .order_by(runs.c.started_at.desc())
        .limit(10)
    ),
    "steps of a run": lambda host: select(step_results).where(step_results.c.run_id == 1),
    "sealed blocks of a metric over a window (baselines, charts)": lambda host: select(
        metric_blocks.c.data
    ).where(
        metric_blocks.c.series_id == _series_id(host),
        metric_blocks.c.resolution == 0,
        metric_blocks.c.window_start > 1.0e9,
        metric_blocks.c.window_start < 2.0e9,
    ),
    "open samples of a metric over a window": lambda host: select(
        samples.c.ts, samples.c.value
    ).where(samples.c.series_id == _series_id(host), samples.c.ts >= 1.0e9, samples.c.ts < 2.0e9),
    "rollups of a metric": lambda host: select(rollups).where(
        rollups.c.series_id == 1, rollups.c.resolution == 300, rollups.c.ts >= 1.0e9
    ),
    "latest check results": lambda host: (
        select(check_results.c.check_name, func.max(check_results.c.checked_at))
        .where(check_results.c.host == host)
        .group_by(check_results.c.check_name)
    ),
    "firing critical alerts (preconditions)": lambda host: select(alerts.c.rule).where(
        alerts.c.host == host, alerts.c.state == "firing", alerts.c.severity == "critical"
    ),
}
