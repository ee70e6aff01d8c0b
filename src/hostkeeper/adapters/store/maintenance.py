"""Database maintenance: optimize, analyze, vacuum, reindex, check, stats, index usage.

SQLite is the embedded default; each operation has the PostgreSQL equivalent where one
exists, and says so in its result where it does not.

Kept whole: each maintenance operation with its SQLite and PostgreSQL forms side by
side, so a difference between the two engines shows in one place.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.dbbackup import (
    DEFAULT_KEEP,
    DatabaseBackupError,
    backup_database,
    manual_copies,
    new_copy_path,
    prune_copies,
)
from hostkeeper.adapters.store.history_retention import prune_history
from hostkeeper.adapters.store.hot_queries import HOT_QUERIES
from hostkeeper.adapters.store.migrate import current_revision, migrate
from hostkeeper.adapters.store.schema import SCHEMA_REVISION, metadata, slow_queries

# PRAGMA optimize looks at no more than this many rows per index (SQLite >= 3.32), so a
# large table never turns the weekly optimize into a long full scan.
ANALYSIS_LIMIT = 1000
# A table ANALYZE found smaller than this is read in a few pages: once sqlite_stat1 says
# so, SQLite's planner rightly scans it instead of using an index, and that is no defect.
SMALL_TABLE_ROWS = 1000
_SCANNED_TABLE = re.compile(r"^SCAN (?:TABLE )?(\w+)")


@dataclass
class MaintenanceResult:
    operation: str
    ok: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def _execute_outside_transaction(store: Store, *statements: str) -> None:
    """VACUUM and friends cannot run inside a transaction.

    On SQLite the raw driver connection is used: it is already in autocommit mode (the
    store's begin hook emits BEGIN itself), and switching SQLAlchemy's isolation level
    would leave pysqlite's implicit transactions on when the connection returns to the pool.
    """
    if store.is_sqlite:
        raw = store.engine.raw_connection()
        try:
            for statement in statements:
                raw.driver_connection.execute(statement).fetchall()  # type: ignore[union-attr]
        finally:
            raw.close()
        return
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def database_size(store: Store) -> int:
    if store.is_sqlite:
        path = store.sqlite_path
        if path is None:
            return 0
        return sum(
            candidate.stat().st_size
            for candidate in (path, Path(f"{path}-wal"))
            if candidate.exists()
        )
    with store.read() as connection:
        size: int = connection.execute(
            text("SELECT pg_database_size(current_database())")
        ).scalar_one()
        return size


def optimize(store: Store) -> MaintenanceResult:
    if store.is_sqlite:
        _execute_outside_transaction(
            store, f"PRAGMA analysis_limit={ANALYSIS_LIMIT}", "PRAGMA optimize"
        )
        return MaintenanceResult(
            "optimize", True, f"PRAGMA optimize (analysis_limit {ANALYSIS_LIMIT})"
        )
    _execute_outside_transaction(store, "ANALYZE")
    return MaintenanceResult("optimize", True, "ANALYZE (PostgreSQL's planner statistics)")


def analyze(store: Store) -> MaintenanceResult:
    _execute_outside_transaction(store, "ANALYZE")
    return MaintenanceResult("analyze", True, "ANALYZE done")


def vacuum(store: Store) -> MaintenanceResult:
    before = database_size(store)
    if store.is_sqlite:
        _execute_outside_transaction(store, "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        _execute_outside_transaction(store, "VACUUM ANALYZE")
    after = database_size(store)
    reclaimed = max(before - after, 0)
    return MaintenanceResult(
        "vacuum",
        True,
        f"{_mb(before)} -> {_mb(after)}, reclaimed {_mb(reclaimed)}",
        {"bytes_before": before, "bytes_after": after, "bytes_reclaimed": reclaimed},
    )


def reindex(store: Store) -> MaintenanceResult:
    if store.is_sqlite:
        _execute_outside_transaction(store, "REINDEX")
    else:
        _execute_outside_transaction(
            store, *(f'REINDEX TABLE "{table.name}"' for table in metadata.sorted_tables)
        )
    return MaintenanceResult("reindex", True, "indexes rebuilt")


def check(store: Store, full: bool = False) -> MaintenanceResult:
    """`quick_check` (or `integrity_check` with full) on SQLite; on PostgreSQL, which has
    no such pragma, every table is read to the end so a damaged page shows as an error."""
    with store.read() as connection:
        if store.is_sqlite:
            pragma = "integrity_check" if full else "quick_check"
            rows = [row[0] for row in connection.exec_driver_sql(f"PRAGMA {pragma}")]
            ok = rows == ["ok"]
            return MaintenanceResult(
                "integrity_check" if full else "check",
                ok,
                f"{pragma}: {'ok' if ok else '; '.join(rows[:10])}",
                {"problems": [] if ok else rows},
            )
        counts = {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }
    return MaintenanceResult(
        "integrity_check" if full else "check",
        True,
        f"read all {len(counts)} tables without error (PostgreSQL has no integrity_check)",
        {"rows": counts},
    )


def stats(store: Store, bounds: Mapping[str, str] | None = None) -> MaintenanceResult:
    """Rows and bytes per table; `bounds` (table -> what limits it) is shown beside."""
    tables: dict[str, dict[str, Any]] = {}
    details: dict[str, Any] = {"tables": tables}
    with store.read() as connection:
        sizes = _table_sizes(store, connection)
        for table in metadata.sorted_tables:
            rows = connection.execute(select(func.count()).select_from(table)).scalar_one()
            tables[table.name] = {"rows": rows, "bytes": sizes.get(table.name)}
            if bounds is not None:
                tables[table.name]["kept"] = bounds.get(table.name, "-")
        if store.is_sqlite:
            for pragma in ("page_count", "page_size", "freelist_count"):
                details[pragma] = connection.exec_driver_sql(f"PRAGMA {pragma}").scalar_one()
            path = store.sqlite_path
            wal = Path(f"{path}-wal") if path else None
            details["wal_bytes"] = wal.stat().st_size if wal and wal.exists() else 0
    details["database_bytes"] = database_size(store)
    details["schema_revision"] = current_revision(store)
    return MaintenanceResult(
        "stats",
        True,
        f"{len(tables)} tables, {sum(t['rows'] for t in tables.values())} rows, "
        f"{_mb(details['database_bytes'])}",
        details,
    )


def _table_sizes(store: Store, connection: Connection) -> dict[str, int]:
    """Bytes per table, indexes included, where the backend can tell."""
    if not store.is_sqlite:
        return {
            table.name: connection.execute(
                text("SELECT pg_total_relation_size(:name)"), {"name": table.name}
            ).scalar_one()
            for table in metadata.sorted_tables
        }
    try:
        rows = connection.exec_driver_sql(
            "SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d "
            "JOIN sqlite_master m ON m.name = d.name GROUP BY m.tbl_name"
        ).all()
    except Exception:  # dbstat is a compile-time option of SQLite
        return {}
    return {name: int(size) for name, size in rows}


def slow_query_report(store: Store, host: str | None = None) -> MaintenanceResult:
    store.flush_slow_queries()
    with store.read() as connection:
        rows = (
            connection.execute(
                select(slow_queries)
                .where(slow_queries.c.host == (host or store.host))
                .order_by(slow_queries.c.max_seconds.desc())
            )
            .mappings()
            .all()
        )
    entries = [
        {
            "shape": row["shape"],
            "count": row["count"],
            "max_ms": round(row["max_seconds"] * 1000, 1),
            "mean_ms": round(row["total_seconds"] / row["count"] * 1000, 1),
            "last_seen": row["last_seen"].isoformat(),
        }
        for row in rows
    ]
    threshold = store.slow_log.threshold if store.slow_log else None
    return MaintenanceResult(
        "slow-queries",
        True,
        f"{len(entries)} statement shape(s) slower than {threshold * 1000:g} ms"
        if threshold is not None
        else f"{len(entries)} shape(s)",
        {"statements": entries},
    )


def index_usage(store: Store) -> MaintenanceResult:
    """The query plan of each hot query of the store, and whether it uses an index.

    On SQLite a full scan is accepted, with the reason, where ANALYZE found every
    scanned table small (SMALL_TABLE_ROWS) and the same query on the same schema
    without statistics uses an index: the index is there for when the table grows.
    """
    results = []
    with store.read() as connection:
        if not store.is_sqlite:
            # Tiny tables make PostgreSQL prefer sequential scans; asking it to avoid them
            # shows whether an index is usable at all.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        schema = _schema(connection) if store.is_sqlite else []
        for name, build in HOT_QUERIES.items():
            statement = build(store.host)
            sql = str(
                statement.compile(
                    dialect=connection.dialect, compile_kwargs={"literal_binds": True}
                )
            )
            plan = _plan(store, connection, sql)
            entry: dict[str, Any] = {"query": name, "uses_index": _uses_index(plan), "plan": plan}
            entry["ok"] = entry["uses_index"]
            if not entry["ok"] and store.is_sqlite:
                reason = _justified_scan(connection, schema, sql, plan)
                if reason is not None:
                    entry.update(ok=True, reason=reason)
            results.append(entry)
    failing = [str(entry["query"]) for entry in results if not entry["ok"]]
    indexed = sum(1 for entry in results if entry["uses_index"])
    scans = len(results) - len(failing) - indexed
    return MaintenanceResult(
        "index-usage",
        not failing,
        f"{indexed}/{len(results)} hot queries use an index"
        + (f", {scans} scan a small table" if scans else "")
        + (f"; without: {', '.join(failing)}" if failing else ""),
        {"queries": results},
    )


def _justified_scan(
    connection: Connection, schema: list[str], sql: str, plan: list[str]
) -> str | None:
    """Why a SQLite plan's full scans are right, or None when they are not."""
    scanned = [m[1] for line in plan if (m := _SCANNED_TABLE.match(line)) and "USING" not in line]
    if not scanned:
        return None
    sizes = {table: _analyzed_rows(connection, table) for table in scanned}
    if any(rows is None or rows >= SMALL_TABLE_ROWS for rows in sizes.values()):
        return None
    without_statistics = _plan_without_statistics(schema, sql)
    if not _uses_index(without_statistics):
        return None
    tables = ", ".join(f"{table} has {rows} rows" for table, rows in sizes.items())
    return (
        f"scan of a small table ({tables} by ANALYZE, under {SMALL_TABLE_ROWS}); "
        f"without statistics: {'; '.join(without_statistics)}"
    )


def _analyzed_rows(connection: Connection, table: str) -> int | None:
    """The row count ANALYZE recorded for `table` in sqlite_stat1, None when none."""
    has_statistics = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    ).first()
    if has_statistics is None:
        return None
    counts = [
        int(stat.split()[0])
        for (stat,) in connection.exec_driver_sql(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = ?", (table,)
        )
        if stat and stat.split()[0].isdigit()
    ]
    return max(counts) if counts else None


