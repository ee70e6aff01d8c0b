"""Maintenance windows and incidents as stored (their silences and notes: window_silences,
window_notes)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import alerts, maintenance_windows, runs
from hostkeeper.core.windows import Window, WindowKind, hold_until


class WindowNotFound(LookupError):
    pass


@dataclass(frozen=True)
class WindowRow:
    """One window as stored; `window` gives the value core.windows reasons about."""

    id: int
    host: str
    kind: WindowKind
    name: str | None
    reason: str | None
    severity: str | None
    starts_at: datetime
    ends_at: datetime | None
    closed_at: datetime | None
    grace: timedelta
    hold_until: datetime | None
    rules: tuple[str, ...] | None
    run_id: int | None
    incident_id: int | None
    opened_by: str | None
    closed_by: str | None
    cause: str | None
    prevention: str | None
    announced_at: datetime | None
    start_notified_at: datetime | None
    end_notified_at: datetime | None

    @property
    def window(self) -> Window:
        return Window(
            id=self.id,
            kind=self.kind,
            start=self.starts_at,
            planned_end=self.ends_at,
            closed_at=self.closed_at,
            grace=self.grace,
            rules=frozenset(self.rules) if self.rules is not None else None,
        )


def window_row(row: Any) -> WindowRow:
    return WindowRow(
        id=row.id,
        host=row.host,
        kind=WindowKind(row.kind),
        name=row.name,
        reason=row.reason,
        severity=row.severity,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        closed_at=row.closed_at,
        grace=timedelta(seconds=row.grace_seconds or 0.0),
        hold_until=row.hold_until,
        rules=tuple(json.loads(row.rules)) if row.rules is not None else None,
        run_id=row.run_id,
        incident_id=row.incident_id,
        opened_by=row.opened_by,
        closed_by=row.closed_by,
        cause=row.cause,
        prevention=row.prevention,
        announced_at=row.announced_at,
        start_notified_at=row.start_notified_at,
        end_notified_at=row.end_notified_at,
    )


@dataclass(frozen=True)
class NewWindow:
    """What opening a window needs."""

    kind: WindowKind
    starts_at: datetime
    ends_at: datetime | None = None
    grace: timedelta = timedelta(0)
    rules: Sequence[str] | None = None
    name: str | None = None
    reason: str | None = None
    severity: str | None = None
    run_id: int | None = None
    incident_id: int | None = None
    opened_by: str | None = None


def _insert_values(store: Store, new: NewWindow) -> dict[str, Any]:
    return {
        "host": store.host,
        "kind": new.kind.value,
        "name": new.name,
        "reason": new.reason,
        "severity": new.severity,
        "starts_at": new.starts_at,
        "ends_at": new.ends_at,
        "grace_seconds": new.grace.total_seconds(),
        "hold_until": hold_until(new.ends_at, None, new.grace),
        "rules": json.dumps(sorted(new.rules)) if new.rules is not None else None,
        "run_id": new.run_id,
        "incident_id": new.incident_id,
        "opened_by": new.opened_by,
    }


def open_window(store: Store, new: NewWindow) -> int:
    """Record a window; return its id."""
    with store.write() as connection:
        result = connection.execute(insert(maintenance_windows).values(_insert_values(store, new)))
        key = result.inserted_primary_key
        assert key is not None  # an INSERT of one row always has one
        return int(key[0])


def ensure_window(store: Store, new: NewWindow) -> tuple[int, bool]:
    """The window of this host with `new`'s kind, name and start, recorded if missing:
    (its id, whether it was recorded now). Two processes racing record it once."""
    existing = _find(store, new)
    if existing is not None:
        return existing, False
    try:
        return open_window(store, new), True
    except IntegrityError:  # recorded meanwhile by another process
        found = _find(store, new)
        if found is None:
            raise
        return found, False


def _find(store: Store, new: NewWindow) -> int | None:
    with store.read() as connection:
        value = connection.execute(
            select(maintenance_windows.c.id).where(
                maintenance_windows.c.host == store.host,
                maintenance_windows.c.kind == new.kind.value,
                maintenance_windows.c.name == new.name,
                maintenance_windows.c.starts_at == new.starts_at,
            )
        ).scalar()
    return int(value) if value is not None else None


def close_window(
    store: Store,
    window_id: int,
    at: datetime,
    closed_by: str | None = None,
    cause: str | None = None,
    prevention: str | None = None,
) -> WindowRow:
    """Close a window at `at` (its grace starts then); a closed one stays as it was.

    Raises WindowNotFound. `cause` and `prevention` are an incident's root cause."""
    with store.write() as connection:
        row = _get(connection, store.host, window_id)
        if row.closed_at is None:
            values: dict[str, Any] = {
                "closed_at": at,
                "closed_by": closed_by,
                "hold_until": hold_until(row.ends_at, at, row.grace),
            }
            if cause is not None:
                values["cause"] = cause
            if prevention is not None:
                values["prevention"] = prevention
            connection.execute(
                update(maintenance_windows)
                .where(maintenance_windows.c.id == window_id)
                .values(**values)
            )
            row = _get(connection, store.host, window_id)
    return row


def _get(connection: Connection, host: str, window_id: int) -> WindowRow:
    row = connection.execute(
        select(maintenance_windows).where(
            maintenance_windows.c.id == window_id, maintenance_windows.c.host == host
        )
    ).first()
    if row is None:
        raise WindowNotFound(f"no maintenance window or incident #{window_id} on {host}")
    return window_row(row)


