"""`db: [optimize, analyze, integrity_check, vacuum, backup, migrate, ...]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hostkeeper.adapters.store import maintenance
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "db"


def run_operation(ctx: StepContext, operation: str) -> maintenance.MaintenanceResult:
    store = ctx.store
    paths = ctx.config.paths
    if operation == "check":
        return maintenance.check(store)
    if operation == "integrity_check":
        return maintenance.check(store, full=True)
    keep = ctx.config.database.backup_keep
    if operation == "backup":
        return maintenance.backup(store, Path(paths.backup_dir), keep)
    if operation == "migrate":
        return maintenance.run_migrations(store, Path(paths.state_dir), keep)
    simple = {
        "optimize": maintenance.optimize,
        "analyze": maintenance.analyze,
        "vacuum": maintenance.vacuum,
        "reindex": maintenance.reindex,
        "stats": maintenance.stats,
    }
    return simple[operation](store)


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    operations: list[str] = argument
    if ctx.dry_run:
        return StepOutcome(StepStatus.SKIPPED, f"dry run: would run {', '.join(operations)}")
    results = []
    for operation in operations:
        ctx.check_cancelled()
        result = run_operation(ctx, operation)
        ctx.log.info(
            "database maintenance", operation=operation, ok=result.ok, summary=result.summary
        )
        results.append(result)
        if not result.ok:
            break  # e.g. a failed integrity check: do not vacuum a damaged database
    summary = "; ".join(f"{r.operation}: {r.summary}" for r in results)
    details = {r.operation: r.details for r in results if r.details}
    if all(r.ok for r in results):
        return StepOutcome(StepStatus.SUCCEEDED, summary, details=details or None)
    return StepOutcome(StepStatus.FAILED, summary, error=summary, details=details or None)
