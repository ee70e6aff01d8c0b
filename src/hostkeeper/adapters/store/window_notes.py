"""Notes written during a window, mostly an incident (`hostkeeper note`), as stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import window_notes
from hostkeeper.adapters.store.windows import get_window


@dataclass(frozen=True)
class NoteRow:
    id: int
    window_id: int
    at: datetime
    author: str
    text: str


def add_note(store: Store, window_id: int, at: datetime, author: str, text: str) -> int:
    get_window(store, window_id)  # raises WindowNotFound for another host's or none
    with store.write() as connection:
        result = connection.execute(
            insert(window_notes).values(window_id=window_id, at=at, author=author, text=text)
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def notes_of(store: Store, window_ids: Sequence[int]) -> list[NoteRow]:
    if not window_ids:
        return []
    with store.read() as connection:
        rows = connection.execute(
            select(window_notes)
            .where(window_notes.c.window_id.in_(list(window_ids)))
            .order_by(window_notes.c.at, window_notes.c.id)
        ).all()
    return [NoteRow(row.id, row.window_id, row.at, row.author, row.text) for row in rows]