def get_window(store: Store, window_id: int) -> WindowRow:
    with store.read() as connection:
        return _get(connection, store.host, window_id)


def holding_windows(store: Store, now: datetime, host: str | None = None) -> list[WindowRow]:
    """Windows holding alerts at `now` (open, or in their grace), oldest first."""
    with store.read() as connection:
        rows = connection.execute(
            select(maintenance_windows)
            .where(
                maintenance_windows.c.host == (host or store.host),
                maintenance_windows.c.starts_at <= now,
                or_(
                    maintenance_windows.c.hold_until.is_(None),
                    maintenance_windows.c.hold_until > now,
                ),
            )
            .order_by(maintenance_windows.c.starts_at, maintenance_windows.c.id)
        ).all()
    return [window_row(row) for row in rows]


def unclosed_windows(store: Store, kinds: Sequence[WindowKind] | None = None) -> list[WindowRow]:
    """Windows never closed (a planned end may have passed), oldest first."""
    query = select(maintenance_windows).where(
        maintenance_windows.c.host == store.host, maintenance_windows.c.closed_at.is_(None)
    )
    if kinds is not None:
        query = query.where(maintenance_windows.c.kind.in_([kind.value for kind in kinds]))
    with store.read() as connection:
        rows = connection.execute(
            query.order_by(maintenance_windows.c.starts_at, maintenance_windows.c.id)
        ).all()
    return [window_row(row) for row in rows]


def future_windows(store: Store, now: datetime) -> list[WindowRow]:
    """Windows recorded ahead of their start (announced planned occurrences)."""
    with store.read() as connection:
        rows = connection.execute(
            select(maintenance_windows)
            .where(
                maintenance_windows.c.host == store.host,
                maintenance_windows.c.starts_at > now,
            )
            .order_by(maintenance_windows.c.starts_at)
        ).all()
    return [window_row(row) for row in rows]


def recent_windows(
    store: Store,
    limit: int = 20,
    kinds: Sequence[WindowKind] | None = None,
    since: datetime | None = None,
) -> list[WindowRow]:
    """This host's windows, newest start first."""
    query = select(maintenance_windows).where(maintenance_windows.c.host == store.host)
    if kinds is not None:
        query = query.where(maintenance_windows.c.kind.in_([kind.value for kind in kinds]))
    if since is not None:
        query = query.where(maintenance_windows.c.starts_at >= since)
    with store.read() as connection:
        rows = connection.execute(
            query.order_by(
                maintenance_windows.c.starts_at.desc(), maintenance_windows.c.id.desc()
            ).limit(limit)
        ).all()
    return [window_row(row) for row in rows]


def finished_run_windows(store: Store) -> list[tuple[WindowRow, datetime | None]]:
    """Unclosed run windows whose run is no longer running (it ended, or a crash left it
    to be closed as abandoned), with the run's end."""
    with store.read() as connection:
        rows = connection.execute(
            select(maintenance_windows, runs.c.finished_at.label("run_finished_at"))
            .join(runs, runs.c.id == maintenance_windows.c.run_id)
            .where(
                maintenance_windows.c.host == store.host,
                maintenance_windows.c.kind == WindowKind.RUN.value,
                maintenance_windows.c.closed_at.is_(None),
                runs.c.status != "running",
            )
        ).all()
    return [(window_row(row), row.run_finished_at) for row in rows]


def claim_notice(store: Store, window_id: int, notice: str, now: datetime) -> bool:
    """Take the one right to send `notice` (announced | start_notified | end_notified)
    about a window: True for the one process whose conditional update set it."""
    column = {
        "announced": maintenance_windows.c.announced_at,
        "start_notified": maintenance_windows.c.start_notified_at,
        "end_notified": maintenance_windows.c.end_notified_at,
    }[notice]
    with store.write() as connection:
        result = connection.execute(
            update(maintenance_windows)
            .where(maintenance_windows.c.id == window_id, column.is_(None))
            .values({column.name: now})
        )
        return bool(result.rowcount == 1)


def cancel_future_window(store: Store, window_id: int) -> None:
    """Forget a window recorded ahead of its start that will not happen after all."""
    with store.write() as connection:
        connection.execute(delete(maintenance_windows).where(maintenance_windows.c.id == window_id))


# -- alerts held by windows --------------------------------------------------------------------


def held_alert_count(store: Store, host: str | None = None) -> int:
    """Active alerts that began during maintenance and have not been notified (held)."""
    with store.read() as connection:
        # The active ids first, from the (host, state, severity) index alone: asked in one
        # go, SQLite's planner walks the whole table once ANALYZE's averages make
        # `state IN (...)` look unselective (as in alerts.active_alert_records).
        active = list(
            connection.execute(
                select(alerts.c.id).where(
                    alerts.c.host == (host or store.host),
                    alerts.c.state.in_(["pending", "firing"]),
                )
            ).scalars()
        )
        if not active:
            return 0
        value = connection.execute(
            select(func.count()).where(
                alerts.c.id.in_(active),
                alerts.c.maintenance_window_id.is_not(None),
                alerts.c.notifications == 0,
            )
        ).scalar()
    return int(value or 0)
