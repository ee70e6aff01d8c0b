"""Helpers for the check tests: building check models and a local HTTP peer."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import TypeAdapter

from hostkeeper.config.checks import Check

_CHECK = TypeAdapter(Check)


def make_check(**fields: Any) -> Any:
    """A validated check model, e.g. make_check(type="tcp", host=..., port=...)."""
    return _CHECK.validate_python({"name": fields.pop("name", "probe"), **fields})


class HttpPeer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _PeerHandler)
        self.routes: dict[str, tuple[int, str | None]] = {}
        self.user_agents: list[str | None] = []

    def route(self, path: str, status: int, location: str | None = None) -> str:
        """Answer GET `path` with `status` (and a Location header); the URL of it."""
        self.routes[path] = (status, location)
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _PeerHandler(BaseHTTPRequestHandler):
    server: HttpPeer

    def do_GET(self) -> None:
        self.server.user_agents.append(self.headers.get("User-Agent"))
        status, location = self.server.routes.get(self.path, (404, None))
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass
