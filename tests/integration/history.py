"""A store filled with generated history: days of samples, check results and health
scores, runs with their steps, alerts, notifications, backups and restore tests.

Everything is written through the store's own writers where one exists, and as plain
rows of the schema otherwise, at times relative to `now` so that "the last 24 hours"
and "the last 7 days" both hold data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.alerts import (
    claim_notification,
    finish_attempt,
    queue_notification,
)
from hostkeeper.adapters.store.baselines import activate, create_version
from hostkeeper.adapters.store.checks import record_check_run
from hostkeeper.adapters.store.metrics import roll_up, write_samples
from hostkeeper.adapters.store.runs import StepRecord, finish_run, record_step, start_run
from hostkeeper.adapters.store.schema import alerts, backup_archives, restore_tests
from hostkeeper.core.baselines import MetricStats
from hostkeeper.core.health import CheckResult, CheckState
from hostkeeper.core.metrics import Sample
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger

METRICS = ("cpu.percent", "memory.percent", "load.5m", "disk./.used_percent")
CHECKS = (("disk_root", "disk", "%"), ("memory", "memory", "%"), ("load", "load", ""))
PROCEDURES = ("daily", "weekly")
BACKUP_SETS = ("config", "logs")


def config_sections(root: str) -> str:
    """YAML (top level) naming the checks, alert rules and backup sets the history is
    about (the status model lists only what the configuration names)."""
    return (
        "checks:\n"
        f"  - {{name: disk_root, type: disk_free, path: {root}, warning: 20%, critical: 10%}}\n"
        "  - {name: memory, type: memory_available, warning: 15%, critical: 5%}\n"
        "  - {name: load, type: load, warning: 2.0, critical: 4.0}\n"
        "alerts:\n"
        "  rules:\n"
        "    - {name: disk_full, when: health_score < 101, severity: critical}\n"
        "    - {name: high_load, when: load.5m > 1000, severity: warning}\n"
        "backups:\n"
        + "".join(f"  - name: {name}\n    sources: [{root}/src-{name}]\n" for name in BACKUP_SETS)
    )


PROCEDURES_YAML = """\
daily:
  schedule: {hour: 2, minute: 0}
  steps:
    - run: ["true"]
weekly:
  schedule: {cron: "0 3 * * sun"}
  steps:
    - run: ["true"]
