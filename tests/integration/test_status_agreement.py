"""One history, every reader of the status model: `status --json`, `schedule --json`, the
STATUS= line of a real daemon, its `/api/status`, `/api/schedule`, `/api/backups`,
`/metrics` and dashboard page, the daily report's data and `validate-system`'s backups
line agree on what happened.

The history: `quarterly` failed and was then dry-run (the dry run must not hide the
failure); `daily` failed and then missed a fire (shown as missed, still failing);
`longjob` failed and was then removed from the configuration (gone everywhere, after a
restart too); `nightly` made a backup whose restore test then failed; `watch` raised a
firing alert.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
import yaml
from notify_socket import NotifySocket

from conftest import DaemonFactory, Site, wait_until
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.config.loader import load_config
from hostkeeper.core.runs import RunStatus, Trigger
from hostkeeper.reports import daily
from hostkeeper.services.store_setup import prepare_store

RARE = {"cron": "0 3 29 2 *"}  # 29 February: never fires while the test runs
WEEKLY = {"cron": "30 3 * * sun"}
PROCEDURES: dict[str, Any] = {
    "quarterly": {"schedule": RARE, "steps": [{"run": ["false"]}]},
    "daily": {"schedule": RARE, "steps": [{"run": ["false"]}]},
    "nightly": {"schedule": WEEKLY, "steps": [{"backup": "config"}]},
    "watch": {"schedule": RARE, "steps": ["health_check", "evaluate_alerts"]},
}
REMOVED = {"longjob": {"schedule": RARE, "steps": [{"run": ["false"]}]}}


def _config(site: Site, procedures: dict[str, Any]) -> str:
    sources = site.root / "etc"
    sources.mkdir(exist_ok=True)
    (sources / "app.conf").write_text("setting = 1\n")
    sections = {
        "checks": [
            {
                "name": "disk",
                "type": "disk_free",
                "path": str(site.root),
                "warning": "1%",
                "critical": "1%",
            }
        ],
        "alerts": {
            "rules": [{"name": "always", "when": "health_score < 101", "severity": "critical"}]
        },
        "backups": [{"name": "config", "sources": [str(sources)]}],
    }
    text = site.config_text(
        yaml.safe_dump(procedures, sort_keys=False), preamble=yaml.safe_dump(sections)
    )
    return text.replace("dashboard:\n  enabled: false\n", 'dashboard:\n  listen: "127.0.0.1:0"\n')


def _cli(site: Site, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "hostkeeper", "--config", str(site.config), *args],
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == expect, f"{args}: {result.stdout}{result.stderr}"
    return result


def _json(site: Site, *args: str, expect: int = 0) -> Any:
    return json.loads(_cli(site, "--json", *args, expect=expect).stdout)


def _get(url: str, token: str) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        body: bytes = response.read()
    return body.decode()


def _make_history(site: Site) -> None:
    site.write_text(_config(site, {**PROCEDURES, **REMOVED}))
    _cli(site, "run", "longjob", expect=1)
    _cli(site, "run", "quarterly", expect=1)
    _cli(site, "run", "quarterly", "--dry-run")
    _cli(site, "run", "daily", expect=1)
    _cli(site, "run", "nightly")
    _cli(site, "run", "watch")
    # A restore test that cannot run: its scratch directory's place is taken by a file.
    (site.state_dir / "restore-tests").write_text("in the way\n")
    _cli(site, "backup", "restore-test", "config", expect=1)
    loaded = load_config(str(site.config)).config
    store = prepare_store(loaded)
    try:  # the fire the scheduler could not start in time, recorded as it records it
        missed_at = datetime.now(UTC)
        run_store.record_finished_run(
            store,
            "daily",
            Trigger.SCHEDULED,
            RunStatus.MISSED,
            missed_at,
            "missed: the scheduler could not start it within the misfire grace time",
            scheduled_for=missed_at,
        )
    finally:
        store.dispose()
    site.write_text(_config(site, PROCEDURES))  # longjob is removed


def _metrics(text: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


@pytest.fixture
def readers(site: Site, start_daemon: DaemonFactory, notify: NotifySocket) -> dict[str, Any]:
    """What each reader says about the history, the daemon started after longjob went."""
    _make_history(site)
    daemon = start_daemon()
    _, ready = notify.wait_key("READY", "1", timeout=30)
    url = str(
        wait_until(lambda: (site.daemon_state() or {}).get("dashboard_url"), what="dashboard")
    )
    token = (site.state_dir / "dashboard.token").read_text().strip()  # made on first start
    loaded = load_config(str(site.config)).config
    store = prepare_store(loaded)
    try:
        _, report_data = daily.build(loaded, store, datetime.now(UTC))
    finally:
        store.dispose()
    validation = _json(site, "validate-system", "--alert-timeout", "1", expect=1)
    found = {
        "status": _json(site, "status"),
        "status_text": _cli(site, "status").stdout,
        "schedule": _json(site, "schedule"),
        "status_line": ready.status,
        "api_status": json.loads(_get(url + "api/status", token)),
        "api_schedule": json.loads(_get(url + "api/schedule", token)),
        "api_backups": json.loads(_get(url + "api/backups", token)),
        "metrics": _metrics(_get(url + "metrics", token)),
        "page": _get(url, token),
        "report": report_data,
        "backups_line": {i["item"]: i for i in validation["items"]}["backups"],
    }
    assert daemon.stop() == 0
    return found


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())


def _texts(page: str) -> list[str]:
    parser = _Texts()
    parser.feed(page)
    return parser.texts


def _by_name(procedures: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["procedure"]: p for p in procedures}


def test_every_reader_tells_the_same_story(readers: dict[str, Any]) -> None:
    status, schedule = readers["status"], readers["schedule"]
    api_status, api_schedule = readers["api_status"], readers["api_schedule"]
    views = {
        "status --json": _by_name(status["procedures"]),
        "schedule --json": _by_name(schedule),
        "/api/status": _by_name(api_status["procedures"]),
        "/api/schedule": _by_name(api_schedule),
    }
    for view, procedures in views.items():
        assert list(procedures) == list(PROCEDURES), view  # longjob gone, order kept
        # a dry run never counts: the real failure stays the last result
        assert procedures["quarterly"]["last_status"] == "failed", view
        assert procedures["quarterly"]["failing"] is True, view
        assert procedures["quarterly"]["runs_by_status"] == {"failed": 1}, view
        # a missed fire is shown, and does not hide the failure before it
        assert procedures["daily"]["last_status"] == "missed", view
        assert procedures["daily"]["last_outcome"] == "failed", view
        assert procedures["daily"]["failing"] is True, view
        assert procedures["nightly"]["failing"] is False, view
        assert procedures["nightly"]["last_status"] == "succeeded", view
    # one model, one shape: the CLI and the API print the same entries
    for name in PROCEDURES:
        assert views["status --json"][name] == views["schedule --json"][name]
        assert views["/api/status"][name] == views["/api/schedule"][name]
        cli_entry, api_entry = views["status --json"][name], views["/api/status"][name]
        assert cli_entry == api_entry, name

    line = readers["status_line"]
    assert "failing: daily, quarterly" in line, line
    assert "longjob" not in line, line
    assert "last daily missed" in line, line
    assert "failing: daily, quarterly" in readers["status_text"]
    assert "longjob" not in readers["status_text"]

    metrics = readers["metrics"]
    assert metrics['hostkeeper_procedure_last_run_success{procedure="quarterly"}'] == 0
    assert metrics['hostkeeper_procedure_last_run_success{procedure="daily"}'] == 0
    assert metrics['hostkeeper_procedure_last_run_success{procedure="nightly"}'] == 1
    assert not [name for name in metrics if "longjob" in name]

    page = readers["page"]
    assert "longjob" not in page
    texts = _texts(page)
    assert texts[texts.index("failing procedures") + 1] == "2"
    assert readers["status"]["daemon"]["running"] is True

    report = readers["report"]
    assert report["failing_procedures"] == ["quarterly", "daily"]
    assert report["firing_alerts"] == ["always"]


def test_backups_and_alerts_read_alike(readers: dict[str, Any]) -> None:
    status, api_backups = readers["status"], readers["api_backups"]
    [backup] = status["backups"]
    [served] = api_backups
    assert backup.keys() == served.keys()
    same = ("set", "restore_test", "restore_test_problem", "fresh", "stale_after_seconds")
    assert {k: backup[k] for k in same} == {k: served[k] for k in same}
    assert {k: v for k, v in backup["newest"].items() if k != "age_seconds"} == {
        k: v for k, v in served["newest"].items() if k != "age_seconds"
    }
    assert readers["api_status"]["backups"][0]["restore_test"] == backup["restore_test"]
    assert backup["restore_test"]["ok"] is False
    problem = backup["restore_test_problem"]
    assert problem.startswith("restore test FAILED at ") and "restore-tests" in problem
    # backed up weekly by nightly: fresh for a week and a day
    assert backup["fresh"] is True and backup["stale_after_seconds"] == 8 * 86400

    assert readers["metrics"]['hostkeeper_backup_last_restore_test_success{set="config"}'] == 0
    assert readers["metrics"]['hostkeeper_backup_fresh{set="config"}'] == 1
    assert f"backup set config: {problem}" in readers["status_text"]
    assert "restore-tests" in readers["page"]
    line = readers["backups_line"]
    assert line["result"] == "FAILED" and f"config: {problem}" in line["reason"]
    assert readers["report"]["stale_backups"] == []

    firing = [a["rule"] for a in status["alerts"]["firing"]]
    assert firing == ["always"]
    assert [a["rule"] for a in readers["api_status"]["alerts"]["firing"]] == firing
    assert readers["metrics"]['hostkeeper_alerts_firing{severity="critical"}'] == 1
