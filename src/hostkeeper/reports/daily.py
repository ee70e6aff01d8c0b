"""`report: daily`: the last 24 hours on one page.

report_dir/daily/health_report_YYYYMMDD.html: health score and check states, the key
metrics of the last 24 h, the runs of the period with their step results, firing
alerts and backup status.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.checks import score_history
from hostkeeper.adapters.store.runs import list_runs
from hostkeeper.config import Config
from hostkeeper.reports import page
from hostkeeper.reports.common import metric_series, report_path, write_text
from hostkeeper.reports.svg import Series, bar_chart, line_chart
from hostkeeper.services.status import build_status, next_runs_from_config

NAME = "daily"
TITLE = "Daily health report"
PERIOD = timedelta(hours=24)
KEY_METRICS = (
    ("cpu.percent", "%"),
    ("memory.percent", "%"),
    ("load.5m", ""),
    ("disk./.used_percent", "%"),
)
MAX_RUNS = 500


def build(
    config: Config, store: Store, now: datetime, period: timedelta = PERIOD
) -> tuple[str, dict[str, Any]]:
    start = now - period
    status = build_status(
        store, config, now=now, next_runs=next_runs_from_config(config, store, now)
    )
    health, firing = status.health, status.alerts.firing
    day_runs = [
        run
        for run in list_runs(store, limit=MAX_RUNS)
        if run.started_at >= start and run.status != "missed"
    ]
    day_runs.reverse()  # oldest first, as the day went
    scores = [
        (record.computed_at.timestamp(), record.score)
        for record in score_history(store, start, now)
        if record.score is not None
    ]
    failed_runs = [run for run in day_runs if run.status in ("failed", "aborted")]
    data: dict[str, Any] = {
        "report": "daily",
        "host": store.host,
        "generated_at": now.isoformat(),
        "period": {"start": start.isoformat(), "end": now.isoformat()},
        "health_score": health.score,
        "checks": {c.name: c.state for c in health.checks},
        "runs": [{"procedure": r.procedure, "status": r.status} for r in day_runs],
        "firing_alerts": [a.rule for a in firing],
        "failing_procedures": [p.procedure for p in status.failing],
        "backups": {b.set: b.newest.age_seconds if b.newest else None for b in status.backups},
        "stale_backups": [b.set for b in status.stale_backups],
        "totals": {
            "runs": len(day_runs),
            "failed_runs": len(failed_runs),
            "firing_alerts": len(firing),
        },
    }
    charts = [
        line_chart(
            "Health score",
            [Series("health score", scores)],
            y_min=0,
            y_max=100,
            period=(start, now),
        ),
        *(
            line_chart(
                name,
                [Series(name, metric_series(store, name, start, now))],
                unit=unit,
                period=(start, now),
            )
            for name, unit in KEY_METRICS
        ),
    ]
    durations = bar_chart(
        "Run durations (s)",
        [
            (f"{run.procedure} {run.started_at:%H:%M}", run.duration_seconds or 0.0)
            for run in day_runs
        ],
        unit="s",
    )
    text = page.render(
        "daily.html",
        {
            "title": f"Daily health report — {store.host}",
            "subtitle": f"{page.when(start)} to {page.when(now)}",
            "status": status,
            "score_state": page.state_of_score(health.score),
            "runs": day_runs,
            "failed_runs": failed_runs,
            "period_hours": period.total_seconds() / 3600,
            "metric_charts": charts,
            "durations": durations,
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
    path = output or report_path(config, now, "daily", "health_report", "html")
    return write_text(path, text), data
