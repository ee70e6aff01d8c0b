"""The store's reads behind the status model (`hostkeeper.services.status_model`): run facts per
procedure, alert and notification summaries, file totals, step failures, backups.

Each function reads one host's rows and returns plain values; what they mean (which run
is "the last result", which procedure is failing) is decided in the status model, from
these facts. Dry runs are left out here already: they never count anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import (
    alerts,
    backup_archives,
    file_actions,
    notifications,
    restore_tests,
    runs,
    step_results,
)
from hostkeeper.core.redact import redact_text
from hostkeeper.core.runs import RunStatus

# A run that executed its steps to an end, as opposed to one that never started (missed,
# skipped) or has not ended (running).
COMPLETED_STATUSES = (
    RunStatus.SUCCEEDED.value,
    RunStatus.WARNING.value,
    RunStatus.FAILED.value,
    RunStatus.ABORTED.value,
)
SUCCESS_STATUSES = (RunStatus.SUCCEEDED.value, RunStatus.WARNING.value)


@dataclass(frozen=True)
class RunFact:
    """One recorded run, without its steps."""

    id: int
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    error: str | None


@dataclass(frozen=True)
class ProcedureRunFacts:
    """What the history says about one procedure (dry runs left out)."""

    newest: RunFact | None = None  # the newest run, whatever its status
    newest_completed: RunFact | None = None  # the newest with a status in COMPLETED_STATUSES
    last_success_at: datetime | None = None  # end of the newest succeeded or warning run
    runs_by_status: dict[str, int] = field(default_factory=dict)


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates may come back without the column's type on some drivers.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _run_fact(row: Any) -> RunFact:
    # Redacted on the way out too: rows stored before the engine redacted what it stores.
    return RunFact(
        id=row["id"],
        status=row["status"],
        trigger=row["trigger"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        duration_seconds=row["duration_seconds"],
        error=redact_text(row["error"]) if row["error"] else row["error"],
    )


def _newest_runs(connection: Connection, host: str, statuses: Iterable[str] | None) -> Any:
    newest = select(func.max(runs.c.id)).where(runs.c.host == host, runs.c.dry_run.is_(False))
    if statuses is not None:
        newest = newest.where(runs.c.status.in_(list(statuses)))
    newest = newest.group_by(runs.c.procedure)
    query = select(runs).where(runs.c.id.in_(newest))
    return {row["procedure"]: _run_fact(row) for row in connection.execute(query).mappings()}


def procedure_run_facts(store: Store, host: str | None = None) -> dict[str, ProcedureRunFacts]:
    """By procedure name (every procedure with history on `host`, default this host)."""
    host = host or store.host
    real = (runs.c.host == host, runs.c.dry_run.is_(False))
    with store.read() as connection:
        newest = _newest_runs(connection, host, None)
        completed = _newest_runs(connection, host, COMPLETED_STATUSES)
        successes = dict(
            connection.execute(
                select(runs.c.procedure, func.max(runs.c.finished_at))
                .where(*real, runs.c.status.in_(SUCCESS_STATUSES))
                .group_by(runs.c.procedure)
            ).all()
        )
        counts: dict[str, dict[str, int]] = {}
        for procedure, status, count in connection.execute(
            select(runs.c.procedure, runs.c.status, func.count())
            .where(*real)
            .group_by(runs.c.procedure, runs.c.status)
        ):
            counts.setdefault(procedure, {})[status] = int(count)
    return {
        name: ProcedureRunFacts(
            newest=newest.get(name),
            newest_completed=completed.get(name),
            last_success_at=_aware(successes.get(name)),
            runs_by_status=dict(sorted(counts.get(name, {}).items())),
        )
        for name in sorted(newest)
    }


def step_failure_counts(store: Store, host: str | None = None) -> dict[str, int]:
    """Failed or aborted steps of real runs, by procedure."""
    with store.read() as connection:
        rows = connection.execute(
            select(runs.c.procedure, func.count())
            .select_from(step_results.join(runs, step_results.c.run_id == runs.c.id))
            .where(
                runs.c.host == (host or store.host),
                runs.c.dry_run.is_(False),
                step_results.c.status.in_(["failed", "aborted"]),
            )
            .group_by(runs.c.procedure)
        ).all()
    return {procedure: int(count) for procedure, count in rows}


def alert_state_counts(store: Store, since: datetime, host: str | None = None) -> dict[str, int]:
    """Alerts that became pending at or after `since`, by their state now."""
    with store.read() as connection:
        rows = connection.execute(
            select(alerts.c.state, func.count())
            .where(alerts.c.host == (host or store.host), alerts.c.pending_since >= since)
            .group_by(alerts.c.state)
        ).all()
    return {state: int(count) for state, count in sorted(rows)}


@dataclass(frozen=True)
class NotificationCount:
    channel: str
    state: str
    count: int


def notification_counts(store: Store, host: str | None = None) -> list[NotificationCount]:
    """Every notification ever queued on `host`, by channel and delivery state."""
    with store.read() as connection:
        rows = connection.execute(
            select(notifications.c.channel, notifications.c.state, func.count())
            .where(notifications.c.host == (host or store.host))
            .group_by(notifications.c.channel, notifications.c.state)
            .order_by(notifications.c.channel, notifications.c.state)
        ).all()
    return [NotificationCount(channel, state, int(count)) for channel, state, count in rows]


@dataclass(frozen=True)
class FileTotals:
    bytes_freed: int
    files_deleted: int
    files_compressed: int
    files_rotated: int


def file_totals(store: Store, host: str | None = None) -> dict[str, FileTotals]:
    """What rotation and cleanup did over all time, by kind."""
    # Rows recorded before freed bytes were clamped may hold a negative figure (a tiny
    # file's .gz is larger): counting them as 0 keeps the counter from going down.
    freed_bytes = case((file_actions.c.bytes_freed > 0, file_actions.c.bytes_freed), else_=0)
    with store.read() as connection:
        rows = connection.execute(
            select(
                file_actions.c.kind,
                func.coalesce(func.sum(freed_bytes), 0),
                func.coalesce(func.sum(file_actions.c.files_deleted), 0),
                func.coalesce(func.sum(file_actions.c.files_compressed), 0),
                func.coalesce(func.sum(file_actions.c.files_rotated), 0),
            )
            .where(file_actions.c.host == (host or store.host))
            .group_by(file_actions.c.kind)
            .order_by(file_actions.c.kind)
        ).all()
    return {
        kind: FileTotals(int(freed), int(deleted), int(compressed), int(rotated))
        for kind, freed, deleted, compressed, rotated in rows
    }


@dataclass(frozen=True)
class ArchiveFact:
    backup_set: str
    path: str
    created_at: datetime
    size_bytes: int | None
    files: int | None
    verified_at: datetime | None
    verify_ok: bool | None


@dataclass(frozen=True)
class RestoreTestFact:
    backup_set: str
    archive: str
    tested_at: datetime
    ok: bool
    files_checked: int | None
    detail: str | None


def newest_archive_facts(store: Store, host: str | None = None) -> dict[str, ArchiveFact]:
    """The newest present archive of each set, by set name."""
    present = (backup_archives.c.host == (host or store.host), backup_archives.c.state == "present")
    found: dict[str, ArchiveFact] = {}
    with store.read() as connection:
        # Retention bounds the present archives of a host to a few dozen per set: the
        # newest of each is picked here rather than with a correlated subquery.
        rows = connection.execute(
            select(backup_archives)
            .where(*present)
            .order_by(backup_archives.c.created_at, backup_archives.c.id)
        ).mappings()
        for row in rows:
            found[row["backup_set"]] = ArchiveFact(
                backup_set=row["backup_set"],
                path=row["path"],
                created_at=row["created_at"],
                size_bytes=row["size_bytes"],
                files=row["files"],
                verified_at=row["verified_at"],
                verify_ok=row["verify_ok"],
            )
    return dict(sorted(found.items()))


def last_restore_test_facts(store: Store, host: str | None = None) -> dict[str, RestoreTestFact]:
    """The newest restore test of each set, by set name."""
    newest = (
        select(func.max(restore_tests.c.id))
        .where(restore_tests.c.host == (host or store.host))
        .group_by(restore_tests.c.backup_set)
    )
    with store.read() as connection:
        rows = connection.execute(
            select(restore_tests).where(restore_tests.c.id.in_(newest))
        ).mappings()
        return {
            row["backup_set"]: RestoreTestFact(
                backup_set=row["backup_set"],
                archive=row["archive"],
                tested_at=row["tested_at"],
                ok=bool(row["ok"]),
                files_checked=row["files_checked"],
                detail=row["detail"],
            )
            for row in rows
        }
