"""What each path of the dashboard server serves: pages, reports, /metrics, the JSON API,
the fleet and its hosts. The server (`web/server.py`) handles connections, the token and
the cache, and asks `render` for the response."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from urllib.parse import unquote

from hostkeeper.adapters.store import Store
from hostkeeper.config import Config
from hostkeeper.services.status_model import FleetStatus, HostStatus, as_json
from hostkeeper.web import api, prometheus
from hostkeeper.web.dashboard import render_dashboard, render_fleet, render_report_index
from hostkeeper.web.report_files import list_reports, read_report


class Site(Protocol):
    """What the pages read: the server's configuration, store and status models."""

    store: Store
    config: Callable[[], Config]

    def status(self) -> HostStatus: ...

    def fleet(self) -> FleetStatus: ...

    def host_status(self, host: str) -> HostStatus | None: ...


Response = tuple[int, bytes, str]


def render(server: Site, path: str, query: dict[str, list[str]]) -> Response:
    """The response to GET `path` (the token was checked); BadParameter for a bad query."""
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
        return 404, dumps({"error": f"no such report {path}"}), "application/json"
    if path == "/metrics":
        text = prometheus.render(server.status())
        return 200, text.encode(), prometheus.CONTENT_TYPE
    if path in ("/fleet", "/fleet/"):
        return 200, render_fleet(server.fleet()).encode(), "text/html; charset=utf-8"
    if path == "/fleet/metrics":
        text = prometheus.render_fleet(server.fleet())
        return 200, text.encode(), prometheus.CONTENT_TYPE
    if path.startswith("/hosts/"):
        return _render_host(server, path)
    if path.startswith("/api/"):
        data = api.dispatch(
            path.removeprefix("/api/"), query, server.store, server.status, server.fleet
        )
        if data is not None:
            return 200, dumps(data), "application/json"
        return 404, dumps({"error": f"no such endpoint {path}"}), "application/json"
    return 404, dumps({"error": f"no such page {path}"}), "application/json"


def _render_host(server: Site, path: str) -> Response:
    """/hosts/HOST/ (a fleet host's dashboard) and /hosts/HOST/api/status."""
    quoted, _, rest = path.removeprefix("/hosts/").partition("/")
    host = unquote(quoted)
    if rest not in ("", "api/status"):
        return 404, dumps({"error": f"no such page {path}"}), "application/json"
    status = server.host_status(host)
    if status is None:
        return 404, dumps({"error": f"no host {host!r} in the store"}), "application/json"
    if rest == "api/status":
        return 200, dumps(as_json(status)), "application/json"
    if host == server.store.host:
        reports = list_reports(server.config().paths.report_dir, per_folder=1)
        page = render_dashboard(server.store, status, reports)
    else:
        page = render_dashboard(server.store, status, None, fleet_note=_remote_note(status))
    return 200, page.encode(), "text/html; charset=utf-8"


def _remote_note(status: HostStatus) -> str:
    daemon = status.daemon
    heard = "never heard from" if daemon is None else f"hostkeeper {daemon.version}"
    return (
        f"as {status.host} recorded it in the shared store ({heard}); its reports are on that host"
    )


def dumps(data: object) -> bytes:
    """JSON as the API serves it: times in ISO 8601, anything else as its text."""
    return json.dumps(data, default=_json_default, indent=1).encode()


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
