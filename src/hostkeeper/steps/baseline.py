"""`baseline: update|validate|rollback`, shared by procedure steps and `hostkeeper baseline`.

`update` computes mean, stddev, p50/p95/p99 and n per `baselines.metrics` over
`baselines.window` and writes them as a `candidate` version; a metric with fewer than
`min_samples` samples keeps its active statistics (and the step warns), and with no
metric having enough, no version is written. `validate` promotes the newest candidate
to `active` or rejects it (step failure) when a mean drifted more than
`drift_threshold` or n < `min_samples`. `rollback` re-activates an earlier version.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import baselines as baseline_store
from hostkeeper.config import Config
from hostkeeper.config.units import format_duration
from hostkeeper.core import baselines as core_baselines
from hostkeeper.core.baselines import BaselineStatus, VersionRef, plan_update, rollback_target
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "baseline"


def export_dir(config: Config) -> Path:
    return Path(config.paths.state_dir) / "baselines"


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    if argument == "update":
        return update(
            ctx.config, ctx.store, ctx.now(), dry_run=ctx.dry_run, check=ctx.check_cancelled
        )
    if argument == "validate":
        return validate(ctx.config, ctx.store, dry_run=ctx.dry_run)
    if argument == "rollback":
        return rollback(ctx.config, ctx.store, dry_run=ctx.dry_run)
    return StepOutcome.failed(f"unknown baseline action {argument!r}")


def update(
    config: Config,
    store: Store,
    now: datetime,
    *,
    backup_previous: bool = False,
    dry_run: bool = False,
    check: Callable[[], None] | None = None,
) -> StepOutcome:
    settings = config.baselines
    start = now - settings.window
    computed = baseline_store.compute_stats(store, settings.metrics, start, now, check=check)
    active = baseline_store.active_version(store)
    active_stats = baseline_store.version_stats(store, active.version) if active else {}
    plan = plan_update(computed, active_stats, settings.min_samples)
    details: dict[str, Any] = {
        "window_start": start.isoformat(),
        "window_end": now.isoformat(),
        "min_samples": settings.min_samples,
        "stats": {metric: stats.as_dict() for metric, stats in computed.items()},
        "short": plan.short,
    }
    short_text = ", ".join(f"{metric} ({n})" for metric, n in plan.short.items())
    raw_retention = config.metrics.retention.raw
    caveat = (
        f"; metrics.retention.raw ({format_duration(raw_retention)}) is shorter than "
        f"baselines.window ({format_duration(settings.window)})"
        if raw_retention < settings.window
        else ""
    )
    if not plan.writes_version:
        return StepOutcome(
            StepStatus.WARNING,
            f"baseline not updated: fewer than min_samples ({settings.min_samples}) samples "
            f"in the last {format_duration(settings.window)} for {short_text or 'every metric'}"
            + caveat,
            details=details,
        )
    if dry_run:
        return StepOutcome(
            StepStatus.SKIPPED,
            f"dry run: would write a candidate version with {len(plan.stats)} metrics",
            details=details,
        )
    if backup_previous:
        previous = active or next(iter(baseline_store.list_versions(store)), None)
        if previous is not None:
            path = baseline_store.export_version(store, previous, export_dir(config))
            details["backup"] = str(path)
    note = None
    if plan.carried_over and active is not None:
        note = f"carried over from v{active.version}: {', '.join(plan.carried_over)}"
        details["carried_over"] = plan.carried_over
    number, pruned = baseline_store.create_version(
        store, plan.stats, start, now, now, settings.keep_versions, note=note
    )
    details.update(version=number, pruned=pruned)
    summary = f"baseline v{number} written as candidate ({len(plan.updated)} metrics updated"
    summary += f"; kept from v{active.version}: {short_text})" if note and active else ")"
    if "backup" in details:
        summary += f"; previous version exported to {details['backup']}"
    if pruned:
        summary += f"; pruned v{', v'.join(str(v) for v in pruned)}"
    if plan.short:
        return StepOutcome(
            StepStatus.WARNING,
            summary + f"; fewer than min_samples ({settings.min_samples}): {short_text}" + caveat,
            details=details,
        )
    return StepOutcome(StepStatus.SUCCEEDED, summary + caveat, details=details)


def validate(config: Config, store: Store, *, dry_run: bool = False) -> StepOutcome:
    settings = config.baselines
    versions = baseline_store.list_versions(store)
    active = next((v for v in versions if v.status is BaselineStatus.ACTIVE), None)
    candidate = next(
        (
            v
            for v in versions
            if v.status is BaselineStatus.CANDIDATE
            and (active is None or v.version > active.version)
        ),
        None,
    )
    if candidate is None:
        where = f"v{active.version} is active" if active else "no version exists yet"
        return StepOutcome(StepStatus.SUCCEEDED, f"no candidate baseline to validate ({where})")
    candidate_stats = baseline_store.version_stats(store, candidate.version)
    active_stats = baseline_store.version_stats(store, active.version) if active else None
    result = core_baselines.validate(
        candidate_stats, active_stats, settings.drift_threshold, settings.min_samples
    )
    details: dict[str, Any] = {
        "candidate": candidate.version,
        "active": active.version if active else None,
        "drift_threshold": settings.drift_threshold,
        "min_samples": settings.min_samples,
        "metrics": [
            {
                "metric": verdict.metric,
                "n": verdict.n,
                "old_mean": verdict.old_mean,
                "new_mean": verdict.new_mean,
                "drift_percent": verdict.drift_percent,
                "problem": verdict.problem,
            }
            for verdict in result.verdicts
        ],
    }
    against = f"v{active.version}" if active else "no active version"
    if dry_run:
        verdict = "pass" if result.ok else "fail: " + "; ".join(result.problems)
        return StepOutcome(
            StepStatus.SKIPPED,
            f"dry run: v{candidate.version} against {against} would {verdict}",
            details=details,
        )
    if not result.ok:
        problems = "; ".join(result.problems)
        baseline_store.reject(store, candidate.version, problems)
        kept = f"v{active.version} stays active" if active else "no version is active"
        return StepOutcome(
            StepStatus.FAILED,
            error=f"baseline v{candidate.version} rejected: {problems}; {kept}",
            details=details,
        )
    baseline_store.activate(store, candidate.version)
    return StepOutcome(
        StepStatus.SUCCEEDED,
        f"baseline v{candidate.version} validated against {against} and now active",
        details=details,
    )


def rollback(
    config: Config, store: Store, version: int | None = None, *, dry_run: bool = False
) -> StepOutcome:
    versions = baseline_store.list_versions(store)
    try:
        target = rollback_target([VersionRef(v.version, v.status) for v in versions], version)
    except ValueError as error:
        return StepOutcome.failed(str(error))
    if dry_run:
        return StepOutcome(StepStatus.SKIPPED, f"dry run: would make v{target} active")
    previous = baseline_store.activate(
        store, target, previous_becomes=BaselineStatus.ROLLED_BACK, note=None
    )
    replaced = f" (v{previous} rolled back)" if previous is not None else ""
    return StepOutcome(
        StepStatus.SUCCEEDED,
        f"baseline v{target} is active again{replaced}",
        details={"active": target, "rolled_back": previous},
    )
