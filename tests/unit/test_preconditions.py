from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.schema import alerts
from hostkeeper.config.procedures import DiskFreePrecondition, NoCriticalAlertsPrecondition
from hostkeeper.preconditions import evaluate


def test_disk_free_of_zero_percent_is_always_met(store: Store, tmp_path: Path) -> None:
    result = evaluate(DiskFreePrecondition(require="disk_free", path=str(tmp_path), min=0), store)
    assert result.met
    assert result.label == f"disk_free {tmp_path} >= 0%"
    assert result.detail.endswith(f"free on {tmp_path} (need 0%)")


def test_disk_free_of_a_hundred_percent_is_never_met(store: Store, tmp_path: Path) -> None:
    result = evaluate(DiskFreePrecondition(require="disk_free", path=str(tmp_path), min=100), store)
    assert not result.met


def test_no_critical_alerts_lists_each_firing_rule_once(store: Store) -> None:
    with store.write() as connection:
        for rule in ("disk_full", "load_high", "disk_full"):
            connection.execute(
                insert(alerts).values(
                    host=store.host,
                    rule=rule,
                    severity="critical",
                    state="firing",
                    pending_since=datetime.now(UTC),
                    notifications=0,
                    false_positive=False,
                )
            )
    result = evaluate(NoCriticalAlertsPrecondition(require="no_critical_alerts"), store)
    assert not result.met
    assert result.detail == "critical alerts firing: disk_full, load_high"


def test_no_critical_alerts_met_on_an_empty_store(store: Store) -> None:
    result = evaluate(NoCriticalAlertsPrecondition(require="no_critical_alerts"), store)
    assert result.met
