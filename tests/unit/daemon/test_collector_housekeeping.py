"""The collector's housekeeping applies database.retention to the history tables,
alongside rollups, metrics retention and sealing: hourly, or more often for a retention
shorter than a few hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from hostkeeper.adapters.store import open_store
from hostkeeper.adapters.store.migrate import migrate
from hostkeeper.adapters.store.schema import runs
from hostkeeper.config import parse_config
from hostkeeper.daemon.collector import (
    EXPIRE_AT_MOST_EVERY,
    EXPIRE_EVERY,
    EXPIRE_FRACTION,
    MetricsCollector,
    Settings,
)

NOW = datetime(2027, 6, 1, tzinfo=UTC)


def test_an_expiry_pass_deletes_runs_older_than_database_retention(tmp_path: Path) -> None:
    database = tmp_path / "hk.db"
    config = parse_config(
        f"database:\n  url: sqlite:///{database}\n  retention:\n    runs: 30d\n", "test.yaml"
    ).config
    store = open_store(f"sqlite:///{database}", host="h")
    migrate(store, tmp_path / "lock")
    with store.write() as connection:
        for days_ago in (90, 60, 40, 5):
            started = NOW - timedelta(days=days_ago)
            connection.execute(
                insert(runs).values(
                    host="h",
                    procedure="daily",
                    trigger="scheduled",
                    status="ok",
                    started_at=started,
                    finished_at=started + timedelta(minutes=1),
                    dry_run=False,
                )
            )
    collector = MetricsCollector(store, config, clock=NOW.timestamp)
    collector._maintain(collector._settings, expire=False)
    with store.read() as connection:
        assert len(connection.execute(select(runs.c.id)).all()) == 4  # only hourly passes prune
    collector._maintain(collector._settings, expire=True)
    with store.read() as connection:
        kept = connection.execute(select(runs.c.started_at)).scalars().all()
    store.dispose()
    assert kept == [NOW - timedelta(days=5)]


def test_retention_passes_are_hourly_unless_a_retention_is_shorter() -> None:
    shipped = Settings.of(parse_config("version: 1\n", "test.yaml").config)
    short = Settings.of(
        parse_config(
            "database:\n  retention:\n    runs: 2m\n    notifications: 10m\n", "test.yaml"
        ).config
    )
    tiny = Settings.of(parse_config("metrics:\n  retention:\n    raw: 1s\n", "test.yaml").config)

    assert shipped.expire_every == EXPIRE_EVERY
    assert short.expire_every == 120 * EXPIRE_FRACTION  # a quarter of the shortest, 2 minutes
    assert tiny.expire_every == EXPIRE_AT_MOST_EVERY
