"""The Alertmanager silence each maintenance window keeps per channel, as stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import maintenance_windows, window_silences
from hostkeeper.adapters.store.windows import WindowRow, window_row
from hostkeeper.core.silence_plan import SilenceRecord, SilenceState


@dataclass(frozen=True)
class SilenceRow:
    window_id: int
    channel: str
    record: SilenceRecord
    last_error: str | None
    updated_at: datetime


def silences_of(store: Store, window_ids: Sequence[int]) -> list[SilenceRow]:
    if not window_ids:
        return []
    with store.read() as connection:
        rows = connection.execute(
            select(window_silences)
            .where(window_silences.c.window_id.in_(list(window_ids)))
            .order_by(window_silences.c.window_id, window_silences.c.channel)
        ).all()
    return [_silence(row) for row in rows]


def _silence(row: Any) -> SilenceRow:
    return SilenceRow(
        window_id=row.window_id,
        channel=row.channel,
        record=SilenceRecord(
            state=SilenceState(row.state),
            silence_id=row.silence_id,
            ends_at=row.ends_at,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
        ),
        last_error=row.last_error,
        updated_at=row.updated_at,
    )


def windows_with_live_silences(store: Store) -> list[WindowRow]:
    """Windows with a silence that exists, or is still to be created or deleted."""
    with store.read() as connection:
        rows = connection.execute(
            select(maintenance_windows)
            .where(
                maintenance_windows.c.host == store.host,
                maintenance_windows.c.id.in_(
                    select(window_silences.c.window_id).where(
                        window_silences.c.state != SilenceState.DELETED.value
                    )
                ),
            )
            .order_by(maintenance_windows.c.id)
        ).all()
    return [window_row(row) for row in rows]


def save_silence(
    store: Store,
    window_id: int,
    channel: str,
    record: SilenceRecord,
    now: datetime,
    last_error: str | None = None,
) -> None:
    """Record where a window's silence in `channel` stands (one row per window and channel)."""
    values = {
        "state": record.state.value,
        "silence_id": record.silence_id,
        "ends_at": record.ends_at,
        "attempts": record.attempts,
        "next_attempt_at": record.next_attempt_at,
        "last_error": last_error,
        "updated_at": now,
    }
    with store.write() as connection:
        result = connection.execute(
            update(window_silences)
            .where(window_silences.c.window_id == window_id, window_silences.c.channel == channel)
            .values(**values)
        )
        if result.rowcount == 0:
            connection.execute(
                insert(window_silences).values(window_id=window_id, channel=channel, **values)
            )


def silence_problems(store: Store, host: str | None = None) -> list[SilenceRow]:
    """Silences whose last attempt failed and that are still to be made or removed."""
    with store.read() as connection:
        rows = connection.execute(
            select(window_silences)
            .join(maintenance_windows, maintenance_windows.c.id == window_silences.c.window_id)
            .where(
                maintenance_windows.c.host == (host or store.host),
                window_silences.c.last_error.is_not(None),
                window_silences.c.state.in_(
                    [SilenceState.PENDING.value, SilenceState.ENDING.value]
                ),
            )
            .order_by(window_silences.c.window_id, window_silences.c.channel)
        ).all()
    return [_silence(row) for row in rows]
