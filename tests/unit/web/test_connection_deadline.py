"""The dashboard's server shuts down a connection still open past its deadline (a client
that connects and never sends keeps no thread for long), and leaves no thread behind when
it stops (a reload that moves the dashboard stops one server and starts another)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from hostkeeper.web import server as web_server


class _Silent(BaseHTTPRequestHandler):
    """Waits for a request line that never comes."""


@pytest.fixture
def bounded(monkeypatch: pytest.MonkeyPatch) -> Iterator[web_server._BoundedHTTPServer]:
    monkeypatch.setattr(web_server, "CONNECTION_SECONDS", 0.5)
    made = web_server._BoundedHTTPServer(("127.0.0.1", 0), _Silent)
    thread = threading.Thread(target=made.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    yield made
    made.shutdown()
    made.server_close()
    thread.join(5)


def test_a_silent_connection_is_closed_after_its_deadline(
    bounded: web_server._BoundedHTTPServer,
) -> None:
    port = bounded.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        started = time.monotonic()
        assert client.recv(1) == b""  # the server shut it down
        assert time.monotonic() - started < 9


def test_a_stopped_server_leaves_no_thread() -> None:
    before = {t.ident for t in threading.enumerate()}
    for _ in range(3):
        made = web_server._BoundedHTTPServer(("127.0.0.1", 0), _Silent)
        thread = threading.Thread(target=made.serve_forever, kwargs={"poll_interval": 0.1})
        thread.start()
        made.shutdown()
        made.server_close()
        thread.join(5)
    assert {t.ident for t in threading.enumerate() if t.is_alive()} <= before
