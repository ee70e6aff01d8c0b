from __future__ import annotations

import os
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.checks import record_check_run
from hostkeeper.adapters.store.schema import alerts
from hostkeeper.checks.disk_free import measure, usage
from hostkeeper.config.checks import DiskFreeCheck
from hostkeeper.config.procedures import (
    DiskFreePrecondition,
    HealthyPrecondition,
    NoCriticalAlertsPrecondition,
    Precondition,
)
from hostkeeper.core.contracts import PluginContractError, check_member
from hostkeeper.core.health import CheckResult, CheckState
from hostkeeper.procedures.preconditions import (
    REGISTRY,
    PreconditionKind,
    PreconditionResult,
    evaluate,
    register,
)


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


def _statvfs(blocks: int, bfree: int, bavail: int) -> os.statvfs_result:
    # bsize, frsize, blocks, bfree, bavail, files, ffree, favail, flag, namemax
    return os.statvfs_result((4096, 4096, blocks, bfree, bavail, 0, 0, 0, 0, 255))


def test_free_share_leaves_roots_reserve_out_like_df() -> None:
    # 1000 blocks, 300 free of which 50 reserved for root: used 700, available 250.
    used, available, percent = usage(_statvfs(1000, 300, 250))
    assert (used, available) == (700 * 4096, 250 * 4096)
    assert percent == pytest.approx(100 * 250 / 950)  # not 250/1000
    assert usage(_statvfs(0, 0, 0))[2] is None


def test_disk_free_precondition_agrees_with_the_disk_free_check(
    store: Store, tmp_path: Path
) -> None:
    percent = usage(os.statvfs(tmp_path))[2]
    assert percent is not None
    result = evaluate(DiskFreePrecondition(require="disk_free", path=str(tmp_path), min=0), store)
    assert result.detail.startswith(f"{percent:.1f}% free on {tmp_path}")
    check = measure(
        DiskFreeCheck(name="disk", type="disk_free", path=str(tmp_path), warning=0, critical=0), 5
    )
    assert check.value == pytest.approx(percent, abs=0.01)


def test_every_configurable_precondition_has_a_registered_kind() -> None:
    members = typing.get_args(typing.get_args(Precondition)[0])
    configurable = {typing.get_args(m.model_fields["require"].annotation)[0] for m in members}
    assert configurable == set(REGISTRY)
    for name, kind in REGISTRY.items():
        check_member("precondition", name, kind, PreconditionKind)


class _WithoutEvaluate:
    NAME = "quiet_hours"
    CONFIG = NoCriticalAlertsPrecondition


class _WrongModel:
    NAME = "quiet_hours"
    CONFIG = NoCriticalAlertsPrecondition

    def evaluate(self, precondition: object, store: Store) -> PreconditionResult:
        return PreconditionResult(self.NAME, True, "")


def test_a_precondition_without_evaluate_is_refused_naming_it() -> None:
    with pytest.raises(PluginContractError) as refused:
        register([_WithoutEvaluate()])
    assert str(refused.value) == (
        "precondition 'quiet_hours' (_WithoutEvaluate) does not provide evaluate, "
        "required by PreconditionKind"
    )


def test_a_precondition_with_another_kinds_config_model_is_refused() -> None:
    with pytest.raises(PluginContractError, match="is the model of require no_critical_alerts"):
        register([_WrongModel()])


def _checks_and_score(
    store: Store, states: dict[str, CheckState], score: float, at: datetime
) -> None:
    record_check_run(
        store,
        [
            CheckResult(name, "load", state, 1.0, "", f"{name} {state}", 0.1, at)
            for name, state in states.items()
        ],
        score=score,
    )


def _healthy(min_score: float = 80, max_age: str = "1d") -> HealthyPrecondition:
    return HealthyPrecondition.model_validate(
        {"require": "healthy", "min_score": min_score, "max_age": max_age}
    )


def test_healthy_is_met_with_a_good_score_and_no_critical_check(store: Store) -> None:
    _checks_and_score(
        store, {"disk": CheckState.OK, "load": CheckState.WARNING}, 85, datetime.now(UTC)
    )
    result = evaluate(_healthy(), store)
    assert result.met, result.detail
    assert result.detail == "health score 85 (need 80), none of 2 checks critical"


def test_healthy_is_unmet_while_a_check_is_critical_whatever_the_score(store: Store) -> None:
    _checks_and_score(
        store, {"disk": CheckState.CRITICAL, "load": CheckState.OK}, 95, datetime.now(UTC)
    )
    result = evaluate(_healthy(min_score=0), store)
    assert not result.met
    assert result.detail == "critical checks: disk"


def test_healthy_is_unmet_below_the_score(store: Store) -> None:
    _checks_and_score(store, {"load": CheckState.WARNING}, 60, datetime.now(UTC))
    result = evaluate(_healthy(min_score=70), store)
    assert not result.met
    assert result.detail == "health score 60, below 70"
    assert evaluate(_healthy(min_score=60), store).met


def test_healthy_is_unmet_without_recent_results(store: Store) -> None:
    assert evaluate(_healthy(), store).detail == (
        "no health check result in the last 1d (run health_check)"
    )
    _checks_and_score(store, {"load": CheckState.OK}, 100, datetime.now(UTC) - timedelta(hours=3))
    stale = evaluate(_healthy(max_age="2h"), store)
    assert not stale.met
    assert "no health check result in the last 2h" in stale.detail
    assert evaluate(_healthy(max_age="4h"), store).met
