"""Incidents: windows of kind `incident` with notes, the runs made while they were open,
the alerts of their span, and a root cause (docs/maintenance.md).

`incident open` holds alerts like any window (an emergency is maintenance nobody
planned); every run that starts while it is open belongs to it (its run window also
names it), and `note` writes to it.
`incident show` and the incident report read one timeline built here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hostkeeper.adapters.store import Store, window_notes
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.adapters.store.window_notes import NoteRow
from hostkeeper.adapters.store.windows import NewWindow, WindowRow
from hostkeeper.config import Config
from hostkeeper.core.alerts import AlertRecord, EventKind
from hostkeeper.core.incidents import TimelineEntry, sort_timeline
from hostkeeper.core.windows import WindowKind
from hostkeeper.services.maintenance import MaintenanceError, grace_of, newest_open_incident

SEVERITIES = ("info", "warning", "critical")
# Alert events an incident's timeline shows; notifications and the rest stay in `alerts`.
TIMELINE_ALERT_EVENTS = {
    EventKind.FIRING: "fired",
    EventKind.RESOLVED: "resolved",
    EventKind.ACKNOWLEDGED: "acknowledged",
    EventKind.RELEASED: "notified after being held",
}


def open_incident(
    config: Config,
    store: Store,
    now: datetime,
    *,
    title: str,
    severity: str,
    opened_by: str,
    rules: Sequence[str] | None = None,
) -> WindowRow:
    if not title.strip():
        raise MaintenanceError("an incident needs a title")
    if severity not in SEVERITIES:
        raise MaintenanceError(f"severity must be one of {', '.join(SEVERITIES)}")
    incident_id = window_store.open_window(
        store,
        NewWindow(
            kind=WindowKind.INCIDENT,
            starts_at=now,
            grace=grace_of(config, None),
            rules=rules,
            reason=title.strip(),
            severity=severity,
            opened_by=opened_by,
        ),
    )
    return window_store.get_window(store, incident_id)


def resolve_incident(store: Store, incident_id: int | None) -> WindowRow:
    """Incident `incident_id`, or the one open incident when None.

    Raises MaintenanceError (none or several open, not an incident), WindowNotFound."""
    if incident_id is not None:
        row = window_store.get_window(store, incident_id)
        if row.kind is not WindowKind.INCIDENT:
            raise MaintenanceError(f"#{row.id} is a {row.kind.value} window, not an incident")
        return row
    open_ones = window_store.unclosed_windows(store, [WindowKind.INCIDENT])
    if not open_ones:
        raise MaintenanceError("no incident is open")
    if len(open_ones) > 1:
        ids = ", ".join(f"#{row.id}" for row in open_ones)
        raise MaintenanceError(f"{len(open_ones)} incidents are open ({ids}); name one")
    return open_ones[0]


def close_incident(
    store: Store,
    now: datetime,
    *,
    incident_id: int | None,
    cause: str,
    prevention: str | None,
    closed_by: str,
) -> WindowRow:
    row = resolve_incident(store, incident_id)
    if row.closed_at is not None:
        raise MaintenanceError(f"incident #{row.id} was closed at {row.closed_at:%Y-%m-%d %H:%M}")
    if not cause.strip():
        raise MaintenanceError("--cause needs the root cause")
    return window_store.close_window(
        store, row.id, now, closed_by, cause=cause.strip(), prevention=prevention
    )


def add_note(
    store: Store, now: datetime, *, text: str, author: str, window_id: int | None = None
) -> tuple[int, WindowRow]:
    """Write a note to window `window_id`, else to the open incident, else to the newest
    open window; (the note's id, the window). Raises MaintenanceError when there is none."""
    if not text.strip():
        raise MaintenanceError("the note is empty")
    if window_id is not None:
        target = window_store.get_window(store, window_id)
    else:
        found = newest_open_incident(store, now) or _newest_open_window(store, now)
        if found is None:
            raise MaintenanceError(
                "no incident or maintenance window is open; open one (`incident open`, "
                "`maintenance start`) or name one with --window"
            )
        target = found
    note_id = window_notes.add_note(store, target.id, now, author, text.strip())
    return note_id, target


def _newest_open_window(store: Store, now: datetime) -> WindowRow | None:
    holding = [row for row in window_store.holding_windows(store, now) if row.window.open_at(now)]
    return holding[-1] if holding else None


# -- the timeline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentView:
    """An incident with everything that happened while it was open."""

    incident: WindowRow
    timeline: list[TimelineEntry]
    notes: list[NoteRow]
    runs: list[run_store.RunRecord]
    alerts: list[AlertRecord]


def incident_view(store: Store, incident_id: int | None, now: datetime) -> IncidentView:
    """Incident `incident_id` (None: the one open incident) and its timeline: opening and
    closing, runs with their steps, alerts of its span, notes, who and when.

    Raises MaintenanceError, WindowNotFound."""
    incident = resolve_incident(store, incident_id)
    end = incident.closed_at or now
    # Every run started while it was open, a procedure without a window of its own too.
    runs = run_store.runs_started_between(store, incident.starts_at, end)
    notes = window_notes.notes_of(store, [incident.id])
    alerts = [
        record
        for record in alert_store.alerts_between(store, incident.starts_at, end)
        if record.id is not None
    ]
    entries = [_opened(incident)]
    if incident.closed_at is not None:
        entries.append(_closed(incident))
    entries += [TimelineEntry(n.at, "note", n.text, n.author) for n in notes]
    for run in runs:
        entries += _run_entries(run)
    for record in alerts:
        entries += _alert_entries(store, record, incident.starts_at, end)
    return IncidentView(incident, sort_timeline(entries), notes, runs, alerts)


def _opened(incident: WindowRow) -> TimelineEntry:
    return TimelineEntry(
        incident.starts_at,
        "opened",
        f"incident opened ({incident.severity}): {incident.reason}",
        incident.opened_by,
    )


def _closed(incident: WindowRow) -> TimelineEntry:
    assert incident.closed_at is not None
    text = f"incident closed; cause: {incident.cause}"
    if incident.prevention:
        text += f"; prevention: {incident.prevention}"
    return TimelineEntry(incident.closed_at, "closed", text, incident.closed_by)


def _run_entries(run: run_store.RunRecord) -> list[TimelineEntry]:
    what = f"{'dry run' if run.dry_run else 'run'} #{run.id} of {run.procedure}"
    entries = [TimelineEntry(run.started_at, "run", f"{what} started ({run.trigger})", None)]
    for step in run.steps:
        detail = step.error or step.summary or ""
        text = f"{run.procedure}: {step.label} {step.status.value}"
        entries.append(
            TimelineEntry(step.finished_at, "step", f"{text}: {detail}" if detail else text, None)
        )
    if run.finished_at is not None:
        text = f"{what} {run.status}"
        if run.error:
            text += f": {run.error}"
        entries.append(TimelineEntry(run.finished_at, "run", text, None))
    return entries


def _alert_entries(
    store: Store, record: AlertRecord, start: datetime, end: datetime
) -> list[TimelineEntry]:
    assert record.id is not None
    entries = []
    held = " (began during maintenance)" if record.maintenance_window is not None else ""
    for event in alert_store.events_of(store, record.id):
        label = TIMELINE_ALERT_EVENTS.get(event.kind)
        if label is None or not start <= event.at <= end:
            continue
        text = f"alert #{record.id} {record.rule} ({record.severity}) {label}{held}"
        if event.kind is EventKind.FIRING and record.summary:
            text += f": {record.summary}"
        entries.append(TimelineEntry(event.at, "alert", text, None))
    return entries


def list_incidents(store: Store, limit: int = 20) -> list[WindowRow]:
    return window_store.recent_windows(store, limit, [WindowKind.INCIDENT])
