"""A store in the 0002 layout, as hostkeeper kept metrics before blocks: plain `samples`
rows (series_id, ts, value, with the covering index) and their `rollups`, 6.5 days of
many series at 10 s at the collector's precision, built to a size and cached."""

from __future__ import annotations

import contextlib
import random
import sqlite3
from pathlib import Path

from bench.harness import Context, progress, stage
from bench.metrics import _metric_values

HOST = "bench-host"
STEP = 10.0
DAYS = 6.5
T0 = 1_800_000_000.0  # the first sample; readers and housekeeping count from t_end()
BATCH_SERIES = 8  # series written per transaction while building


def t_end() -> float:
    return T0 + DAYS * 86400.0


def url(database: Path) -> str:
    return f"sqlite:///{database}"


def file_mb(database: Path) -> float:
    return (
        sum(
            Path(f"{database}{suffix}").stat().st_size
            for suffix in ("", "-wal")
            if Path(f"{database}{suffix}").exists()
        )
        / 1e6
    )


def _upgrade_to(database: Path, revision: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from hostkeeper.adapters.store import open_store
    from hostkeeper.adapters.store.migrate import migrations_directory

    store = open_store(url(database), host=HOST)
    try:
        config = AlembicConfig()
        config.set_main_option("script_location", str(migrations_directory()))
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        store.dispose()


def _add_series(db: sqlite3.Connection, first: int, count: int, rng: random.Random) -> None:
    steps = int(DAYS * 86400 / STEP)
    for index in range(first, first + count):
        series_id = db.execute(
            "INSERT INTO series (host, name) VALUES (?, ?)", (HOST, f"bench.metric_{index:04d}")
        ).lastrowid
        db.executemany(
            "INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?)",
            (
                (series_id, T0 + step * STEP, value)
                for step, value in enumerate(_metric_values(index, steps, rng, exact=False))
            ),
        )
        # The rollups 0002 computed in SQL from the same rows.
        for resolution in (300, 3600):
            db.execute(
                "INSERT INTO rollups (series_id, resolution, ts, min, mean, max, count) "
                "SELECT series_id, ?, CAST(ts / ? AS INTEGER) * ?, min(value), avg(value), "
                "max(value), count(*) FROM samples WHERE series_id = ? "
                "GROUP BY CAST(ts / ? AS INTEGER)",
                (resolution, resolution, resolution, series_id, resolution),
            )


def build(database: Path, target_mb: int) -> int:
    """A 0002 store of about `target_mb` MB of metric rows; the number of series."""
    _upgrade_to(database, "0002")
    rng = random.Random(3)
    series = 0
    with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as db:
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-262144")
        while file_mb(database) < target_mb:
            db.execute("BEGIN")
            _add_series(db, series, BATCH_SERIES, rng)
            db.execute("COMMIT")
            series += BATCH_SERIES
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            progress(f"{series} series, {file_mb(database):.0f} MB")
    return series


def ensure(context: Context) -> Path:
    """The cached 0002 store of `--database-mb`, built when missing."""
    from bench.bigdb import schema_revision

    database = context.cache_dir / f"hostkeeper-0002-{context.database_mb}MB.db"
    if database.exists() and schema_revision(database) == "0002":
        progress(f"using the cached {file_mb(database):.0f} MB 0002 store {database}")
        return database
    context.cache_dir.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(database.name + ".partial")
    for path in (partial, database):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    with stage(f"building a {context.database_mb} MB store in the 0002 layout (once; cached)"):
        build(partial, context.database_mb)
    partial.rename(database)
    return database
