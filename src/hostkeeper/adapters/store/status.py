"""The store's reads behind the status model (`hostkeeper.services.status_model`): run facts per
procedure, alert and notification summaries, file totals, step failures, backups.

Each function reads one host's rows and returns plain values; what they mean (which run
is "the last result", which procedure is failing) is decided in the status model, from
these facts. Dry runs are left out here already: they never count anywhere.

None of them reads history the status does not show, so a render or a scrape costs the
same after years: current state comes from `procedure_results`, counters from the
running totals (`totals.py`), what is in flight (running runs, queued deliveries,
pending and firing alerts) and the recent window of alerts through indexes, the newest
archive, restore test and check result of each configured set or check one indexed step
back from the newest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from hostkeeper.adapters.store import totals
from hostkeeper.adapters.store.alerts import IN_FLIGHT_DELIVERY_STATES
from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import (
    alerts,
    backup_archives,
    notifications,
    restore_tests,
    runs,
)
from hostkeeper.core.redact import redact_text
from hostkeeper.core.runs import RunStatus


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
    newest_completed: RunFact | None = None  # newest in core.runs.COMPLETED_STATUSES
    last_success_at: datetime | None = None  # end of the newest succeeded or warning run
    runs_by_status: dict[str, int] = field(default_factory=dict)


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


def procedure_run_facts(store: Store, host: str | None = None) -> dict[str, ProcedureRunFacts]:
    """By procedure name (every procedure with real runs on `host`, default this host)."""
    host = host or store.host
    with store.read() as connection:
        states = totals.procedure_states(connection, host)
        pointed = {
            run_id
            for state in states
            for run_id in (state["newest_run_id"], state["completed_run_id"])
            if run_id is not None
        }
        found = (
            {
                row["id"]: _run_fact(row)
                for row in connection.execute(select(runs).where(runs.c.id.in_(pointed))).mappings()
            }
            if pointed
            else {}
        )
        counts: dict[str, dict[str, int]] = {}
        for procedure, status, count in totals.read(connection, host, totals.RUNS):
            if count:
                counts.setdefault(procedure, {})[status] = count
        for procedure, count in connection.execute(
            select(runs.c.procedure, func.count())
            .where(
                runs.c.status == RunStatus.RUNNING.value,
                runs.c.host == host,
                runs.c.dry_run.is_(False),
            )
            .group_by(runs.c.procedure)
        ):
            counts.setdefault(procedure, {})[RunStatus.RUNNING.value] = int(count)
    return {
        state["procedure"]: ProcedureRunFacts(
            newest=found.get(state["newest_run_id"]),
            newest_completed=found.get(state["completed_run_id"]),
            last_success_at=state["last_success_at"],
            runs_by_status=dict(sorted(counts.get(state["procedure"], {}).items())),
        )
        for state in states
    }


def step_failure_counts(store: Store, host: str | None = None) -> dict[str, int]:
    """Failed or aborted steps of real runs, by procedure."""
    with store.read() as connection:
        found = totals.read(connection, host or store.host, totals.STEP_FAILURES)
    return {procedure: count for procedure, _, count in found if count}


def alert_state_counts(store: Store, since: datetime, host: str | None = None) -> dict[str, int]:
    """Alerts that became pending at or after `since`, by their state now."""
    # Counted here rather than by GROUP BY state, which would tempt SQLite's planner into
    # the (host, state, ...) index and through every alert the host ever had.
    with store.read() as connection:
        states = connection.execute(
            select(alerts.c.state).where(
                alerts.c.host == (host or store.host), alerts.c.pending_since >= since
            )
        ).scalars()
        return dict(sorted(Counter(states).items()))


@dataclass(frozen=True)
class NotificationCount:
    channel: str
    state: str
    count: int


def notification_counts(store: Store, host: str | None = None) -> list[NotificationCount]:
    """Every notification ever queued on `host`, by channel and delivery state: those
    whose delivery ended from the totals, those in flight from their rows."""
    host = host or store.host
    with store.read() as connection:
        ended = totals.read(connection, host, totals.NOTIFICATIONS)
        in_flight = connection.execute(
            select(notifications.c.channel, notifications.c.state, func.count())
            .where(
                notifications.c.host == host,
                notifications.c.state.in_(IN_FLIGHT_DELIVERY_STATES),
            )
            # in the order of the (host, state, channel) index: no sort, no other plan
            .group_by(notifications.c.state, notifications.c.channel)
        ).all()
    counts = [NotificationCount(channel, state, count) for channel, state, count in ended if count]
    counts += [NotificationCount(channel, state, int(count)) for channel, state, count in in_flight]
    return sorted(counts, key=lambda n: (n.channel, n.state))


@dataclass(frozen=True)
class FileTotals:
    bytes_freed: int
    files_deleted: int
    files_compressed: int
    files_rotated: int


def file_totals(store: Store, host: str | None = None) -> dict[str, FileTotals]:
    """What rotation and cleanup did over all time, by kind."""
    figures: dict[str, dict[str, int]] = {}
    with store.read() as connection:
        for kind, figure, value in totals.read(connection, host or store.host, totals.FILES):
            figures.setdefault(kind, {})[figure] = value
    return {
        kind: FileTotals(*(found.get(figure, 0) for figure in totals.FILE_FIGURES))
        for kind, found in sorted(figures.items())
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


def _archive_fact(row: Any) -> ArchiveFact:
    return ArchiveFact(
        backup_set=row["backup_set"],
        path=row["path"],
        created_at=row["created_at"],
        size_bytes=row["size_bytes"],
        files=row["files"],
        verified_at=row["verified_at"],
        verify_ok=row["verify_ok"],
    )


def newest_archive_facts(
    store: Store, sets: Iterable[str], host: str | None = None
) -> dict[str, ArchiveFact]:
    """The newest present archive of each of `sets` that has one, by set name."""
    host = host or store.host
    found: dict[str, ArchiveFact] = {}
    with store.read() as connection:
        for name in sorted(set(sets)):
            row = (
                connection.execute(
                    select(backup_archives)
                    .where(
                        backup_archives.c.host == host,
                        backup_archives.c.backup_set == name,
                        backup_archives.c.state == "present",
                    )
                    .order_by(backup_archives.c.created_at.desc(), backup_archives.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is not None:
                found[name] = _archive_fact(row)
    return found


def last_restore_test_facts(
    store: Store, sets: Iterable[str], host: str | None = None
) -> dict[str, RestoreTestFact]:
    """The newest restore test of each of `sets` that was tested, by set name."""
    host = host or store.host
    found: dict[str, RestoreTestFact] = {}
    with store.read() as connection:
        for name in sorted(set(sets)):
            row = (
                connection.execute(
                    select(restore_tests)
                    .where(restore_tests.c.host == host, restore_tests.c.backup_set == name)
                    .order_by(restore_tests.c.tested_at.desc(), restore_tests.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is not None:
                found[name] = RestoreTestFact(
                    backup_set=row["backup_set"],
                    archive=row["archive"],
                    tested_at=row["tested_at"],
                    ok=bool(row["ok"]),
                    files_checked=row["files_checked"],
                    detail=row["detail"],
                )
    return found
