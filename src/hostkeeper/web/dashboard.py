"""The maintenance dashboard: one server-rendered page that refreshes itself, and the
index of the reports; both from the templates in web/templates/, both fed from the
status model (`hostkeeper.services.status_model`) and the store's history reads."""

from __future__ import annotations

from datetime import datetime, timedelta

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.checks import score_history
from hostkeeper.adapters.store.history import metric_buckets
from hostkeeper.core.numbers import format_seconds
from hostkeeper.reports import page
from hostkeeper.reports.svg import Series, bar_chart, line_chart
from hostkeeper.services.status_model import BackupStatus, FleetStatus, HostStatus
from hostkeeper.web.report_files import ReportFile

PACKAGE = "hostkeeper.web"  # whose templates/ holds the dashboard's pages
REFRESH_SECONDS = 30
KEY_METRICS = (("cpu.percent", "%"), ("memory.percent", "%"), ("load.5m", ""))


def _restore_test_cell(backup: BackupStatus) -> str:
    """`never`, `ok WHEN`, or `FAILED WHEN: why` (the reason is what the operator needs)."""
    test = backup.restore_test
    if test is None:
        return "never"
    when = page.when(test.tested_at)
    if test.ok:
        return f"ok {when}"
    return f"FAILED {when}: {test.detail or 'no reason recorded'}"


def health_history(store: Store, since: datetime) -> list[tuple[float, float]]:
    return [
        (record.computed_at.timestamp(), float(record.score))
        for record in score_history(store, since)
        if record.score is not None
    ]


def render_dashboard(
    store: Store,
    status: HostStatus,
    reports: dict[str, list[ReportFile]] | None = None,
    fleet_note: str | None = None,
) -> str:
    """The dashboard of `status.host`. For another host of the fleet (`fleet_note` says
    whose it is and how it is heard from), its charts come from the same store and its
    reports stay on that host."""
    store = store.for_host(status.host)
    now = status.generated_at
    day = (now - timedelta(hours=24), now)
    daemon = status.daemon
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
            [Series(name, metric_buckets(store, name, *day))],
            unit=unit,
            period=day,
        )
        for name, unit in KEY_METRICS
    ]
    durations = bar_chart(
        "Last run duration per procedure (s)",
        [
            (p.procedure, p.last_duration_seconds)
            for p in status.procedures
            if p.last_duration_seconds is not None
        ],
        unit="s",
    )
    counts = (
        ", ".join(f"{count} {state}" for state, count in sorted(status.alerts.last_7_days.items()))
        or "none"
    )
    return page.render(
        "dashboard.html",
        {
            "title": f"hostkeeper — {status.host}",
            "subtitle": f"generated {page.when(now)}; refreshes every {REFRESH_SECONDS} s",
            "refresh_seconds": REFRESH_SECONDS,
            "status": status,
            "score_state": page.state_of_score(status.health.score),
            "failing": status.failing,
            "stale": status.stale_backups,
            "reload_error": None if daemon is None or daemon.last_reload_ok else daemon.last_reload,
            "health_chart": health_chart,
            "metric_charts": [*metric_charts, durations],
            "alert_counts": counts,
            "restore_test": _restore_test_cell,
            "reports": {folder: files for folder, files in (reports or {}).items() if files},
            "own_host": fleet_note is None,
            "fleet_note": fleet_note,
        },
        package=PACKAGE,
    )


def render_fleet(fleet: FleetStatus) -> str:
    """The fleet page: one row per host of the store, each linking to its dashboard."""
    return page.render(
        "fleet.html",
        {
            "title": "hostkeeper fleet",
            "subtitle": f"{len(fleet.hosts)} hosts; generated {page.when(fleet.generated_at)}; "
            f"silent after {format_seconds(fleet.silent_after_seconds)} without a heartbeat; "
            f"refreshes every {REFRESH_SECONDS} s",
            "refresh_seconds": REFRESH_SECONDS,
            "fleet": fleet,
            "quiet": [h for h in fleet.hosts if h.state != "running"],
            "failing": [h for h in fleet.hosts if h.failing],
            "critical": sum(h.alerts_firing.get("critical", 0) for h in fleet.hosts),
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
