"""The HTTP server of the daemon: dashboard, reports, JSON API, /metrics and /healthz
(what each path serves is `web/pages.py`).

A small stdlib ThreadingHTTPServer on its own threads: requests only read the store, so
they never hold up the scheduler. Every address wants the token (web.auth) unless
`dashboard.auth: none` (loopback only); /healthz answers everyone. At most
MAX_CONNECTIONS connections are served at once (more are answered 503 and closed), and
each one has IDLE_SECONDS per read and CONNECTION_SECONDS in all, so idle or slow
clients cannot pile up threads.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import structlog

from hostkeeper.adapters.store import Store
from hostkeeper.config import Config
from hostkeeper.services.fleet_status import build_fleet, recorded_host_status
from hostkeeper.services.status import build_status, next_runs_from_config
from hostkeeper.services.status_model import FleetStatus, HostStatus
from hostkeeper.web.auth import (
    LOGIN_PATH,
    TokenSource,
    TokenUnavailable,
    create_default_token,
    is_authorized,
    login_cookie,
    token_path,
)
from hostkeeper.web.pages import Response, dumps, render
from hostkeeper.web.params import BadParameter

log = structlog.get_logger("hostkeeper.web")

CACHE_SECONDS = 2.0
MAX_CACHED = 256
MAX_CONNECTIONS = 32
IDLE_SECONDS = 10.0
CONNECTION_SECONDS = 60.0

StateProvider = Callable[[], Mapping[str, Any] | None]
NextRunsProvider = Callable[[], Mapping[str, datetime | None]]


class _BoundedHTTPServer(ThreadingHTTPServer):
    """A thread per connection, but at most MAX_CONNECTIONS of them; a connection that
    is still open CONNECTION_SECONDS after it came is shut down."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._open: dict[socket.socket, float] = {}
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        with self._open_lock:
            self._open[request] = time.monotonic() + CONNECTION_SECONDS
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release(request)

    def _release(self, request: Any) -> None:
        with self._open_lock:
            held = self._open.pop(request, None)
        if held is not None:
            self._slots.release()

    def service_actions(self) -> None:
        """Shut down connections open past their deadline; serve_forever calls this at
        every turn of its loop (twice a second), so it stops with the server."""
        now = time.monotonic()
        with self._open_lock:
            late = [sock for sock, deadline in self._open.items() if deadline < now]
        for sock in late:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _refuse_busy(request: socket.socket) -> None:
    body = b'{"error": "too many connections; try again"}'
    head = (
        "HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"
    )
    with contextlib.suppress(OSError):
        request.settimeout(1.0)
        request.sendall(head.encode() + body)


