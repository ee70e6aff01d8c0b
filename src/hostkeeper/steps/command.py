"""`run: [argv...]`: an operator's own command as a step."""

from __future__ import annotations

from typing import Any

from hostkeeper.adapters.commands import run_command
from hostkeeper.adapters.credentials import CredentialsError, read_credentials
from hostkeeper.core.redact import argv_secrets, redact_argv, redact_text
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "run"


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    argv: list[str] = argument
    names = list(ctx.step.secret_env or [])
    if ctx.dry_run:
        shown = " ".join(redact_argv(argv))
        return StepOutcome(StepStatus.SKIPPED, f"dry run: would run {shown}")
    try:
        secrets = read_credentials(ctx.config.paths.credentials_file, names) if names else {}
    except CredentialsError as error:
        return StepOutcome.failed(str(error))
    # What is stored and shown: neither the secrets (should the command print them) nor
    # secret-looking arguments.
    hidden = [*secrets.values(), *argv_secrets(argv)]
    result = run_command(
        argv,
        cwd=ctx.step.cwd,
        env={**(ctx.step.env or {}), **secrets},
        timeout=ctx.remaining(),
        cancel=ctx.cancel,
        on_line=(lambda line: ctx.emit_output(redact_text(line, hidden)))
        if ctx.output_line is not None
        else None,
    )
    details: dict[str, Any] = {
        "argv": redact_argv(argv, hidden),
        "returncode": result.returncode,
        "seconds": round(result.duration, 3),
    }
    if names:
        details["secret_env"] = names
    output = redact_text(result.output, hidden)
    if result.ok:
        return StepOutcome(
            StepStatus.SUCCEEDED, f"{argv[0]} exited 0", output=output, details=details
        )
    # A timeout is the command's failure (on_failure decides); a shutdown aborts the run.
    status = StepStatus.ABORTED if result.cancelled else StepStatus.FAILED
    return StepOutcome(
        status,
        error=redact_text(f"{argv[0]} {result.describe_failure()}", hidden),
        output=output,
        details=details,
    )
