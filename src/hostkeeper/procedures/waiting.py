"""`wait_for`: a run waits, before a step, until people confirm checklist items.

The wait is bounded by the step's `wait_timeout` and ends early when hostkeeper stops.
Confirmations come from `hostkeeper confirm` (another process) through the store, so
the wait polls it. The start of a wait and a wait that timed out are notified (events
`wait` and `wait_timeout`); the step nobody cleared in time is skipped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.checklists import Confirmation, confirmations
from hostkeeper.config.procedures import Step
from hostkeeper.config.units import format_duration
from hostkeeper.core.numbers import format_seconds
from hostkeeper.core.runs import StepStatus
from hostkeeper.procedures.runlog import RunLog
from hostkeeper.steps.context import StepOutcome

log = structlog.get_logger("hostkeeper.engine")

POLL_SECONDS = 2.0


@dataclass(frozen=True)
class WaitResult:
    confirmed: dict[str, Confirmation]
    missing: list[str]  # items still unconfirmed when the wait ended
    cancelled: bool  # hostkeeper is stopping

    @property
    def complete(self) -> bool:
        return not self.missing


def wait_for_items(
    store: Store,
    run_id: int,
    items: Sequence[str],
    timeout: float,
    cancel: threading.Event,
    on_confirmed: Callable[[Confirmation], None] | None = None,
    poll: float = POLL_SECONDS,
) -> WaitResult:
    """Wait until every one of `items` of run `run_id` is confirmed, `timeout` seconds
    pass, or `cancel` is set; `on_confirmed` hears of each confirmation as it is seen."""
    deadline = time.monotonic() + timeout
    seen: dict[str, Confirmation] = {}
    while True:
        try:
            found = confirmations(store, [run_id]).get(run_id, {})
        except Exception:  # a busy or restarting database must not end a long wait
            log.warning("cannot read checklist confirmations; trying again", exc_info=True)
            found = {}
        for name in items:
            if name in found and name not in seen:
                seen[name] = found[name]
                if on_confirmed is not None:
                    on_confirmed(found[name])
        missing = [name for name in items if name not in seen]
        left = deadline - time.monotonic()
        if not missing or left <= 0:
            return WaitResult(seen, missing, cancelled=False)
        if cancel.wait(min(poll, left)):
            return WaitResult(seen, missing, cancelled=True)


def hold_step(
    store: Store,
    run_log: RunLog,
    procedure: str,
    run_id: int,
    step: Step,
    dry_run: bool,
    cancel: threading.Event,
    notify: Callable[[str, str], None],
    poll: float = POLL_SECONDS,
) -> StepOutcome | None:
    """Wait for the checklist items `step` names in `wait_for`, telling the per-day log
    and `notify(event, notice)` about it. None when the step may run (all confirmed, or
    a dry run); else the outcome to record for it: skipped after the wait timed out,
    aborted when hostkeeper stops."""
    items = list(step.wait_for or [])
    label, timeout = step.label(), step.effective_wait_timeout
    shown, limit = ", ".join(items), format_duration(timeout)
    if dry_run:
        run_log.line(f"dry run: step {label} would wait up to {limit} for {shown}")
        return None
    began = time.monotonic()
    notice = (
        f"{procedure} run {run_id} waits up to {limit} before step {label} for checklist "
        f"items: {shown}; confirm each with `hostkeeper confirm {run_id} ITEM`"
    )
    run_log.line(notice)
    log.info("waiting for checklist items", step=label, items=items)
    notify("wait", notice)

    def confirmed(confirmation: Confirmation) -> None:
        note = f": {confirmation.note}" if confirmation.note else ""
        run_log.line(
            f"checklist item {confirmation.item} confirmed by {confirmation.confirmed_by}{note}"
        )

    result = wait_for_items(store, run_id, items, timeout.total_seconds(), cancel, confirmed, poll)
    missing = ", ".join(result.missing)
    if result.complete:
        waited = format_seconds(time.monotonic() - began)
        run_log.line(f"checklist items {shown} confirmed after {waited}; step {label} may run")
        return None
    if result.cancelled:
        reason = f"stopped waiting for {missing}: hostkeeper is stopping"
        run_log.line(reason)
        return StepOutcome(StepStatus.ABORTED, error=reason)
    notice = (
        f"{procedure} run {run_id}: checklist items {missing} not confirmed within {limit}; "
        f"step {label} skipped"
    )
    run_log.line(notice)
    log.warning("checklist items not confirmed in time, step skipped", step=label, missing=missing)
    notify("wait_timeout", notice)
    return StepOutcome(
        StepStatus.SKIPPED,
        f"not run: checklist items {missing} not confirmed within {limit}",
        details={"unconfirmed": result.missing},
    )
