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
from hostkeeper.config import Config
from hostkeeper.reports import page as html
from hostkeeper.reports.common import (
    check_durations,
    metric_series,
    procedure_durations,
    report_path,
    seconds,
    step_durations,
    when,
    write_text,
)
from hostkeeper.reports.svg import Band, Series, bar_chart, line_chart

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
        f"baseline mean {stats.mean:.4g} +/- {spread:.3g}",
        line=stats.p95,
        line_label="" if stats.p95 is None else f"baseline p95 {stats.p95:.4g}",
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
        charts.append(line_chart(metric, [Series(metric, pairs)], band=_band(stats)))
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
    baseline_note = (
        f"Baseline version {version.version} (window {when(version.window_start)} to "
        f"{when(version.window_end)}): shaded band mean +/- stddev, dashed line p95."
        if version
        else "No active baseline yet: charts are drawn without a band."
    )
    body = (
        f"<h2>Metrics against the baseline</h2><p>{html.escape(baseline_note)}</p>"
        f'<div class="charts">{"".join(charts)}</div>'
        + html.table(
            ["metric", "share of the period above baseline p95"],
            [[metric, f"{share:.0%}"] for metric, share in above.items()],
        )
        + "<h2>Procedure durations</h2>"
        + '<div class="charts">'
        + bar_chart("Mean run duration (s)", [(p, m) for p, _, m, _ in procedures], unit=" s")
        + "</div>"
        + html.table(
            ["procedure", "runs", "mean", "longest"],
            [[p, n, seconds(m), seconds(x)] for p, n, m, x in procedures],
        )
        + "<h2>Slowest steps</h2>"
        + '<div class="charts">'
        + bar_chart(
            "Mean step duration (s)",
            [(f"{p}: {s}", m) for p, s, _, m, _ in steps[:SLOWEST]],
            unit=" s",
        )
        + "</div>"
        + html.table(
            ["procedure", "step", "runs", "mean", "longest"],
            [[p, s, n, seconds(m), seconds(x)] for p, s, n, m, x in steps[:SLOWEST]],
        )
        + "<h2>Health-check execution time</h2>"
        + '<div class="charts">'
        + bar_chart(
            "Mean check duration (ms)", [(name, mean * 1000) for name, _, mean in checks], " ms"
        )
        + "</div>"
        + html.table(
            ["check", "results", "mean"], [[name, n, seconds(mean)] for name, n, mean in checks]
        )
    )
    text = html.page(
        f"Weekly performance report — {store.host}", f"{when(start)} to {when(now)}", body
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
