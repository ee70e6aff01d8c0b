"""What alert rules read from the store: the health score, check results, the newest
metric values and the active baseline. Plain reads of the tables, one query each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.schema import (
    baseline_stats,
    baseline_versions,
    check_results,
    health_scores,
    samples,
    series,
)

ACTIVE_BASELINE = "active"


@dataclass(frozen=True)
class CheckView:
    state: str
    value: float | None
    detail: str | None
    checked_at: datetime


@dataclass(frozen=True)
class MetricValue:
    value: float
    at: datetime


@dataclass(frozen=True)
class BaselineView:
    version: int
    mean: float | None
    stddev: float | None
    n: int


@dataclass(frozen=True)
class Snapshot:
    """Everything the rules of one evaluation round look at."""

    score: float | None = None
    score_at: datetime | None = None
    checks: dict[str, CheckView] = field(default_factory=dict)
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    baseline: dict[str, BaselineView] = field(default_factory=dict)


def load_snapshot(
    store: Store, metrics: Iterable[str], checks: Iterable[str], baseline_metrics: Iterable[str]
) -> Snapshot:
    score, score_at = latest_score(store)
    return Snapshot(
        score=score,
        score_at=score_at,
        checks=latest_checks(store, checks),
        metrics=latest_metric_values(store, metrics),
        baseline=active_baseline(store, baseline_metrics),
    )


def latest_score(store: Store) -> tuple[float | None, datetime | None]:
    with store.read() as connection:
        row = connection.execute(
            select(health_scores.c.score, health_scores.c.computed_at)
            .where(health_scores.c.host == store.host)
            .order_by(health_scores.c.computed_at.desc(), health_scores.c.id.desc())
            .limit(1)
        ).first()
    return (None, None) if row is None else (row.score, row.computed_at)


def latest_checks(store: Store, names: Iterable[str]) -> dict[str, CheckView]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    newest = (
        select(func.max(check_results.c.id))
        .where(check_results.c.host == store.host, check_results.c.check_name.in_(wanted))
        .group_by(check_results.c.check_name)
    )
    with store.read() as connection:
        rows = connection.execute(select(check_results).where(check_results.c.id.in_(newest)))
        return {
            row.check_name: CheckView(row.state, row.value, row.detail, row.checked_at)
            for row in rows
        }


def latest_metric_values(store: Store, names: Iterable[str]) -> dict[str, MetricValue]:
    """The newest raw sample of each named metric (the (series_id, ts) index answers it)."""
    wanted = sorted(set(names))
    values: dict[str, MetricValue] = {}
    if not wanted:
        return values
    with store.read() as connection:
        ids = connection.execute(
            select(series.c.id, series.c.name).where(
                series.c.host == store.host, series.c.name.in_(wanted)
            )
        ).all()
        for series_id, name in ids:
            row = connection.execute(
                select(samples.c.ts, samples.c.value)
                .where(samples.c.series_id == series_id)
                .order_by(samples.c.ts.desc())
                .limit(1)
            ).first()
            if row is not None:
                values[name] = MetricValue(row.value, _from_epoch(row.ts))
    return values


def active_baseline(store: Store, metrics: Iterable[str]) -> dict[str, BaselineView]:
    wanted = sorted(set(metrics))
    if not wanted:
        return {}
    with store.read() as connection:
        version = connection.execute(
            select(baseline_versions.c.id, baseline_versions.c.version)
            .where(
                baseline_versions.c.host == store.host,
                baseline_versions.c.status == ACTIVE_BASELINE,
            )
            .order_by(baseline_versions.c.version.desc())
            .limit(1)
        ).first()
        if version is None:
            return {}
        rows = connection.execute(
            select(baseline_stats).where(
                baseline_stats.c.version_id == version.id, baseline_stats.c.metric.in_(wanted)
            )
        ).all()
    return {row.metric: BaselineView(version.version, row.mean, row.stddev, row.n) for row in rows}


def _from_epoch(ts: float) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(ts, UTC)
