"""`health_check`: run every configured check, store the results and the health score.

The step's status says whether the checks ran, not whether the host is healthy: it
succeeds when every check is ok, ends with WARNING when any check is warning, critical
or unknown (the run is then marked for a look, and the `check:` and `health_score`
alert rules act on the stored states), and fails only when the checks could not be run
or stored at all. A critical disk therefore does not abort the rest of a procedure
(backups and cleanup are what an operator wants to keep running then).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.checks import prune_check_history, record_check_run
from hostkeeper.checks import LOCAL_TYPES
from hostkeeper.checks.runner import run_checks
from hostkeeper.config import Config
from hostkeeper.core.health import CheckResult, CheckState, score_of, worst_state
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepCancelled, StepContext, StepOutcome

NAME = "health_check"


@dataclass(frozen=True)
class HealthRound:
    results: list[CheckResult]
    score: float | None
    complete: bool  # every configured check ran (the score is the host's health score)

    @property
    def state(self) -> CheckState:
        return worst_state(result.state for result in self.results)

    def counts(self) -> dict[str, int]:
        counted = Counter(result.state.value for result in self.results)
        return {state.value: counted.get(state.value, 0) for state in CheckState}


def select_checks(config: Config, quick: bool = False) -> list[Any]:
    """The configured checks, or with `quick` only those that look at this host alone."""
    return [
        check.with_defaults_from(config)
        for check in config.checks
        if not quick or check.type in LOCAL_TYPES
    ]


def check_round(
    config: Config,
    store: Store | None,
    checks: Sequence[Any],
    *,
    cancel: threading.Event | None = None,
    deadline: float | None = None,
    now: datetime | None = None,
) -> HealthRound:
    """Run `checks` and, given a store, record their results.

    Raises StepCancelled (nothing stored) when `cancel` was set during the round.

    The health score is computed over the checks that ran; it is stored (and is the
    host's score) only when they are all the configured checks, so a partial round such
    as `check --quick` never stands in for the whole host's health.
    """
    results = run_checks(checks, cancel=cancel, deadline=deadline, checked_at=now)
    score = score_of(results, config.health_score.weights)
    complete = {check.name for check in checks} == {check.name for check in config.checks}
    if cancel is not None and cancel.is_set():
        # Checks cut short by a shutdown say nothing about the host: keep them out of
        # the history the alert rules read.
        raise StepCancelled("hostkeeper is shutting down")
    if store is not None and results:
        record_check_run(store, results, score=score, with_score=complete)
        retention = config.metrics.retention.hourly
        prune_check_history(store, results[0].checked_at - retention)
    return HealthRound(results, score, complete)


def describe(round_: HealthRound) -> str:
    score = "none (no check known)" if round_.score is None else f"{round_.score:.0f}"
    counts = ", ".join(f"{n} {state}" for state, n in round_.counts().items() if n)
    bad = [r.name for r in round_.results if r.state is not CheckState.OK]
    return f"health score {score}: {counts}" + (f" (not ok: {', '.join(bad)})" if bad else "")


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    checks = select_checks(ctx.config)
    if not checks:
        return StepOutcome.ok("no checks configured")
    round_ = check_round(
        ctx.config,
        None if ctx.dry_run else ctx.store,
        checks,
        cancel=ctx.cancel,
        deadline=ctx.deadline,
        now=ctx.now(),
    )
    summary = ("dry run, not stored: " if ctx.dry_run else "") + describe(round_)
    status = StepStatus.SUCCEEDED if round_.state is CheckState.OK else StepStatus.WARNING
    return StepOutcome(
        status,
        summary,
        details={
            "score": round_.score,
            "state": round_.state.value,
            "checks": [result.to_dict() for result in round_.results],
        },
    )
