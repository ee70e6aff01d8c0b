"""The fleet view: every host of a shared store, each from its own status model.

Every daemon records a heartbeat row (`fleet_hosts`) carrying its status scope, its next
runs and a summary of its own `HostStatus` (`summarise`), computed by the status model
(`services/status.py`) on that host at that heartbeat. The fleet view reads those rows
and the alerts firing now, so a view of hundreds of hosts is two queries; a host's
drill-down (`/hosts/HOST/`, `status --host HOST`) computes that host's whole status
from the store with the scope it recorded, as the host itself does.

Open maintenance windows are in the row as the host saw them at its heartbeat.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import structlog
from pydantic import ValidationError

from hostkeeper import __version__
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import fleet as fleet_store
from hostkeeper.config import Config
from hostkeeper.core.fleet import is_silent, silent_for
from hostkeeper.services.status import build_status
from hostkeeper.services.status_model import (
    FleetHost,
    FleetProcedure,
    FleetRestoreTest,
    FleetStatus,
    HostStatus,
    HostSummary,
    WindowStatus,
)
from hostkeeper.services.status_scope import StatusScope, scope_of

log = structlog.get_logger("hostkeeper.fleet")

SEVERITIES = ("critical", "warning", "info")
RUNNING, SILENT, STOPPED = "running", "silent", "stopped"


# -- what a host publishes ----------------------------------------------------------------


def _describe_window(window: WindowStatus) -> str:
    """`run weekly #12`, `incident #3 disk swap`, `adhoc #7` (as STATUS= names them)."""
    text = (
        f"{window.kind} {window.name} #{window.id}"
        if window.name
        else f"{window.kind} #{window.id}"
    )
    return f"{text} {window.reason}" if window.reason and window.kind == "incident" else text


def summarise(status: HostStatus) -> HostSummary:
    """The fleet's figures of one host, from that host's status model."""
    newest = [b.newest.created_at for b in status.backups if b.newest is not None]
    tests = [(b.set, b.restore_test) for b in status.backups if b.restore_test is not None]
    newest_test = max(tests, key=lambda item: item[1].tested_at, default=None)
    return HostSummary(
        computed_at=status.generated_at,
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
        newest_backup_at=max(newest, default=None),
        stale_backups=[b.set for b in status.stale_backups],
        maintenance=[_describe_window(w) for w in status.maintenance.windows],
        last_restore_test=None
        if newest_test is None
        else FleetRestoreTest(
            set=newest_test[0], tested_at=newest_test[1].tested_at, ok=newest_test[1].ok
        ),
    )


def heartbeat(
    store: Store,
    config: Config,
    now: datetime,
    daemon: Mapping[str, Any],
    next_runs: Mapping[str, datetime | None],
) -> fleet_store.HostBeat:
    """This host's heartbeat: who it is, its scope, its next runs and the summary of its
    status now. `daemon` is its state (daemon.json's fields)."""
    status = build_status(store, config, now=now, next_runs=next_runs)
    return fleet_store.HostBeat(
        version=str(daemon.get("version") or __version__),
        pid=int(daemon.get("pid") or os.getpid()),
        started_at=_time(daemon.get("started_at")) or now,
        at=now,
        config_loaded_at=_time(daemon.get("config_loaded_at")) or now,
        last_reload=str(daemon.get("last_reload") or "ok"),
        dashboard_url=daemon.get("dashboard_url"),
        scope=scope_of(config, store.host).model_dump_json(),
        next_runs=json.dumps(
            {name: at.astimezone(UTC).isoformat() if at else None for name, at in next_runs.items()}
        ),
        summary=summarise(status).model_dump_json(),
    )


# -- what the fleet view reads ------------------------------------------------------------


def build_fleet(store: Store, now: datetime, silent_after: timedelta) -> FleetStatus:
    """Every host that ever recorded a heartbeat in `store`, by name."""
    firing = fleet_store.firing_alert_counts(store)
    hosts = [
        fleet_host(row, _summary(row), firing.get(row.host, {}), now, silent_after)
        for row in fleet_store.fleet_hosts_rows(store)
    ]
    return FleetStatus(
        generated_at=now, silent_after_seconds=silent_after.total_seconds(), hosts=hosts
    )


def fleet_host(
    row: fleet_store.HostRow,
    summary: HostSummary | None,
    firing: Mapping[str, int],
    now: datetime,
    silent_after: timedelta,
) -> FleetHost:
    newest = summary.newest_backup_at if summary else None
    return FleetHost(
        host=row.host,
        state=host_state(row, now, silent_after),
        last_heartbeat=row.heartbeat_at,
        heartbeat_age_seconds=silent_for(row.heartbeat_at, now).total_seconds(),
        version=row.version,
        started_at=row.started_at,
        summary_at=summary.computed_at if summary else None,
        health_score=summary.health_score if summary else None,
        health_state=summary.health_state if summary else None,
        failing=summary.failing if summary else [],
        missed=summary.missed if summary else [],
        procedures=summary.procedures if summary else [],
        newest_backup_age_seconds=None if newest is None else (now - newest).total_seconds(),
        stale_backups=summary.stale_backups if summary else [],
        maintenance=summary.maintenance if summary else [],
        last_restore_test=summary.last_restore_test if summary else None,
        alerts_firing={**dict.fromkeys(SEVERITIES, 0), **firing},
        dashboard=f"/hosts/{quote(row.host, safe='')}/",
    )


def host_state(row: fleet_store.HostRow, now: datetime, silent_after: timedelta) -> str:
    if row.stopped_at is not None:
        return STOPPED
    return SILENT if is_silent(row.heartbeat_at, now, silent_after) else RUNNING


def recorded_host_status(
    store: Store, host: str, now: datetime, silent_after: timedelta
) -> HostStatus | None:
    """`host`'s whole status, computed now from the store with the scope and next runs
    it recorded; None for a host never heard of."""
    row = fleet_store.host_row(store, host)
    if row is None:
        return None
    return build_status(
        store,
        _scope(row),
        now=now,
        next_runs=_next_runs(row),
        daemon_state=_daemon_state(row, now, silent_after),
        host=row.host,
    )


def _summary(row: fleet_store.HostRow) -> HostSummary | None:
    if row.summary is None:
        return None
    try:
        return HostSummary.model_validate_json(row.summary)
    except ValidationError as error:
        log.warning("unreadable status summary in the store", host=row.host, error=str(error))
        return None


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
    return {str(name): _time(moment) for name, moment in recorded.items()}


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value).astimezone(UTC) if value else None
    except (TypeError, ValueError):
        return None


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
