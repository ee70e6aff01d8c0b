"""`analyze_trends: 7d`: a least-squares line per baseline metric over the period.

Records, in the step's details, the slope per day of each of `baselines.metrics` and,
for usage metrics (`*.used_percent`, `memory.percent`, `swap.percent`), the projected
days until 100 %. Raw samples are used while the period fits in their retention,
5-minute or hourly rollups beyond. The same figures are written to
report_dir/trends/analyze_trends_YYYYMMDD.json.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hostkeeper.adapters.fs import atomic_write
from hostkeeper.adapters.store import Store
from hostkeeper.config import Config
from hostkeeper.config.units import format_duration
from hostkeeper.core.runs import StepStatus
from hostkeeper.services.trends import RESOLUTION_NAMES, trends_and_shortfalls
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "analyze_trends"


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    period: timedelta = argument
    now = ctx.now()
    outcome = analyze(ctx.config, ctx.store, now, period)
    if ctx.dry_run or outcome.details is None:
        return outcome
    target = report_path(ctx.config, now)
    document = {"generated_at": now.isoformat(), **outcome.details}
    atomic_write(target, (json.dumps(document, indent=2) + "\n").encode(), 0o640)
    return replace(outcome, details={**outcome.details, "report": str(target)})


def report_path(config: Config, now: datetime) -> Path:
    local = now.astimezone(ZoneInfo(config.timezone))
    return Path(config.paths.report_dir) / "trends" / f"analyze_trends_{local:%Y%m%d}.json"


def analyze(config: Config, store: Store, now: datetime, period: timedelta) -> StepOutcome:
    found, why_not, resolution = trends_and_shortfalls(config, store, now, period)
    fitted = {metric: t for metric, t in found.items() if t is not None}
    missing = [metric for metric, t in found.items() if t is None]
    details: dict[str, Any] = {
        "period": format_duration(period),
        "source": RESOLUTION_NAMES[resolution],
        "trends": {metric: t.as_dict() for metric, t in fitted.items()},
        "no_data": missing,
        "not_enough_data": why_not,
    }
    parts = [t.describe() for t in fitted.values()]
    parts += [f"{metric} {why_not[metric]}" for metric in missing]
    summary = f"trends over {format_duration(period)}: " + "; ".join(parts)
    if not fitted:
        return StepOutcome(StepStatus.WARNING, summary, details=details)
    return StepOutcome(StepStatus.SUCCEEDED, summary, details=details)
