from __future__ import annotations

import pytest

from hostkeeper.core.runs import (
    OnFailure,
    RunStatus,
    StepStatus,
    is_success,
    run_status,
    stops_run,
)


@pytest.mark.parametrize(
    ("status", "on_failure", "stops"),
    [
        (StepStatus.FAILED, OnFailure.ABORT, True),
        (StepStatus.FAILED, OnFailure.CONTINUE, False),
        (StepStatus.ABORTED, OnFailure.CONTINUE, True),
        (StepStatus.ABORTED, OnFailure.ABORT, True),
        (StepStatus.SUCCEEDED, OnFailure.ABORT, False),
        (StepStatus.WARNING, OnFailure.ABORT, False),
        (StepStatus.SKIPPED, OnFailure.ABORT, False),
    ],
)
def test_stops_run(status: StepStatus, on_failure: OnFailure, stops: bool) -> None:
    assert stops_run(status, on_failure) is stops


def test_run_status_from_step_statuses() -> None:
    assert run_status([]) is RunStatus.SUCCEEDED
    assert run_status([StepStatus.SUCCEEDED, StepStatus.SKIPPED]) is RunStatus.SUCCEEDED
    assert run_status([StepStatus.SUCCEEDED, StepStatus.WARNING]) is RunStatus.WARNING
    assert run_status([StepStatus.WARNING, StepStatus.FAILED]) is RunStatus.FAILED
    assert run_status([StepStatus.ABORTED]) is RunStatus.FAILED
    assert run_status([StepStatus.SUCCEEDED], aborted=True) is RunStatus.ABORTED


def test_only_succeeded_and_warning_runs_are_successes() -> None:
    assert {status for status in RunStatus if is_success(status)} == {
        RunStatus.SUCCEEDED,
        RunStatus.WARNING,
    }
