"""Health score, worst state and Nagios codes: the pure rules in core/health.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hostkeeper.core.health import (
    CheckResult,
    CheckState,
    health_score,
    nagios_exit_code,
    score_of,
    state_for_high,
    state_for_low,
    worst_state,
)

OK, WARNING, CRITICAL, UNKNOWN = (
    CheckState.OK,
    CheckState.WARNING,
    CheckState.CRITICAL,
    CheckState.UNKNOWN,
)


def test_all_ok_scores_100_and_all_critical_scores_0() -> None:
    assert health_score({"a": OK, "b": OK}) == 100.0
    assert health_score({"a": CRITICAL, "b": CRITICAL}) == 0.0


def test_unweighted_score_is_the_plain_mean_of_state_points() -> None:
    assert health_score({"a": OK, "b": WARNING, "c": CRITICAL}) == pytest.approx(50.0)
    assert health_score({"a": OK, "b": WARNING}) == pytest.approx(75.0)


def test_weights_from_the_reference_comment_unlisted_checks_weigh_one() -> None:
    # root_disk 3 (critical), memory 2 (warning), load 1 (ok): (0*3 + 50*2 + 100*1) / 6
    states = {"root_disk": CRITICAL, "memory": WARNING, "load": OK}
    score = health_score(states, {"root_disk": 3, "memory": 2})
    assert score == pytest.approx(200 / 6)


def test_unknown_checks_are_left_out_of_the_score_not_counted_as_zero() -> None:
    assert health_score({"a": OK, "b": UNKNOWN}) == 100.0
    assert health_score({"a": WARNING, "b": UNKNOWN}, {"b": 100}) == 50.0


def test_score_is_none_when_nothing_is_known() -> None:
    assert health_score({}) is None
    assert health_score({"a": UNKNOWN, "b": UNKNOWN}) is None


def test_a_weight_of_zero_leaves_a_check_out() -> None:
    assert health_score({"a": OK, "b": CRITICAL}, {"b": 0}) == 100.0
    assert health_score({"b": CRITICAL}, {"b": 0}) is None


def test_weights_for_checks_without_a_state_change_nothing() -> None:
    assert health_score({"a": WARNING}, {"gone": 10}) == 50.0


def test_score_of_results_uses_their_names_and_states() -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    results = [
        CheckResult("disk", "disk_free", CRITICAL, 5.0, "%", "", 0.1, at),
        CheckResult("api", "http", OK, 0.01, "s", "", 0.1, at),
        CheckResult("unit", "systemd_unit", UNKNOWN, None, None, "no bus", 0.1, at),
    ]
    assert score_of(results, {"disk": 3}) == pytest.approx(25.0)


@pytest.mark.parametrize(
    ("states", "worst"),
    [
        ([OK, OK], OK),
        ([OK, UNKNOWN], UNKNOWN),
        ([UNKNOWN, WARNING], WARNING),
        ([WARNING, UNKNOWN, OK], WARNING),
        ([CRITICAL, UNKNOWN, WARNING], CRITICAL),
        ([OK, CRITICAL], CRITICAL),
        ([], UNKNOWN),
    ],
)
def test_worst_state_orders_ok_unknown_warning_critical(
    states: list[CheckState], worst: CheckState
) -> None:
    assert worst_state(states) is worst


def test_nagios_exit_codes() -> None:
    assert [nagios_exit_code(s) for s in (OK, WARNING, CRITICAL, UNKNOWN)] == [0, 1, 2, 3]


def test_low_is_worse_levels_trip_strictly_below() -> None:
    assert state_for_low(20.0, warning=20, critical=10) is OK
    assert state_for_low(19.9, warning=20, critical=10) is WARNING
    assert state_for_low(10.0, warning=20, critical=10) is WARNING
    assert state_for_low(9.9, warning=20, critical=10) is CRITICAL


def test_high_is_worse_levels_trip_strictly_above() -> None:
    assert state_for_high(2.0, warning=2, critical=4) is OK
    assert state_for_high(2.01, warning=2, critical=4) is WARNING
    assert state_for_high(4.0, warning=2, critical=4) is WARNING
    assert state_for_high(4.01, warning=2, critical=4) is CRITICAL


def test_result_to_dict_is_json_ready() -> None:
    at = datetime(2024, 1, 1, 12, tzinfo=UTC)
    result = CheckResult("disk", "disk_free", WARNING, 15.0, "%", "15% free", 0.123456, at)
    assert result.to_dict() == {
        "name": "disk",
        "type": "disk_free",
        "state": "warning",
        "value": 15.0,
        "unit": "%",
        "detail": "15% free",
        "duration": 0.1235,
        "checked_at": "2024-01-01T12:00:00+00:00",
    }
