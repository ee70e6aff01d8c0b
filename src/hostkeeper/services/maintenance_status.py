"""The maintenance part of the status model: the windows holding alerts, the planned ones
ahead, held alerts and the Alertmanager silences (docs/status.md, "Maintenance")."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from hostkeeper.adapters.store import Store, window_silences
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.config import Config
from hostkeeper.core.redact import redact_text
from hostkeeper.core.windows import WindowKind
from hostkeeper.services.maintenance import in_force, upcoming_planned
from hostkeeper.services.status_model import (
    MaintenanceStatus,
    UpcomingWindowStatus,
    WindowSilenceStatus,
    WindowStatus,
)


def maintenance_status(
    store: Store,
    config: Config | None,
    now: datetime,
    host: str | None = None,
    procedures: Collection[str] = (),
) -> MaintenanceStatus:
    """The windows holding alerts now (as recorded: the daemon's alert rounds record
    planned occurrences when they start), the next planned ones, held alerts and the
    Alertmanager silences.

    For another host of a fleet, whose configuration is not here, `config` is None and
    `procedures` names its procedures (its status scope): its planned windows to come
    are then not listed."""
    host = host or store.host
    view = store if host == store.host else Store(store.engine, host=host)
    recorded = window_store.holding_windows(view, now)
    if config is not None:
        holding = in_force(config, recorded)
    else:
        names = set(procedures)
        holding = [row for row in recorded if row.kind is not WindowKind.RUN or row.name in names]
    shown = {row.id for row in holding}
    silences = window_silences.silences_of(view, sorted(shown))
    silences += [s for s in window_silences.silence_problems(view) if s.window_id not in shown]
    return MaintenanceStatus(
        active=bool(holding),
        windows=[
            WindowStatus(
                id=row.id,
                kind=row.kind.value,
                name=row.name,
                reason=row.reason,
                severity=row.severity,
                started_at=row.starts_at,
                ends_at=row.ends_at,
                closed_at=row.closed_at,
                hold_until=row.hold_until,
                in_grace=row.window.in_grace(now),
                rules=list(row.rules) if row.rules is not None else None,
                opened_by=row.opened_by,
                run_id=row.run_id,
                incident_id=row.incident_id,
            )
            for row in holding
        ],
        upcoming=[
            UpcomingWindowStatus(
                name=u.name,
                starts_at=u.starts_at,
                ends_at=u.ends_at,
                reason=u.reason,
                rules=u.rules,
            )
            for u in (upcoming_planned(config, now) if config is not None else [])
        ],
        held_alerts=window_store.held_alert_count(view),
        silences=[
            WindowSilenceStatus(
                window_id=s.window_id,
                channel=s.channel,
                state=s.record.state.value,
                silence_id=s.record.silence_id,
                ends_at=s.record.ends_at,
                failed_attempts=s.record.attempts,
                error=redact_text(s.last_error) if s.last_error else None,
            )
            for s in silences
        ],
    )
