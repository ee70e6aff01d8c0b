"""The HTTP server of the daemon: dashboard, reports, JSON API, /metrics and /healthz.

A small stdlib ThreadingHTTPServer on its own threads: requests only read the store, so
they never hold up the scheduler. Any non-loopback listen address requires a bearer
token, compared in constant time.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import structlog

from hostkeeper.adapters.store import Store
from hostkeeper.config import Config
from hostkeeper.status_model import HostStatus
from hostkeeper.status_service import build_status, next_runs_from_config
from hostkeeper.web import api, prometheus
from hostkeeper.web.dashboard import render_dashboard, render_report_index
from hostkeeper.web.report_files import list_reports, read_report

log = structlog.get_logger("hostkeeper.web")

CACHE_SECONDS = 2.0
MAX_CACHED = 256

StateProvider = Callable[[], Mapping[str, Any] | None]
NextRunsProvider = Callable[[], Mapping[str, datetime | None]]


def read_token(path: str | None) -> str | None:
    if path is None:
        return None
    token = Path(path).read_text(encoding="utf-8").strip()
    if len(token) < 16:
        raise ValueError(f"the dashboard token in {path} is shorter than 16 characters")
    return token


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
        self.token: str | None = None
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
        self.token = read_token(dashboard.token_file)
        self._server = ThreadingHTTPServer((dashboard.host, dashboard.port), _handler(self))
        self._server.daemon_threads = True
        self.listen = dashboard.listen
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dashboard", daemon=True
        )
        self._thread.start()
        host, port = self.address
        log.info(
            "dashboard listening",
            url=f"http://{host}:{port}/",
            token_required=self.token is not None,
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
            self.token = read_token(dashboard.token_file)

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

    def authorized(self, header: str | None) -> bool:
        if self.token is None:
            return True
        expected = f"Bearer {self.token}".encode()
        return hmac.compare_digest((header or "").encode(), expected)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _handler(server: DashboardServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "hostkeeper"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http", request=self.requestline, status=args[1] if len(args) > 1 else "")

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
            body = json.dumps(data, default=_json_default, indent=1).encode()
            self._send(status, body, "application/json")

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/healthz":
                healthy = server.store.ping()
                self._json(200 if healthy else 503, {"ok": healthy})
                return
            if not server.authorized(self.headers.get("Authorization")):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Bearer realm="hostkeeper"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            try:
                self._route(url.path, parse_qs(url.query))
            except Exception:
                log.exception("dashboard request failed", path=url.path)
                self._json(500, {"error": "internal error; see the daemon's log"})

        def _route(self, path: str, query: dict[str, list[str]]) -> None:
            cached = server.cached(self.path)
            if cached is None:
                # One render at a time: page views never take more than one core from
                # the procedures, and a burst of identical requests renders once.
                with server.render_lock:
                    cached = server.cached(self.path)
                    if cached is None:
                        cached = _render(server, path, query)
                        server.remember(self.path, cached)
            status, body, content_type = cached
            self._send(status, body, content_type)

    return Handler


Response = tuple[int, bytes, str]


def _render(server: DashboardServer, path: str, query: dict[str, list[str]]) -> Response:
    config = server.config()
    if path in ("/", "/index.html"):
        reports = list_reports(config.paths.report_dir, per_folder=1)
        page = render_dashboard(server.store, server.status(), reports)
        return 200, page.encode(), "text/html; charset=utf-8"
    if path in ("/reports", "/reports/"):
        page = render_report_index(list_reports(config.paths.report_dir), server.store.host)
        return 200, page.encode(), "text/html; charset=utf-8"
    if path.startswith("/reports/"):
        folder, _, name = path.removeprefix("/reports/").partition("/")
        report = read_report(config.paths.report_dir, folder, name)
        if report is not None:
            return 200, *report
        return 404, _dumps({"error": f"no such report {path}"}), "application/json"
    if path == "/metrics":
        text = prometheus.render(server.status())
        return 200, text.encode(), prometheus.CONTENT_TYPE
    if path.startswith("/api/"):
        data = api.dispatch(path.removeprefix("/api/"), query, server.store, server.status)
        if data is not None:
            return 200, _dumps(data), "application/json"
        return 404, _dumps({"error": f"no such endpoint {path}"}), "application/json"
    return 404, _dumps({"error": f"no such page {path}"}), "application/json"


def _dumps(data: object) -> bytes:
    return json.dumps(data, default=_json_default, indent=1).encode()
