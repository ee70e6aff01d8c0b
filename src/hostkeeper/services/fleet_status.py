"""The fleet view: every host of a shared store, each from its own status model.

Each daemon records its heartbeat row (`fleet_hosts`) with its status scope and next
runs; here the status model (`services/status.py`) is computed for every host from that
scope and the host's rows, then summarised into one `FleetHost` per host. The same
`HostStatus` is what a host's drill-down dashboard (`/hosts/HOST/`) shows, so the fleet
row and the host's page cannot disagree.

Open maintenance windows are not in the row yet: when the store records them, add the
field to `FleetHost` (services/status_model.py) and fill it in `summarise()` from the
host's status.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import structlog
from pydantic import ValidationError

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import fleet as fleet_store
from hostkeeper.core.fleet import is_silent, silent_for
from hostkeeper.services.status import build_status
from hostkeeper.services.status_model import (
    FleetHost,
    FleetProcedure,
    FleetRestoreTest,
    FleetStatus,
    HostStatus,
)
from hostkeeper.services.status_scope import StatusScope

log = structlog.get_logger("hostkeeper.fleet")

SEVERITIES = ("critical", "warning", "info")
RUNNING, SILENT, STOPPED = "running", "silent", "stopped"


def build_fleet(store: Store, now: datetime, silent_after: timedelta) -> FleetStatus:
    """Every host that ever recorded a heartbeat in `store`, by name."""
    hosts = []
    for row in fleet_store.fleet_hosts_rows(store):
        status = _status_of(store, row, now, silent_after)
        hosts.append(summarise(status, row, now, silent_after))
    return FleetStatus(
        generated_at=now, silent_after_seconds=silent_after.total_seconds(), hosts=hosts
    )


def recorded_host_status(
    store: Store, host: str, now: datetime, silent_after: timedelta
) -> HostStatus | None:
    """`host`'s status as its recorded scope defines it; None for a host never heard of."""
    row = fleet_store.host_row(store, host)
    if row is None:
        return None
    return _status_of(store, row, now, silent_after)


def host_state(row: fleet_store.HostRow, now: datetime, silent_after: timedelta) -> str:
    if row.stopped_at is not None:
        return STOPPED
    return SILENT if is_silent(row.heartbeat_at, now, silent_after) else RUNNING


def summarise(
    status: HostStatus, row: fleet_store.HostRow, now: datetime, silent_after: timedelta
) -> FleetHost:
    """The fleet's row of one host, from that host's status model."""
    newest = [b.newest for b in status.backups if b.newest is not None]
    tests = [(b.set, b.restore_test) for b in status.backups if b.restore_test is not None]
    newest_test = max(tests, key=lambda item: item[1].tested_at, default=None)
    firing = {severity: 0 for severity in SEVERITIES}
    for alert in status.alerts.firing:
        firing[alert.severity] = firing.get(alert.severity, 0) + 1
    return FleetHost(
        host=status.host,
        state=host_state(row, now, silent_after),
        last_heartbeat=row.heartbeat_at,
        heartbeat_age_seconds=silent_for(row.heartbeat_at, now).total_seconds(),
        version=row.version,
        started_at=row.started_at,
        health_score=status.health.score,
        health_state=status.health.state,
        failing=[p.procedure for p in status.failing],
        missed=[p.procedure for p in status.procedures if p.last_status == "missed"],
        procedures=[
            FleetProcedure(
                procedure=p.procedure,
                last_run=p.last_run,
                last_status=p.last_status,
                failing=p.failing,
                next_run=p.next_run,
            )
            for p in status.procedures
        ],
        newest_backup_age_seconds=min((a.age_seconds for a in newest), default=None),
        stale_backups=[b.set for b in status.stale_backups],
        last_restore_test=None
        if newest_test is None
        else FleetRestoreTest(
            set=newest_test[0], tested_at=newest_test[1].tested_at, ok=newest_test[1].ok
        ),
        alerts_firing=firing,
        dashboard=f"/hosts/{quote(status.host, safe='')}/",
    )


def _status_of(
    store: Store, row: fleet_store.HostRow, now: datetime, silent_after: timedelta
) -> HostStatus:
    return build_status(
        store,
        _scope(row),
        now=now,
        next_runs=_next_runs(row),
        daemon_state=_daemon_state(row, now, silent_after),
        host=row.host,
    )


def _scope(row: fleet_store.HostRow) -> StatusScope:
    """The host's recorded scope; an unreadable one lists nothing (its heartbeat, version
    and alerts still show), so one odd row never hides the rest of the fleet."""
    try:
        return StatusScope.model_validate_json(row.scope)
    except ValidationError as error:
        log.warning("unreadable status scope in the store", host=row.host, error=str(error))
        return StatusScope(
            timezone="UTC", splay_seconds=0, procedures=[], checks=[], backup_sets=[], disks=[]
        )


def _next_runs(row: fleet_store.HostRow) -> dict[str, datetime | None]:
    try:
        recorded = json.loads(row.next_runs)
    except ValueError:
        return {}
    if not isinstance(recorded, dict):
        return {}
    result: dict[str, datetime | None] = {}
    for name, moment in recorded.items():
        try:
            result[str(name)] = datetime.fromisoformat(moment).astimezone(UTC) if moment else None
        except (TypeError, ValueError):
            result[str(name)] = None
    return result


def _daemon_state(
    row: fleet_store.HostRow, now: datetime, silent_after: timedelta
) -> dict[str, Any]:
    """The host's daemon as `status_model.DaemonStatus` takes it (its state file is on
    that host; its row says as much as the fleet needs)."""
    return {
        "running": host_state(row, now, silent_after) == RUNNING,
        "pid": row.pid,
        "started_at": row.started_at,
        "config_file": "",
        "config_loaded_at": row.config_loaded_at,
        "last_reload": row.last_reload,
        "version": row.version,
        "dashboard_url": row.dashboard_url,
    }
