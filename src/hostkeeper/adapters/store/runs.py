"""Run history: runs of procedures and the result of each of their steps.

Kept whole: every reader of a run (by id, by time, the newest per procedure) builds the
same RunRecord with its steps from the same two tables.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from hostkeeper.adapters.store import totals
from hostkeeper.adapters.store.database import Store, inserted_id
from hostkeeper.adapters.store.schema import (
    alerts,
    procedure_state,
    runs,
    silences,
    step_results,
)
from hostkeeper.core.redact import redact_text, redact_value
from hostkeeper.core.runs import (
    BAD_STEP_STATUSES,
    COMPLETED_STATUSES,
    SUCCESS_STATUSES,
    RunStatus,
    StepStatus,
    Trigger,
)


@dataclass(frozen=True)
class StepRecord:
    position: int
    phase: str
    name: str
    label: str
    status: StepStatus
    started_at: datetime
    finished_at: datetime
    summary: str | None = None
    error: str | None = None
    output: str | None = None
    details: dict[str, Any] | None = None

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class RunRecord:
    id: int
    host: str
    procedure: str
    trigger: str
    status: str
    scheduled_for: datetime | None
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    error: str | None
    dry_run: bool
    started_by: str | None = None  # manual runs: who started it
    reason: str | None = None  # manual runs: `run --reason`
    checklist: str | None = None  # JSON: the checklist it started with (0009)
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.status != RunStatus.RUNNING.value


def start_run(
    store: Store,
    procedure: str,
    trigger: Trigger,
    started_at: datetime,
    scheduled_for: datetime | None = None,
    dry_run: bool = False,
    started_by: str | None = None,
    reason: str | None = None,
    checklist: str | None = None,
) -> int:
    with store.write() as connection:
        result = connection.execute(
            insert(runs).values(
                host=store.host,
                procedure=procedure,
                trigger=trigger.value,
                status=RunStatus.RUNNING.value,
                scheduled_for=scheduled_for,
                started_at=started_at,
                dry_run=dry_run,
                started_by=started_by,
                reason=redact_text(reason) if reason else None,
                checklist=checklist,
            )
        )
        run_id = inserted_id(result)
        if not dry_run:
            totals.note_run(connection, store.host, procedure, newest_run_id=run_id)
        return run_id


def record_step(store: Store, run_id: int, step: StepRecord) -> None:
    with store.write() as connection:
        connection.execute(
            insert(step_results).values(
                run_id=run_id,
                position=step.position,
                phase=step.phase,
                name=step.name,
                label=step.label,
                status=step.status.value,
                started_at=step.started_at,
                finished_at=step.finished_at,
                duration_seconds=step.duration_seconds,
                summary=step.summary,
                error=step.error,
                output=step.output,
                details=json.dumps(step.details, default=str) if step.details else None,
            )
        )
        if step.status in BAD_STEP_STATUSES:
            run = _run_identity(connection, run_id)
            if run is not None and not run.dry_run:
                totals.add(connection, run.host, totals.STEP_FAILURES, run.procedure, "", 1)


def finish_run(
    store: Store, run_id: int, status: RunStatus, finished_at: datetime, error: str | None = None
) -> None:
    with store.write() as connection:
        run = _run_identity(connection, run_id)
        started = run.started_at if run else None
        duration = (finished_at - started).total_seconds() if started else None
        connection.execute(
            update(runs)
            .where(runs.c.id == run_id)
            .values(
                status=status.value,
                finished_at=finished_at,
                duration_seconds=duration,
                error=error,
            )
        )
        if run is not None:
            _count_end(connection, run, run_id, status, finished_at)


@dataclass(frozen=True)
class _RunIdentity:
    host: str
    procedure: str
    status: str
    started_at: datetime
    dry_run: bool


def _run_identity(connection: Connection, run_id: int) -> _RunIdentity | None:
    row = connection.execute(
        select(
            runs.c.host, runs.c.procedure, runs.c.status, runs.c.started_at, runs.c.dry_run
        ).where(runs.c.id == run_id)
    ).first()
    if row is None:
        return None
    return _RunIdentity(row.host, row.procedure, row.status, row.started_at, bool(row.dry_run))


def _count_end(
    connection: Connection, run: _RunIdentity, run_id: int, status: RunStatus, at: datetime
) -> None:
    """The run's move from its stored status to `status` in the totals and the
    procedure's current state (dry runs count nowhere)."""
    if run.dry_run or run.status == status.value:
        return
    if run.status != RunStatus.RUNNING.value:  # ended once already: counted under that end
        totals.add(connection, run.host, totals.RUNS, run.procedure, run.status, -1)
    totals.add(connection, run.host, totals.RUNS, run.procedure, status.value, 1)
    totals.note_run(
        connection,
        run.host,
        run.procedure,
        completed_run_id=run_id if status in COMPLETED_STATUSES else None,
        succeeded_at=at if status in SUCCESS_STATUSES else None,
    )


