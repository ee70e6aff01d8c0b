"""`report: NAME`: write one of the reports.

Each report is a module `hostkeeper.reports.<name>` with `write(config, store, now)`
returning (path, data). A report whose module does not exist yet fails clearly.
"""

from __future__ import annotations

import importlib
from typing import Any

from hostkeeper.core.runs import StepStatus
from hostkeeper.tasks.context import StepContext, StepOutcome


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    name: str = argument
    module_name = f"hostkeeper.reports.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        return StepOutcome.failed(
            f"the {name!r} report is not available yet in this version of hostkeeper"
        )
    if ctx.dry_run:
        return StepOutcome(StepStatus.SKIPPED, f"dry run: would write the {name} report")
    path, data = module.write(ctx.config, ctx.store, ctx.now())
    return StepOutcome.ok(f"{name} report written to {path}", path=str(path), **_headline(data))


def _headline(data: Any) -> dict[str, Any]:
    totals = data.get("totals") if isinstance(data, dict) else None
    return {"totals": totals} if totals else {}
