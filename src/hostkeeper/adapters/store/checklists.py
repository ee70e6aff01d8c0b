"""Checklist confirmations: manual items of a run confirmed by a person."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import checklist_confirmations
from hostkeeper.core.redact import redact_text


@dataclass(frozen=True)
class Confirmation:
    run_id: int
    item: str
    confirmed_by: str
    confirmed_at: datetime
    note: str | None


class AlreadyConfirmed(Exception):
    """The item of that run was confirmed before; `existing` says by whom and when."""

    def __init__(self, existing: Confirmation) -> None:
        super().__init__(
            f"{existing.item} was already confirmed by {existing.confirmed_by} at "
            f"{existing.confirmed_at:%Y-%m-%d %H:%M:%S} UTC"
        )
        self.existing = existing


def record_confirmation(
    store: Store,
    run_id: int,
    item: str,
    confirmed_by: str,
    confirmed_at: datetime,
    note: str | None = None,
) -> Confirmation:
    """Store one confirmation; raise AlreadyConfirmed when the item has one (the first
    confirmation stands: two people confirming at once cannot both win)."""
    confirmation = Confirmation(
        run_id, item, confirmed_by, confirmed_at, redact_text(note) if note else None
    )
    try:
        with store.write() as connection:
            connection.execute(
                insert(checklist_confirmations).values(
                    run_id=run_id,
                    item=item,
                    confirmed_by=confirmed_by,
                    confirmed_at=confirmed_at,
                    note=confirmation.note,
                )
            )
    except IntegrityError:
        existing = confirmations(store, [run_id]).get(run_id, {}).get(item)
        if existing is None:  # not the unique key: a run that is gone, say
            raise
        raise AlreadyConfirmed(existing) from None
    return confirmation


def confirmations(store: Store, run_ids: Iterable[int]) -> dict[int, dict[str, Confirmation]]:
    """The confirmations of each of `run_ids`, by item."""
    ids = list(run_ids)
    if not ids:
        return {}
    with store.read() as connection:
        rows = connection.execute(
            select(checklist_confirmations).where(checklist_confirmations.c.run_id.in_(ids))
        ).mappings()
        result: dict[int, dict[str, Confirmation]] = {}
        for row in rows:
            result.setdefault(row["run_id"], {})[row["item"]] = Confirmation(
                run_id=row["run_id"],
                item=row["item"],
                confirmed_by=row["confirmed_by"],
                confirmed_at=row["confirmed_at"],
                note=redact_text(row["note"]) if row["note"] else None,
            )
    return result
