"""Baseline versions in the store: computing statistics, writing, validating, rolling back.

A host has at most one `active` version, the one alert rules compare with. `update`
writes a `candidate`; validation promotes it or marks it `rejected`; a rollback makes an
older version active again and marks the one it replaces `rolled_back`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from hostkeeper.adapters.fs import atomic_write
from hostkeeper.adapters.store.database import Store, inserted_id
from hostkeeper.adapters.store.metrics import window_values
from hostkeeper.adapters.store.schema import baseline_stats, baseline_versions
from hostkeeper.core.baselines import (
    BaselineStatus,
    MetricStats,
    VersionRef,
    summarize_values,
    versions_to_prune,
)


@dataclass(frozen=True)
class BaselineVersion:
    id: int
    version: int
    status: BaselineStatus
    created_at: datetime
    window_start: datetime
    window_end: datetime
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status.value,
            "created_at": self.created_at.isoformat(),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "note": self.note,
        }


def compute_stats(
    store: Store,
    metrics: Iterable[str],
    start: datetime,
    end: datetime,
    host: str | None = None,
    check: Callable[[], None] | None = None,
) -> dict[str, MetricStats]:
    """Statistics of each metric's raw samples with start <= time < end.

    `check` runs between metrics (it raises to stop a long computation).
    """
    stats: dict[str, MetricStats] = {}
    for metric, values in window_values(store, metrics, start.timestamp(), end.timestamp(), host):
        if check is not None:
            check()
        stats[metric] = summarize_values(values)
    return stats


# -- reading -------------------------------------------------------------------------------


def _version_from_row(row: Any) -> BaselineVersion:
    return BaselineVersion(
        id=row.id,
        version=row.version,
        status=BaselineStatus(row.status),
        created_at=row.created_at,
        window_start=row.window_start,
        window_end=row.window_end,
        note=row.note,
    )


def list_versions(store: Store, host: str | None = None) -> list[BaselineVersion]:
    """Every stored version of `host` (default: this host), newest first."""
    owner = host or store.host
    with store.read() as connection:
        return _versions(connection, owner)


def _versions(connection: Connection, host: str) -> list[BaselineVersion]:
    rows = connection.execute(
        select(baseline_versions)
        .where(baseline_versions.c.host == host)
        .order_by(baseline_versions.c.version.desc())
    ).all()
    return [_version_from_row(row) for row in rows]


def get_version(store: Store, version: int, host: str | None = None) -> BaselineVersion | None:
    return next((v for v in list_versions(store, host) if v.version == version), None)


def active_version(store: Store, host: str | None = None) -> BaselineVersion | None:
    return next((v for v in list_versions(store, host) if v.status is BaselineStatus.ACTIVE), None)


def version_stats(store: Store, version: int, host: str | None = None) -> dict[str, MetricStats]:
    """Statistics per metric of one version ({} when it does not exist)."""
    owner = host or store.host
    with store.read() as connection:
        return _stats(
            connection,
            select(baseline_versions.c.id).where(
                baseline_versions.c.host == owner, baseline_versions.c.version == version
            ),
        )


def active_baseline(store: Store, host: str | None = None) -> dict[str, MetricStats]:
    """Statistics per metric of the active version ({} before any version was validated).

    What `above_baseline` rules compare with: `stats.z_score(value)`.
    """
    owner = host or store.host
    with store.read() as connection:
        return _stats(
            connection,
            select(baseline_versions.c.id).where(
                baseline_versions.c.host == owner,
                baseline_versions.c.status == BaselineStatus.ACTIVE.value,
            ),
        )


def _stats(connection: Connection, version_ids: Any) -> dict[str, MetricStats]:
    rows = connection.execute(
        select(baseline_stats)
        .where(baseline_stats.c.version_id.in_(version_ids))
        .order_by(baseline_stats.c.metric)
    ).all()
    return {
        row.metric: MetricStats(
            n=row.n,
            mean=row.mean,
            stddev=row.stddev,
            min=row.min,
            max=row.max,
            p50=row.p50,
            p95=row.p95,
            p99=row.p99,
        )
        for row in rows
    }


# -- writing -------------------------------------------------------------------------------


def create_version(
    store: Store,
    stats: Mapping[str, MetricStats],
    window_start: datetime,
    window_end: datetime,
    created_at: datetime,
    keep_versions: int,
    note: str | None = None,
    host: str | None = None,
) -> tuple[int, list[int]]:
    """Write a `candidate` version; return its number and the versions pruned to keep
    at most `keep_versions` (oldest first, never the active one)."""
    owner = host or store.host
    with store.write() as connection:
        newest = connection.execute(
            select(baseline_versions.c.version)
            .where(baseline_versions.c.host == owner)
            .order_by(baseline_versions.c.version.desc())
            .limit(1)
        ).scalar()
        number = (newest or 0) + 1
        version_id = inserted_id(
            connection.execute(
                insert(baseline_versions).values(
                    host=owner,
                    version=number,
                    created_at=created_at,
                    window_start=window_start,
                    window_end=window_end,
                    status=BaselineStatus.CANDIDATE.value,
                    note=note,
                )
            )
        )
        if stats:
            connection.execute(
                insert(baseline_stats),
                [
                    {"version_id": version_id, "metric": metric, **values.as_dict()}
                    for metric, values in stats.items()
                ],
            )
        refs = [VersionRef(v.version, v.status) for v in _versions(connection, owner)]
        pruned = versions_to_prune(refs, keep_versions)
        if pruned:
            _delete_versions(connection, owner, pruned)
    return number, pruned


def _delete_versions(connection: Connection, host: str, numbers: list[int]) -> None:
    ids = select(baseline_versions.c.id).where(
        baseline_versions.c.host == host, baseline_versions.c.version.in_(numbers)
    )
    # Explicit, so the stats go on backends and connections without ON DELETE CASCADE.
    connection.execute(delete(baseline_stats).where(baseline_stats.c.version_id.in_(ids)))
    connection.execute(
        delete(baseline_versions).where(
            baseline_versions.c.host == host, baseline_versions.c.version.in_(numbers)
        )
    )


def _set_status(
    connection: Connection, host: str, version: int, status: BaselineStatus, note: str | None
) -> None:
    values: dict[str, Any] = {"status": status.value}
    if note is not None:
        values["note"] = note
    connection.execute(
        update(baseline_versions)
        .where(baseline_versions.c.host == host, baseline_versions.c.version == version)
        .values(**values)
    )


def activate(
    store: Store,
    version: int,
    previous_becomes: BaselineStatus = BaselineStatus.SUPERSEDED,
    note: str | None = None,
    host: str | None = None,
) -> int | None:
    """Make `version` the active one; the version active until now gets
    `previous_becomes`. Returns that previous version's number, if there was one."""
    owner = host or store.host
    with store.write() as connection:
        previous = connection.execute(
            select(baseline_versions.c.version).where(
                baseline_versions.c.host == owner,
                baseline_versions.c.status == BaselineStatus.ACTIVE.value,
            )
        ).scalar()
        if previous is not None and previous != version:
            _set_status(connection, owner, previous, previous_becomes, None)
        _set_status(connection, owner, version, BaselineStatus.ACTIVE, note)
    return previous


def reject(store: Store, version: int, note: str, host: str | None = None) -> None:
    owner = host or store.host
    with store.write() as connection:
        _set_status(connection, owner, version, BaselineStatus.REJECTED, note)


def export_version(
    store: Store, version: BaselineVersion, directory: Path, host: str | None = None
) -> Path:
    """Write one version with its statistics to `directory` as JSON, atomically."""
    owner = host or store.host
    document = {
        "host": owner,
        **version.as_dict(),
        "stats": {
            metric: stats.as_dict()
            for metric, stats in version_stats(store, version.version, owner).items()
        },
    }
    stamp = version.created_at.strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"baseline-v{version.version}-{stamp}.json"
    atomic_write(path, (json.dumps(document, indent=2) + "\n").encode(), 0o640)
    return path
