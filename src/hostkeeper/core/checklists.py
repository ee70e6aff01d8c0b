"""Checklist items: what state a run record puts each item in.

An item is proved by the run itself (a step, a precondition, a health check measured
during the run) or confirmed by a person. From the evidence found (or not found) and
whether the run is still going, each item is `done`, `warning`, `crossed` or `open`:

- a step or precondition that succeeded ticks its item, one that ended with a warning
  marks it `warning`, one that failed, aborted or was skipped crosses it;
- a check ticks it when `ok`, marks it `warning` when `warning`, crosses it otherwise;
- with no evidence the item stays `open` while the run goes on, and is crossed once the
  run has ended without proving it;
- a manual item is `done` once confirmed and `open` until then, whatever the run did
  (a post-maintenance item is confirmed after the run).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import StrEnum


class ItemState(StrEnum):
    DONE = "done"
    WARNING = "warning"
    CROSSED = "crossed"
    OPEN = "open"


class ItemSource(StrEnum):
    STEP = "step"
    PRECONDITION = "precondition"
    CHECK = "check"
    MANUAL = "manual"


# Marks in text renderings: a box ticked, flagged, crossed or empty.
MARKS = {
    ItemState.DONE: "[x]",
    ItemState.WARNING: "[!]",
    ItemState.CROSSED: "[-]",
    ItemState.OPEN: "[ ]",
}

_STEP_STATES = {
    "succeeded": ItemState.DONE,
    "warning": ItemState.WARNING,
    "failed": ItemState.CROSSED,
    "aborted": ItemState.CROSSED,
    "skipped": ItemState.CROSSED,
}
_CHECK_STATES = {
    "ok": ItemState.DONE,
    "warning": ItemState.WARNING,
    "critical": ItemState.CROSSED,
    "unknown": ItemState.CROSSED,
}


def step_item_state(step_status: str | None, run_ended: bool) -> ItemState:
    """The state of an item proved by a step (or precondition) whose recorded status is
    `step_status` (None: not recorded in the run)."""
    if step_status is None:
        return ItemState.CROSSED if run_ended else ItemState.OPEN
    return _STEP_STATES.get(step_status, ItemState.CROSSED)


def check_item_state(check_state: str | None, run_ended: bool) -> ItemState:
    """The state of an item proved by a check whose newest result during the run is
    `check_state` (None: the check was not measured during the run)."""
    if check_state is None:
        return ItemState.CROSSED if run_ended else ItemState.OPEN
    return _CHECK_STATES.get(check_state, ItemState.CROSSED)


def manual_item_state(confirmed: bool) -> ItemState:
    return ItemState.DONE if confirmed else ItemState.OPEN


def count_states(states: Iterable[ItemState]) -> dict[str, int]:
    """How many items are in each state, every state listed (zero included)."""
    counted = Counter(states)
    return {state.value: counted.get(state, 0) for state in ItemState}


def describe_counts(counts: dict[str, int]) -> str:
    """`4 done, 1 crossed, 2 open`: the states that have items, in ItemState order."""
    parts = [f"{counts[state.value]} {state.value}" for state in ItemState if counts[state.value]]
    return ", ".join(parts) or "no items"
