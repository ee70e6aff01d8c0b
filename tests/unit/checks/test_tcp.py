"""`tcp` checks against real listeners and a closed port."""

from __future__ import annotations

import socket

from hostkeeper.checks import measure
from hostkeeper.core.health import CheckState

from .peers import make_check


def test_a_listening_port_is_ok_with_the_connect_time_as_value(silent_listener: int) -> None:
    measurement = measure(make_check(type="tcp", host="127.0.0.1", port=silent_listener), 3)
    assert measurement.state is CheckState.OK
    assert measurement.unit == "s"
    assert measurement.value is not None and measurement.value >= 0
    assert f"127.0.0.1:{silent_listener} accepted" in measurement.detail


def test_a_closed_port_is_critical(closed_port: int) -> None:
    measurement = measure(make_check(type="tcp", host="127.0.0.1", port=closed_port), 3)
    assert measurement.state is CheckState.CRITICAL
    assert "refused" in measurement.detail.lower()
    assert measurement.value is None


def test_a_full_backlog_times_out_as_critical() -> None:
    # A listener with a backlog of 0 that never accepts: once the queue is full, further
    # SYNs are dropped and connecting waits until the timeout.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    held = []
    try:
        for _ in range(8):
            client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
            held.append(client)
        measurement = measure(
            make_check(type="tcp", host="127.0.0.1", port=port, timeout="300ms"), 0.3
        )
    finally:
        for client in held:
            client.close()
        listener.close()
    assert measurement.state is CheckState.CRITICAL
    assert measurement.detail.endswith("no connection within 0.3s")


def test_a_host_name_that_does_not_resolve_is_unknown() -> None:
    measurement = measure(make_check(type="tcp", host="no-such-host.invalid", port=80), 10)
    assert measurement.state is CheckState.UNKNOWN
    assert measurement.detail.startswith("cannot resolve no-such-host.invalid")
