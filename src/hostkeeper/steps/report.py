"""`report: NAME`: write one of the reports (see hostkeeper.reports.registry)."""

from __future__ import annotations

from typing import Any

from hostkeeper.core.runs import StepStatus
from hostkeeper.reports.registry import UnknownReport, generate
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "report"


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    name: str = argument
    if ctx.dry_run:
        return StepOutcome(StepStatus.SKIPPED, f"dry run: would write the {name} report")
    try:
        path, data = generate(name, ctx.config, ctx.store, ctx.now(), config_path=ctx.config_path)
    except UnknownReport as error:
        return StepOutcome.failed(str(error))
    return StepOutcome.ok(f"{name} report written to {path}", path=str(path), **_headline(data))


def _headline(data: Any) -> dict[str, Any]:
    totals = data.get("totals") if isinstance(data, dict) else None
    if totals is None and isinstance(data, dict):
        totals = data.get("summary")
    return {"totals": totals} if totals else {}
