"""What the dashboard, the API and /metrics show: one read of the store per request.

Readers never take the write lock (SQLite WAL), so a page view cannot block a running
procedure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, and_, case, cast, func, select

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.schema import (
    alerts,
    backup_archives,
    check_results,
    file_actions,
    health_scores,
    notifications,
    restore_tests,
    runs,
    samples,
    series,
    step_results,
)
from hostkeeper.config import Config
from hostkeeper.scheduler import procedure_trigger
from hostkeeper.scheduling import next_fire_time

NextRuns = Callable[[], Mapping[str, datetime | None]]


@dataclass
class Snapshot:
    host: str
    generated_at: datetime
    procedures: list[dict[str, Any]] = field(default_factory=list)
    health_score: float | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    firing: list[dict[str, Any]] = field(default_factory=list)
    alert_counts: dict[str, int] = field(default_factory=dict)
    backups: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    file_totals: dict[str, dict[str, int]] = field(default_factory=dict)
    step_failures: dict[str, int] = field(default_factory=dict)


def next_runs_from_config(
    config: Config, store: Store, now: datetime
) -> dict[str, datetime | None]:
    """Next fire times as the daemon computes them (for the CLI or a bare server)."""
    result: dict[str, datetime | None] = {}
    for name, procedure in config.procedures.items():
        if procedure.enabled:
            trigger = procedure_trigger(config, name, procedure, store)
            result[name] = next_fire_time(trigger, now)
        else:
            result[name] = None
    return result


def take_snapshot(
    store: Store, config: Config, next_runs: NextRuns | None = None, now: datetime | None = None
) -> Snapshot:
    now = now or datetime.now(UTC)
    upcoming = next_runs() if next_runs else next_runs_from_config(config, store, now)
    snapshot = Snapshot(store.host, now)
    with store.read() as connection:
        snapshot.procedures = _procedures(connection, store.host, config, upcoming)
        snapshot.health_score, snapshot.checks = _health(connection, store.host)
        snapshot.firing, snapshot.alert_counts = _alerts(connection, store.host)
        snapshot.backups = _backups(connection, store.host, config, now)
        snapshot.notifications = _notifications(connection, store.host)
        snapshot.file_totals = _file_totals(connection, store.host)
        snapshot.step_failures = _step_failures(connection, store.host)
    return snapshot


def _procedures(
    connection: Connection, host: str, config: Config, upcoming: Mapping[str, datetime | None]
) -> list[dict[str, Any]]:
    counts: dict[str, dict[str, int]] = {}
    for procedure, status, count in connection.execute(
        select(runs.c.procedure, runs.c.status, func.count())
        .where(runs.c.host == host)
        .group_by(runs.c.procedure, runs.c.status)
    ):
        counts.setdefault(procedure, {})[status] = count
    last_success = dict(
        connection.execute(
            select(runs.c.procedure, func.max(runs.c.finished_at))
            .where(runs.c.host == host, runs.c.status.in_(["succeeded", "warning"]))
            .group_by(runs.c.procedure)
        ).all()
    )
    newest = (
        select(runs.c.procedure, func.max(runs.c.id).label("id"))
        .where(runs.c.host == host, runs.c.status != "missed")
        .group_by(runs.c.procedure)
        .subquery()
    )
    latest = {
        row["procedure"]: row
        for row in connection.execute(
            select(runs).join(newest, and_(runs.c.id == newest.c.id))
        ).mappings()
    }
    result = []
    for name, procedure in config.procedures.items():
        last = latest.get(name)
        result.append(
            {
                "procedure": name,
                "schedule": procedure.schedule.describe(),
                "enabled": procedure.enabled,
                "next_run": upcoming.get(name),
                "last_run": last["started_at"] if last else None,
                "last_status": last["status"] if last else None,
                "last_duration_seconds": last["duration_seconds"] if last else None,
                "last_error": last["error"] if last else None,
                "last_success": _aware(last_success.get(name)),
                "runs_by_status": counts.get(name, {}),
            }
        )
    return result


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _health(connection: Connection, host: str) -> tuple[float | None, list[dict[str, Any]]]:
    score_row = connection.execute(
        select(health_scores.c.score)
        .where(health_scores.c.host == host)
        .order_by(health_scores.c.computed_at.desc())
        .limit(1)
    ).first()
    newest = (
        select(check_results.c.check_name, func.max(check_results.c.id).label("id"))
        .where(check_results.c.host == host)
        .group_by(check_results.c.check_name)
        .subquery()
    )
    checks = [
        {
            "name": row["check_name"],
            "type": row["check_type"],
            "state": row["state"],
            "value": row["value"],
            "unit": row["unit"],
            "detail": row["detail"],
            "checked_at": row["checked_at"],
            "duration_seconds": row["duration_seconds"],
        }
        for row in connection.execute(
            select(check_results)
            .join(newest, check_results.c.id == newest.c.id)
            .order_by(check_results.c.check_name)
        ).mappings()
    ]
    return (score_row[0] if score_row else None), checks


def _alerts(connection: Connection, host: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    firing = [
        {
            "id": row["id"],
            "rule": row["rule"],
            "severity": row["severity"],
            "since": row["fired_at"],
            "acknowledged": row["acknowledged_at"] is not None,
            "summary": row["summary"],
        }
        for row in connection.execute(
            select(alerts)
            .where(alerts.c.host == host, alerts.c.state == "firing")
            .order_by(alerts.c.fired_at)
        ).mappings()
    ]
    week_ago = datetime.now(UTC) - timedelta(days=7)
    counts = {
        state: count
        for state, count in connection.execute(
            select(alerts.c.state, func.count())
            .where(alerts.c.host == host, alerts.c.pending_since >= week_ago)
            .group_by(alerts.c.state)
        )
    }
    return firing, counts


def _backups(
    connection: Connection, host: str, config: Config, now: datetime
) -> list[dict[str, Any]]:
    result = []
    for backup in config.backups:
        newest = (
            connection.execute(
                select(backup_archives)
                .where(
                    backup_archives.c.host == host,
                    backup_archives.c.backup_set == backup.name,
                    backup_archives.c.state == "present",
                )
                .order_by(backup_archives.c.created_at.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        test = (
            connection.execute(
                select(restore_tests)
                .where(restore_tests.c.host == host, restore_tests.c.backup_set == backup.name)
                .order_by(restore_tests.c.tested_at.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        result.append(
            {
                "set": backup.name,
                "newest": newest["path"] if newest else None,
                "created_at": newest["created_at"] if newest else None,
                "age_seconds": (now - newest["created_at"]).total_seconds() if newest else None,
                "size_bytes": newest["size_bytes"] if newest else None,
                "verified_at": newest["verified_at"] if newest else None,
                "verify_ok": newest["verify_ok"] if newest else None,
                "restore_tested_at": test["tested_at"] if test else None,
                "restore_ok": test["ok"] if test else None,
                "restore_detail": test["detail"] if test else None,
            }
        )
    return result


def _notifications(connection: Connection, host: str) -> list[dict[str, Any]]:
    return [
        {"channel": channel, "state": state, "count": count}
        for channel, state, count in connection.execute(
            select(notifications.c.channel, notifications.c.state, func.count())
            .where(notifications.c.host == host)
            .group_by(notifications.c.channel, notifications.c.state)
        )
    ]


def _file_totals(connection: Connection, host: str) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    # Rows recorded before freed bytes were clamped may hold a negative figure (a tiny
    # file's .gz is larger): counting them as 0 keeps the counter from going down.
    freed_bytes = case((file_actions.c.bytes_freed > 0, file_actions.c.bytes_freed), else_=0)
    for kind, freed, deleted, compressed, rotated in connection.execute(
        select(
            file_actions.c.kind,
            func.coalesce(func.sum(freed_bytes), 0),
            func.coalesce(func.sum(file_actions.c.files_deleted), 0),
            func.coalesce(func.sum(file_actions.c.files_compressed), 0),
            func.coalesce(func.sum(file_actions.c.files_rotated), 0),
        )
        .where(file_actions.c.host == host)
        .group_by(file_actions.c.kind)
    ):
        totals[kind] = {
            "bytes_freed": int(freed),
            "files_deleted": int(deleted),
            "files_compressed": int(compressed),
            "files_rotated": int(rotated),
        }
    return totals


def _step_failures(connection: Connection, host: str) -> dict[str, int]:
    return dict(
        connection.execute(
            select(runs.c.procedure, func.count())
            .select_from(step_results.join(runs, step_results.c.run_id == runs.c.id))
            .where(runs.c.host == host, step_results.c.status.in_(["failed", "aborted"]))
            .group_by(runs.c.procedure)
        ).all()
    )


def metric_history(
    store: Store, metric: str, since: datetime, limit_points: int = 600
) -> list[tuple[float, float]]:
    """Points of one metric since `since`, averaged into about `limit_points` buckets."""
    bucket = max((datetime.now(UTC) - since).total_seconds() / limit_points, 1.0)
    slot = cast(samples.c.ts / bucket, Integer)
    with store.read() as connection:
        series_id = connection.execute(
            select(series.c.id).where(series.c.host == store.host, series.c.name == metric)
        ).scalar()
        if series_id is None:
            return []
        rows = connection.execute(
            select(func.min(samples.c.ts), func.avg(samples.c.value))
            .where(samples.c.series_id == series_id, samples.c.ts >= since.timestamp())
            .group_by(slot)
            .order_by(func.min(samples.c.ts))
        ).all()
    return [(float(t), float(v)) for t, v in rows]
