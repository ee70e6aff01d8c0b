"""`evaluate_alerts`: evaluate every alert rule now and send what is due.

Notifications leave through the daemon's delivery worker (or, in a CLI run, one of the
step's own); a failed delivery never fails the step.
"""

from __future__ import annotations

from typing import Any

from hostkeeper.alerting.evaluator import evaluate_rules
from hostkeeper.alerting.service import sender_for
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "evaluate_alerts"


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    rules = ctx.config.alerts.rules
    if ctx.dry_run:
        return StepOutcome(StepStatus.SKIPPED, f"dry run: would evaluate {len(rules)} rules")
    remaining = ctx.remaining()
    with sender_for(ctx.store, ctx.config, None if remaining is None else min(remaining, 60)) as s:
        result = evaluate_rules(ctx.config, ctx.store, s)
    return StepOutcome.ok(result.describe(), **result.as_dict())
