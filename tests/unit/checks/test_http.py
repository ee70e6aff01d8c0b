"""`http` checks against a real local HTTP server and real misbehaving listeners."""

from __future__ import annotations

from hostkeeper.checks import measure
from hostkeeper.core.health import CheckState

from .peers import HttpPeer, make_check


def _http(url: str, expect_status: int = 200) -> object:
    return make_check(type="http", url=url, expect_status=expect_status)


def test_expected_status_is_ok_with_the_response_time_as_value(http_server: HttpPeer) -> None:
    measurement = measure(_http(http_server.route("/health", 200)), timeout=5)
    assert measurement.state is CheckState.OK
    assert measurement.unit == "s"
    assert measurement.value is not None and measurement.value >= 0
    assert measurement.detail.startswith("HTTP 200 in ")
    assert http_server.user_agents and "hostkeeper/" in str(http_server.user_agents[0])


def test_another_status_is_critical_and_says_what_was_expected(http_server: HttpPeer) -> None:
    measurement = measure(_http(http_server.route("/health", 503)), timeout=5)
    assert measurement.state is CheckState.CRITICAL
    assert "HTTP 503" in measurement.detail
    assert "expected 200" in measurement.detail


def test_a_configured_error_status_can_be_the_expected_one(http_server: HttpPeer) -> None:
    measurement = measure(_http(http_server.route("/gone", 410), expect_status=410), timeout=5)
    assert measurement.state is CheckState.OK


def test_redirects_are_not_followed(http_server: HttpPeer) -> None:
    target = http_server.route("/new", 200)
    moved = http_server.route("/old", 301, location=target)
    assert measure(_http(moved), timeout=5).state is CheckState.CRITICAL
    measurement = measure(_http(moved, expect_status=301), timeout=5)
    assert measurement.state is CheckState.OK
    assert "HTTP 301" in measurement.detail


def test_a_server_that_never_answers_is_critical_after_the_timeout(silent_listener: int) -> None:
    check = make_check(type="http", url=f"http://127.0.0.1:{silent_listener}/", timeout="500ms")
    measurement = measure(check, timeout=0.5)
    assert measurement.state is CheckState.CRITICAL
    assert measurement.detail == "no response within 0.5s"


def test_a_refused_connection_is_critical(closed_port: int) -> None:
    measurement = measure(_http(f"http://127.0.0.1:{closed_port}/"), timeout=5)
    assert measurement.state is CheckState.CRITICAL
    assert "refused" in measurement.detail.lower()


def test_tls_to_a_plain_http_server_is_critical(http_server: HttpPeer) -> None:
    url = http_server.route("/health", 200).replace("http://", "https://")
    measurement = measure(_http(url), timeout=5)
    assert measurement.state is CheckState.CRITICAL
    assert measurement.detail.startswith("TLS failed")


def test_a_host_name_that_does_not_resolve_is_unknown() -> None:
    measurement = measure(_http("http://no-such-host.invalid/health"), timeout=10)
    assert measurement.state is CheckState.UNKNOWN
    assert "cannot resolve" in measurement.detail
