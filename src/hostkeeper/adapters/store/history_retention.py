"""Deleting old history: runs, alerts, the delivery log, file actions, backup records,
silences, dependency audits and slow-query shapes, in small transactions.

Each table has a rule for what may go (`_CANDIDATES`): rows older than the table's
cut-off that nothing current depends on. Pending and firing alerts, queued
notifications, archives still on disk, the newest run of each procedure (catch-up
compares with it), the runs the status model shows as a procedure's last result and
last outcome (`procedure_results`), each backup set's newest restore test, open
dependency findings and the newest dependency audit always stay. Deleting history never
lowers a counter: those are running totals (`status_totals`), kept by the writers. Rows
go in batches of `batch` ids a transaction, so the daemon's other writers wait
milliseconds.
Child rows follow their parent by ON DELETE CASCADE (step results, alert events).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, union

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import (
    alerts,
    backup_archives,
    dependency_audits,
    dependency_findings,
    file_actions,
    maintenance_windows,
    notifications,
    restore_tests,
    runs,
    silences,
    slow_queries,
)
from hostkeeper.adapters.store.totals import pointed_run_ids

# Config key (database.retention.*) -> the tables it bounds, for `db stats`.
BOUNDED_BY = {
    "runs": (
        "runs",
        "step_results",
        "checklist_confirmations",
        "maintenance_windows",
        "window_notes",
        "window_silences",
    ),
    "alerts": ("alerts", "alert_events"),
    "notifications": ("notifications",),
    "file_actions": ("file_actions",),
    "backups": ("backup_archives", "restore_tests"),
    "silences": ("silences",),
    "dependency_audits": ("dependency_audits", "dependency_findings"),
    "slow_queries": ("slow_queries",),
}


def _old_runs(host: str, cutoff: datetime) -> Select[Any]:
    newest = select(func.max(runs.c.id)).where(runs.c.host == host).group_by(runs.c.procedure)
    return select(runs.c.id).where(
        runs.c.host == host,
        runs.c.started_at < cutoff,
        runs.c.finished_at.is_not(None),
        runs.c.id.not_in(newest),
        runs.c.id.not_in(pointed_run_ids(host)),
    )


def _old_alerts(host: str, cutoff: datetime) -> Select[Any]:
    return select(alerts.c.id).where(
        alerts.c.host == host, alerts.c.state == "resolved", alerts.c.resolved_at < cutoff
    )


def _old_notifications(host: str, cutoff: datetime) -> Select[Any]:
    return select(notifications.c.id).where(
        notifications.c.host == host,
        notifications.c.state != "queued",
        notifications.c.created_at < cutoff,
    )


def _old_file_actions(host: str, cutoff: datetime) -> Select[Any]:
    return select(file_actions.c.id).where(file_actions.c.host == host, file_actions.c.at < cutoff)


def _old_archives(host: str, cutoff: datetime) -> Select[Any]:
    return select(backup_archives.c.id).where(
        backup_archives.c.host == host,
        backup_archives.c.state != "present",
        backup_archives.c.created_at < cutoff,
    )


def _old_restore_tests(host: str, cutoff: datetime) -> Select[Any]:
    newest = (
        select(func.max(restore_tests.c.id))
        .where(restore_tests.c.host == host)
        .group_by(restore_tests.c.backup_set)
    )
    return select(restore_tests.c.id).where(
        restore_tests.c.host == host,
        restore_tests.c.tested_at < cutoff,
        restore_tests.c.id.not_in(newest),
    )


def _old_silences(host: str, cutoff: datetime) -> Select[Any]:
    return select(silences.c.id).where(silences.c.host == host, silences.c.until < cutoff)


def _old_audits(host: str, cutoff: datetime) -> Select[Any]:
    newest = select(func.max(dependency_audits.c.id)).where(dependency_audits.c.host == host)
    return select(dependency_audits.c.id).where(
        dependency_audits.c.host == host,
        dependency_audits.c.audited_at < cutoff,
        dependency_audits.c.id.not_in(newest),
    )


def _old_findings(host: str, cutoff: datetime) -> Select[Any]:
    return select(dependency_findings.c.id).where(
        dependency_findings.c.host == host,
        dependency_findings.c.resolved_at.is_not(None),
        dependency_findings.c.resolved_at < cutoff,
    )


def _old_windows(host: str, cutoff: datetime) -> Select[Any]:
    # Incidents and windows are kept as long as runs; one that still holds alerts (or has
    # no end yet) stays. Its notes and silences follow it; alerts keep their rows.
    return select(maintenance_windows.c.id).where(
        maintenance_windows.c.host == host,
        maintenance_windows.c.hold_until.is_not(None),
        maintenance_windows.c.hold_until < cutoff,
    )


# (retention key, table, the ids that may go)
_CANDIDATES: tuple[tuple[str, Any, Callable[[str, datetime], Select[Any]]], ...] = (
    ("runs", runs, _old_runs),
    ("runs", maintenance_windows, _old_windows),
    ("alerts", alerts, _old_alerts),
    ("notifications", notifications, _old_notifications),
    ("file_actions", file_actions, _old_file_actions),
    ("backups", backup_archives, _old_archives),
    ("backups", restore_tests, _old_restore_tests),
    ("silences", silences, _old_silences),
    ("dependency_audits", dependency_audits, _old_audits),
    ("dependency_audits", dependency_findings, _old_findings),
)


@dataclass(frozen=True)
class HistoryPruned:
    """Rows deleted per table (children by cascade not counted), and the tables this
    store's role may not delete from (a host's role in a least-privilege fleet: their
    retention is the database owner's, docs/fleet.md)."""

    deleted: dict[str, int] = field(default_factory=dict)
    refused: tuple[str, ...] = ()


