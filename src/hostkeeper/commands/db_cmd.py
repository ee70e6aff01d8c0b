"""`hostkeeper db optimize|analyze|vacuum|reindex|check|stats|slow-queries|index-usage|
migrate|backup|prune`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hostkeeper.commands.common import VerbContext, with_config
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, table

# Each operation: its line in `db --help`, what its own page explains, and when it exits 1.
OPERATIONS = {
    "optimize": (
        "let the query planner refresh what it needs (cheap; run often)",
        """
        SQLite: PRAGMA optimize with a bounded analysis_limit, which re-analyzes only
        the tables whose statistics went stale. PostgreSQL: ANALYZE. Safe while the
        daemon runs.
        """,
        "the database refused the statement",
    ),
    "analyze": (
        "recompute the planner's statistics of every table",
        """
        Run ANALYZE over the whole database, so the query planner picks indexes from
        current row counts. Costlier than `optimize` on a large store.
        """,
        "the database refused the statement",
    ),
    "vacuum": (
        "rebuild the database file and give free pages back to the disk",
        """
        SQLite: VACUUM, then truncate the write-ahead log; PostgreSQL: VACUUM ANALYZE.
        Prints the size before and after and the bytes reclaimed. SQLite needs free
        space for a full copy of the database while it runs, and writers (the daemon)
        wait until it is done.
        """,
        "the database refused the statement (disk full, or locked too long)",
    ),
    "reindex": (
        "rebuild every index",
        """
        REINDEX every index (PostgreSQL: every table of the store), which repairs an
        index that an integrity check reported and compacts bloated ones.
        """,
        "the database refused the statement",
    ),
    "check": (
        "check the database for corruption (quick_check, or --full)",
        """
        SQLite: PRAGMA quick_check, or PRAGMA integrity_check with --full (slower,
        also checks that indexes match their tables). PostgreSQL, which has neither:
        every table is read to the end, so a damaged page shows as an error.
        """,
        "corruption was found (each problem is printed)",
    ),
    "stats": (
        "rows and bytes per table, and the database size",
        """
        Count the rows of every table and, where the backend can tell, the bytes each
        takes with its indexes, and say what bounds it (the retention that applies, or
        what else limits it); then the database size and schema revision, and on
        SQLite the page counts and the size of the write-ahead log.
        """,
        "the database could not be read",
    ),
    "slow-queries": (
        "statements slower than database.slow_query, grouped by shape",
        """
        The statements of this host that took longer than database.slow_query,
        recorded by the daemon and the CLI, grouped by their shape with count, longest
        and mean time, slowest first.
        """,
        "the database could not be read",
    ),
    "index-usage": (
        "the query plan of each hot query and whether it uses an index",
        """
        Explain each query the store runs often (EXPLAIN QUERY PLAN on SQLite, EXPLAIN
        on PostgreSQL) and mark those that scan a table without an index.
        """,
        "a hot query uses no index",
    ),
    "migrate": (
        "bring the schema up to date (backs up the SQLite file first)",
        """
        Apply the pending schema migrations, under the migration lock, after an online
        backup of the SQLite database into state_dir/db-backups/. Does nothing when the
        schema is current. Every verb and the daemon also migrate on start.
        """,
        "a migration failed (the schema stays as it was)",
    ),
    "backup": (
        "an online copy of the SQLite database into backup_dir/database/",
        """
        Copy the SQLite database with SQLite's online backup API (consistent while the
        daemon writes), then run an integrity check on the copy. A PostgreSQL store is
        refused: back it up with pg_dump or its own tools.
        """,
        "the store is not SQLite, or the copy failed its integrity check",
    ),
    "prune": (
        "apply database.retention to the history now (--all-hosts: the fleet's)",
        """
        Delete the history older than database.retention (runs, alerts,
        notifications, file actions, backup records, silences, dependency audits,
        slow-query shapes), as the daemon's hourly pass does, for this host, the
        --host named, or every host in the store with --all-hosts. In a fleet whose
        hosts log in with least-privilege roles, those roles may not delete history:
        run this as the database's owner (docs/fleet.md).
        """,
        "this role may not delete some of the history (each table is named)",
    ),
}


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "db",
        **page(
            "database maintenance: optimize, vacuum, check, stats, backup, ...",
            """
            Maintain the store the daemon and the CLI share (the database.url of the
            configuration, SQLite or PostgreSQL): the same operations as the `db:` step
            of a procedure. `hostkeeper db OPERATION --help` explains one.
            """,
            _exit_status("the operation failed (the reason is printed)"),
        ),
    )
    operations = parser.add_subparsers(
        dest="operation", metavar="OPERATION", required=True, help="one of:"
    )
    for name, (summary, description, failure) in OPERATIONS.items():
        operation = operations.add_parser(name, **page(summary, description, _exit_status(failure)))
        if name == "check":
            operation.add_argument(
                "--full",
                action="store_true",
                help="PRAGMA integrity_check instead of quick_check (SQLite; slower)",
            )
        if name == "prune":
            which = operation.add_mutually_exclusive_group()
            which.add_argument(
                "--host",
                action="append",
                dest="hosts",
                metavar="HOST",
                help="prune this host's history (repeatable; default: this host)",
            )
            which.add_argument(
                "--all-hosts",
                action="store_true",
                help="prune the history of every host in the store (the fleet's owner)",
            )
        operation.set_defaults(handler=db, full=False, hosts=None, all_hosts=False)


def _exit_status(failure: str) -> list[tuple[int, str]]:
    return [(0, "the operation succeeded"), (1, f"{failure}, or {CONFIG_ERROR}")]


def table_bounds(config: Any) -> dict[str, str]:
    """What keeps each table from growing without end, from the configuration."""
    from hostkeeper.adapters.store.history_retention import BOUNDED_BY
    from hostkeeper.config.units import format_duration

    metrics = config.metrics.retention
    hourly = f"{format_duration(metrics.hourly)} (metrics.retention.1h)"
    bounds = {
        "samples": "the open window of each series; older ones are sealed",
        "metric_blocks": f"{format_duration(metrics.raw)} raw, "
        f"{format_duration(metrics.five_minute)} 5m, {format_duration(metrics.hourly)} 1h "
        "(metrics.retention)",
        "rollups": "the open window of each series; older ones are sealed",
        "check_results": hourly,
        "health_scores": hourly,
        "disk_usage": hourly,
        "series": "one per host and metric",
        "baseline_versions": "baselines.keep_versions",
        "baseline_stats": "baselines.keep_versions",
        "procedure_state": "one per host and procedure",
        "procedure_results": "one per host and procedure",
        "status_totals": "one per host, counter and procedure, channel or kind",
        "rotation_state": "one per host, policy and file",
        "alembic_version": "one row",
        "fleet_hosts": "one per host of the store (its heartbeat)",
    }
    for key, tables in BOUNDED_BY.items():
        kept = getattr(config.database.retention, key)
        for name in tables:
            bounds[name] = f"{format_duration(kept)} (database.retention.{key})"
    return bounds


@with_config
def db(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store import maintenance

    config = ctx.config
    store = ctx.store
    operation = args.operation
    if operation == "check":
        result = maintenance.check(store, full=args.full)
    elif operation == "slow-queries":
        result = maintenance.slow_query_report(store)
    elif operation == "index-usage":
        result = maintenance.index_usage(store)
    elif operation == "migrate":
        result = maintenance.run_migrations(
            store, Path(config.paths.state_dir), config.database.backup_keep
        )
    elif operation == "stats":
        result = maintenance.stats(store, table_bounds(config))
    elif operation == "backup":
        result = maintenance.backup(
            store, Path(config.paths.backup_dir), config.database.backup_keep
        )
    elif operation == "prune":
        from hostkeeper.adapters.store.history_retention import BOUNDED_BY, recorded_hosts

        now = datetime.now(UTC)
        retention = config.database.retention
        cutoffs = {key: now - getattr(retention, key) for key in BOUNDED_BY}
        hosts = recorded_hosts(store) if args.all_hosts else args.hosts
        result = maintenance.prune(store, cutoffs, hosts)
    else:
        result = getattr(maintenance, operation)(store)
    if args.json:
        emit_json(
            {
                "operation": result.operation,
                "ok": result.ok,
                "summary": result.summary,
                **result.details,
            }
        )
        return 0 if result.ok else 1
    print(f"{result.operation}: {'ok' if result.ok else 'FAILED'}: {result.summary}")
    _print_details(operation, result.details)
    return 0 if result.ok else 1


def _print_details(operation: str, details: dict[str, Any]) -> None:
    if operation == "stats":
        print(
            table(
                ["table", "rows", "bytes", "kept"],
                [
                    [name, t["rows"], t["bytes"], t.get("kept", "-")]
                    for name, t in details["tables"].items()
                ],
            )
        )
        extras = {k: v for k, v in details.items() if k != "tables"}
        print("  ".join(f"{key}={value}" for key, value in extras.items()))
    elif operation == "slow-queries" and details["statements"]:
        print(
            table(
                ["count", "max ms", "mean ms", "statement"],
                [
                    [s["count"], s["max_ms"], s["mean_ms"], s["shape"][:100]]
                    for s in details["statements"]
                ],
            )
        )
    elif operation == "prune":
        for host, tables in details["hosts"].items():
            counts = ", ".join(f"{name} {count}" for name, count in tables.items() if count)
            print(f"  {host}: {counts or 'nothing old enough'}")
    elif operation == "index-usage":
        for query in details["queries"]:
            marks = {(True, True): "index", (False, True): "scan ok", (False, False): "NO INDEX"}
            mark = marks[(query["uses_index"], query["ok"])]
            print(f"{mark:>8}  {query['query']}")
            for line in query["plan"]:
                print(f"          {line}")
            if query.get("reason"):
                print(f"          ({query['reason']})")
