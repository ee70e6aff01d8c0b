"""Running checks together: order, per-check timeouts, deadlines, cancellation, errors."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from hostkeeper.checks.runner import run_checks
from hostkeeper.core.health import CheckState

from .peers import HttpPeer, make_check


def test_results_come_back_in_the_given_order_with_one_round_time(
    http_server: HttpPeer, tmp_path: Path, closed_port: int
) -> None:
    checks = [
        make_check(name="api", type="http", url=http_server.route("/", 200)),
        make_check(name="disk", type="disk_free", path=str(tmp_path), warning="0%", critical="0%"),
        make_check(name="broker", type="tcp", host="127.0.0.1", port=closed_port),
    ]
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    results = run_checks(checks, checked_at=at)
    assert [(r.name, r.type, r.state) for r in results] == [
        ("api", "http", CheckState.OK),
        ("disk", "disk_free", CheckState.OK),
        ("broker", "tcp", CheckState.CRITICAL),
    ]
    assert {r.checked_at for r in results} == {at}
    assert all(r.duration >= 0 for r in results)


def test_a_check_that_overruns_its_timeout_is_unknown_and_does_not_hold_up_the_rest(
    trickle_server: int, tmp_path: Path
) -> None:
    slow = make_check(
        name="slow", type="http", url=f"http://127.0.0.1:{trickle_server}/", timeout="300ms"
    )
    quick = make_check(
        name="disk", type="disk_free", path=str(tmp_path), warning="0%", critical="0%"
    )
    slow_result, quick_result = run_checks([slow, quick])
    assert slow_result.state is CheckState.UNKNOWN
    assert slow_result.detail == "did not finish within its timeout of 0.3s"
    assert quick_result.state is CheckState.OK


def test_the_callers_deadline_caps_each_checks_timeout(silent_listener: int) -> None:
    check = make_check(type="http", url=f"http://127.0.0.1:{silent_listener}/", timeout="30s")
    (result,) = run_checks([check], deadline=time.monotonic() + 0.5)
    assert result.state is CheckState.CRITICAL
    assert result.detail.startswith("no response within 0.")


def test_no_check_starts_once_the_deadline_has_passed(tmp_path: Path) -> None:
    check = make_check(type="disk_free", path=str(tmp_path), warning="0%", critical="0%")
    (result,) = run_checks([check], deadline=time.monotonic() - 1)
    assert result.state is CheckState.UNKNOWN
    assert result.detail == "not run: no time left before the step's timeout"


def test_cancelling_stops_waiting_and_marks_unfinished_checks_unknown(trickle_server: int) -> None:
    check = make_check(type="http", url=f"http://127.0.0.1:{trickle_server}/", timeout="60s")
    cancel = threading.Event()
    cancel.set()
    (result,) = run_checks([check], cancel=cancel)
    assert result.state is CheckState.UNKNOWN
    assert result.detail == "stopped before it finished: hostkeeper is shutting down"


def test_a_check_that_raises_is_unknown_with_the_error_and_the_others_still_run(
    tmp_path: Path,
) -> None:
    broken = make_check(name="broken", type="http", url="http://[::1/health")
    fine = make_check(
        name="disk", type="disk_free", path=str(tmp_path), warning="0%", critical="0%"
    )
    broken_result, fine_result = run_checks([broken, fine])
    assert broken_result.state is CheckState.UNKNOWN
    assert broken_result.detail.startswith("check failed: ValueError")
    assert fine_result.state is CheckState.OK
