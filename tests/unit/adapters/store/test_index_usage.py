"""`db index-usage` after the monthly run's ANALYZE: small tables may rightly be scanned."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, text

from hostkeeper.adapters.store import Store, maintenance
from hostkeeper.adapters.store.schema import alerts

Cli = Callable[..., subprocess.CompletedProcess[str]]
FIRED = datetime(2026, 11, 1, tzinfo=UTC)


def _a_few_alerts(store: Store) -> None:
    """What a young host has: a couple of alerts, one of them firing and critical."""
    rows = [
        {"rule": "root_disk", "severity": "critical", "state": "firing"},
        {"rule": "load", "severity": "warning", "state": "resolved"},
    ]
    with store.write() as connection:
        connection.execute(
            insert(alerts),
            [
                {**row, "host": store.host, "pending_since": FIRED, "notifications": 0}
                for row in rows
            ],
        )


def _query(result: maintenance.MaintenanceResult, name: str) -> dict[str, object]:
    queries: list[dict[str, object]] = result.details["queries"]
    [entry] = [q for q in queries if q["query"] == name]
    return entry


def test_after_analyze_a_scan_of_a_small_table_is_reported_as_right(store: Store) -> None:
    _a_few_alerts(store)
    maintenance.analyze(store)

    result = maintenance.index_usage(store)

    assert result.ok, result.summary
    firing = _query(result, "firing critical alerts (preconditions)")
    if not firing["uses_index"]:  # the planner's choice for a 2-row table
        assert "alerts has 2 rows" in str(firing["reason"])
        assert "USING INDEX ix_alerts_host_state_severity" in str(firing["reason"])


def test_a_scan_without_a_usable_index_still_fails(store: Store) -> None:
    _a_few_alerts(store)
    with store.write() as connection:
        connection.execute(text("DROP INDEX ix_alerts_host_state_severity"))
        connection.execute(text("DROP INDEX ix_alerts_host_rule_state"))
        connection.execute(text("DROP INDEX ix_alerts_host_pending_since_state"))
    maintenance.analyze(store)

    result = maintenance.index_usage(store)

    assert not result.ok
    firing = _query(result, "firing critical alerts (preconditions)")
    assert firing["ok"] is False and "reason" not in firing
    assert "firing critical alerts" in result.summary


def test_db_index_usage_exits_0_after_db_analyze(
    cli: Cli, config_file: Callable[..., Path], store: Store
) -> None:
    config = config_file()  # the same database as the `store` fixture
    _a_few_alerts(store)
    analyzed = cli("--config", str(config), "db", "analyze")
    assert analyzed.returncode == 0, analyzed.stderr

    result = cli("--config", str(config), "db", "index-usage")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "NO INDEX" not in result.stdout
    as_json = cli("--json", "--config", str(config), "db", "index-usage")
    assert all(query["ok"] for query in json.loads(as_json.stdout)["queries"])
