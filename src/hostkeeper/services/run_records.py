"""Where the engine records runs: the store itself, or (in a daemon whose database may go
away) the spooler in front of it (`services/spooler.py`). Both take the same calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.runs import RunRecord, StepRecord
from hostkeeper.core.runs import RunStatus, Trigger


class RunRecorder(Protocol):
    """Run ids it hands out are the store's (positive) or, for a run kept in the local
    spool until the database answers, negative."""

    def start_run(
        self,
        procedure: str,
        trigger: Trigger,
        started_at: datetime,
        scheduled_for: datetime | None = None,
        dry_run: bool = False,
        started_by: str | None = None,
        reason: str | None = None,
        checklist: str | None = None,
    ) -> int: ...

    def record_step(self, run_id: int, step: StepRecord) -> None: ...

    def finish_run(
        self, run_id: int, status: RunStatus, finished_at: datetime, error: str | None = None
    ) -> None: ...

    def record_finished_run(
        self,
        procedure: str,
        trigger: Trigger,
        status: RunStatus,
        at: datetime,
        error: str,
        scheduled_for: datetime | None = None,
        started_by: str | None = None,
        reason: str | None = None,
    ) -> int: ...


class DirectRuns:
    """Runs written straight to the store (the CLI, and a daemon on SQLite)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def start_run(
        self,
        procedure: str,
        trigger: Trigger,
        started_at: datetime,
        scheduled_for: datetime | None = None,
        dry_run: bool = False,
        started_by: str | None = None,
        reason: str | None = None,
        checklist: str | None = None,
    ) -> int:
        return run_store.start_run(
            self.store,
            procedure,
            trigger,
            started_at,
            scheduled_for,
            dry_run,
            started_by=started_by,
            reason=reason,
            checklist=checklist,
        )

    def record_step(self, run_id: int, step: StepRecord) -> None:
        run_store.record_step(self.store, run_id, step)

    def finish_run(
        self, run_id: int, status: RunStatus, finished_at: datetime, error: str | None = None
    ) -> None:
        run_store.finish_run(self.store, run_id, status, finished_at, error)

    def record_finished_run(
        self,
        procedure: str,
        trigger: Trigger,
        status: RunStatus,
        at: datetime,
        error: str,
        scheduled_for: datetime | None = None,
        started_by: str | None = None,
        reason: str | None = None,
    ) -> int:
        return run_store.record_finished_run(
            self.store,
            procedure,
            trigger,
            status,
            at,
            error,
            scheduled_for,
            started_by=started_by,
            reason=reason,
        )


def run_as_json(run: RunRecord) -> dict[str, Any]:
    """A run and its steps as `runs --json` and `/api/runs` give them (web/models.py
    documents the fields). The checklist it started with is shown by `checklist`."""
    fields = {key: value for key, value in vars(run).items() if key not in ("steps", "checklist")}
    steps = [
        vars(step) | {"status": step.status.value, "duration_seconds": step.duration_seconds}
        for step in run.steps
    ]
    return {**fields, "steps": steps}