def prune_history(
    store: Store,
    cutoffs: Mapping[str, datetime],
    batch: int = 2000,
    stopping: Callable[[], bool] = lambda: False,
) -> HistoryPruned:
    """Delete this host's history older than `cutoffs` (retention key -> time; a key
    left out is not pruned). `stopping` is asked between transactions: a daemon that
    stops does not wait for a long first pass (the next pass goes on where this one
    left)."""
    deleted: dict[str, int] = {}
    refused: list[str] = []
    for key, table, candidates in _CANDIDATES:
        cutoff = cutoffs.get(key)
        if cutoff is None or stopping():
            continue
        if not store.may_delete(table.name):
            refused.append(table.name)
            continue
        total = 0
        while True:
            with store.write() as connection:
                ids = list(
                    connection.execute(candidates(store.host, cutoff).limit(batch)).scalars()
                )
                if ids:
                    connection.execute(delete(table).where(table.c.id.in_(ids)))
            total += len(ids)
            if len(ids) < batch or stopping():
                break
        deleted[table.name] = total
    cutoff = cutoffs.get("slow_queries")
    if cutoff is not None and not store.may_delete(slow_queries.name):
        refused.append(slow_queries.name)
    elif cutoff is not None:  # one row per statement shape: a small table
        with store.write() as connection:
            result = connection.execute(
                delete(slow_queries).where(
                    slow_queries.c.host == store.host, slow_queries.c.last_seen < cutoff
                )
            )
        deleted["slow_queries"] = max(int(result.rowcount or 0), 0)
    return HistoryPruned(deleted, tuple(refused))


def recorded_hosts(store: Store) -> list[str]:
    """Every host with history in the store: what the database owner prunes for a fleet
    whose hosts' roles may not (`db prune --all-hosts`)."""
    tables = (runs, alerts, notifications, file_actions, backup_archives, silences)
    hosts = union(*(select(table.c.host) for table in tables))
    with store.read() as connection:
        return sorted(connection.execute(hosts).scalars())