"""


@dataclass
class History:
    now: datetime
    samples: int = 0
    runs: dict[str, list[str]] = field(default_factory=dict)  # procedure -> statuses, oldest first
    firing_rules: list[str] = field(default_factory=list)
    backup_paths: dict[str, str] = field(default_factory=dict)  # newest present per set


def _metric_value(metric: str, ts: float) -> float:
    phase = ts / 86400 * 2 * math.pi
    if metric == "cpu.percent":
        return 25 + 15 * math.sin(phase)
    if metric == "memory.percent":
        return 55 + 5 * math.cos(phase)
    if metric == "load.5m":
        return 0.8 + 0.4 * math.sin(phase * 2)
    return 40 + ts % 86400 / 86400  # disk grows through each day


def fill(store: Store, now: datetime, days: int = 3, sample_every: int = 300) -> History:
    history = History(now)
    start = now - timedelta(days=days)
    batch = [
        Sample(metric, float(ts), _metric_value(metric, ts))
        for ts in range(int(start.timestamp()), int(now.timestamp()), sample_every)
        for metric in METRICS
    ]
    history.samples = write_samples(store, batch) if batch else 0
    roll_up(store, now.timestamp())
    baseline = {
        "cpu.percent": MetricStats(n=1000, mean=25.0, stddev=10.0, min=10, max=40, p95=38.0),
        "memory.percent": MetricStats(n=1000, mean=50.0, stddev=3.0, min=45, max=60, p95=56.0),
    }
    version, _ = create_version(store, baseline, start - timedelta(days=7), start, start, 5)
    activate(store, version)

    at = start
    step = 0
    while at < now:
        step += 1
        results = [
            CheckResult(
                name,
                kind,
                CheckState.WARNING if name == "load" and step % 7 == 0 else CheckState.OK,
                _metric_value("cpu.percent", at.timestamp()),
                unit or None,
                f"{name} measured",
                0.01 * (1 + step % 5),
                at,
            )
            for name, kind, unit in CHECKS
        ]
        score = 100.0 if all(r.state is CheckState.OK for r in results) else 85.0
        record_check_run(store, results, score=score, computed_at=at)
        at += timedelta(hours=1)

    for day in range(days, 0, -1):
        for procedure in PROCEDURES:
            if procedure == "weekly" and day != days:
                continue
            begun = now - timedelta(days=day) + timedelta(hours=2 if procedure == "daily" else 3)
            failed = procedure == "daily" and day == 1
            run_id = start_run(store, procedure, Trigger.SCHEDULED, begun, scheduled_for=begun)
            for position, name in enumerate(("rotate_logs", "health_check", "backup")):
                step_failed = failed and name == "backup"
                record_step(
                    store,
                    run_id,
                    StepRecord(
                        position,
                        "steps",
                        name,
                        name,
                        StepStatus.FAILED if step_failed else StepStatus.SUCCEEDED,
                        begun + timedelta(seconds=10 * position),
                        begun + timedelta(seconds=10 * position + 3 + position),
                        summary=f"{name} done",
                        error="disk full" if step_failed else None,
                    ),
                )
            finish_run(
                store,
                run_id,
                RunStatus.FAILED if failed else RunStatus.SUCCEEDED,
                begun + timedelta(seconds=40),
                error="step backup failed: disk full" if failed else None,
            )
            history.runs.setdefault(procedure, []).append("failed" if failed else "succeeded")

    with store.write() as connection:
        connection.execute(
            insert(alerts),
            [
                {
                    "host": store.host,
                    "rule": "disk_full",
                    "severity": "critical",
                    "state": "firing",
                    "pending_since": now - timedelta(hours=3),
                    "fired_at": now - timedelta(hours=2),
                    "notifications": 1,
                    "false_positive": False,
                    "value": 97.0,
                    "summary": "disk / is 97% full",
                },
                {
                    "host": store.host,
                    "rule": "high_load",
                    "severity": "warning",
                    "state": "resolved",
                    "pending_since": now - timedelta(days=2),
                    "fired_at": now - timedelta(days=2) + timedelta(minutes=5),
                    "resolved_at": now - timedelta(days=2) + timedelta(hours=1),
                    "notifications": 1,
                    "false_positive": True,
                    "value": 9.5,
                    "summary": "load 9.5",
                },
            ],
        )
        history.firing_rules.append("disk_full")
        for backup_set in BACKUP_SETS:
            for age_days in (3, 1) if backup_set == "config" else (4,):
                created = now - timedelta(days=age_days)
                path = f"/backups/{backup_set}/{backup_set}-{created:%Y%m%dT%H%M%S}.tar.gz"
                connection.execute(
                    insert(backup_archives).values(
                        host=store.host,
                        backup_set=backup_set,
                        path=path,
                        created_at=created,
                        size_bytes=1_048_576 * (age_days + 1),
                        files=10 * age_days,
                        sha256="0" * 64,
                        state="present",
                        verified_at=created + timedelta(minutes=1),
                        verify_ok=True,
                    )
                )
                history.backup_paths[backup_set] = path
        connection.execute(
            insert(restore_tests).values(
                host=store.host,
                backup_set="config",
                archive=history.backup_paths["config"],
                tested_at=now - timedelta(hours=20),
                ok=True,
                files_checked=10,
                duration_seconds=1.5,
            )
        )
    for channel, state in (("ops-mail", "sent"), ("webhook", "failed")):
        notification_id = queue_notification(
            store, channel, "alert", "disk_full firing", {}, now - timedelta(hours=2), alert_id=1
        )
        claim_notification(store, notification_id)
        finish_attempt(store, notification_id, state, now - timedelta(hours=2))
    return history
