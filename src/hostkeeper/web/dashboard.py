"""The maintenance dashboard: one server-rendered page that refreshes itself, and the
index of the reports; both from the templates in web/templates/."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.schema import health_scores
from hostkeeper.reports import page
from hostkeeper.reports.svg import Series, bar_chart, line_chart
from hostkeeper.web.report_files import ReportFile
from hostkeeper.web.snapshot import Snapshot, metric_history

PACKAGE = "hostkeeper.web"  # whose templates/ holds the dashboard's pages
REFRESH_SECONDS = 30
KEY_METRICS = (("cpu.percent", "%"), ("memory.percent", "%"), ("load.5m", ""))


def _restore_test_cell(backup: dict[str, Any]) -> str:
    """`never`, `ok WHEN`, or `FAILED WHEN: why` (the reason is what the operator needs)."""
    if backup["restore_tested_at"] is None:
        return "never"
    when = page.when(backup["restore_tested_at"])
    if backup["restore_ok"]:
        return f"ok {when}"
    return f"FAILED {when}: {backup.get('restore_detail') or 'no reason recorded'}"


def health_history(store: Store, since: datetime) -> list[tuple[float, float]]:
    with store.read() as connection:
        rows = connection.execute(
            select(health_scores.c.computed_at, health_scores.c.score)
            .where(
                health_scores.c.host == store.host,
                health_scores.c.computed_at >= since,
                health_scores.c.score.is_not(None),
            )
            .order_by(health_scores.c.computed_at)
        ).all()
    return [(at.timestamp(), float(score)) for at, score in rows]


def render_dashboard(
    store: Store,
    snapshot: Snapshot,
    daemon_state: dict[str, Any] | None,
    reports: dict[str, list[ReportFile]] | None = None,
) -> str:
    now = snapshot.generated_at
    day = (now - timedelta(hours=24), now)
    failing = [p for p in snapshot.procedures if p["last_status"] in ("failed", "aborted")]
    stale = [
        b for b in snapshot.backups if b["age_seconds"] is None or b["age_seconds"] > 2 * 86400
    ]
    reload_error = None
    if daemon_state and daemon_state.get("last_reload") not in (None, "ok"):
        reload_error = daemon_state["last_reload"]
    health_chart = line_chart(
        "Health score, last 24 h",
        [Series("health score", health_history(store, day[0]))],
        y_min=0,
        y_max=100,
        period=day,
    )
    metric_charts = [
        line_chart(
            f"{name}, last 24 h",
            [Series(name, metric_history(store, name, day[0]))],
            unit=unit,
            period=day,
        )
        for name, unit in KEY_METRICS
    ]
    durations = bar_chart(
        "Last run duration per procedure (s)",
        [
            (p["procedure"], p["last_duration_seconds"])
            for p in snapshot.procedures
            if p["last_duration_seconds"] is not None
        ],
        unit="s",
    )
    counts = (
        ", ".join(f"{count} {state}" for state, count in sorted(snapshot.alert_counts.items()))
        or "none"
    )
    return page.render(
        "dashboard.html",
        {
            "title": f"hostkeeper — {snapshot.host}",
            "subtitle": f"generated {page.when(now)}; refreshes every {REFRESH_SECONDS} s",
            "refresh_seconds": REFRESH_SECONDS,
            "snapshot": snapshot,
            "score_state": page.state_of_score(snapshot.health_score),
            "failing": failing,
            "stale": stale,
            "reload_error": reload_error,
            "health_chart": health_chart,
            "metric_charts": [*metric_charts, durations],
            "alert_counts": counts,
            "restore_test": _restore_test_cell,
            "reports": {folder: files for folder, files in (reports or {}).items() if files},
        },
        package=PACKAGE,
    )


def render_report_index(reports: dict[str, list[ReportFile]], host: str) -> str:
    """Every folder of report_dir with its newest reports, linked."""
    return page.render(
        "report_index.html",
        {
            "title": f"hostkeeper reports — {host}",
            "subtitle": "newest first; the daemon writes them under paths.report_dir",
            "reports": reports,
        },
        package=PACKAGE,
    )
