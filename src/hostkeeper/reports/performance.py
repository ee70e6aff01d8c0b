"""`report: performance`: the week's performance against the baseline.

report_dir/performance/weekly_YYYYMMDD.html: each baseline metric over the period with
the active baseline's band (mean +/- stddev) and its p95, procedure and step durations,
health-check execution time and the slowest steps.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.baselines import active_baseline, active_version
from hostkeeper.adapters.store.history import (
    check_durations,
    procedure_durations,
    step_durations,
)
from hostkeeper.config import Config
from hostkeeper.core.numbers import format_number
from hostkeeper.reports import page
from hostkeeper.reports.checklists import MAX_CHECKLISTS, checklist_summaries
from hostkeeper.reports.common import metric_series, report_path, write_text
from hostkeeper.reports.svg import Band, Series, bar_chart, line_chart
from hostkeeper.services.checklists import recent_checklists

NAME = "performance"
TITLE = "Performance against the baselines"
PERIOD = timedelta(days=7)
SLOWEST = 10


def _band(stats: Any) -> Band | None:
    if stats is None or stats.mean is None:
        return None
    spread = stats.stddev or 0.0
    return Band(
        stats.mean - spread,
        stats.mean + spread,
        f"baseline mean {format_number(stats.mean)} +/- {format_number(spread)}",
        line=stats.p95,
        line_label="" if stats.p95 is None else f"baseline p95 {format_number(stats.p95)}",
    )


def build(
    config: Config, store: Store, now: datetime, period: timedelta = PERIOD
) -> tuple[str, dict[str, Any]]:
    start = now - period
    baseline = active_baseline(store)
    version = active_version(store)
    metrics = list(dict.fromkeys([*config.baselines.metrics, *baseline]))
    charts = []
    above: dict[str, float] = {}
    for metric in metrics:
        pairs = metric_series(store, metric, start, now)
        stats = baseline.get(metric)
        if stats is not None and stats.p95 is not None and pairs:
            above[metric] = sum(v > stats.p95 for _, v in pairs) / len(pairs)
        charts.append(
            line_chart(metric, [Series(metric, pairs)], band=_band(stats), period=(start, now))
        )
    procedures = procedure_durations(store, start, now)
    steps = step_durations(store, start, now)
    checks = check_durations(store, start, now)
    data: dict[str, Any] = {
        "report": "performance",
        "host": store.host,
        "generated_at": now.isoformat(),
        "period": {"start": start.isoformat(), "end": now.isoformat()},
        "baseline_version": version.version if version else None,
        "share_above_p95": above,
        "procedures": {p: {"runs": n, "mean_seconds": m} for p, n, m, _ in procedures},
        "slowest_steps": [
            {"procedure": p, "step": s, "runs": n, "mean_seconds": m, "max_seconds": x}
            for p, s, n, m, x in steps[:SLOWEST]
        ],
        "check_seconds": {name: mean for name, _, mean in checks},
        "totals": {
            "metrics": len(metrics),
            "runs": sum(n for _, n, _, _ in procedures),
            "checks": len(checks),
        },
    }
    checklists = recent_checklists(config, store, start, now, MAX_CHECKLISTS)
    data["checklists"] = checklist_summaries(checklists)
    text = page.render(
        "performance.html",
        {
            "title": f"Weekly performance report — {store.host}",
            "subtitle": f"{page.when(start)} to {page.when(now)}",
            "version": version,
            "metric_charts": charts,
            "above": above,
            "procedures": procedures,
            "procedure_chart": bar_chart(
                "Mean run duration (s)", [(p, m) for p, _, m, _ in procedures], unit="s"
            ),
            "steps": steps[:SLOWEST],
            "step_chart": bar_chart(
                "Mean step duration (s)",
                [(f"{p}: {s}", m) for p, s, _, m, _ in steps[:SLOWEST]],
                unit="s",
            ),
            "checklists": checklists,
            "max_checklists": MAX_CHECKLISTS,
            "checks": checks,
            "check_chart": bar_chart(
                "Mean check duration (ms)",
                [(name, mean * 1000) for name, _, mean in checks],
                unit="ms",
            ),
        },
    )
    return text, data


def write(
    config: Config,
    store: Store,
    now: datetime,
    *,
    period: timedelta | None = None,
    output: Path | None = None,
    config_path: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    text, data = build(config, store, now, period or PERIOD)
    path = output or report_path(config, now, "performance", "weekly", "html")
    return write_text(path, text), data
