"""`report: health_assessment`: the month in review.

report_dir/monthly/health_assessment_YYYYMMDD.html: availability of each check (share
of its results that were ok), the distribution of health scores, the alert
effectiveness summary, baseline drift (the period's mean against the active
baseline), backup and restore-test history, and the findings of the newest security
audit report under report_dir/security/ (the audit itself is the `security_audit`
step's job: it scans the host and takes its time).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.baselines import active_baseline
from hostkeeper.adapters.store.checks import score_history
from hostkeeper.adapters.store.metrics import linear_sums
from hostkeeper.adapters.store.schema import backup_archives, restore_tests
from hostkeeper.alerting.stats import effectiveness
from hostkeeper.config import Config
from hostkeeper.core.metrics import RAW
from hostkeeper.reports import page as html
from hostkeeper.reports.common import check_state_counts, report_path, when, write_text
from hostkeeper.reports.svg import Series, bar_chart, line_chart
from hostkeeper.tasks.analyze_trends import source_resolution

NAME = "health_assessment"
TITLE = "Monthly health assessment"
PERIOD = timedelta(days=30)
SCORE_BUCKETS = ((0, 50), (50, 70), (70, 80), (80, 90), (90, 100.0001))
MAX_ROWS = 200


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value / 60:.0f} min"


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
    with store.read() as connection:
        archives = [
            dict(row)
            for row in connection.execute(
                select(
                    backup_archives.c.backup_set,
                    backup_archives.c.created_at,
                    backup_archives.c.size_bytes,
                    backup_archives.c.state,
                    backup_archives.c.verify_ok,
                )
                .where(backup_archives.c.host == store.host, backup_archives.c.created_at >= start)
                .order_by(backup_archives.c.created_at.desc())
                .limit(MAX_ROWS)
            ).mappings()
        ]
        tests = [
            dict(row)
            for row in connection.execute(
                select(
                    restore_tests.c.backup_set,
                    restore_tests.c.tested_at,
                    restore_tests.c.ok,
                    restore_tests.c.files_checked,
                    restore_tests.c.detail,
                )
                .where(restore_tests.c.host == store.host, restore_tests.c.tested_at >= start)
                .order_by(restore_tests.c.tested_at.desc())
                .limit(MAX_ROWS)
            ).mappings()
        ]
    return archives, tests


def _security(config: Config) -> tuple[Path | None, dict[str, Any] | None]:
    folder = Path(config.paths.report_dir) / "security"
    newest = max(folder.glob("*.json"), default=None, key=lambda p: p.name)
    if newest is None:
        return None, None
    try:
        data: dict[str, Any] = json.loads(newest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return newest, None
    return newest, data


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
        "totals": {
            "checks": len(counts),
            "alerts_fired": alerting["totals"]["fired"],
            "restore_tests_failed": sum(not t["ok"] for t in tests),
        },
    }
    check_rows = [
        [
            name,
            "-" if availability[name] is None else f"{availability[name]:.2%}",
            ", ".join(f"{count} {state}" for state, count in sorted(states.items())),
        ]
        for name, states in counts.items()
    ]
    alert_rows = [
        [
            rule["rule"],
            rule["fired"],
            rule["notifications_sent"],
            rule["false_positives"],
            rule["flaps"],
            _minutes(rule["mean_time_to_acknowledge_seconds"]),
            _minutes(rule["mean_time_to_resolve_seconds"]),
        ]
        for rule in alerting["rules"]
    ]
    drift_rows = [
        [
            d["metric"],
            "-" if d["baseline_mean"] is None else f"{d['baseline_mean']:.4g}",
            "-" if d["period_mean"] is None else f"{d['period_mean']:.4g}",
            "-" if d["z"] is None else f"{d['z']:+.2f} sd",
        ]
        for d in drift
    ]
    security_part = "<p>No security audit report yet (the security_audit step writes one).</p>"
    if security is not None:
        summary = security.get("summary") or {}
        security_part = (
            f"<p>Newest audit: {html.escape(security_path)} "
            f"({html.escape(security.get('generated_at'))}).</p>"
            + html.table(["severity", "findings"], [[k, v] for k, v in summary.items()])
            + html.table(
                ["severity", "kind", "where", "problem"],
                [
                    [f.get("severity"), f.get("kind"), f.get("location"), f.get("message")]
                    for f in (security.get("findings") or [])[:MAX_ROWS]
                ],
            )
        )
    body = (
        "<h2>Availability per check</h2>"
        + '<div class="charts">'
        + bar_chart(
            "Availability (% of results ok)",
            [(name, 100 * share) for name, share in availability.items() if share is not None],
            unit=" %",
        )
        + "</div>"
        + html.table(["check", "availability", "results"], check_rows)
        + "<h2>Health score</h2>"
        + '<div class="charts">'
        + line_chart(
            "Health score",
            [Series("health score", [(t, s) for t, s in scores if s is not None])],
            y_min=0,
            y_max=100,
        )
        + bar_chart("Health score distribution (results)", distribution)
        + "</div>"
        + "<h2>Alert effectiveness</h2>"
        + html.table(["total", "value"], [[k, v] for k, v in (alerting["totals"] or {}).items()])
        + html.table(
            [
                "rule",
                "fired",
                "notifications",
                "false positives",
                "flaps",
                "mean time to acknowledge",
                "mean time to resolve",
            ],
            alert_rows,
        )
        + "<h2>Baseline drift</h2>"
        + html.table(["metric", "baseline mean", "period mean", "shift"], drift_rows)
        + "<h2>Backups and restore tests</h2>"
        + html.table(
            ["set", "created", "size", "state", "verified"],
            [
                [
                    a["backup_set"],
                    when(a["created_at"]),
                    f"{a['size_bytes'] / 1_048_576:.1f} MB",
                    a["state"],
                    {None: "never", True: "ok", False: "FAILED"}[a["verify_ok"]],
                ]
                for a in archives
            ],
        )
        + html.table(
            ["set", "tested", "result", "files checked", "detail"],
            [
                [
                    t["backup_set"],
                    when(t["tested_at"]),
                    "ok" if t["ok"] else "FAILED",
                    t["files_checked"],
                    t["detail"] or "",
                ]
                for t in tests
            ],
        )
        + "<h2>Security</h2>"
        + security_part
    )
    text = html.page(
        f"Monthly health assessment — {store.host}", f"{when(start)} to {when(now)}", body
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