def _schema(connection: Connection) -> list[str]:
    """The CREATE statements of the store's tables, then of its indexes."""
    return [
        sql
        for (sql,) in connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND type IN ('table', 'index')"
            " AND name NOT LIKE 'sqlite_%' ORDER BY type = 'index', name"
        )
    ]


def _plan_without_statistics(schema: list[str], sql: str) -> list[str]:
    """The plan SQLite gives `sql` on the same schema with empty tables and no ANALYZE."""
    bare = sqlite3.connect(":memory:")
    try:
        for create in schema:
            bare.execute(create)
        return [row[-1] for row in bare.execute(f"EXPLAIN QUERY PLAN {sql}")]
    finally:
        bare.close()


def _plan(store: Store, connection: Connection, sql: str) -> list[str]:
    if store.is_sqlite:
        return [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    return [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}")]


def _uses_index(plan: list[str]) -> bool:
    """Whether every table the plan reads is searched through an index."""
    markers = (
        "USING INDEX",
        "USING COVERING INDEX",
        "USING INTEGER PRIMARY KEY",
        "USING PRIMARY KEY",
        "Index Scan",
        "Index Only Scan",
        "Bitmap Index Scan",
    )
    scans = [line for line in plan if line.startswith(("SCAN", "Seq Scan"))]
    return any(marker in line for line in plan for marker in markers) and not any(
        "USING" not in line for line in scans
    )


def prune(
    store: Store, cutoffs: Mapping[str, datetime], hosts: Sequence[str] | None = None
) -> MaintenanceResult:
    """Apply the history retention now, as the daemon's hourly pass does, for `hosts`
    (default: the store's own). Fails when the role may not delete some history (a
    host's role in a least-privilege fleet: run it as the owner)."""
    deleted: dict[str, dict[str, int]] = {}
    refused: set[str] = set()
    for host in hosts or [store.host]:
        pruned = prune_history(store.for_host(host), cutoffs)
        deleted[host] = pruned.deleted
        refused.update(pruned.refused)
    total = sum(sum(tables.values()) for tables in deleted.values())
    summary = f"{total} rows of history deleted for {len(deleted)} host(s)"
    if refused:
        tables = ", ".join(sorted(refused))
        summary += f"; deleting is not permitted to this role in {tables}"
    return MaintenanceResult(
        "prune", not refused, summary, {"hosts": deleted, "refused": sorted(refused)}
    )


def run_migrations(
    store: Store, state_dir: Path, backup_keep: int = DEFAULT_KEEP
) -> MaintenanceResult:
    before = current_revision(store)
    if before == SCHEMA_REVISION:
        return MaintenanceResult("migrate", True, f"schema already at {SCHEMA_REVISION}")
    backup = migrate(
        store,
        state_dir / "locks" / "migrate.lock",
        backup_dir=state_dir / "db-backups",
        backup_keep=backup_keep,
    )
    return MaintenanceResult(
        "migrate",
        True,
        f"migrated {before or 'empty'} -> {SCHEMA_REVISION}"
        + (f", backup first at {backup}" if backup else ""),
        {"backup": backup},
    )


def backup(store: Store, backup_dir: Path, keep: int = DEFAULT_KEEP) -> MaintenanceResult:
    """An online copy of the SQLite store under backup_dir/database/, integrity-checked;
    then only the `keep` newest such copies stay (database.backup_keep)."""
    path = store.sqlite_path
    if path is None:
        return MaintenanceResult(
            "backup",
            False,
            "the store is not a SQLite file; back up PostgreSQL with pg_dump or its own tools",
        )
    kind = manual_copies(path)
    target = new_copy_path(backup_dir / "database", kind, datetime.now(UTC))
    try:
        copy = backup_database(store, target)
    except DatabaseBackupError as error:
        return MaintenanceResult("backup", False, str(error))
    pruned = prune_copies(kind, keep, copy.path)
    summary = f"{copy.path} ({_mb(copy.size)}, integrity {copy.integrity})"
    if pruned.removed:
        summary += f"; removed {len(pruned.removed)} older copies (keeping {keep})"
    if pruned.problems:
        summary += f"; could not remove: {'; '.join(pruned.problems)}"
    return MaintenanceResult(
        "backup",
        True,
        summary,
        {
            "path": str(copy.path),
            "bytes": copy.size,
            "integrity": copy.integrity,
            "pruned": pruned.removed,
        },
    )


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"