def record_finished_run(
    store: Store,
    procedure: str,
    trigger: Trigger,
    status: RunStatus,
    at: datetime,
    error: str,
    scheduled_for: datetime | None = None,
    started_by: str | None = None,
    reason: str | None = None,
) -> int:
    """A run that never started steps: skipped (lock held, precondition) or missed."""
    with store.write() as connection:
        result = connection.execute(
            insert(runs).values(
                host=store.host,
                procedure=procedure,
                trigger=trigger.value,
                status=status.value,
                scheduled_for=scheduled_for,
                started_at=at,
                finished_at=at,
                duration_seconds=0.0,
                error=error,
                dry_run=False,
                started_by=started_by,
                reason=redact_text(reason) if reason else None,
            )
        )
        run_id = inserted_id(result)
        totals.note_run(connection, store.host, procedure, newest_run_id=run_id)
        begun = _RunIdentity(store.host, procedure, RunStatus.RUNNING.value, at, False)
        _count_end(connection, begun, run_id, status, at)
        return run_id


def find_run(store: Store, procedure: str, trigger: str, started_at: datetime) -> int | None:
    """The id of this host's run of `procedure` started at `started_at` by `trigger`, if
    it is recorded (a spooled run replayed twice is recorded once)."""
    with store.read() as connection:
        found: int | None = connection.execute(
            select(func.min(runs.c.id)).where(
                runs.c.host == store.host,
                runs.c.procedure == procedure,
                runs.c.trigger == trigger,
                runs.c.started_at == started_at,
            )
        ).scalar()
    return found


def has_step(store: Store, run_id: int, phase: str, position: int) -> bool:
    """Whether the step at `position` of run `run_id` is recorded."""
    with store.read() as connection:
        found = connection.execute(
            select(step_results.c.id).where(
                step_results.c.run_id == run_id,
                step_results.c.phase == phase,
                step_results.c.position == position,
            )
        ).first()
    return found is not None


def list_runs(
    store: Store,
    procedure: str | None = None,
    limit: int = 20,
    host: str | None = None,
    with_steps: bool = True,
    *,
    procedures: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    real_only: bool = False,
) -> list[RunRecord]:
    """Newest first; `procedures` limits to those procedures, `since` and `until` to runs
    started in [since, until), `real_only` leaves out dry runs."""
    query = select(runs).where(runs.c.host == (host or store.host))
    if procedure:
        query = query.where(runs.c.procedure == procedure)
    if procedures is not None:
        query = query.where(runs.c.procedure.in_(list(procedures)))
    if since is not None:
        query = query.where(runs.c.started_at >= since)
    if until is not None:
        query = query.where(runs.c.started_at < until)
    if real_only:
        query = query.where(runs.c.dry_run.is_(False))
    query = query.order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
    with store.read() as connection:
        rows = connection.execute(query).mappings().all()
        records = [_run_from_row(row) for row in rows]
        if with_steps and records:
            _attach_steps(connection, records)
    return records


