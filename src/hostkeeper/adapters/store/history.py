"""The store's reads behind the dashboard's charts and the reports: durations of runs,
steps and checks over a period, check states over a period, backup and restore-test
history, and a metric averaged into chart buckets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from sqlalchemy import func, select

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.metrics import raw_samples
from hostkeeper.adapters.store.schema import (
    backup_archives,
    check_results,
    restore_tests,
    runs,
    step_results,
)
from hostkeeper.adapters.store.status import RestoreTestFact


def step_durations(
    store: Store, start: datetime, end: datetime
) -> list[tuple[str, str, int, float, float]]:
    """(procedure, step, runs, mean seconds, max seconds) over the period, slowest first."""
    with store.read() as connection:
        rows = connection.execute(
            select(
                runs.c.procedure,
                step_results.c.label,
                func.count(),
                func.avg(step_results.c.duration_seconds),
                func.max(step_results.c.duration_seconds),
            )
            .select_from(step_results.join(runs, step_results.c.run_id == runs.c.id))
            .where(
                runs.c.host == store.host,
                runs.c.started_at >= start,
                runs.c.started_at <= end,
                step_results.c.duration_seconds.is_not(None),
            )
            .group_by(runs.c.procedure, step_results.c.label)
        ).all()
    found = [(p, s, int(n), float(mean), float(high)) for p, s, n, mean, high in rows]
    return sorted(found, key=lambda row: row[3], reverse=True)


def procedure_durations(
    store: Store, start: datetime, end: datetime
) -> list[tuple[str, int, float, float]]:
    """(procedure, runs, mean seconds, max seconds) of runs that did work in the period."""
    with store.read() as connection:
        rows = connection.execute(
            select(
                runs.c.procedure,
                func.count(),
                func.avg(runs.c.duration_seconds),
                func.max(runs.c.duration_seconds),
            )
            .where(
                runs.c.host == store.host,
                runs.c.started_at >= start,
                runs.c.started_at <= end,
                runs.c.duration_seconds.is_not(None),
                runs.c.status.not_in(["missed", "skipped", "running"]),
            )
            .group_by(runs.c.procedure)
            .order_by(runs.c.procedure)
        ).all()
    return [(p, int(n), float(mean), float(high)) for p, n, mean, high in rows]


def check_durations(store: Store, start: datetime, end: datetime) -> list[tuple[str, int, float]]:
    """(check, results, mean seconds) over the period."""
    with store.read() as connection:
        rows = connection.execute(
            select(
                check_results.c.check_name,
                func.count(),
                func.avg(check_results.c.duration_seconds),
            )
            .where(
                check_results.c.host == store.host,
                check_results.c.checked_at >= start,
                check_results.c.checked_at <= end,
                check_results.c.duration_seconds.is_not(None),
            )
            .group_by(check_results.c.check_name)
            .order_by(check_results.c.check_name)
        ).all()
    return [(name, int(n), float(mean)) for name, n, mean in rows]


def check_state_counts(store: Store, start: datetime, end: datetime) -> dict[str, dict[str, int]]:
    """check name -> state -> number of results over the period."""
    counts: dict[str, dict[str, int]] = {}
    with store.read() as connection:
        for name, state, count in connection.execute(
            select(check_results.c.check_name, check_results.c.state, func.count())
            .where(
                check_results.c.host == store.host,
                check_results.c.checked_at >= start,
                check_results.c.checked_at <= end,
            )
            .group_by(check_results.c.check_name, check_results.c.state)
        ):
            counts.setdefault(name, {})[state] = int(count)
    return dict(sorted(counts.items()))


@dataclass(frozen=True)
class ArchiveHistoryRow:
    backup_set: str
    created_at: datetime
    size_bytes: int | None
    state: str
    verify_ok: bool | None


def backup_history(
    store: Store, start: datetime, limit: int
) -> tuple[list[ArchiveHistoryRow], list[RestoreTestFact]]:
    """Archives created and restore tests run since `start`, newest first, `limit` each."""
    with store.read() as connection:
        archives = [
            ArchiveHistoryRow(**row)
            for row in connection.execute(
                select(
                    backup_archives.c.backup_set,
                    backup_archives.c.created_at,
                    backup_archives.c.size_bytes,
                    backup_archives.c.state,
                    backup_archives.c.verify_ok,
                )
                .where(backup_archives.c.host == store.host, backup_archives.c.created_at >= start)
                .order_by(backup_archives.c.created_at.desc(), backup_archives.c.id.desc())
                .limit(limit)
            ).mappings()
        ]
        tests = [
            RestoreTestFact(
                backup_set=row["backup_set"],
                archive=row["archive"],
                tested_at=row["tested_at"],
                ok=bool(row["ok"]),
                files_checked=row["files_checked"],
                detail=row["detail"],
            )
            for row in connection.execute(
                select(restore_tests)
                .where(restore_tests.c.host == store.host, restore_tests.c.tested_at >= start)
                .order_by(restore_tests.c.tested_at.desc(), restore_tests.c.id.desc())
                .limit(limit)
            ).mappings()
        ]
    return archives, tests


def metric_buckets(
    store: Store, metric: str, since: datetime, until: datetime, limit_points: int = 600
) -> list[tuple[float, float]]:
    """Raw samples of one metric in [since, until] averaged into about `limit_points`
    equal slots: (first epoch time of the slot, mean), oldest first."""
    width = max((until - since).total_seconds() / limit_points, 1.0)
    found = raw_samples(store, metric, since.timestamp(), until.timestamp())
    buckets = []
    for _, slot in groupby(found, key=lambda sample: math.floor(sample[0] / width)):
        pairs = list(slot)
        buckets.append((pairs[0][0], math.fsum(value for _, value in pairs) / len(pairs)))
    return buckets
