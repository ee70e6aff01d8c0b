"""Computes the status model (`hostkeeper.services.status_model`) from the store, the
configuration, the daemon's state file, a `now` and the next fire times.

This is the only place where "last result", "failing", "next run" and backup freshness
are decided (docs/status.md says what they mean); every reader takes its answer from
here. Only procedures, checks and backup sets of the configuration are listed: one
removed from it disappears from every view, whatever its history. What is read of the
configuration is its status scope (`services.status_scope`): the loaded configuration's
for this host, the one each host recorded in the store for the fleet view.

Kept whole: one place computes every part of the status from the same facts, so the
readers cannot disagree (docs/status.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import dependencies as dependency_store
from hostkeeper.adapters.store import status as status_store
from hostkeeper.adapters.store.checks import latest_results, latest_score
from hostkeeper.adapters.store.metrics import latest_values
from hostkeeper.config import Config
from hostkeeper.core.health import worst_state
from hostkeeper.core.metrics import disk_metric
from hostkeeper.core.redact import redact_text
from hostkeeper.core.triggers import build_trigger, next_fire_time
from hostkeeper.services.checklists import newest_checklists
from hostkeeper.services.maintenance_status import maintenance_status
from hostkeeper.services.schedules import procedure_trigger
from hostkeeper.services.status_model import (
    AlertsStatus,
    AlertStatus,
    ArchiveStatus,
    BackupStatus,
    CheckStatus,
    DaemonStatus,
    DependencyStatus,
    FailedDelivery,
    FileTotals,
    HealthStatus,
    HostStatus,
    MetricsStatus,
    NotificationCount,
    ProcedureStatus,
    RestoreTestStatus,
    SilenceStatus,
)
from hostkeeper.services.status_scope import StatusScope, scope_of, spec_from_json

FAILING_STATUSES = ("failed", "aborted")
ALERT_COUNT_WINDOW = timedelta(days=7)
MAX_FAILED_DELIVERIES = 10
DELIVERIES_LOOKED_AT = 200  # failed deliveries are looked for among this many newest
# A backup set with no scheduled `backup: SET` step is expected daily (the shipped
# Prometheus rule's two days); a scheduled one gets its own interval plus this grace.
UNSCHEDULED_STALE_AFTER = timedelta(days=2)
STALE_GRACE = timedelta(days=1)
FIRES_LOOKED_AT = 8

NextRuns = Mapping[str, datetime | None]
Scoped = Config | StatusScope  # a configuration, or the status scope of one


def _scope(scoped: Scoped, host: str) -> StatusScope:
    return scoped if isinstance(scoped, StatusScope) else scope_of(scoped, host)


def build_status(
    store: Store,
    config: Scoped,
    *,
    now: datetime,
    next_runs: NextRuns,
    daemon_state: Mapping[str, Any] | None = None,
    host: str | None = None,
) -> HostStatus:
    """The whole status of `host` (default: the store's own host) at `now`, as `config`
    (or the status scope a host recorded in the store) defines it."""
    host = host or store.host
    scope = _scope(config, host)
    facts = status_store.procedure_run_facts(store, host)
    procedures = procedure_statuses(scope, facts, next_runs)
    configured = {procedure.name for procedure in scope.procedures}
    return HostStatus(
        host=host,
        generated_at=now,
        daemon=daemon_status(daemon_state),
        health=health_status(store, scope, host),
        procedures=procedures,
        alerts=alerts_status(store, host, now),
        backups=backup_statuses(store, scope, now, facts, host),
        metrics=metrics_status(store, scope, host),
        notifications=[
            NotificationCount(channel=n.channel, state=n.state, count=n.count)
            for n in status_store.notification_counts(store, host)
        ],
        file_totals={
            kind: FileTotals(
                bytes_freed=t.bytes_freed,
                files_deleted=t.files_deleted,
                files_compressed=t.files_compressed,
                files_rotated=t.files_rotated,
            )
            for kind, t in status_store.file_totals(store, host).items()
        },
        step_failures={
            name: count
            for name, count in status_store.step_failure_counts(store, host).items()
            if name in configured
        },
        dependencies=dependency_status(store, host),
        # Another host's configuration is not in the store: no checklists, no planned
        # windows to come (docs/status.md, "Another host of a fleet").
        checklists=newest_checklists(config, store, now, host)
        if isinstance(config, Config)
        else [],
        maintenance=maintenance_status(
            store,
            config if isinstance(config, Config) else None,
            now,
            host,
            procedures=configured,
        ),
    )


def dependency_status(store: Store, host: str) -> DependencyStatus | None:
    latest = dependency_store.latest_audit(store, host)
    if latest is None:
        return None
    return DependencyStatus(
        audited_at=latest.audited_at,
        open=dependency_store.open_counts(store, host),
        warnings=latest.warnings,
    )


# -- procedures ----------------------------------------------------------------------------


def next_runs_from_config(
    config: Config, store: Store, now: datetime
) -> dict[str, datetime | None]:
    """Next fire times as the daemon computes them (for the CLI or a bare server)."""
    result: dict[str, datetime | None] = {}
    for name, procedure in config.procedures.items():
        if procedure.enabled:
            trigger = procedure_trigger(config, name, procedure, store)
            upcoming = next_fire_time(trigger, now)
            result[name] = upcoming.astimezone(UTC) if upcoming else None
        else:
            result[name] = None
    return result


def current_procedures(
    store: Store, config: Scoped, next_runs: NextRuns, host: str | None = None
) -> list[ProcedureStatus]:
    """The procedures' part of the status alone (STATUS= refreshes it after every run)."""
    scope = _scope(config, host or store.host)
    return procedure_statuses(scope, status_store.procedure_run_facts(store, host), next_runs)


def procedure_statuses(
    config: StatusScope,
    facts: Mapping[str, status_store.ProcedureRunFacts],
    next_runs: NextRuns,
) -> list[ProcedureStatus]:
    """Every configured procedure, in the configuration's order."""
    result = []
    for procedure in config.procedures:
        name = procedure.name
        fact = facts.get(name, status_store.ProcedureRunFacts())
        last, completed = fact.newest, fact.newest_completed
        upcoming = next_runs.get(name) if procedure.enabled else None
        result.append(
            ProcedureStatus(
                procedure=name,
                schedule=procedure.schedule,
                enabled=procedure.enabled,
                timezone=config.timezone,
                splay_seconds=config.splay_seconds if procedure.enabled else 0.0,
                steps=list(procedure.steps),
                next_run=upcoming.astimezone(UTC) if upcoming else None,
                last_run=last.started_at if last else None,
                last_status=last.status if last else None,
                last_trigger=last.trigger if last else None,
                last_duration_seconds=last.duration_seconds if last else None,
                last_error=last.error if last else None,
                last_outcome=completed.status if completed else None,
                last_success=fact.last_success_at,
                failing=completed is not None and completed.status in FAILING_STATUSES,
                runs_by_status=fact.runs_by_status,
            )
        )
    return result


# -- daemon, health, alerts, metrics -------------------------------------------------------


def daemon_status(state: Mapping[str, Any] | None) -> DaemonStatus | None:
    """From daemon.json as `daemon_state.read_state` gives it (with `running`), or from the
    daemon's own state (without it: the daemon answering is running)."""
    if state is None:
        return None
    last_reload = str(state.get("last_reload") or "ok")
    return DaemonStatus(
        running=bool(state.get("running", True)),
        pid=int(state.get("pid", 0)),
        started_at=state["started_at"],
        config_file=str(state.get("config_file", "")),
        config_loaded_at=state["config_loaded_at"],
        last_reload=last_reload,
        last_reload_ok=last_reload == "ok",
        last_reload_at=state.get("last_reload_at"),
        version=str(state.get("version", "")),
        dashboard_url=state.get("dashboard_url"),
        store_unreachable_since=state.get("store_unreachable_since"),
        spool=state.get("spool"),
    )


def health_status(store: Store, config: StatusScope, host: str) -> HealthStatus:
    names = [check.name for check in config.checks]
    latest = latest_results(store, host, names)
    score = latest_score(store, host)
    checks = []
    for check in config.checks:  # in the configuration's order, like the procedures
        result = latest.get(check.name)
        checks.append(
            CheckStatus(
                name=check.name,
                type=result.type if result else check.type,
                state=result.state.value if result else None,
                value=result.value if result else None,
                unit=result.unit if result else None,
                detail=result.detail if result else None,
                checked_at=result.checked_at if result else None,
                duration_seconds=result.duration if result else None,
            )
        )
    return HealthStatus(
        score=score.score if score else None,
        score_computed_at=score.computed_at if score else None,
        state=worst_state(r.state for r in latest.values()).value if latest else None,
        checks=checks,
    )


def alerts_status(store: Store, host: str, now: datetime) -> AlertsStatus:
    view = store if host == store.host else Store(store.engine, host=host)
    active = alert_store.active_alert_records(view)
    shown = [
        AlertStatus(
            id=record.id or 0,
            rule=record.rule,
            severity=record.severity,
            state=record.state.value,
            since=record.fired_at if record.state.value == "firing" else record.pending_since,
            acknowledged=record.acknowledged_at is not None,
            summary=record.summary,
            maintenance_window=record.maintenance_window,
            held=record.maintenance_window is not None and record.notifications == 0,
        )
        for record in active
    ]
    failed = [
        n
        for n in alert_store.recent_notifications(view, limit=DELIVERIES_LOOKED_AT)
        if n.state == "failed"
    ]
    return AlertsStatus(
        firing=sorted(
            (a for a in shown if a.state == "firing"), key=lambda a: (a.since or now, a.id)
        ),
        pending=[a for a in shown if a.state == "pending"],
        last_7_days=status_store.alert_state_counts(store, now - ALERT_COUNT_WINDOW, host),
        silences=[
            SilenceStatus(rule=s.rule, until=s.until, reason=s.reason)
            for s in alert_store.silence_rows(view, now)
        ],
        failed_deliveries=[
            FailedDelivery(
                id=n.id,
                channel=n.channel,
                kind=n.kind,
                error=redact_text(n.last_error) if n.last_error else None,
            )
            for n in failed[:MAX_FAILED_DELIVERIES]
        ],
        dropped_deliveries=alert_store.dropped_notification_counts(view),
    )


def key_metrics(config: StatusScope) -> list[str]:
    """What `status` shows: CPU, memory, swap, load and the configured disks."""
    names = ["cpu.percent", "memory.percent", "swap.percent", "load.5m", "load.5m_per_core"]
    names += [disk_metric(path, "used_percent") for path in config.disks]
    return names


def metrics_status(store: Store, config: StatusScope, host: str) -> MetricsStatus:
    names = key_metrics(config)
    latest = latest_values(store, names, host)
    return MetricsStatus(
        newest_sample_at=max((point.at for point in latest.values()), default=None),
        values={name: latest[name].value for name in names if name in latest},
    )


# -- backups -------------------------------------------------------------------------------


def backup_statuses(
    store: Store,
    config: Scoped,
    now: datetime,
    facts: Mapping[str, status_store.ProcedureRunFacts] | None = None,
    host: str | None = None,
) -> list[BackupStatus]:
    """Every configured backup set: newest archive, last restore test, freshness."""
    config = _scope(config, host or store.host)
    if facts is None:
        facts = status_store.procedure_run_facts(store, host)
    sets = list(config.backup_sets)
    archives = status_store.newest_archive_facts(store, sets, host)
    tests = status_store.last_restore_test_facts(store, sets, host)
    result = []
    for name in config.backup_sets:
        archive, test = archives.get(name), tests.get(name)
        stale_after = stale_after_for(config, name, now)
        age = (now - archive.created_at).total_seconds() if archive else None
        result.append(
            BackupStatus(
                set=name,
                newest=None
                if archive is None or age is None
                else ArchiveStatus(
                    archive=archive.path,
                    created_at=archive.created_at,
                    age_seconds=age,
                    size_bytes=archive.size_bytes,
                    files=archive.files,
                    verified_at=archive.verified_at,
                    verify_ok=archive.verify_ok,
                ),
                restore_test=None
                if test is None
                else RestoreTestStatus(
                    archive=test.archive,
                    tested_at=test.tested_at,
                    ok=test.ok,
                    files_checked=test.files_checked,
                    detail=test.detail,
                ),
                restore_test_problem=_restore_test_problem(config, name, test, facts),
                fresh=age is not None and age <= stale_after.total_seconds(),
                stale_after_seconds=stale_after.total_seconds(),
            )
        )
    return result


def _restore_test_problem(
    config: StatusScope,
    name: str,
    test: status_store.RestoreTestFact | None,
    facts: Mapping[str, status_store.ProcedureRunFacts],
) -> str | None:
    """Why the set's restore test is not in order: the newest one failed, or a procedure
    with a `restore_test: SET` step ran to an end and no test of SET was recorded since
    that run started (it crashed or was never reached). None when all is well."""
    if test is not None and not test.ok:
        return (
            f"restore test FAILED at {_when(test.tested_at)}: {test.detail or 'no reason recorded'}"
        )
    for procedure in (p.name for p in config.procedures if p.enabled and name in p.restore_tests):
        ran = facts.get(procedure, status_store.ProcedureRunFacts()).newest_completed
        if ran is None or (test is not None and test.tested_at >= ran.started_at):
            continue
        return (
            f"restore test missing: procedure {procedure} ran at "
            f"{_when(ran.started_at)} ({ran.status}) and recorded none since"
        )
    return None


def stale_after_for(config: StatusScope, name: str, now: datetime) -> timedelta:
    """How old the newest archive of set `name` may be and still count as fresh: the
    longest gap between the coming fires of the enabled procedures with a `backup: SET`
    step, plus STALE_GRACE; UNSCHEDULED_STALE_AFTER when no procedure backs it up."""
    fires: list[datetime] = []
    for procedure in config.procedures:
        if not procedure.enabled or name not in procedure.backs_up:
            continue
        trigger = build_trigger(spec_from_json(procedure.trigger), config.timezone, now)
        moment: datetime | None = now
        for _ in range(FIRES_LOOKED_AT):
            moment = next_fire_time(trigger, moment) if moment else None
            if moment is None:
                break
            fires.append(moment)
    fires.sort()
    gaps = [later - earlier for earlier, later in pairwise(fires)]
    if not gaps:
        return UNSCHEDULED_STALE_AFTER
    return max(gaps) + STALE_GRACE


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
