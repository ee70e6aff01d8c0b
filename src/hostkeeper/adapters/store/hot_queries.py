"""The store's hot queries, as `db index-usage` checks them with EXPLAIN.

Each builds the same statement shape that the code paths named issue, with
representative parameters; keep them in step when a query changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Select, func, select

from hostkeeper.adapters.store.schema import (
    alerts,
    backup_archives,
    check_results,
    metric_blocks,
    notifications,
    procedure_results,
    restore_tests,
    rollups,
    runs,
    samples,
    series,
    silences,
    status_totals,
    step_results,
)

_WEEK_AGO = datetime(2026, 11, 20, tzinfo=UTC)


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
    "newest result of a check (status, alert rules)": lambda host: (
        select(check_results)
        .where(check_results.c.host == host, check_results.c.check_name == "disk")
        .order_by(check_results.c.checked_at.desc(), check_results.c.id.desc())
        .limit(1)
    ),
    # The status model's reads (adapters/store/status.py): current state, totals, what
    # is in flight and recent windows, never the whole history.
    "current state of the procedures (status)": lambda host: select(procedure_results).where(
        procedure_results.c.host == host
    ),
    "running totals (status, /metrics)": lambda host: select(status_totals).where(
        status_totals.c.host == host, status_totals.c.counter == "runs"
    ),
    "running runs (status)": lambda host: (
        select(runs.c.procedure, func.count())
        .where(runs.c.status == "running", runs.c.host == host, runs.c.dry_run.is_(False))
        .group_by(runs.c.procedure)
    ),
    "newest fire of an every: schedule (status, scheduler)": lambda host: (
        select(runs.c.scheduled_for)
        .where(
            runs.c.host == host,
            runs.c.procedure == "daily",
            runs.c.scheduled_for.is_not(None),
            runs.c.trigger.in_(["scheduled", "catch-up"]),
        )
        .order_by(runs.c.scheduled_for.desc())
        .limit(1)
    ),
    "pending and firing alerts (status, evaluation)": lambda host: select(alerts.c.id).where(
        alerts.c.host == host, alerts.c.state.in_(["pending", "firing"])
    ),
    "alerts of the last 7 days (status)": lambda host: select(alerts.c.state).where(
        alerts.c.host == host, alerts.c.pending_since >= _WEEK_AGO
    ),
    "deliveries in flight (status)": lambda host: (
        select(notifications.c.channel, notifications.c.state, func.count())
        .where(notifications.c.host == host, notifications.c.state.in_(["queued", "sending"]))
        .group_by(notifications.c.state, notifications.c.channel)
    ),
    "newest deliveries (status)": lambda host: (
        select(notifications)
        .where(notifications.c.host == host)
        .order_by(notifications.c.id.desc())
        .limit(200)
    ),
    "newest present archive of a set (status)": lambda host: (
        select(backup_archives)
        .where(
            backup_archives.c.host == host,
            backup_archives.c.backup_set == "config",
            backup_archives.c.state == "present",
        )
        .order_by(backup_archives.c.created_at.desc(), backup_archives.c.id.desc())
        .limit(1)
    ),
    "newest restore test of a set (status)": lambda host: (
        select(restore_tests)
        .where(restore_tests.c.host == host, restore_tests.c.backup_set == "config")
        .order_by(restore_tests.c.tested_at.desc(), restore_tests.c.id.desc())
        .limit(1)
    ),
    "silences in force (status)": lambda host: (
        select(silences)
        .where(
            silences.c.host == host,
            silences.c.lifted_at.is_(None),
            silences.c.until > _WEEK_AGO,
        )
        .order_by(silences.c.until)
    ),
    "firing critical alerts (preconditions)": lambda host: select(alerts.c.rule).where(
        alerts.c.host == host, alerts.c.state == "firing", alerts.c.severity == "critical"
    ),
}
