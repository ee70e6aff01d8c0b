"""The collector's hourly housekeeping applies database.retention to the history tables,
alongside rollups, metrics retention and sealing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from hostkeeper.adapters.store import open_store
from hostkeeper.adapters.store.migrate import migrate
from hostkeeper.adapters.store.schema import runs
from hostkeeper.config import parse_config
from hostkeeper.daemon.collector import MetricsCollector

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
