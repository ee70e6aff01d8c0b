from __future__ import annotations

import pytest

from hostkeeper.core.checklists import (
    ItemState,
    check_item_state,
    count_states,
    describe_counts,
    manual_item_state,
    step_item_state,
)
from hostkeeper.core.runs import StepStatus


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (StepStatus.SUCCEEDED, ItemState.DONE),
        (StepStatus.WARNING, ItemState.WARNING),
        (StepStatus.FAILED, ItemState.CROSSED),
        (StepStatus.ABORTED, ItemState.CROSSED),
        (StepStatus.SKIPPED, ItemState.CROSSED),
    ],
)
def test_a_recorded_step_decides_its_item_whether_or_not_the_run_ended(
    status: StepStatus, expected: ItemState
) -> None:
    assert step_item_state(status.value, run_ended=False) is expected
    assert step_item_state(status.value, run_ended=True) is expected


def test_every_step_status_maps_to_an_item_state() -> None:
    for status in StepStatus:
        assert step_item_state(status.value, run_ended=True) in set(ItemState)


def test_an_unrecorded_step_is_open_while_the_run_goes_on_and_crossed_after() -> None:
    assert step_item_state(None, run_ended=False) is ItemState.OPEN
    assert step_item_state(None, run_ended=True) is ItemState.CROSSED


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("ok", ItemState.DONE),
        ("warning", ItemState.WARNING),
        ("critical", ItemState.CROSSED),
        ("unknown", ItemState.CROSSED),
    ],
)
def test_a_check_result_decides_its_item(state: str, expected: ItemState) -> None:
    assert check_item_state(state, run_ended=True) is expected
    assert check_item_state(state, run_ended=False) is expected


def test_a_check_not_measured_during_the_run_is_open_then_crossed() -> None:
    assert check_item_state(None, run_ended=False) is ItemState.OPEN
    assert check_item_state(None, run_ended=True) is ItemState.CROSSED


def test_a_manual_item_is_done_once_confirmed_and_open_until_then() -> None:
    assert manual_item_state(True) is ItemState.DONE
    assert manual_item_state(False) is ItemState.OPEN


def test_counts_list_every_state_and_describe_only_those_with_items() -> None:
    counts = count_states([ItemState.DONE, ItemState.DONE, ItemState.OPEN])
    assert counts == {"done": 2, "warning": 0, "crossed": 0, "open": 1}
    assert describe_counts(counts) == "2 done, 1 open"
    assert describe_counts(count_states([])) == "no items"
