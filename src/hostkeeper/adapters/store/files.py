"""What the file maintenance did: rotation state, actions, archives and restore tests.

(Disk usage per path lives with the resource report, in adapters/store/metrics.py.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update

from hostkeeper.adapters.store import totals
from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import (
    backup_archives,
    file_actions,
    restore_tests,
    rotation_state,
)

# -- rotation --------------------------------------------------------------------------


def last_rotations(store: Store, policy: str) -> dict[str, datetime]:
    """When each log of `policy` was last rotated successfully, by path."""
    with store.read() as connection:
        rows = connection.execute(
            select(rotation_state.c.path, rotation_state.c.rotated_at).where(
                rotation_state.c.host == store.host, rotation_state.c.policy == policy
            )
        )
        return {row.path: row.rotated_at for row in rows}


def record_rotation(store: Store, policy: str, path: str, at: datetime, size: int) -> None:
    """Called only after the rotation of `path` succeeded."""
    record_rotations(store, policy, [(path, size)], at)


def record_rotations(
    store: Store, policy: str, rotated: list[tuple[str, int]], at: datetime
) -> None:
    """(path, size) of logs whose rotation succeeded, in one transaction."""
    if not rotated:
        return
    with store.write() as connection:
        known = set(
            connection.execute(
                select(rotation_state.c.path).where(
                    rotation_state.c.host == store.host, rotation_state.c.policy == policy
                )
            ).scalars()
        )
        for path, size in rotated:
            if path in known:
                connection.execute(
                    update(rotation_state)
                    .where(
                        rotation_state.c.host == store.host,
                        rotation_state.c.policy == policy,
                        rotation_state.c.path == path,
                    )
                    .values(rotated_at=at, size_bytes=size)
                )
        fresh = [
            {
                "host": store.host,
                "policy": policy,
                "path": path,
                "rotated_at": at,
                "size_bytes": size,
            }
            for path, size in rotated
            if path not in known
        ]
        if fresh:
            connection.execute(insert(rotation_state), fresh)


# -- file actions ----------------------------------------------------------------------


@dataclass(frozen=True)
class FileActionCounts:
    rotated: int = 0
    compressed: int = 0
    deleted: int = 0
    bytes_freed: int = 0
    errors: int = 0


def record_file_action(
    store: Store,
    *,
    kind: str,
    policy: str,
    at: datetime,
    counts: FileActionCounts,
    run_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    with store.write() as connection:
        connection.execute(
            insert(file_actions).values(
                host=store.host,
                run_id=run_id,
                kind=kind,
                policy=policy,
                at=at,
                files_rotated=counts.rotated,
                files_compressed=counts.compressed,
                files_deleted=counts.deleted,
                bytes_freed=counts.bytes_freed,
                errors=counts.errors,
                detail=json.dumps(detail, default=str) if detail else None,
            )
        )
        # A tiny file's .gz may be larger than the file: freed bytes never count below 0,
        # so the counter never goes down.
        figures = (max(counts.bytes_freed, 0), counts.deleted, counts.compressed, counts.rotated)
        for figure, amount in zip(totals.FILE_FIGURES, figures, strict=True):
            totals.add(connection, store.host, totals.FILES, kind, figure, amount)


def recent_file_actions(
    store: Store, kind: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    query = select(file_actions).where(file_actions.c.host == store.host)
    if kind:
        query = query.where(file_actions.c.kind == kind)
    query = query.order_by(file_actions.c.at.desc(), file_actions.c.id.desc()).limit(limit)
    with store.read() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


# -- archives --------------------------------------------------------------------------


def record_archive(
    store: Store,
    *,
    backup_set: str,
    path: str,
    created_at: datetime,
    size: int,
    files: int,
    sha256: str,
    unreadable: list[tuple[str, str]] | None = None,
) -> None:
    values = {
        "backup_set": backup_set,
        "created_at": created_at,
        "size_bytes": size,
        "files": files,
        "sha256": sha256,
        "state": "present",
        "unreadable": json.dumps([list(item) for item in unreadable]) if unreadable else None,
    }
    key = and_(backup_archives.c.host == store.host, backup_archives.c.path == path)
    with store.write() as connection:
        if not connection.execute(update(backup_archives).where(key).values(**values)).rowcount:
            connection.execute(insert(backup_archives).values(host=store.host, path=path, **values))


def archive_rows(store: Store, backup_set: str | None = None) -> dict[str, dict[str, Any]]:
    """Recorded archives by path (any state)."""
    query = select(backup_archives).where(backup_archives.c.host == store.host)
    if backup_set:
        query = query.where(backup_archives.c.backup_set == backup_set)
    with store.read() as connection:
        return {row["path"]: dict(row) for row in connection.execute(query).mappings()}


def record_verification(store: Store, path: str, ok: bool, detail: str, at: datetime) -> None:
    with store.write() as connection:
        connection.execute(
            update(backup_archives)
            .where(backup_archives.c.host == store.host, backup_archives.c.path == path)
            .values(verified_at=at, verify_ok=ok, verify_detail=detail)
        )


def mark_archive(store: Store, path: str, state: str) -> None:
    """`state` is present, pruned or missing."""
    with store.write() as connection:
        connection.execute(
            update(backup_archives)
            .where(backup_archives.c.host == store.host, backup_archives.c.path == path)
            .values(state=state)
        )


def newest_archives(store: Store, host: str | None = None) -> dict[str, dict[str, Any]]:
    """The newest present archive of each set."""
    host = host or store.host
    newest = (
        select(backup_archives.c.backup_set, func.max(backup_archives.c.created_at).label("at"))
        .where(backup_archives.c.host == host, backup_archives.c.state == "present")
        .group_by(backup_archives.c.backup_set)
        .subquery()
    )
    query = select(backup_archives).join(
        newest,
        and_(
            backup_archives.c.backup_set == newest.c.backup_set,
            backup_archives.c.created_at == newest.c.at,
        ),
    )
    query = query.where(backup_archives.c.host == host, backup_archives.c.state == "present")
    with store.read() as connection:
        return {row["backup_set"]: dict(row) for row in connection.execute(query).mappings()}


# -- restore tests ---------------------------------------------------------------------


def record_restore_test(
    store: Store,
    *,
    backup_set: str,
    archive: str,
    at: datetime,
    ok: bool,
    files_checked: int,
    seconds: float,
    detail: str | None,
) -> None:
    with store.write() as connection:
        connection.execute(
            insert(restore_tests).values(
                host=store.host,
                backup_set=backup_set,
                archive=archive,
                tested_at=at,
                ok=ok,
                files_checked=files_checked,
                duration_seconds=seconds,
                detail=detail,
            )
        )


def last_restore_tests(store: Store, host: str | None = None) -> dict[str, dict[str, Any]]:
    """The newest restore test of each set."""
    host = host or store.host
    newest = (
        select(func.max(restore_tests.c.id).label("id"))
        .where(restore_tests.c.host == host)
        .group_by(restore_tests.c.backup_set)
        .subquery()
    )
    query = select(restore_tests).where(restore_tests.c.id.in_(select(newest.c.id)))
    with store.read() as connection:
        return {row["backup_set"]: dict(row) for row in connection.execute(query).mappings()}
