"""`report: daily`: the last 24 hours on one page.

report_dir/daily/health_report_YYYYMMDD.html: health score and check states, the key
metrics of the last 24 h, the runs of the period with their step results, firing
alerts and backup status.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.checks import score_history
from hostkeeper.adapters.store.runs import list_runs
from hostkeeper.config import Config
from hostkeeper.reports import page as html
from hostkeeper.reports.common import metric_series, report_path, seconds, when, write_text
from hostkeeper.reports.svg import Series, bar_chart, line_chart
from hostkeeper.web.snapshot import take_snapshot

NAME = "daily"
TITLE = "Daily health report"
PERIOD = timedelta(hours=24)
KEY_METRICS = (
    ("cpu.percent", "%"),
    ("memory.percent", "%"),
    ("load.5m", ""),
    ("disk./.used_percent", "%"),
)
MAX_RUNS = 500


def build(
    config: Config, store: Store, now: datetime, period: timedelta = PERIOD
) -> tuple[str, dict[str, Any]]:
    start = now - period
    snapshot = take_snapshot(store, config, now=now)
    day_runs = [
        run
        for run in list_runs(store, limit=MAX_RUNS)
        if run.started_at >= start and run.status != "missed"
    ]
    day_runs.reverse()  # oldest first, as the day went
    scores = [
        (record.computed_at.timestamp(), record.score)
        for record in score_history(store, start, now)
        if record.score is not None
    ]
    failed_runs = [run for run in day_runs if run.status in ("failed", "aborted")]
    data: dict[str, Any] = {
        "report": "daily",
        "host": store.host,
        "generated_at": now.isoformat(),
        "period": {"start": start.isoformat(), "end": now.isoformat()},
        "health_score": snapshot.health_score,
        "checks": {c["name"]: c["state"] for c in snapshot.checks},
        "runs": [{"procedure": r.procedure, "status": r.status} for r in day_runs],
        "firing_alerts": [a["rule"] for a in snapshot.firing],
        "backups": {b["set"]: b["age_seconds"] for b in snapshot.backups},
        "totals": {
            "runs": len(day_runs),
            "failed_runs": len(failed_runs),
            "firing_alerts": len(snapshot.firing),
        },
    }
    score = snapshot.health_score
    cards = "".join(
        [
            html.card(
                "health score",
                "-" if score is None else f"{score:.0f}",
                None if score is None else ("ok" if score >= 80 else "warning"),
            ),
            html.card("runs", len(day_runs)),
            html.card("failed runs", len(failed_runs), "failed" if failed_runs else "ok"),
            html.card(
                "firing alerts", len(snapshot.firing), "critical" if snapshot.firing else "ok"
            ),
        ]
    )
    checks = html.table(
        ["check", "state", "value", "detail", "checked"],
        [
            [
                html.escape(c["name"]),
                html.state_cell(c["state"]),
                html.escape("-" if c["value"] is None else f"{c['value']:.4g} {c['unit'] or ''}"),
                html.escape((c["detail"] or "")[:200]),
                html.escape(when(c["checked_at"])),
            ]
            for c in snapshot.checks
        ],
        raw=True,
    )
    charts = [line_chart("Health score", [Series("health score", scores)], y_min=0, y_max=100)] + [
        line_chart(name, [Series(name, metric_series(store, name, start, now))], unit=unit)
        for name, unit in KEY_METRICS
    ]
    run_rows = []
    for run in day_runs:
        steps = "<br>".join(
            f"{html.state_cell(step.status.value)} {html.escape(step.label)} "
            f"({html.escape(seconds(step.duration_seconds))})"
            + (f": {html.escape(step.error[:160])}" if step.error else "")
            for step in run.steps
        )
        run_rows.append(
            [
                html.escape(run.procedure),
                html.escape(when(run.started_at)),
                html.state_cell(run.status),
                html.escape(seconds(run.duration_seconds)),
                steps or html.escape(run.error or ""),
            ]
        )
    durations = bar_chart(
        "Run durations (s)",
        [
            (f"{run.procedure} {run.started_at:%H:%M}", run.duration_seconds or 0.0)
            for run in day_runs
        ],
        unit=" s",
    )
    alerts = html.table(
        ["rule", "severity", "firing since", "acknowledged", "summary"],
        [
            [
                a["rule"],
                a["severity"],
                when(a["since"]),
                "yes" if a["acknowledged"] else "no",
                a["summary"] or "",
            ]
            for a in snapshot.firing
        ],
    )
    backups = html.table(
        ["set", "newest archive", "created", "size", "verified", "last restore test"],
        [
            [
                b["set"],
                b["newest"] or "none",
                when(b["created_at"]),
                "-" if b["size_bytes"] is None else f"{b['size_bytes'] / 1_048_576:.1f} MB",
                {None: "never", True: "ok", False: "FAILED"}[b["verify_ok"]],
                "never"
                if b["restore_tested_at"] is None
                else f"{'ok' if b['restore_ok'] else 'FAILED'} {when(b['restore_tested_at'])}",
            ]
            for b in snapshot.backups
        ],
    )
    body = (
        f'<div class="cards">{cards}</div>'
        f"<h2>Health</h2>{checks}"
        f"<h2>Key metrics, last {period.total_seconds() / 3600:.0f} h</h2>"
        f'<div class="charts">{"".join(charts)}</div>'
        f"<h2>Runs</h2>"
        + html.table(["procedure", "started", "result", "duration", "steps"], run_rows, raw=True)
        + f'<div class="charts">{durations}</div>'
        f"<h2>Firing alerts</h2>{alerts}"
        f"<h2>Backups</h2>{backups}"
    )
    text = html.page(
        f"Daily health report — {store.host}",
        f"{when(start)} to {when(now)}",
        body,
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
    path = output or report_path(config, now, "daily", "health_report", "html")
    return write_text(path, text), data
