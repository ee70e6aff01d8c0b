"""The dashboard, its JSON API and /metrics, served by a real `hostkeeper daemon` over a
store filled with generated history; the page in a real headless Chromium, the
exposition checked by the real `promtool`."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import stat
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from history import BACKUP_SETS, CHECKS, PROCEDURES, PROCEDURES_YAML, History, config_sections, fill
from pydantic import TypeAdapter
from tests.peers import missing_peer

from conftest import DaemonFactory, DaemonProcess, Site, wait_until
from hostkeeper.config.loader import load_config
from hostkeeper.services.status_model import (
    AlertsStatus,
    BackupStatus,
    HostStatus,
    MaintenanceStatus,
    ProcedureStatus,
)
from hostkeeper.services.store_setup import prepare_store
from hostkeeper.web import models
from hostkeeper.web.auth import login_url
from hostkeeper.web.server import MAX_CONNECTIONS

TOKEN = "s3cret-token-for-the-dashboard-0123"


def _dashboard_config(site: Site, listen: str, token_file: Path | None = None) -> str:
    text = site.config_text(PROCEDURES_YAML, preamble=config_sections(str(site.root)))
    section = f"dashboard:\n  listen: {json.dumps(listen)}\n"
    if token_file is not None:
        section += f"  token_file: {json.dumps(str(token_file))}\n"
    return text.replace("dashboard:\n  enabled: false\n", section)


@dataclass
class Served:
    url: str
    history: History
    token: str  # the daemon's token: the configured file, or the one it made on start
    daemon: DaemonProcess


def _serve(site: Site, start_daemon: DaemonFactory, listen: str, token: bool = False) -> Served:
    token_file = None
    if token:
        token_file = site.root / "dashboard.token"
        token_file.write_text(TOKEN + "\n", encoding="utf-8")
        token_file.chmod(0o600)
    site.write_text(_dashboard_config(site, listen, token_file))
    store = prepare_store(load_config(site.config).config)
    try:
        history = fill(store, datetime.now(UTC))
    finally:
        store.dispose()
    daemon = start_daemon()
    state = wait_until(
        lambda: (site.daemon_state() or {}).get("dashboard_url"),
        timeout=30,
        what="dashboard_url in daemon.json",
    )
    served_token = (token_file or site.state_dir / "dashboard.token").read_text().strip()
    return Served(str(state), history, served_token, daemon)


@pytest.fixture
def served(site: Site, start_daemon: DaemonFactory) -> Served:
    return _serve(site, start_daemon, "127.0.0.1:0")


def _get(url: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)  # noqa: S310 (http on loopback)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _json(url: str, token: str) -> Any:
    status, headers, body = _get(url, token)
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    return json.loads(body)


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no time zone"
    return parsed


# -- JSON API -----------------------------------------------------------------------------


def _without_ages(backups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        b | {"newest": {k: v for k, v in (b["newest"] or {}).items() if k != "age_seconds"}}
        for b in backups
    ]


def _check_procedure(entry: dict[str, Any]) -> None:
    assert set(entry) >= {
        "procedure",
        "schedule",
        "enabled",
        "next_run",
        "last_run",
        "last_status",
        "last_duration_seconds",
        "last_error",
        "last_success",
        "last_outcome",
        "failing",
        "runs_by_status",
    }
    assert isinstance(entry["schedule"], str) and entry["schedule"]
    assert entry["enabled"] is True
    assert _timestamp(entry["next_run"]) is not None
    assert _timestamp(entry["last_run"]) is not None
    assert isinstance(entry["last_duration_seconds"], float)
    assert all(isinstance(count, int) for count in entry["runs_by_status"].values())


def test_healthz_and_every_api_endpoint(served: Served) -> None:
    status, _, body = _get(served.url + "healthz")
    assert (status, json.loads(body)) == (200, {"ok": True})

    schedule = _json(served.url + "api/schedule", served.token)
    TypeAdapter(list[ProcedureStatus]).validate_python(schedule)
    assert [p["procedure"] for p in schedule] == list(PROCEDURES)
    for entry in schedule:
        _check_procedure(entry)
    by_name = {p["procedure"]: p for p in schedule}
    # the newest daily run failed on its backup step; the weekly one succeeded
    assert by_name["daily"]["last_status"] == "failed"
    assert "disk full" in by_name["daily"]["last_error"]
    assert by_name["daily"]["runs_by_status"] == {"succeeded": 2, "failed": 1}
    assert by_name["daily"]["failing"] is True
    assert by_name["weekly"]["last_status"] == "succeeded"
    assert by_name["weekly"]["failing"] is False
    assert _timestamp(by_name["weekly"]["last_success"]) is not None

    runs = _json(served.url + "api/runs?limit=3", served.token)
    TypeAdapter(list[models.Run]).validate_python(runs)
    assert len(runs) == 3
    started = [_timestamp(run["started_at"]) for run in runs]
    assert started == sorted(started, reverse=True)  # type: ignore[type-var]
    for run in runs:
        assert {"id", "procedure", "status", "started_at", "duration_seconds", "steps"} <= set(run)
        assert [step["name"] for step in run["steps"]] == ["rotate_logs", "health_check", "backup"]
        for step in run["steps"]:
            assert step["status"] in ("succeeded", "failed")
            assert isinstance(step["duration_seconds"], float)
    weekly = _json(served.url + "api/runs?procedure=weekly", served.token)
    assert [run["procedure"] for run in weekly] == ["weekly"]

    alerts = _json(served.url + "api/alerts", served.token)
    AlertsStatus.model_validate(alerts)
    assert set(alerts) == {
        "firing",
        "pending",
        "last_7_days",
        "silences",
        "failed_deliveries",
        "dropped_deliveries",
    }
    assert [a["rule"] for a in alerts["firing"]] == served.history.firing_rules
    firing = alerts["firing"][0]
    assert set(firing) == {
        "id",
        "rule",
        "severity",
        "state",
        "since",
        "acknowledged",
        "summary",
        "maintenance_window",
        "held",
    }
    assert firing["severity"] == "critical" and firing["acknowledged"] is False
    assert firing["maintenance_window"] is None and firing["held"] is False
    assert _timestamp(firing["since"]) is not None
    assert alerts["last_7_days"] == {"firing": 1, "resolved": 1}
    assert [d["channel"] for d in alerts["failed_deliveries"]] == ["webhook"]

    maintenance = _json(served.url + "api/maintenance", served.token)
    MaintenanceStatus.model_validate(maintenance)
    assert maintenance["active"] is False and maintenance["windows"] == []

    backups = _json(served.url + "api/backups", served.token)
    TypeAdapter(list[BackupStatus]).validate_python(backups)
    assert [b["set"] for b in backups] == list(BACKUP_SETS)
    for backup in backups:
        assert set(backup) == {
            "set",
            "newest",
            "restore_test",
            "restore_test_problem",
            "fresh",
            "stale_after_seconds",
        }
        newest = backup["newest"]
        assert newest["archive"] == served.history.backup_paths[backup["set"]]
        assert newest["verify_ok"] is True
        assert isinstance(newest["size_bytes"], int)
        assert _timestamp(newest["created_at"]) is not None
    config_set, logs_set = backups
    assert 86400 <= config_set["newest"]["age_seconds"] < 86400 + 600
    assert config_set["restore_test"]["ok"] is True
    assert logs_set["restore_test"] is None
    # no procedure backs these sets up: fresh for two days
    assert config_set["stale_after_seconds"] == logs_set["stale_after_seconds"] == 2 * 86400
    assert (config_set["fresh"], logs_set["fresh"]) == (True, False)

    status_doc = _json(served.url + "api/status", served.token)
    HostStatus.model_validate(status_doc)
    assert {
        "host",
        "generated_at",
        "daemon",
        "health",
        "procedures",
        "alerts",
        "backups",
        "metrics",
    } <= set(status_doc)
    assert status_doc["daemon"]["dashboard_url"] == served.url
    assert status_doc["daemon"]["running"] is True
    assert status_doc["procedures"] == schedule
    # the same shape and facts as /api/backups (an age is as old as its request)
    assert _without_ages(status_doc["backups"]) == _without_ages(backups)
    assert [a["rule"] for a in status_doc["alerts"]["firing"]] == served.history.firing_rules
    assert status_doc["health"]["score"] in (85.0, 100.0)
    checks = status_doc["health"]["checks"]
    assert [c["name"] for c in checks] == [name for name, _, _ in CHECKS]  # config order
    for check in checks:
        assert check["state"] in ("ok", "warning", "critical", "unknown")
        assert _timestamp(check["checked_at"]) is not None

    missing, _, _ = _get(served.url + "api/nothing", served.token)
    assert missing == 404
    page_missing, _, _ = _get(served.url + "nothing", served.token)
    assert page_missing == 404


# -- Prometheus ---------------------------------------------------------------------------


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        missing_peer("promtool not installed (Debian package prometheus)")
    return path


def _samples(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def test_metrics_pass_promtool_and_hold_the_history(served: Served) -> None:
    promtool = _promtool()
    status, headers, body = _get(served.url + "metrics", served.token)
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    assert checked.stdout.decode().strip() == "", checked.stdout.decode()  # no lint warnings

    values = _samples(body.decode())
    assert values['hostkeeper_procedure_last_run_success{procedure="daily"}'] == 0
    assert values['hostkeeper_procedure_last_run_success{procedure="weekly"}'] == 1
    assert values['hostkeeper_procedure_runs_total{procedure="daily",status="failed"}'] == 1
    assert values['hostkeeper_step_failures_total{procedure="daily"}'] == 1
    assert values['hostkeeper_alerts_firing{severity="critical"}'] == 1
    assert values['hostkeeper_alerts_firing{severity="warning"}'] == 0
    assert values['hostkeeper_notifications_total{channel="webhook",state="failed"}'] == 1
    assert values['hostkeeper_notifications_total{channel="ops-mail",state="sent"}'] == 1
    assert values['hostkeeper_backup_last_restore_test_success{set="config"}'] == 1
    assert 86400 <= values['hostkeeper_backup_newest_age_seconds{set="config"}'] < 87000
    assert values['hostkeeper_backup_newest_size_bytes{set="logs"}'] == 5 * 1_048_576
    assert values["hostkeeper_config_last_reload_successful"] == 1
    assert values["hostkeeper_health_score"] in (85.0, 100.0)
    states = {k: v for k, v in values.items() if k.startswith("hostkeeper_check_state{")}
    assert len(states) == 4 * len(CHECKS) and sum(states.values()) == len(CHECKS)
    assert any(k.startswith("hostkeeper_build_info{version=") for k in values)


def test_rules_file_passes_promtool(repo_root: Path) -> None:
    promtool = _promtool()
    rules = repo_root / "packaging" / "prometheus" / "hostkeeper-rules.yml"
    checked = subprocess.run(
        [promtool, "check", "rules", str(rules)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout, checked.stdout


# -- memory -------------------------------------------------------------------------------


def test_the_template_engine_loads_with_the_first_page_not_with_the_daemon(
    site: Site, start_daemon: DaemonFactory
) -> None:
    site.write_text(_dashboard_config(site, "127.0.0.1:0"))
    daemon = start_daemon()
    url = wait_until(
        lambda: (site.daemon_state() or {}).get("dashboard_url"),
        timeout=30,
        what="dashboard_url in daemon.json",
    )
    token = (site.state_dir / "dashboard.token").read_text().strip()
    maps = Path(f"/proc/{daemon.pid}/maps")
    # Jinja2 brings MarkupSafe, whose compiled speedups show in the process's mappings.
    assert _get(url + "api/status", token)[0] == 200 and _get(url + "metrics", token)[0] == 200
    assert "markupsafe" not in maps.read_text(), "the daemon loaded the template engine"
    assert _get(url, token)[0] == 200
    assert "markupsafe" in maps.read_text()


# -- token --------------------------------------------------------------------------------


def test_a_non_loopback_listen_requires_the_bearer_token(
    site: Site, start_daemon: DaemonFactory
) -> None:
    served = _serve(site, start_daemon, "0.0.0.0:0", token=True)
    port = served.url.rstrip("/").rpartition(":")[2]
    base = f"http://127.0.0.1:{port}/"
    for path in ("", "api/status", "api/runs", "metrics"):
        status, headers, _ = _get(base + path)
        assert status == 401, path
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert _get(base + path, token=TOKEN[:-1] + "X")[0] == 401, path
        assert _get(base + path, token=TOKEN + "extra")[0] == 401, path
        assert _get(base + path, token=TOKEN)[0] == 200, path
    assert _get(base + "healthz")[0] == 200  # liveness probes carry no token


PROTECTED = ("", "api/status", "api/runs", "api/schedule", "metrics", "reports/")


def test_loopback_dashboard_wants_the_token_it_made_on_first_start(served: Served) -> None:
    token_file = served.daemon.site.state_dir / "dashboard.token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert len(served.token) >= 32
    for path in PROTECTED:
        assert _get(served.url + path)[0] == 401, path
        assert _get(served.url + path, token=served.token[:-1] + "X")[0] == 401, path
        assert _get(served.url + path, token=served.token)[0] == 200, path
    assert _get(served.url + "healthz")[0] == 200


def _no_redirects() -> urllib.request.OpenerDirector:
    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(Keep())


def _login(url: str) -> tuple[int, dict[str, str]]:
    try:
        with _no_redirects().open(url, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_dashboard_url_logs_a_browser_in_with_an_httponly_strict_cookie(
    site: Site, served: Served
) -> None:
    site.cli_config.write_text(site.config.read_text(), encoding="utf-8")
    printed = site.cli("dashboard", "url").stdout.strip()
    assert printed == f"{served.url}login?token={served.token}"
    status, headers = _login(printed)
    assert status == 303 and headers["Location"] == "/"
    cookie = headers["Set-Cookie"]
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert served.token not in cookie  # the cookie is derived from the token, not it
    pair = cookie.split(";")[0]
    for path in PROTECTED:
        request = urllib.request.Request(served.url + path, headers={"Cookie": pair})  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            assert response.status == 200, path
    assert _login(served.url + "login?token=wrong-token-0123456789")[0] == 401
    assert _login(served.url + "login")[0] == 401
    # the token must not reach the journal through the request log
    assert served.token not in served.daemon.stderr


def test_a_changed_or_removed_token_file_takes_effect(site: Site, served: Served) -> None:
    token_file = site.state_dir / "dashboard.token"
    old = served.token
    new = "a-brand-new-token-0123456789abcdef"
    token_file.write_text(new + "\n", encoding="utf-8")
    assert _get(served.url + "api/status", token=old)[0] == 401
    assert _get(served.url + "api/status", token=new)[0] == 200
    # Removed: nothing is served until a reload makes a new token (never the old one).
    token_file.unlink()
    assert _get(served.url + "api/status", token=new)[0] == 401
    served.daemon.send(signal.SIGHUP)
    served.daemon.wait_for_event(
        lambda e: e.get("event") == "configuration reloaded", what="the reload"
    )
    remade = token_file.read_text().strip()
    assert remade not in (old, new) and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert _get(served.url + "api/status", token=new)[0] == 401
    assert _get(served.url + "api/status", token=remade)[0] == 200


def test_a_removed_configured_token_file_refuses_every_request(
    site: Site, start_daemon: DaemonFactory
) -> None:
    served = _serve(site, start_daemon, "127.0.0.1:0", token=True)
    assert _get(served.url + "api/status", token=TOKEN)[0] == 200
    (site.root / "dashboard.token").unlink()
    for path in PROTECTED:
        assert _get(served.url + path, token=TOKEN)[0] == 401, path
    served.daemon.send(signal.SIGHUP)
    served.daemon.wait_for_event(
        lambda e: "reload" in str(e.get("event")), what="the reload's verdict"
    )
    assert _get(served.url + "api/status", token=TOKEN)[0] == 401


def test_auth_none_serves_loopback_without_a_token_and_is_refused_elsewhere(
    site: Site, start_daemon: DaemonFactory
) -> None:
    text = _dashboard_config(site, "127.0.0.1:0").replace(
        "dashboard:\n", "dashboard:\n  auth: none\n", 1
    )
    site.write_text(text)
    start_daemon()
    url = wait_until(lambda: (site.daemon_state() or {}).get("dashboard_url"), timeout=30)
    assert _get(url + "api/status")[0] == 200
    assert not (site.state_dir / "dashboard.token").exists()
    public = text.replace('listen: "127.0.0.1:0"', 'listen: "0.0.0.0:8081"')
    public = public.replace("  auth: none\n", f"  auth: none\n  token_file: {site.root}/t\n")
    site.cli_config.write_text(public, encoding="utf-8")
    result = site.cli("config", "validate", check=False)
    assert result.returncode == 1
    assert (
        "auth: none is allowed on a loopback listen address only" in result.stdout + result.stderr
    )


# -- hostile clients ----------------------------------------------------------------------

BAD_LIMITS = (
    "abc",
    "1e3",
    "%00",
    "-1",
    "0",
    "501",
    "99999999999999999999",
    "1.5",
    "",
    "%205",
    "%2B5",
    "%D9%A3",
)


def test_malformed_api_parameters_get_400_with_a_reason(served: Served) -> None:
    for value in BAD_LIMITS:
        status, headers, body = _get(served.url + f"api/runs?limit={value}", served.token)
        assert status == 400, (value, body)
        assert headers["Content-Type"] == "application/json"
        reason = json.loads(body)["error"]
        assert "limit" in reason and "Traceback" not in reason, value
    status, _, body = _get(served.url + "api/runs?limit=2&limit=3", served.token)
    assert status == 400 and "once" in json.loads(body)["error"]
    status, _, body = _get(served.url + "api/runs?procedure=%00", served.token)
    assert status == 400 and "procedure" in json.loads(body)["error"]
    # the bounds themselves are accepted
    everything = _json(served.url + "api/runs?limit=500", served.token)
    assert len(_json(served.url + "api/runs?limit=1", served.token)) == 1 < len(everything)


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads: line")


def test_idle_clients_do_not_become_a_thread_each(served: Served) -> None:
    port = int(served.url.rstrip("/").rpartition(":")[2])
    pid = served.daemon.pid
    before = _threads(pid)
    idle: list[socket.socket] = []
    try:
        for _ in range(300):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        # Each accepted connection would be a thread: the cap keeps them few, and the
        # connections over it are answered 503 and closed.
        wait_until(
            lambda: _threads(pid) >= before + 20 or None, timeout=30, what="connections served"
        )
        assert _threads(pid) <= before + MAX_CONNECTIONS + 8
        refused = wait_until(lambda: _busy_answers(idle), timeout=30, what="503 answers")
        assert refused >= 300 - MAX_CONNECTIONS - 64  # the listen backlog may still hold some
    finally:
        for sock in idle:
            sock.close()
    # The slots come back once the idle clients are gone (or time out).
    wait_until(
        lambda: _get(served.url + "api/status", served.token)[0] == 200,
        timeout=60,
        what="a served request",
    )


def _busy_answers(sockets: list[socket.socket]) -> int:
    answered = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            data = sock.recv(64, socket.MSG_PEEK)
        except BlockingIOError:
            continue
        except OSError:
            answered += 1
            continue
        finally:
            sock.setblocking(True)
        if data.startswith(b"HTTP/1.0 503") or data == b"":
            answered += 1
    return answered


def test_config_validation_refuses_a_public_listen_without_token_file(site: Site) -> None:
    text = _dashboard_config(site, "0.0.0.0:8081")
    site.config.write_text(text, encoding="utf-8")
    site.cli_config.write_text(text, encoding="utf-8")
    result = site.cli("config", "validate", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "token_file" in result.stdout + result.stderr
    site.cli_config.write_text(_dashboard_config(site, "127.0.0.1:8081"), encoding="utf-8")
    assert site.cli("config", "validate", check=False).returncode == 0


# -- Chromium -----------------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.svg_points = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if any(name == "data-v" for name, _ in attrs):
            self.svg_points += 1

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.cells.append(data.strip())


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[list[str]]:
    binary = shutil.which("chromium")
    if binary is None:
        missing_peer("chromium not installed (Debian package chromium)")
    yield [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,900",
    ]


def test_dashboard_in_headless_chromium(
    served: Served, chromium: list[str], tmp_path: Path
) -> None:
    # The browser logs in as a person does: the login address sets the cookie and
    # leads to the dashboard.
    login = login_url(served.url, served.token)
    screenshot = tmp_path / "page.png"
    shot = subprocess.run(
        [*chromium, "--enable-logging=stderr", "--v=0", f"--screenshot={screenshot}", login],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.returncode == 0, shot.stderr
    assert screenshot.stat().st_size > 10_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    console = [line for line in shot.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], "\n".join(console)
    refused = [line for line in shot.stderr.splitlines() if "Content Security Policy" in line]
    assert refused == [], "\n".join(refused)

    dom = subprocess.run(
        [*chromium, "--dump-dom", login],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr
    parser = _Text()
    parser.feed(dom.stdout)
    for procedure in PROCEDURES:
        assert procedure in parser.cells, f"{procedure} not on the page"
    for rule in served.history.firing_rules:
        assert rule in parser.cells
    for backup_set in BACKUP_SETS:
        assert backup_set in parser.cells
    assert "Schedule" in parser.cells and "Backups" in parser.cells
    assert parser.svg_points > 50, "charts drawn without their data points"


def test_reports_are_linked_from_the_dashboard_and_served_read_only(
    site: Site, served: Served
) -> None:
    daily = site.root / "reports" / "daily"
    daily.mkdir(parents=True, exist_ok=True)
    (daily / "health_report_20240630.html").write_text("<!DOCTYPE html><p>daily report</p>")
    (site.root / "secret.html").write_text("not for the dashboard")

    _status, _headers, page = _get(served.url, served.token)
    assert b'href="/reports/daily/health_report_20240630.html"' in page
    assert b'href="/reports/"' in page
    status, _headers, index = _get(served.url + "reports/", served.token)
    assert status == 200 and b"health_report_20240630.html" in index
    status, headers, body = _get(
        served.url + "reports/daily/health_report_20240630.html", served.token
    )
    assert (status, body) == (200, b"<!DOCTYPE html><p>daily report</p>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    for path in ("reports/daily/../../secret.html", "reports/daily/%2e%2e%2fsecret.html"):
        status, _headers, body = _get(served.url + path, served.token)
        assert status == 404 and b"not for the dashboard" not in body
