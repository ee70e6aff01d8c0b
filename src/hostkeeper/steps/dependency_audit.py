"""`dependency_audit`: vulnerable and outdated Python distributions, pending OS upgrades,
held packages and a reboot asked for; stored (first seen, resolved) and written to
report_dir/security/dependencies_YYYYMMDD.json.

The audit runs in a child process, so reading the advisories never grows the daemon.
Findings are for people to act on: the step ends with WARNING when one is at or above
`security.dependencies.fail_on` or a part of the audit could not run, and fails only
when the audit itself could not run.
"""

from __future__ import annotations

from typing import Any

from hostkeeper.core.runs import StepStatus
from hostkeeper.services.dependency_audit import (
    AuditChildFailed,
    record,
    run_in_child,
    write_report,
)
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "dependency_audit"


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    settings = ctx.config.security.dependencies
    now = ctx.now()
    try:
        report = run_in_child(
            settings, ctx.config.paths.state_dir, timeout=ctx.remaining(), cancel=ctx.cancel
        )
    except AuditChildFailed as error:
        ctx.check_cancelled()  # a shutdown or timeout is an aborted step, not a failure
        return StepOutcome.failed(str(error))
    counts = report.counts()
    described = ", ".join(f"{n} {severity}" for severity, n in counts.items() if n) or "none"
    if ctx.dry_run:
        return StepOutcome(
            StepStatus.SKIPPED,
            f"dry run, not stored: {len(report.findings)} finding(s): {described}",
        )
    path = write_report(ctx.config, report, now)
    record(ctx.config, ctx.store, report, now, path)
    alarming = report.at_or_above(settings.fail_on)
    text = f"{len(report.findings)} finding(s): {described}; report {path}"
    if report.warnings:
        text += f"; {len(report.warnings)} warning(s): {report.warnings[0]}"
    details = {
        "report": str(path),
        "findings": counts,
        "warnings": report.warnings,
        "resources": report.resources,
    }
    if alarming or report.warnings:
        return StepOutcome(StepStatus.WARNING, text, details=details)
    return StepOutcome(StepStatus.SUCCEEDED, text, details=details)
