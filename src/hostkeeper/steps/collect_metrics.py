"""`collect_metrics`: one round of host metrics into the store, then rollups and retention.

The daemon collects continuously on its own (hostkeeper.daemon.collector); this step is the
same collection as a procedure step or a manual run. Rates and CPU shares need two
readings, so the step reads the counters, waits a second, and collects.
"""

from __future__ import annotations

from typing import Any

from hostkeeper.adapters.store.metrics import maintain, write_samples
from hostkeeper.adapters.system import SystemCollector
from hostkeeper.config import Config
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "collect_metrics"

SAMPLING_SECONDS = 1.0


def retention_seconds(config: Config) -> tuple[float, float, float]:
    retention = config.metrics.retention
    return (
        retention.raw.total_seconds(),
        retention.five_minute.total_seconds(),
        retention.hourly.total_seconds(),
    )


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    config = ctx.config
    collector = SystemCollector(config.metrics.collect, config.metrics.disks)
    collector.prime()
    remaining = ctx.remaining()
    wait = SAMPLING_SECONDS if remaining is None else min(SAMPLING_SECONDS, remaining / 2)
    ctx.cancel.wait(wait)
    ctx.check_cancelled()
    batch = collector.collect()
    values = {sample.metric: sample.value for sample in batch}
    details: dict[str, Any] = {"samples": values}
    if collector.errors:
        details["errors"] = collector.errors
    if ctx.dry_run:
        return StepOutcome(
            StepStatus.SKIPPED,
            f"dry run: collected {len(batch)} samples, stored nothing",
            details=details,
        )
    written = write_samples(ctx.store, batch)
    maintenance = maintain(ctx.store, ctx.now().timestamp(), *retention_seconds(config))
    details.update(maintenance.as_dict())
    summary = f"{written} samples stored; {maintenance.describe()}"
    if collector.errors:
        return StepOutcome(
            StepStatus.WARNING, summary + "; " + "; ".join(collector.errors), details=details
        )
    return StepOutcome(StepStatus.SUCCEEDED, summary, details=details)
