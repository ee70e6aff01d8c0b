"""The fleet's rows: each daemon's heartbeat with what the fleet view needs of it.

A daemon writes only its own row (`store.host`); the fleet view and the watch for
silent hosts read every row. `scope` and `next_runs` are JSON text, written and read by
the services that own their shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import alerts, fleet_hosts


@dataclass(frozen=True)
class HostBeat:
    """One heartbeat of the daemon of `store.host`, with what the fleet shows of it."""

    version: str
    pid: int
    started_at: datetime
    at: datetime
    config_loaded_at: datetime
    last_reload: str
    dashboard_url: str | None
    scope: str  # JSON
    next_runs: str  # JSON
    summary: str | None = None  # JSON


@dataclass(frozen=True)
class HostRow:
    host: str
    version: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    config_loaded_at: datetime
    last_reload: str
    dashboard_url: str | None
    scope: str
    next_runs: str
    summary: str | None


def record_heartbeat(store: Store, beat: HostBeat) -> None:
    """Write this host's row; a daemon that beats again after a clean stop is running."""
    values = {
        "version": beat.version,
        "pid": beat.pid,
        "started_at": beat.started_at,
        "heartbeat_at": beat.at,
        "stopped_at": None,
        "config_loaded_at": beat.config_loaded_at,
        "last_reload": beat.last_reload,
        "dashboard_url": beat.dashboard_url,
        "scope": beat.scope,
        "next_runs": beat.next_runs,
        "summary": beat.summary,
    }
    with store.write() as connection:
        # One daemon per host writes this row, so update-then-insert cannot race.
        updated = connection.execute(
            update(fleet_hosts).where(fleet_hosts.c.host == store.host).values(**values)
        )
        if updated.rowcount == 0:
            connection.execute(insert(fleet_hosts).values(host=store.host, **values))


def record_stop(store: Store, at: datetime) -> None:
    """A clean stop: the fleet view says `stopped` instead of guessing."""
    with store.write() as connection:
        connection.execute(
            update(fleet_hosts)
            .where(fleet_hosts.c.host == store.host)
            .values(stopped_at=at, heartbeat_at=at)
        )


def fleet_hosts_rows(store: Store) -> list[HostRow]:
    """Every host that ever beat, by name."""
    with store.read() as connection:
        rows = connection.execute(select(fleet_hosts).order_by(fleet_hosts.c.host)).mappings()
        return [HostRow(**dict(row)) for row in rows]


def host_row(store: Store, host: str) -> HostRow | None:
    with store.read() as connection:
        row = (
            connection.execute(select(fleet_hosts).where(fleet_hosts.c.host == host))
            .mappings()
            .first()
        )
    return HostRow(**dict(row)) if row is not None else None


def heartbeats(store: Store) -> dict[str, datetime]:
    """The newest heartbeat of every host (what the watch for silent hosts reads)."""
    with store.read() as connection:
        rows = connection.execute(select(fleet_hosts.c.host, fleet_hosts.c.heartbeat_at)).all()
    return {host: at for host, at in rows}


def firing_alert_counts(store: Store) -> dict[str, dict[str, int]]:
    """Firing alerts of every host by severity (host -> severity -> count)."""
    with store.read() as connection:
        rows = connection.execute(
            select(alerts.c.host, alerts.c.severity, func.count())
            .where(alerts.c.state == "firing")
            .group_by(alerts.c.host, alerts.c.severity)
        ).all()
    counts: dict[str, dict[str, int]] = {}
    for host, severity, count in rows:
        counts.setdefault(host, {})[severity] = int(count)
    return counts
