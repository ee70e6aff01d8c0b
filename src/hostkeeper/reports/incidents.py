"""`report: incidents`: the incidents of a period, each with its timeline, on one page.

report_dir/incidents/incidents_YYYYMMDD.html for the period (30 days by default), and
report_dir/incidents/incident_ID.html for one incident (`incident report ID`, and
`incident close` writes it): opening and closing with who, root cause and prevention,
the timeline (runs, steps, alerts, notes), the runs with their steps, and the alerts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.config import Config
from hostkeeper.reports import page
from hostkeeper.reports.common import report_path, write_text
from hostkeeper.services.incidents import IncidentView, incident_view, list_incidents

NAME = "incidents"
TITLE = "Incidents and their timelines"
PERIOD = timedelta(days=30)
FOLDER = "incidents"
MAX_INCIDENTS = 200


def render(views: list[IncidentView], title: str, subtitle: str, now: datetime) -> str:
    durations = {
        view.incident.id: (
            (view.incident.closed_at or now) - view.incident.starts_at
        ).total_seconds()
        for view in views
    }
    return page.render(
        "incidents.html",
        {
            "title": title,
            "subtitle": subtitle,
            "views": views,
            "durations": durations,
            "open_count": sum(1 for view in views if view.incident.closed_at is None),
        },
    )


def summary(views: list[IncidentView]) -> dict[str, Any]:
    return {
        "incidents": [
            {
                "id": view.incident.id,
                "title": view.incident.reason,
                "severity": view.incident.severity,
                "opened": view.incident.starts_at.isoformat(),
                "closed": view.incident.closed_at.isoformat() if view.incident.closed_at else None,
                "cause": view.incident.cause,
                "timeline_entries": len(view.timeline),
            }
            for view in views
        ],
        "totals": {
            "incidents": len(views),
            "open": sum(1 for view in views if view.incident.closed_at is None),
        },
    }


def write(
    config: Config,
    store: Store,
    now: datetime,
    *,
    period: timedelta | None = None,
    output: Path | None = None,
    config_path: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    start = now - (period or PERIOD)
    rows = [
        row
        for row in list_incidents(store, MAX_INCIDENTS)
        if row.starts_at <= now and (row.closed_at is None or row.closed_at >= start)
    ]
    views = [incident_view(store, row.id, now) for row in reversed(rows)]
    text = render(
        views,
        f"Incidents — {store.host}",
        f"{page.when(start)} to {page.when(now)}",
        now,
    )
    path = output or report_path(config, now, FOLDER, "incidents", "html")
    return write_text(path, text), summary(views)


def write_incident(
    config: Config, store: Store, incident_id: int, now: datetime, output: Path | None = None
) -> Path:
    """One incident's page; raises MaintenanceError, WindowNotFound, OSError."""
    view = incident_view(store, incident_id, now)
    incident = view.incident
    text = render(
        [view],
        f"Incident #{incident.id} — {store.host}",
        f"{incident.severity}; written {page.when(now)}",
        now,
    )
    path = output or Path(config.paths.report_dir) / FOLDER / f"incident_{incident.id}.html"
    return write_text(path, text)
