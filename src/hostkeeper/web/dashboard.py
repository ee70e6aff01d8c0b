"""The maintenance dashboard: one server-rendered page that refreshes itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.checks import score_history
from hostkeeper.adapters.store.history import metric_buckets
from hostkeeper.reports import page as html
from hostkeeper.reports.svg import Series, bar_chart, line_chart
from hostkeeper.status_model import BackupStatus, HostStatus
from hostkeeper.web.report_files import ReportFile

REFRESH_SECONDS = 30
KEY_METRICS = (("cpu.percent", "%"), ("memory.percent", "%"), ("load.5m", ""))


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _restore_test_cell(backup: BackupStatus) -> str:
    """`never`, `ok WHEN`, or `FAILED WHEN: why` (the reason is what the operator needs)."""
    test = backup.restore_test
    if test is None:
        return "never"
    when = _when(test.tested_at)
    if test.ok:
        return f"ok {when}"
    return f"FAILED {when}: {test.detail or 'no reason recorded'}"


def _size(backup: BackupStatus) -> str:
    size = backup.newest.size_bytes if backup.newest else None
    return "-" if size is None else f"{size / 1_048_576:.1f} MB"


def _verified(backup: BackupStatus) -> bool | None:
    return backup.newest.verify_ok if backup.newest else None


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
) -> str:
    now = status.generated_at
    day_ago = now - timedelta(hours=24)
    failing = status.failing
    score = status.health.score
    score_state = (
        None
        if score is None
        else ("ok" if score >= 80 else "warning" if score >= 50 else "critical")
    )
    stale = status.stale_backups
    daemon = status.daemon
    cards = "".join(
        [
            html.card("health score", "-" if score is None else f"{score:.0f}", score_state),
            html.card(
                "firing alerts",
                len(status.alerts.firing),
                "critical" if status.alerts.firing else "ok",
            ),
            html.card("failing procedures", len(failing), "failed" if failing else "ok"),
            html.card("stale backup sets", len(stale), "warning" if stale else "ok"),
        ]
    )
    reload_line = ""
    if daemon is not None and not daemon.last_reload_ok:
        reload_line = (
            f'<p class="state-failed">last reload failed: {html.escape(daemon.last_reload)}</p>'
        )
    schedule = html.table(
        ["procedure", "schedule", "last run", "result", "duration", "next run", "error"],
        [
            [
                html.escape(p.procedure),
                html.escape(p.schedule),
                html.escape(_when(p.last_run)),
                html.state_cell(p.last_status),
                html.escape(
                    "-" if p.last_duration_seconds is None else f"{p.last_duration_seconds:.1f} s"
                ),
                html.escape(_when(p.next_run) if p.enabled else "disabled"),
                html.escape((p.last_error or "")[:160]),
            ]
            for p in status.procedures
        ],
        raw=True,
    )
    health_chart = line_chart(
        "Health score, last 24 h",
        [Series("health score", health_history(store, day_ago))],
        y_min=0,
        y_max=100,
    )
    metric_charts = "".join(
        line_chart(
            f"{name}, last 24 h",
            [Series(name, metric_buckets(store, name, day_ago, now))],
            unit=unit,
        )
        for name, unit in KEY_METRICS
    )
    durations = bar_chart(
        "Last run duration per procedure (s)",
        [
            (p.procedure, p.last_duration_seconds)
            for p in status.procedures
            if p.last_duration_seconds is not None
        ],
        unit=" s",
    )
    checks = html.table(
        ["check", "state", "value", "detail", "checked"],
        [
            [
                html.escape(c.name),
                html.state_cell(c.state),
                html.escape("-" if c.value is None else f"{c.value:.4g} {c.unit or ''}"),
                html.escape((c.detail or "")[:160]),
                html.escape(_when(c.checked_at)),
            ]
            for c in status.health.checks
        ],
        raw=True,
    )
    alerts = html.table(
        ["rule", "severity", "firing since", "acknowledged", "summary"],
        [
            [
                a.rule,
                a.severity,
                _when(a.since),
                "yes" if a.acknowledged else "no",
                a.summary or "",
            ]
            for a in status.alerts.firing
        ],
    )
    counts = (
        ", ".join(f"{count} {state}" for state, count in sorted(status.alerts.last_7_days.items()))
        or "none"
    )
    backups = html.table(
        ["set", "newest archive", "age", "size", "verified", "last restore test"],
        [
            [
                b.set,
                b.newest.archive if b.newest else "none",
                _age(b.newest.age_seconds if b.newest else None),
                _size(b),
                {None: "never", True: "ok", False: "FAILED"}[_verified(b)],
                _restore_test_cell(b),
            ]
            for b in status.backups
        ],
    )
    body = (
        f'<div class="cards">{cards}</div>{reload_line}'
        f"<h2>Schedule</h2>{schedule}"
        f'<h2>Health</h2><div class="charts">{health_chart}</div>{checks}'
        f'<h2>Performance</h2><div class="charts">{metric_charts}{durations}</div>'
        f"<h2>Alerts</h2><p>Last 7 days: {html.escape(counts)}</p>{alerts}"
        f"<h2>Backups</h2>{backups}"
        f"<h2>Reports</h2>{_newest_reports(reports or {})}"
        '<p><a href="/reports/">all reports</a></p>'
    )
    return html.page(
        f"hostkeeper — {status.host}",
        f"generated {_when(now)}; refreshes every {REFRESH_SECONDS} s",
        body,
        refresh_seconds=REFRESH_SECONDS,
    )


def _report_rows(reports: list[ReportFile]) -> list[list[str]]:
    return [
        [
            f'<a href="{html.escape(r.url)}">{html.escape(r.name)}</a>',
            html.escape(_when(r.modified)),
            html.escape(f"{r.size / 1024:.0f} KiB"),
        ]
        for r in reports
    ]


def _newest_reports(reports: dict[str, list[ReportFile]]) -> str:
    rows = [[html.escape(folder), *_report_rows(files[:1])[0]] for folder, files in reports.items()]
    return html.table(["kind", "newest report", "written", "size"], rows, raw=True)


def render_report_index(reports: dict[str, list[ReportFile]], host: str) -> str:
    """Every folder of report_dir with its newest reports, linked."""
    sections = "".join(
        f"<h2>{html.escape(folder)}</h2>"
        + html.table(["report", "written", "size"], _report_rows(files), raw=True)
        for folder, files in reports.items()
    )
    return html.page(
        f"hostkeeper reports — {host}",
        "newest first; the daemon writes them under paths.report_dir",
        '<p><a href="/">dashboard</a></p>' + (sections or '<p class="empty">none yet</p>'),
    )
