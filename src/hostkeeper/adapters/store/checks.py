"""Check results and health scores in the store, and the history threshold suggestions read.

Writers: `record_check_run` (results and, optionally, the score, in one transaction).
Readers for other parts of hostkeeper: `latest_results(store)` (the newest result of
each check) and `latest_score(store)` (the newest stored health score), plus the
histories `check_history`, `score_history` and `metric_history`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.metrics import raw_samples
from hostkeeper.adapters.store.schema import (
    baseline_stats,
    baseline_versions,
    check_results,
    health_scores,
)
from hostkeeper.core.health import CheckResult, CheckState


@dataclass(frozen=True)
class ScoreRecord:
    """One stored health score: None when every check was unknown."""

    score: float | None
    computed_at: datetime


def record_check_run(
    store: Store,
    results: Sequence[CheckResult],
    *,
    score: float | None = None,
    with_score: bool = True,
    computed_at: datetime | None = None,
) -> None:
    """Store `results` and, when `with_score`, the health score, in one transaction.

    `computed_at` defaults to the results' time; a run without results and without a
    score writes nothing.
    """
    if not results and not with_score:
        return
    at = computed_at or (results[0].checked_at if results else None)
    if with_score and at is None:
        raise ValueError("a score without results needs computed_at")
    with store.write() as connection:
        if results:
            connection.execute(
                insert(check_results),
                [
                    {
                        "host": store.host,
                        "check_name": result.name,
                        "check_type": result.type,
                        "state": result.state.value,
                        "value": result.value,
                        "unit": result.unit,
                        "detail": result.detail,
                        "checked_at": result.checked_at,
                        "duration_seconds": result.duration,
                    }
                    for result in results
                ],
            )
        if with_score:
            connection.execute(
                insert(health_scores).values(host=store.host, score=score, computed_at=at)
            )


def latest_results(
    store: Store, host: str | None = None, names: Iterable[str] | None = None
) -> dict[str, CheckResult]:
    """The newest stored result of each check on `host` (default: this host), by name.

    `names` limits the answer to those checks (e.g. the configured ones, leaving out
    checks removed from the configuration since); each is then one step back from the
    newest through (host, check_name, checked_at), whatever the history's length.
    Without `names` every check ever recorded is answered, from a pass over the host's
    results.
    """
    host = host or store.host
    if names is None:
        newest = (
            select(func.max(check_results.c.id).label("id"))
            .where(check_results.c.host == host)
            .group_by(check_results.c.check_name)
        )
        with store.read() as connection:
            rows = connection.execute(
                select(check_results).where(check_results.c.id.in_(newest))
            ).mappings()
            return {row["check_name"]: _result_from_row(row) for row in rows}
    found: dict[str, CheckResult] = {}
    with store.read() as connection:
        for name in sorted(set(names)):
            row = (
                connection.execute(
                    select(check_results)
                    .where(check_results.c.host == host, check_results.c.check_name == name)
                    .order_by(check_results.c.checked_at.desc(), check_results.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is not None:
                found[name] = _result_from_row(row)
    return found


def results_during(
    store: Store,
    names: Iterable[str],
    start: datetime,
    end: datetime,
    host: str | None = None,
) -> dict[str, CheckResult]:
    """The newest result of each of `names` checked in [start, end] on `host`, by name
    (what a run measured: checklist items proved by a check)."""
    wanted = list(names)
    if not wanted:
        return {}
    newest = (
        select(func.max(check_results.c.id).label("id"))
        .where(
            check_results.c.host == (host or store.host),
            check_results.c.check_name.in_(wanted),
            check_results.c.checked_at >= start,
            check_results.c.checked_at <= end,
        )
        .group_by(check_results.c.check_name)
    )
    with store.read() as connection:
        rows = connection.execute(
            select(check_results).where(check_results.c.id.in_(newest))
        ).mappings()
        return {row["check_name"]: _result_from_row(row) for row in rows}


def latest_score(store: Store, host: str | None = None) -> ScoreRecord | None:
    """The newest stored health score on `host`, or None when none was ever stored."""
    query = (
        select(health_scores.c.score, health_scores.c.computed_at)
        .where(health_scores.c.host == (host or store.host))
        .order_by(health_scores.c.computed_at.desc(), health_scores.c.id.desc())
        .limit(1)
    )
    with store.read() as connection:
        row = connection.execute(query).first()
    return None if row is None else ScoreRecord(row.score, row.computed_at)


def check_history(
    store: Store, name: str, since: datetime, until: datetime | None = None
) -> list[CheckResult]:
    """Results of one check on this host from `since` (inclusive) to `until`, oldest first."""
    query = select(check_results).where(
        check_results.c.host == store.host,
        check_results.c.check_name == name,
        check_results.c.checked_at >= since,
    )
    if until is not None:
        query = query.where(check_results.c.checked_at <= until)
    query = query.order_by(check_results.c.checked_at, check_results.c.id)
    with store.read() as connection:
        return [_result_from_row(row) for row in connection.execute(query).mappings()]


def score_history(
    store: Store, since: datetime, until: datetime | None = None
) -> list[ScoreRecord]:
    """Stored health scores on this host from `since` to `until`, oldest first."""
    query = select(health_scores.c.score, health_scores.c.computed_at).where(
        health_scores.c.host == store.host, health_scores.c.computed_at >= since
    )
    if until is not None:
        query = query.where(health_scores.c.computed_at <= until)
    query = query.order_by(health_scores.c.computed_at, health_scores.c.id)
    with store.read() as connection:
        return [ScoreRecord(row.score, row.computed_at) for row in connection.execute(query)]


def metric_history(
    store: Store, metric: str, since: float, until: float | None = None
) -> list[tuple[float, float]]:
    """Raw samples `(ts, value)` of one metric on this host, epoch seconds, oldest first."""
    return raw_samples(store, metric, since, until)


def prune_check_history(store: Store, before: datetime) -> int:
    """Delete this host's check results and scores older than `before`; rows deleted."""
    with store.write() as connection:
        deleted = connection.execute(
            delete(check_results).where(
                check_results.c.host == store.host, check_results.c.checked_at < before
            )
        ).rowcount
        deleted += connection.execute(
            delete(health_scores).where(
                health_scores.c.host == store.host, health_scores.c.computed_at < before
            )
        ).rowcount
    return int(deleted)


def _result_from_row(row: Any) -> CheckResult:
    return CheckResult(
        name=row["check_name"],
        type=row["check_type"],
        state=CheckState(row["state"]),
        value=row["value"],
        unit=row["unit"],
        detail=row["detail"] or "",
        duration=row["duration_seconds"] or 0.0,
        checked_at=row["checked_at"],
    )


def active_baseline(store: Store, metric: str) -> tuple[float, float] | None:
    """(mean, stddev) of `metric` in this host's newest active baseline version, if any."""
    query = (
        select(baseline_stats.c.mean, baseline_stats.c.stddev)
        .join(baseline_versions, baseline_versions.c.id == baseline_stats.c.version_id)
        .where(
            baseline_versions.c.host == store.host,
            baseline_versions.c.status == "active",
            baseline_stats.c.metric == metric,
        )
        .order_by(baseline_versions.c.version.desc())
        .limit(1)
    )
    with store.read() as connection:
        row = connection.execute(query).first()
    if row is None or row.mean is None or row.stddev is None:
        return None
    return float(row.mean), float(row.stddev)
