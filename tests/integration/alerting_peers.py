"""Real local peers for the alert channels: an HTTP receiver, an SMTP server and the real
Alertmanager. Each binds to loopback on a free port and is stopped by the test."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tests.peers import missing_peer


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """An HTTP server answering POSTs with `statuses` in turn, then with `then`."""

    statuses: list[int] = field(default_factory=list)
    then: int = 200
    requests: list[Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"  # where start() binds it

    def bodies(self) -> list[Any]:
        return [request.body for request in self.requests]


@contextmanager
def http_receiver(statuses: Sequence[int] = (), then: int = 200) -> Iterator[Receiver]:
    receiver = Receiver(list(statuses), then)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            with lock:
                receiver.requests.append(Request(self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.then
            payload = b"{}" if status < 400 else b'{"error": "refused by the test receiver"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- SMTP -----------------------------------------------------------------------------------


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def smtp_server(users: dict[str, str] | None = None) -> Iterator[Mailbox]:
    """aiosmtpd on loopback; with `users`, AUTH LOGIN/PLAIN is required (without TLS)."""
    controller_module = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.smtp import AuthResult, LoginPassword

    port = free_port()
    mailbox = Mailbox("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            mailbox.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            mailbox.messages.append(
                message_from_bytes(envelope.original_content, policy=policy.default)
            )
            return "250 Message accepted for delivery"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        if not isinstance(auth, LoginPassword) or users is None:
            return AuthResult(success=False, handled=False)
        login, password = auth.login.decode(), auth.password.decode()
        mailbox.logins.append((login, password))
        return AuthResult(success=users.get(login) == password, handled=False)

    options: dict[str, Any] = {}
    if users is not None:
        # Plain-text AUTH on loopback, for the test only; aiosmtpd warns about it.
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        options = {
            "authenticator": authenticate,
            "auth_require_tls": False,
            "auth_required": True,
        }
    controller = controller_module.Controller(Handler(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


# -- Alertmanager ---------------------------------------------------------------------------

ALERTMANAGER_CONFIG = """\
route:
  receiver: blackhole
  group_wait: 1h
receivers:
  - name: blackhole
"""


@dataclass
class Alertmanager:
    url: str
    process: subprocess.Popen[bytes]

    def alerts(self) -> list[dict[str, Any]]:
        url = f"{self.url}/api/v2/alerts"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http on loopback)
            data: list[dict[str, Any]] = json.load(response)
        return data


@contextmanager
def alertmanager(directory: Path, port: int | None = None) -> Iterator[Alertmanager]:
    """The real Alertmanager (Debian's prometheus-alertmanager) on `port`, by default a
    free loopback port."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        missing_peer(
            "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "am.yml").write_text(ALERTMANAGER_CONFIG)
    port = port or free_port()
    log = (directory / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={directory / 'am.yml'}",
            f"--storage.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (directory / "alertmanager.log").read_text(errors="replace")
                raise AssertionError(f"Alertmanager did not become ready:\n{output}")
            time.sleep(0.1)
        yield Alertmanager(url, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


T = TypeVar("T")


def wait_until(
    probe: Callable[[], T | None],
    timeout: float = 15.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """Call `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {last!r}")
        time.sleep(interval)
        last = probe()
    return last


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# -- hostile peers --------------------------------------------------------------------------


@dataclass
class SlowPeer:
    """A TCP server on loopback that answers too slowly: `drip` bytes one by one, one
    every `interval` seconds (nothing at all when `drip` is empty)."""

    port: int
    connections: int = 0
    bytes_sent: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def slow_peer(drip: bytes = b"", interval: float = 2.0) -> Iterator[SlowPeer]:
    listener = socket.create_server(("127.0.0.1", 0))
    peer = SlowPeer(listener.getsockname()[1])
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve(connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            connection.settimeout(1.0)
            with contextlib.suppress(TimeoutError):
                connection.recv(65536)  # the request (or the start of it)
            for byte in drip:
                if stop.wait(interval):
                    return
                connection.sendall(bytes([byte]))
                peer.bytes_sent += 1
            stop.wait()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            peer.connections += 1
            accepted.append(connection)
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for connection in accepted:
            with contextlib.suppress(OSError):
                connection.close()