def get_run(store: Store, run_id: int, host: str | None = None) -> RunRecord | None:
    """Run `run_id` of `host` (default: this host) with its steps, or None."""
    with store.read() as connection:
        row = (
            connection.execute(
                select(runs).where(runs.c.id == run_id, runs.c.host == (host or store.host))
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        record = _run_from_row(row)
        _attach_steps(connection, [record])
    return record


def _attach_steps(connection: Connection, records: list[RunRecord]) -> None:
    steps = connection.execute(
        select(step_results)
        .where(step_results.c.run_id.in_([record.id for record in records]))
        .order_by(step_results.c.run_id, step_results.c.position)
    ).mappings()
    by_run: dict[int, list[StepRecord]] = {}
    for row in steps:
        by_run.setdefault(row["run_id"], []).append(_step_from_row(row))
    for record in records:
        record.steps.extend(by_run.get(record.id, []))


def runs_started_between(
    store: Store, start: datetime, end: datetime, limit: int = 1000
) -> list[RunRecord]:
    """This host's runs started in [start, end], with their steps, oldest first."""
    query = (
        select(runs)
        .where(runs.c.host == store.host, runs.c.started_at >= start, runs.c.started_at <= end)
        .order_by(runs.c.started_at, runs.c.id)
        .limit(limit)
    )
    with store.read() as connection:
        records = [_run_from_row(row) for row in connection.execute(query).mappings().all()]
        if not records:
            return []
        steps = connection.execute(
            select(step_results)
            .where(step_results.c.run_id.in_([record.id for record in records]))
            .order_by(step_results.c.run_id, step_results.c.position)
        ).mappings()
        by_run: dict[int, list[StepRecord]] = {}
        for row in steps:
            by_run.setdefault(row["run_id"], []).append(_step_from_row(row))
    for record in records:
        record.steps.extend(by_run.get(record.id, []))
    return records


# Readers get redacted text (core.redact) even from rows written before the engine
# redacted what it stores.


def _run_from_row(row: Any) -> RunRecord:
    values = dict(row)
    values["error"] = _redacted(values.get("error"))
    values["reason"] = _redacted(values.get("reason"))
    return RunRecord(**values)


def _step_from_row(row: Any) -> StepRecord:
    details = redact_value(json.loads(row["details"])) if row["details"] else None
    return StepRecord(
        position=row["position"],
        phase=row["phase"],
        name=row["name"],
        label=row["label"],
        status=StepStatus(row["status"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        summary=_redacted(row["summary"]),
        error=_redacted(row["error"]),
        output=_redacted(row["output"]),
        details=details if isinstance(details, dict) else None,
    )


def _redacted(text: str | None) -> str | None:
    return redact_text(text) if text else text


def latest_runs(store: Store, host: str | None = None) -> dict[str, RunRecord]:
    """The newest run of each procedure on `host`."""
    host = host or store.host
    newest = (
        select(runs.c.procedure, func.max(runs.c.id).label("id"))
        .where(runs.c.host == host)
        .group_by(runs.c.procedure)
        .subquery()
    )
    query = select(runs).join(newest, and_(runs.c.id == newest.c.id))
    with store.read() as connection:
        return {
            row["procedure"]: _run_from_row(row) for row in connection.execute(query).mappings()
        }


def last_scheduled_time(store: Store, procedure: str) -> datetime | None:
    """The newest fire time the daemon handled (ran, caught up or recorded missed)."""
    # Newest first through (host, procedure, scheduled_for): one step back past manual
    # runs, not a pass over the procedure's whole history.
    with store.read() as connection:
        result: datetime | None = connection.execute(
            select(runs.c.scheduled_for)
            .where(
                runs.c.host == store.host,
                runs.c.procedure == procedure,
                runs.c.scheduled_for.is_not(None),
                runs.c.trigger.in_([Trigger.SCHEDULED.value, Trigger.CATCH_UP.value]),
            )
            .order_by(runs.c.scheduled_for.desc())
            .limit(1)
        ).scalar()
    return result


def recorded_schedule(store: Store, procedure: str) -> str | None:
    """The schedule key the daemon last recorded for `procedure` (see `known_since`)."""
    with store.read() as connection:
        value: str | None = connection.execute(
            select(procedure_state.c.schedule).where(
                procedure_state.c.host == store.host, procedure_state.c.procedure == procedure
            )
        ).scalar()
    return value


def known_since(store: Store, procedure: str, schedule: str, now: datetime) -> datetime:
    """When the daemon first scheduled `procedure` (with this schedule), recording it now."""
    with store.write() as connection:
        row = (
            connection.execute(
                select(procedure_state).where(
                    procedure_state.c.host == store.host, procedure_state.c.procedure == procedure
                )
            )
            .mappings()
            .first()
        )
        if row is not None and row["schedule"] == schedule:
            since: datetime = row["known_since"]
            return since
        if row is None:
            connection.execute(
                insert(procedure_state).values(
                    host=store.host, procedure=procedure, known_since=now, schedule=schedule
                )
            )
        else:
            # A new schedule starts its own history: no catch-up of the old one's times.
            connection.execute(
                update(procedure_state)
                .where(
                    procedure_state.c.host == store.host,
                    procedure_state.c.procedure == procedure,
                )
                .values(known_since=now, schedule=schedule)
            )
        return now


def unfinished_runs(store: Store) -> list[RunRecord]:
    with store.read() as connection:
        rows = connection.execute(
            select(runs).where(runs.c.host == store.host, runs.c.status == RunStatus.RUNNING.value)
        ).mappings()
        return [_run_from_row(row) for row in rows]


def mark_abandoned(store: Store, run_id: int, at: datetime, reason: str) -> None:
    with store.write() as connection:
        run = _run_identity(connection, run_id)
        result = connection.execute(
            update(runs)
            .where(runs.c.id == run_id, runs.c.status == RunStatus.RUNNING.value)
            .values(status=RunStatus.ABORTED.value, finished_at=at, error=reason)
        )
        if run is not None and result.rowcount == 1:
            _count_end(connection, run, run_id, RunStatus.ABORTED, at)


def firing_critical_alerts(store: Store, now: datetime | None = None) -> list[str]:
    """Rules with a firing, unsilenced critical alert on this host.

    A rule is silenced while it has a silence on this host that is not lifted and whose
    `until` is after `now` (default: the current time).
    """
    now = now or datetime.now(UTC)
    silenced = (
        select(silences.c.id)
        .where(
            silences.c.host == alerts.c.host,
            silences.c.rule == alerts.c.rule,
            silences.c.lifted_at.is_(None),
            silences.c.until > now,
        )
        .exists()
    )
    with store.read() as connection:
        return list(
            connection.execute(
                select(alerts.c.rule).where(
                    alerts.c.host == store.host,
                    alerts.c.state == "firing",
                    alerts.c.severity == "critical",
                    ~silenced,
                )
            ).scalars()
        )
