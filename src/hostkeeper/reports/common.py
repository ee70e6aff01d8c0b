"""Pieces the HTML reports share: where a report goes, how it is written, and reading
history into chart series of a bounded number of points (the queries are the store's,
`adapters/store/history.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hostkeeper.adapters.fs import atomic_write
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.metrics import points
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