class DashboardServer:
    def __init__(
        self,
        config: Callable[[], Config],
        store: Store,
        next_runs: NextRunsProvider | None = None,
        daemon_state: StateProvider | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.next_runs = next_runs
        self.daemon_state = daemon_state or (lambda: None)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.tokens: TokenSource | None = None  # None: `auth: none`
        self.listen: str | None = None
        self.render_lock = threading.Lock()
        self._cache: dict[str, tuple[float, Response]] = {}
        self._cache_lock = threading.Lock()

    def cached(self, key: str) -> Response | None:
        with self._cache_lock:
            entry = self._cache.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def remember(self, key: str, response: Response) -> None:
        """Keep a response for CACHE_SECONDS: far below any refresh or scrape interval."""
        with self._cache_lock:
            now = time.monotonic()
            self._cache = {k: v for k, v in self._cache.items() if v[0] >= now}
            if len(self._cache) < MAX_CACHED:
                self._cache[key] = (now + CACHE_SECONDS, response)

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        dashboard = self.config().dashboard
        self._set_up_token()
        self._server = _BoundedHTTPServer((dashboard.host, dashboard.port), _handler(self))
        self.listen = dashboard.listen
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dashboard", daemon=True
        )
        self._thread.start()
        host, port = self.address
        log.info(
            "dashboard listening",
            url=f"http://{host}:{port}/",
            token_required=self.tokens is not None,
            token_file=str(self.tokens.path) if self.tokens else None,
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self.listen = None

    def apply(self) -> None:
        """After a reload: restart on a new address, reread the token."""
        dashboard = self.config().dashboard
        if self._server is None:
            if dashboard.enabled:
                self.start()
        elif dashboard.listen != self.listen or not dashboard.enabled:
            self.stop()
            if dashboard.enabled:
                self.start()
        else:
            self._set_up_token()

    def status(self) -> HostStatus:
        """The status model now, with the daemon's own next fire times when it has them."""
        config = self.config()
        now = datetime.now(UTC)
        upcoming = (
            self.next_runs() if self.next_runs else next_runs_from_config(config, self.store, now)
        )
        return build_status(
            self.store, config, now=now, next_runs=upcoming, daemon_state=self.daemon_state()
        )

    def fleet(self) -> FleetStatus:
        """Every host of the store, as `hostkeeper fleet` shows it."""
        return build_fleet(self.store, datetime.now(UTC), self.config().fleet.silent_after)

    def host_status(self, host: str) -> HostStatus | None:
        """The status of `host`: this one's own, or another's as recorded in the store."""
        if host == self.store.host:
            return self.status()
        silent_after = self.config().fleet.silent_after
        return recorded_host_status(self.store, host, datetime.now(UTC), silent_after)

    def _set_up_token(self) -> None:
        """Follow the configuration: no token (`auth: none`), the configured file, or the
        default file under state_dir, made anew when missing (a removed default token
        is replaced by a new one on the next start or reload)."""
        config = self.config()
        if config.dashboard.auth == "none":
            self.tokens = None
            return
        path = token_path(config)
        if config.dashboard.token_file is None and create_default_token(path):
            log.info("created the dashboard token", token_file=str(path))
        self.tokens = TokenSource(path)
        try:
            self.tokens.current()
        except TokenUnavailable as error:
            log.error(
                "the dashboard refuses every request until its token is readable", error=str(error)
            )

    def authorized(self, authorization: str | None, cookie: str | None) -> bool:
        """Whether a request may read; fails closed when the token cannot be read."""
        tokens = self.tokens
        if tokens is None:
            return True
        try:
            token = tokens.current()
        except TokenUnavailable:
            return False
        return is_authorized(authorization, cookie, token)

    def login(self, presented: str | None) -> str | None:
        """The Set-Cookie value for a correct token shown to /login, else None."""
        if self.tokens is None or presented is None:
            return None
        try:
            token = self.tokens.current()
        except TokenUnavailable:
            return None
        if not is_authorized(f"Bearer {presented}", None, token):
            return None
        return login_cookie(token)


# Complexity ceiling exception (C901): the request handler class counts as one function; its
# methods are small.
def _handler(server: DashboardServer) -> type[BaseHTTPRequestHandler]:  # noqa: C901
    class Handler(BaseHTTPRequestHandler):
        server_version = "hostkeeper"
        timeout = IDLE_SECONDS  # per read: an idle or stalled client lets go of its thread

        def log_message(self, format: str, *args: Any) -> None:
            # The path without its query: /login?token=... must not reach the journal.
            request = f"{self.command} {urlparse(self.path).path}" if self.command else "-"
            log.debug("http", request=request, status=args[1] if len(args) > 1 else "")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header(
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            )
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, data: object) -> None:
            body = dumps(data)
            self._send(status, body, "application/json")

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/healthz":
                healthy = server.store.ping()
                self._json(200 if healthy else 503, {"ok": healthy})
                return
            if url.path == LOGIN_PATH:
                self._login(parse_qs(url.query).get("token", [None])[0])
                return
            if not server.authorized(self.headers.get("Authorization"), self.headers.get("Cookie")):
                self._unauthorized()
                return
            try:
                self._route(url.path, parse_qs(url.query, keep_blank_values=True))
            except BadParameter as error:
                self._json(400, {"error": str(error)})
            except Exception:
                log.exception("dashboard request failed", path=url.path)
                self._json(500, {"error": "internal error; see the daemon's log"})

        def _unauthorized(self) -> None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer realm="hostkeeper"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _login(self, presented: str | None) -> None:
            cookie = server.login(presented)
            if cookie is None:
                self._unauthorized()
                return
            self.send_response(303)
            self.send_header("Location", "/")
            self.send_header("Set-Cookie", cookie)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _route(self, path: str, query: dict[str, list[str]]) -> None:
            cached = server.cached(self.path)
            if cached is None:
                # One render at a time: page views never take more than one core from
                # the procedures, and a burst of identical requests renders once.
                with server.render_lock:
                    cached = server.cached(self.path)
                    if cached is None:
                        cached = render(server, path, query)
                        server.remember(self.path, cached)
            status, body, content_type = cached
            self._send(status, body, content_type)

    return Handler
