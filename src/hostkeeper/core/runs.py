"""Outcomes of runs and steps, and how one step's outcome steers the rest of a run."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Trigger(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    CATCH_UP = "catch-up"


class StepStatus(StrEnum):
    SUCCEEDED = "succeeded"
    WARNING = "warning"  # done, but something deserves a look (e.g. too few samples)
    FAILED = "failed"
    SKIPPED = "skipped"  # not run: an earlier step aborted the run, or a dry run
    ABORTED = "aborted"  # stopped part-way: timeout or daemon shutdown


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    WARNING = "warning"
    FAILED = "failed"
    SKIPPED = "skipped"  # a precondition was unmet or the procedure was already running
    ABORTED = "aborted"  # the daemon stopped before the run finished
    MISSED = "missed"  # the scheduler could not start it within the misfire grace time


class OnFailure(StrEnum):
    ABORT = "abort"
    CONTINUE = "continue"


BAD_STEP_STATUSES = frozenset({StepStatus.FAILED, StepStatus.ABORTED})


def stops_run(status: StepStatus, on_failure: OnFailure) -> bool:
    """Whether the remaining main steps are skipped after a step ended with `status`."""
    if status is StepStatus.ABORTED:
        return True
    return status is StepStatus.FAILED and on_failure is OnFailure.ABORT


def run_status(statuses: Iterable[StepStatus], *, aborted: bool = False) -> RunStatus:
    """The run's status from its steps' statuses (before, main and after steps alike)."""
    if aborted:
        return RunStatus.ABORTED
    seen = set(statuses)
    if seen & BAD_STEP_STATUSES:
        return RunStatus.FAILED
    if StepStatus.WARNING in seen:
        return RunStatus.WARNING
    return RunStatus.SUCCEEDED


def is_success(status: RunStatus) -> bool:
    return status in SUCCESS_STATUSES


def describe_origin(trigger: str, started_by: str | None, reason: str | None) -> str:
    """How a run came about: `scheduled`, or `manual by alice: the reason`."""
    origin = trigger
    if started_by:
        origin += f" by {started_by}"
    if reason:
        origin += f": {reason}"
    return origin


# A run that executed its steps to an end, as opposed to one that never started (missed,
# skipped) or has not ended (running): what "last outcome" and "failing" are about.
COMPLETED_STATUSES = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.WARNING, RunStatus.FAILED, RunStatus.ABORTED}
)
SUCCESS_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.WARNING})
