"""What alert rules read from the store: the health score, check results, the newest
metric values and the active baseline, through the store modules that own them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import baselines as baseline_store
from hostkeeper.adapters.store import checks as check_store
from hostkeeper.adapters.store import metrics as metric_store


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
    record = check_store.latest_score(store)
    return (None, None) if record is None else (record.score, record.computed_at)


def latest_checks(store: Store, names: Iterable[str]) -> dict[str, CheckView]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    return {
        name: CheckView(result.state.value, result.value, result.detail, result.checked_at)
        for name, result in check_store.latest_results(store, names=wanted).items()
    }


def latest_metric_values(store: Store, names: Iterable[str]) -> dict[str, MetricValue]:
    """The newest raw sample of each named metric."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    return {
        name: MetricValue(point.value, point.at)
        for name, point in metric_store.latest_values(store, wanted).items()
    }


def active_baseline(store: Store, metrics: Iterable[str]) -> dict[str, BaselineView]:
    wanted = set(metrics)
    if not wanted:
        return {}
    return {
        name: BaselineView(stats.mean, stats.stddev, stats.n)
        for name, stats in baseline_store.active_baseline(store).items()
        if name in wanted
    }
