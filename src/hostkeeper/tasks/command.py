"""`run: [argv...]`: an operator's own command as a step."""

from __future__ import annotations

from typing import Any

from hostkeeper.adapters.commands import run_command
from hostkeeper.core.runs import StepStatus
from hostkeeper.tasks.context import StepContext, StepOutcome

NAME = "run"


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    argv: list[str] = argument
    if ctx.dry_run:
        return StepOutcome(StepStatus.SKIPPED, f"dry run: would run {' '.join(argv)}")
    result = run_command(
        argv,
        cwd=ctx.step.cwd,
        env=ctx.step.env,
        timeout=ctx.remaining(),
        cancel=ctx.cancel,
    )
    details = {"argv": argv, "returncode": result.returncode, "seconds": round(result.duration, 3)}
    if result.ok:
        return StepOutcome(
            StepStatus.SUCCEEDED, f"{argv[0]} exited 0", output=result.output, details=details
        )
    # A timeout is the command's failure (on_failure decides); a shutdown aborts the run.
    status = StepStatus.ABORTED if result.cancelled else StepStatus.FAILED
    return StepOutcome(
        status,
        error=f"{argv[0]} {result.describe_failure()}",
        output=result.output,
        details=details,
    )
