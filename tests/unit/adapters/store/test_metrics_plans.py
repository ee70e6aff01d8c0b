"""The hot metric queries use the (series_id, ts, value) index of the open samples and
the primary key of the sealed blocks on SQLite, even after ANALYZE (the planner trap of
BENCH-NOTES): every statement that reads or deletes either is captured as it runs and
checked with EXPLAIN QUERY PLAN."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import baselines as baseline_store
from hostkeeper.adapters.store.metrics import (
    latest_values,
    linear_sums,
    maintain,
    points,
    window_values,
    write_samples,
)
from hostkeeper.core.metrics import FIVE_MINUTES, RAW, Sample

T0 = 1_800_000_000.0
DAY = 86400.0
INDEX = "ix_samples_series_id_ts_value"
BLOCKS_KEY = "sqlite_autoindex_metric_blocks_1"


def _fill(store: Store) -> None:
    batch = [
        Sample(f"metric.{n}", T0 + i * 10.0, float((i * (n + 3)) % 97))
        for n in range(6)
        for i in range(int(2 * DAY / 10))
    ]
    write_samples(store, batch)
    with store.write() as connection:
        connection.execute(text("ANALYZE"))


@contextmanager
def _captured(store: Store) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        touches = "samples" in statement or "metric_blocks" in statement
        verb = statement.lstrip().split(None, 1)[0].upper()
        if touches and verb in ("SELECT", "DELETE", "UPDATE"):  # inserts search nothing
            statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)


def _plans(store: Store, statements: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    plans = []
    with store.read() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        for statement, parameters in statements:
            rows = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters or ()).fetchall()
            plans.append((statement, "\n".join(str(row[-1]) for row in rows)))
    return plans


def _assert_samples_indexed(plans: list[tuple[str, str]]) -> None:
    assert plans, "no statement touched samples"
    assert any("metric_blocks" in statement for statement, _ in plans), "no block was read"
    for statement, plan in plans:
        assert "SCAN samples" not in plan, f"full scan of samples:\n{statement}\n{plan}"
        assert "SCAN metric_blocks" not in plan, f"full scan of blocks:\n{statement}\n{plan}"
        if "FROM metric_blocks" in statement and "series_id" in statement:
            assert BLOCKS_KEY in plan, f"blocks not read by their key:\n{statement}\n{plan}"
        if "ORDER BY" in statement:
            assert "TEMP B-TREE" not in plan, f"samples sorted, not read in order:\n{plan}"
        if "FROM samples" in statement or "DELETE FROM samples" in statement:
            assert INDEX in plan, f"samples not read through {INDEX}:\n{statement}\n{plan}"


def test_baseline_and_chart_reads_search_the_covering_index(store: Store) -> None:
    _fill(store)
    with _captured(store) as statements:
        list(window_values(store, ["metric.1", "metric.5"], T0, T0 + 2 * DAY))
        baseline_store.compute_stats(
            store,
            ["metric.2"],
            datetime.fromtimestamp(T0, UTC),
            datetime.fromtimestamp(T0 + DAY, UTC),
        )
        linear_sums(store, "metric.3", T0, T0 + 2 * DAY, RAW)
        points(store, "metric.4", datetime.fromtimestamp(T0 + DAY, UTC), None, RAW)
        latest_values(store)
    plans = _plans(store, statements)
    _assert_samples_indexed(plans)
    for _, plan in plans:
        if "COVERING INDEX" in plan:
            assert "series_id=?" in plan, plan


def test_rollups_and_retention_search_the_index(store: Store) -> None:
    _fill(store)
    with _captured(store) as statements:
        maintain(store, T0 + 2 * DAY, DAY, 30 * DAY, 365 * DAY)
    _assert_samples_indexed(_plans(store, statements))
    assert points(store, "metric.0", datetime.fromtimestamp(T0, UTC), None, FIVE_MINUTES)
