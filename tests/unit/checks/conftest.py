"""Real local peers for the network checks: an HTTP server, a silent and a slow listener."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from .peers import HttpPeer


@pytest.fixture
def http_server() -> Iterator[HttpPeer]:
    """An HTTP server on 127.0.0.1:0; `http_server.route(path, status)` gives a URL."""
    server = HttpPeer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port whose listener accepts connections (the kernel does) and never says a word."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def trickle_server() -> Iterator[int]:
    """A port whose server answers one byte at a time, never finishing a status line.

    Every single read succeeds within any socket timeout, so only an overall time limit
    stops a client.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)  # so the accept loop notices `stop`
    stop = threading.Event()

    def serve(connection: socket.socket) -> None:
        with contextlib.suppress(OSError), connection:
            while not stop.is_set():
                connection.sendall(b"H")
                time.sleep(0.1)

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound then released)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port
