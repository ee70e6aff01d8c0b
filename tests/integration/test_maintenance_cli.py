"""Maintenance windows and incidents through the real command line: `maintenance
start|stop|list`, `incident open|close|show|report`, `note` from two users, `status`,
and their notifications to a real HTTP receiver."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from alerting_peers import Receiver, http_receiver

ConfigFile = Callable[..., Path]
ME = pwd.getpwuid(os.geteuid()).pw_name

PROCEDURES = {
    "fix": {"schedule": {"every": "1h"}, "steps": [{"run": ["true"]}, {"run": ["false"]}]},
    "look": {
        "schedule": {"every": "1h"},
        "steps": [{"run": ["true"]}],
        "maintenance": {"window": False},
    },
}


def run(
    path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("HOSTKEEPER_CONFIG", "SUDO_USER")
    }
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "hostkeeper", "--config", str(path), *args],
        cwd=path.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = run(path, *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def as_json(path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return json.loads(ok(path, "--json", *args, env=env))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as found:
        yield found


@pytest.fixture
def site(config_file: ConfigFile, receiver: Receiver) -> Path:
    return config_file(
        PROCEDURES,
        alerts={
            "rules": [{"name": "low", "when": "health_score < 50", "channels": ["hook"]}],
            "channels": [{"name": "hook", "type": "webhook", "url": receiver.url, "timeout": "2s"}],
        },
        notify={"on": ["failure", "window"], "channels": ["hook"]},
        maintenance={
            "grace": "10m",
            "windows": [
                {
                    "name": "patch-night",
                    "schedule": {"cron": "0 22 * * tue"},
                    "duration": "2h",
                    "reason": "kernel updates",
                }
            ],
        },
    )


def window_notices(receiver: Receiver) -> list[tuple[str, str]]:
    return [(b["rule"], b["state"]) for b in receiver.bodies() if b["kind"] == "window"]


def test_an_adhoc_window_starts_lists_and_stops_with_its_notices(
    site: Path, receiver: Receiver
) -> None:
    started = as_json(site, "maintenance", "start", "--for", "2h", "--reason", "disk swap")
    window = started["window"]
    assert window["kind"] == "adhoc" and window["reason"] == "disk swap"
    assert window["opened_by"] == ME and window["rules"] is None
    assert window["grace_seconds"] == 600.0
    label = f"maintenance window #{window['id']}"
    assert window_notices(receiver) == [(label, "started")]

    listing = as_json(site, "maintenance", "list")
    assert [w["id"] for w in listing["holding"]] == [window["id"]]
    assert [u["name"] for u in listing["upcoming"]] == ["patch-night"]
    text = ok(site, "maintenance", "list")
    assert "disk swap" in text and "patch-night" in text and "kernel updates" in text

    status = as_json(site, "status")["maintenance"]
    assert status["active"] is True and [w["id"] for w in status["windows"]] == [window["id"]]
    assert "maintenance: adhoc #" in ok(site, "status")

    stopped = as_json(site, "maintenance", "stop")["stopped"]
    assert [w["id"] for w in stopped] == [window["id"]] and stopped[0]["closed_by"] == ME
    assert window_notices(receiver) == [(label, "started"), (label, "ended")]
    assert "no ad hoc or planned maintenance window is open" in ok(site, "maintenance", "stop")
    # in its grace it still holds alerts that start
    [holding] = as_json(site, "maintenance", "list")["holding"]
    assert holding["closed_at"] is not None


def test_maintenance_start_refuses_what_it_cannot_do(site: Path) -> None:
    for args, message in [
        (["--for", "0s"], "--for must be longer than 0s"),
        (["--for", "soon"], "is not a duration"),
        (["--for", "1h", "--rules", "low,nope"], "no rule named 'nope'"),
    ]:
        result = run(site, "maintenance", "start", *args)
        assert result.returncode == 1 and message in result.stderr, result.stderr
    unknown = run(site, "maintenance", "stop", "99")
    assert unknown.returncode == 1 and "no maintenance window or incident #99" in unknown.stderr


def test_an_incident_collects_runs_and_notes_from_two_users_into_one_timeline(
    site: Path, receiver: Receiver
) -> None:
    opened = as_json(site, "incident", "open", "database down", "--severity", "critical")
    incident = opened["incident"]["id"]
    [notice] = [b for b in receiver.bodies() if b["kind"] == "incident"]
    assert (notice["state"], notice["severity"]) == ("opened", "critical")
    assert "database down" in notice["summary"]

    ok(site, "note", "disk full on /var", env={"SUDO_USER": "alice"})
    assert run(site, "run", "fix").returncode == 1  # its second step fails
    ok(site, "run", "look")  # opens no window of its own, and belongs to the incident too
    ok(site, "note", "freed 20G, restarted postgres")
    result = as_json(
        site,
        "incident",
        "close",
        "--cause",
        "a log flood <script>",
        "--prevention",
        "rotate hourly",
    )
    assert result["incident"]["cause"] == "a log flood <script>"
    closed = [b for b in receiver.bodies() if b["kind"] == "incident" and b["state"] == "closed"]
    assert len(closed) == 1 and "a log flood" in closed[0]["summary"]

    shown = as_json(site, "incident", "show", str(incident))
    assert [(n["author"], n["text"]) for n in shown["notes"]] == [
        ("alice", "disk full on /var"),
        (ME, "freed 20G, restarted postgres"),
    ]
    assert [r["procedure"] for r in shown["runs"]] == ["fix", "look"]
    kinds = [entry["kind"] for entry in shown["timeline"]]
    assert kinds[0] == "opened" and kinds[-1] == "closed"
    assert kinds.index("note") < kinds.index("run") and kinds.count("step") == 3
    steps = [e["text"] for e in shown["timeline"] if e["kind"] == "step"]
    assert "fix: run: true succeeded" in steps[0] and "fix: run: false failed" in steps[1]
    assert shown["timeline"][0]["who"] == ME

    text = ok(site, "incident", "show", str(incident))
    assert "alice" in text and "cause: a log flood" in text

    report = Path(result["report"])
    assert report.name == f"incident_{incident}.html"
    page = report.read_text()
    assert "<script>" not in page and "a log flood &lt;script&gt;" in page
    texts = page_texts(page)
    assert "disk full on /var" in texts and "alice" in texts and "rotate hourly" in texts


def test_notes_need_an_open_incident_or_window(site: Path) -> None:
    result = run(site, "note", "anyone there?")
    assert result.returncode == 1 and "no incident or maintenance window is open" in result.stderr
    window = as_json(site, "maintenance", "start", "--for", "1h")["window"]["id"]
    added = as_json(site, "note", "switched the disk", env={"SUDO_USER": "bob"})
    assert (added["window"], added["kind"]) == (window, "adhoc")


def test_closing_needs_a_cause_and_a_single_open_incident(site: Path) -> None:
    assert "no incident is open" in run(site, "incident", "close", "--cause", "x").stderr
    ok(site, "incident", "open", "first")
    ok(site, "incident", "open", "second", "--severity", "warning")
    result = run(site, "incident", "close", "--cause", "x")
    assert result.returncode == 1 and "2 incidents are open" in result.stderr
    listed = as_json(site, "incident", "list")
    assert [i["reason"] for i in listed] == ["second", "first"]


def test_the_incidents_report_is_registered_and_writes_every_incident(site: Path) -> None:
    ok(site, "incident", "open", "first")
    ok(site, "incident", "close", "--cause", "operator error")
    written = as_json(site, "report", "incidents")
    assert written["summary"] == {"incidents": 1, "open": 0}
    page = Path(written["path"]).read_text()
    assert "operator error" in page_texts(page)


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())


def page_texts(page: str) -> str:
    parser = _Texts()
    parser.feed(page)
    return "\n".join(parser.texts)
