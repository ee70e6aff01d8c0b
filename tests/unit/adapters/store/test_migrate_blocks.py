"""Migration 0003 between a 0002 store full of plain rows and sealed blocks, both ways:
nothing a reader sees changes, and a downgrade gives the sealed rows back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store.metrics import Point, maintain, points, write_samples
from hostkeeper.adapters.store.migrate import (
    current_revision,
    migrate,
    run_alembic,
)
from hostkeeper.adapters.store.schema import SCHEMA_REVISION
from hostkeeper.core.metrics import FIVE_MINUTES, RAW, Sample

T0 = 1_800_000_000.0
DAY = 86400.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'hk.db'}", host="h")
    yield opened
    opened.dispose()


def _alembic(store: Store, verb: str, revision: str) -> None:
    run_alembic(store, verb, revision)


def _everything(store: Store) -> tuple[list[tuple[datetime, float]], list[Point]]:
    since = datetime.fromtimestamp(0, UTC)
    return (
        [(p.at, p.value) for p in points(store, "cpu.percent", since, None, RAW)],
        points(store, "cpu.percent", since, None, FIVE_MINUTES),
    )


def _count(store: Store, table: str) -> int:
    with store.read() as connection:
        return int(connection.execute(select(func.count()).select_from(text(table))).scalar() or 0)


def test_a_0002_store_keeps_its_rows_through_upgrade_sealing_and_downgrade(
    store: Store, tmp_path: Path
) -> None:
    migrate(store, tmp_path / "lock")
    _alembic(store, "downgrade", "0002")
    # Two days of samples the way 0002 stored them: plain rows, rolled up in SQL.
    rows = [
        {"series_id": 1, "ts": T0 + i * 10.0, "value": round((i * 37) % 1000 / 10, 1)}
        for i in range(int(2 * DAY / 10))
    ]
    with store.write() as connection:
        connection.execute(
            text("INSERT INTO series (id, host, name) VALUES (1, 'h', 'cpu.percent')")
        )
        connection.execute(
            text("INSERT INTO samples (series_id, ts, value) VALUES (:series_id, :ts, :value)"),
            rows,
        )
    migrate(store, tmp_path / "lock")
    assert current_revision(store) == SCHEMA_REVISION
    maintain(store, T0 + 2 * DAY, 30 * DAY, 30 * DAY, 30 * DAY)
    before = _everything(store)
    assert len(before[0]) == len(rows) and len(before[1]) == 2 * 288
    assert _count(store, "samples") == 0  # all windows complete: sealed
    assert _count(store, "metric_blocks") > 0
    write_samples(store, [Sample("cpu.percent", T0 + 2 * DAY, 1.5)])  # one plain row
    _alembic(store, "downgrade", "0002")
    with store.read() as connection:
        plain = connection.execute(text("SELECT count(*), min(ts) FROM samples")).one()
    assert tuple(plain) == (len(rows) + 1, T0)
    migrate(store, tmp_path / "lock")
    maintain(store, T0 + 2 * DAY + 1, 30 * DAY, 30 * DAY, 30 * DAY)
    after = _everything(store)
    assert after[0] == [*before[0], (datetime.fromtimestamp(T0 + 2 * DAY, UTC), 1.5)]
    assert after[1] == before[1]
    with store.read() as connection:
        left = connection.execute(select(func.count()).select_from(text("rollups"))).scalar_one()
    assert left < 288
