"""`report: health_assessment`: the month in review.

report_dir/monthly/health_assessment_YYYYMMDD.html: availability of each check (share
of its results that were ok), the distribution of health scores, the alert
effectiveness summary, baseline drift (the period's mean against the active
baseline), backup and restore-test history, and the findings of the newest security
audit report under report_dir/security/ (the audit itself is the `security_audit`
step's job: it scans the host and takes its time), and the dependency audit's open
findings with how many were first seen and resolved in the period (from the store).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.baselines import active_baseline
from hostkeeper.adapters.store.checks import score_history
from hostkeeper.adapters.store.dependencies import (
    findings_between,
    latest_audit,
    open_counts,
    open_findings,
)
from hostkeeper.adapters.store.history import backup_history, check_state_counts
from hostkeeper.adapters.store.metrics import linear_sums
from hostkeeper.alerting.stats import effectiveness
from hostkeeper.config import Config
from hostkeeper.core.metrics import RAW
from hostkeeper.reports import page
from hostkeeper.reports.checklists import MAX_CHECKLISTS, checklist_summaries
from hostkeeper.reports.common import report_path, write_text
from hostkeeper.reports.svg import Series, bar_chart, line_chart
from hostkeeper.services.checklists import recent_checklists
from hostkeeper.services.trends import source_resolution

NAME = "health_assessment"
TITLE = "Monthly health assessment"
PERIOD = timedelta(days=30)
SCORE_BUCKETS = ((0, 50), (50, 70), (70, 80), (80, 90), (90, 100.0001))
MAX_ROWS = 200


def _availability(counts: dict[str, int]) -> float | None:
    total = sum(counts.values())
    return counts.get("ok", 0) / total if total else None


def _drift(config: Config, store: Store, start: datetime, now: datetime) -> list[dict[str, Any]]:
    baseline = active_baseline(store)
    resolution = source_resolution(config, now - start)
    drift = []
    for metric, stats in sorted(baseline.items()):
        n, _, sum_y, *_ = linear_sums(store, metric, start.timestamp(), now.timestamp(), resolution)
        if n == 0 and resolution != RAW:
            n, _, sum_y, *_ = linear_sums(store, metric, start.timestamp(), now.timestamp(), RAW)
        mean = sum_y / n if n else None
        shift = None
        if mean is not None and stats.mean is not None and stats.stddev:
            shift = (mean - stats.mean) / stats.stddev
        drift.append(
            {"metric": metric, "baseline_mean": stats.mean, "period_mean": mean, "z": shift}
        )
    return drift


def _backup_history(
    store: Store, start: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    archives, tests = backup_history(store, start, MAX_ROWS)
    return [asdict(a) for a in archives], [asdict(t) for t in tests]


def _security(config: Config) -> tuple[Path | None, dict[str, Any] | None]:
    folder = Path(config.paths.report_dir) / "security"
    # monthly_*: the security audit's; dependencies_* are the dependency audit's.
    newest = max(folder.glob("monthly_*.json"), default=None, key=lambda p: p.name)
    if newest is None:
        return None, None
    try:
        data: dict[str, Any] = json.loads(newest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return newest, None
    return newest, data


def _dependencies(store: Store, start: datetime, now: datetime) -> dict[str, Any]:
    latest = latest_audit(store)
    period = findings_between(store, start, now)
    current = open_findings(store)
    return {
        "audited_at": latest.audited_at if latest else None,
        "warnings": latest.warnings if latest else [],
        "open": open_counts(store),
        "new": sum(start <= s.first_seen <= now for s in period),
        "resolved": sum(
            s.resolved_at is not None and start <= s.resolved_at <= now for s in period
        ),
        "findings": current,
    }


def build(
    config: Config, store: Store, now: datetime, period: timedelta = PERIOD
) -> tuple[str, dict[str, Any]]:
    start = now - period
    counts = check_state_counts(store, start, now)
    availability = {name: _availability(states) for name, states in counts.items()}
    scores = [(r.computed_at.timestamp(), r.score) for r in score_history(store, start, now)]
    known = [score for _, score in scores if score is not None]
    distribution = [
        (f"{low:.0f}-{min(high, 100):.0f}", float(sum(low <= s < high for s in known)))
        for low, high in SCORE_BUCKETS
    ]
    alerting = effectiveness(config, store, start, now).as_dict()
    drift = _drift(config, store, start, now)
    archives, tests = _backup_history(store, start)
    security_path, security = _security(config)
    dependencies = _dependencies(store, start, now)
    data: dict[str, Any] = {
        "report": "health_assessment",
        "host": store.host,
        "generated_at": now.isoformat(),
        "period": {"start": start.isoformat(), "end": now.isoformat()},
        "availability": availability,
        "health_score": {
            "mean": sum(known) / len(known) if known else None,
            "min": min(known, default=None),
            "distribution": dict(distribution),
        },
        "alerts": alerting["totals"],
        "baseline_drift": drift,
        "backups": {"archives": len(archives), "restore_tests": len(tests)},
        "security": None if security is None else security.get("summary"),
        "dependencies": {
            "audited_at": dependencies["audited_at"].isoformat()
            if dependencies["audited_at"]
            else None,
            "open": dependencies["open"],
            "first_seen_in_period": dependencies["new"],
            "resolved_in_period": dependencies["resolved"],
        },
        "totals": {
            "checks": len(counts),
            "alerts_fired": alerting["totals"]["fired"],
            "restore_tests_failed": sum(not t["ok"] for t in tests),
        },
    }
    checklists = recent_checklists(config, store, start, now, MAX_CHECKLISTS)
    data["checklists"] = checklist_summaries(checklists)
    text = page.render(
        "health_assessment.html",
        {
            "title": f"Monthly health assessment — {store.host}",
            "subtitle": f"{page.when(start)} to {page.when(now)}",
            "counts": counts,
            "availability": availability,
            "availability_chart": bar_chart(
                "Availability (% of results ok)",
                [(name, 100 * share) for name, share in availability.items() if share is not None],
                unit="%",
            ),
            "score_charts": [
                line_chart(
                    "Health score",
                    [Series("health score", [(t, s) for t, s in scores if s is not None])],
                    y_min=0,
                    y_max=100,
                    period=(start, now),
                ),
                bar_chart("Health score distribution (results)", distribution),
            ],
            "alerting": alerting,
            "drift": drift,
            "archives": archives,
            "tests": tests,
            "security_path": security_path,
            "security": security,
            "dependencies": dependencies,
            "max_rows": MAX_ROWS,
            "checklists": checklists,
            "max_checklists": MAX_CHECKLISTS,
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
    path = output or report_path(config, now, "monthly", "health_assessment", "html")
    return write_text(path, text), data
