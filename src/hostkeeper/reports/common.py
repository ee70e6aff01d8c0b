"""Pieces the HTML reports share: where a report goes, how it is written, and reading
history into chart series of a bounded number of points."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hostkeeper.adapters.fs import atomic_write
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.metrics import points
from hostkeeper.adapters.store.schema import check_results, runs, step_results
from hostkeeper.config import Config
from hostkeeper.core.metrics import FIVE_MINUTES, HOUR, RAW

MAX_POINTS = 400


def report_path(config: Config, now: datetime, folder: str, stem: str, suffix: str) -> Path:
    """report_dir/FOLDER/STEM_YYYYMMDD.SUFFIX, the date in the configured time zone."""
    local = now.astimezone(ZoneInfo(config.timezone))
    return Path(config.paths.report_dir) / folder / f"{stem}_{local:%Y%m%d}.{suffix}"


def write_text(path: Path, text: str) -> Path:
    atomic_write(path, text.encode("utf-8"), 0o640)
    return path


def downsample(
    pairs: Sequence[tuple[float, float]], start: float, end: float, limit: int = MAX_POINTS
) -> list[tuple[float, float]]:
    """At most about `limit` points: the mean of each of `limit` equal time slots."""
    if len(pairs) <= limit:
        return list(pairs)
    width = max((end - start) / limit, 1.0)
    slots: dict[int, tuple[float, float, int]] = {}
    for t, v in pairs:
        key = int((t - start) // width)
        first, total, count = slots.get(key, (t, 0.0, 0))
        slots[key] = (first, total + v, count + 1)
    return [(first, total / count) for first, total, count in slots.values()]


def metric_series(
    store: Store, metric: str, start: datetime, end: datetime
) -> list[tuple[float, float]]:
    """A metric's values over [start, end] for a chart: rollups for long periods when
    they exist, raw samples otherwise, reduced to about MAX_POINTS points."""
    span = (end - start).total_seconds()
    resolutions = [RAW]
    if span > 14 * 86400:
        resolutions = [HOUR, FIVE_MINUTES, RAW]
    elif span > 2 * 86400:
        resolutions = [FIVE_MINUTES, RAW]
    for resolution in resolutions:
        found = points(store, metric, start, end, resolution)
        if found:
            pairs = [(p.at.timestamp(), p.value) for p in found]
            return downsample(pairs, start.timestamp(), end.timestamp())
    return []


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
