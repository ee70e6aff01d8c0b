"""`hostkeeper db optimize|analyze|vacuum|reindex|check|stats|slow-queries|index-usage|
migrate|backup`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hostkeeper.commands.common import load, store_for
from hostkeeper.output import emit_json, table

OPERATIONS = (
    "optimize",
    "analyze",
    "vacuum",
    "reindex",
    "check",
    "stats",
    "slow-queries",
    "index-usage",
    "migrate",
    "backup",
)


def register(verbs: Any) -> None:
    parser = verbs.add_parser("db", help="database maintenance")
    parser.add_argument("operation", choices=OPERATIONS)
    parser.add_argument(
        "--full", action="store_true", help="check: integrity_check instead of quick_check"
    )
    parser.set_defaults(handler=db)


def db(args: argparse.Namespace) -> int:
    from hostkeeper.adapters.store import maintenance

    loaded = load(args)
    if loaded is None:
        return 1
    config = loaded.config
    store = store_for(config)
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
    elif operation == "backup":
        result = maintenance.backup(
            store, Path(config.paths.backup_dir), config.database.backup_keep
        )
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
                ["table", "rows", "bytes"],
                [[name, t["rows"], t["bytes"]] for name, t in details["tables"].items()],
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
    elif operation == "index-usage":
        for query in details["queries"]:
            marks = {(True, True): "index", (False, True): "scan ok", (False, False): "NO INDEX"}
            mark = marks[(query["uses_index"], query["ok"])]
            print(f"{mark:>8}  {query['query']}")
            for line in query["plan"]:
                print(f"          {line}")
            if query.get("reason"):
                print(f"          ({query['reason']})")
