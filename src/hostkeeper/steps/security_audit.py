"""`security_audit`: the monthly audit, with its JSON report under report_dir/security/."""

from __future__ import annotations

from typing import Any

from hostkeeper.core.runs import StepStatus
from hostkeeper.services.audit import run_audit, write_report
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "security_audit"


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    now = ctx.now()
    report = run_audit(ctx.config, ctx.config_path or "/etc/hostkeeper/hostkeeper.yaml", now)
    if ctx.dry_run:
        return StepOutcome(StepStatus.SKIPPED, f"dry run: {len(report.findings)} finding(s)")
    path = write_report(ctx.config, report, now)
    summary = report.as_dict()["summary"]
    text = f"{len(report.findings)} finding(s) {summary}; report {path}"
    details = {"report": str(path), "findings": summary}
    if report.findings:
        # Findings are for people to act on; the step itself did its job.
        return StepOutcome(StepStatus.WARNING, text, details=details)
    return StepOutcome(StepStatus.SUCCEEDED, text, details=details)
