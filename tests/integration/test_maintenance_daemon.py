"""Maintenance windows with a real daemon: the alerts a procedure causes are held and
marked while the same failure outside a window notifies; the real Alertmanager carries
a silence for the host while a window holds alerts, and not after; a silence that could
not be made is shown and retried until it is.

Procedures here wait at a step for a marker file the test creates, so the test decides
when a run goes on, and every wait is for something to happen, never for time to pass.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml
from alerting_peers import Alertmanager, Receiver, alertmanager, free_port, http_receiver
from notify_socket import NotifySocket

from conftest import PYTHON, DaemonFactory, Site, clean_environment, wait_until
from hostkeeper.adapters.store import Store, window_silences
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.config import load_config
from hostkeeper.core.alerts import AlertRecord, AlertState
from hostkeeper.services.store_setup import prepare_store

WAIT_FOR_FILE = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.05)"


def wait_step(marker: Path) -> dict[str, Any]:
    return {"run": [PYTHON, "-c", WAIT_FOR_FILE, str(marker)], "timeout": "2m"}


def write_site(site: Site, procedures: dict[str, Any], sections: dict[str, Any]) -> None:
    site.write_text(site.config_text(yaml.safe_dump(procedures), preamble=yaml.safe_dump(sections)))


def start_run(site: Site, procedure: str) -> subprocess.Popen[str]:
    """`hostkeeper run PROCEDURE` in the background (it waits at its marker steps)."""
    return subprocess.Popen(
        [PYTHON, "-m", "hostkeeper", "--config", str(site.config), "--json", "run", procedure],
        cwd=site.root,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def cli(site: Site, *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "-m", "hostkeeper", "--config", str(site.config), *args],
        cwd=site.root,
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=120)
    assert out, err
    result: dict[str, Any] = json.loads(out)
    return result


def alert_in_state(store: Store, rule: str, state: AlertState) -> AlertRecord | None:
    """The newest alert of `rule` when it is in `state`, else None (a wait_until probe)."""
    alert = alert_of(store, rule)
    return alert if alert is not None and alert.state is state else None


def alert_of(store: Store, rule: str) -> AlertRecord | None:
    return next((a for a in alert_store.list_alerts(store) if a.rule == rule), None)


def firing(receiver: Receiver, rule: str) -> list[dict[str, Any]]:
    return [b for b in receiver.bodies() if b["kind"] == "firing" and b["rule"] == rule]


# -- alerts caused by a procedure --------------------------------------------------------------


def test_a_check_a_procedure_breaks_is_held_and_marked_but_notifies_outside_a_window(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    watched = site.root / "app.stamp"
    watched.touch()
    broken, repaired = site.root / "broken.marker", site.root / "repaired.marker"
    with http_receiver() as receiver:
        write_site(
            site,
            {
                "restart": {
                    "schedule": {"every": "24h"},
                    "steps": [
                        {"run": ["rm", "-f", str(watched)]},
                        "health_check",
                        wait_step(broken),
                        {"run": ["touch", str(watched)]},
                        "health_check",
                        wait_step(repaired),
                    ],
                },
                "break": {
                    "schedule": {"every": "24h"},
                    "steps": [{"run": ["rm", "-f", str(watched)]}, "health_check"],
                    "maintenance": {"window": False},
                },
            },
            {
                "checks": [
                    {
                        "name": "app_fresh",
                        "type": "file_age",
                        "path": str(watched),
                        "warning": "1h",
                        "critical": "2h",
                    }
                ],
                "alerts": {
                    "evaluate_every": "1s",
                    "rules": [
                        {"name": "app_down", "check": "app_fresh", "channels": ["hook"]},
                        # the same condition, never held: proof that the daemon evaluated it
                        {
                            "name": "witness",
                            "check": "app_fresh",
                            "channels": ["hook"],
                            "maintenance": "ignore",
                        },
                    ],
                    "channels": [
                        {"name": "hook", "type": "webhook", "url": receiver.url, "timeout": "2s"}
                    ],
                },
                "maintenance": {"grace": "0s", "max_hold": "1h"},
            },
        )
        start_daemon()
        notify.wait_key("READY", "1", timeout=30)
        store = prepare_store(load_config(str(site.config)).config)
        try:
            run = start_run(site, "restart")
            wait_until(lambda: firing(receiver, "witness"), timeout=60, what="the witness")
            held = wait_until(
                lambda: alert_in_state(store, "app_down", AlertState.FIRING),
                what="app_down firing",
            )
            assert firing(receiver, "app_down") == []
            [window] = window_store.holding_windows(store, held.fired_at or held.pending_since)
            assert held.maintenance_window == window.id and window.name == "restart"
            assert held.notifications == 0
            listed = json.loads(cli(site, "--json", "alerts", "list"))["alerts"]
            marks = {a["rule"]: a["maintenance_window"] for a in listed}
            assert marks == {"app_down": window.id, "witness": None}
            assert f"app_down (began in maintenance #{window.id})" in cli(site, "alerts", "list")

            broken.touch()  # the run repairs what it broke
            wait_until(
                lambda: alert_in_state(store, "app_down", AlertState.RESOLVED),
                what="app_down resolved while the window holds",
            )
            repaired.touch()
            assert finish(run)["status"] == "warning"  # its first health check was critical
            stats = json.loads(cli(site, "--json", "alerts", "stats", "--period", "1h"))
            rows = {row["rule"]: row for row in stats["rules"]}
            assert (rows["app_down"]["fired"], rows["app_down"]["flaps"]) == (0, 0)
            assert rows["app_down"]["during_maintenance"] == 1
            assert rows["witness"]["fired"] == 1 and rows["witness"]["flaps"] == 1

            # The same failure with no window open: notified at once.
            assert finish(start_run(site, "break"))["status"] == "warning"
            [told] = wait_until(lambda: firing(receiver, "app_down"), what="app_down notified")
            assert "maintenance" not in told["summary"]
            newest = alert_of(store, "app_down")
            assert newest is not None and newest.maintenance_window is None
            assert newest.id != held.id
        finally:
            store.dispose()


# -- Alertmanager silences ---------------------------------------------------------------------


def silences_for(manager: Alertmanager, host: str) -> list[dict[str, Any]]:
    import urllib.request

    with urllib.request.urlopen(f"{manager.url}/api/v2/silences", timeout=5) as response:  # noqa: S310 (loopback)
        found: list[dict[str, Any]] = json.load(response)
    return [s for s in found if any(host.replace(".", "\\.") in m["value"] for m in s["matchers"])]


def active(silences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in silences if s["status"]["state"] == "active"]


def am_sections(url: str) -> dict[str, Any]:
    return {
        "alerts": {
            "evaluate_every": "1s",
            "rules": [{"name": "low_score", "when": "health_score < 50", "channels": ["am"]}],
            "channels": [{"name": "am", "type": "alertmanager", "url": url, "timeout": "2s"}],
        },
        "maintenance": {"grace": "0s"},
    }


def test_alertmanager_shows_the_silence_during_a_run_window_and_not_after(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket, tmp_path: Path
) -> None:
    go_on = site.root / "go-on.marker"
    with alertmanager(tmp_path / "am") as manager:
        write_site(
            site,
            {"patch": {"schedule": {"every": "24h"}, "steps": [wait_step(go_on)]}},
            am_sections(manager.url),
        )
        start_daemon()
        notify.wait_key("READY", "1", timeout=30)
        store = prepare_store(load_config(str(site.config)).config)
        try:
            run = start_run(site, "patch")
            [silence] = wait_until(
                lambda: active(silences_for(manager, store.host)), timeout=60, what="a silence"
            )
            assert "run patch" in silence["comment"] and silence["createdBy"] == "hostkeeper"
            notify.wait_for(
                lambda message: "maintenance: run patch #" in (message.status or ""),
                what="STATUS= naming the run's window",
            )
            matchers = {m["name"]: m for m in silence["matchers"]}
            assert matchers["instance"]["isRegex"] and matchers["instance"]["isEqual"]
            excluded = matchers["alertname"]
            assert excluded["isEqual"] is False
            assert set(excluded["value"].split("|")) == {"low_score", "hostkeeper_procedure_failed"}
            status = json.loads(cli(site, "--json", "status"))["maintenance"]
            assert status["active"] is True
            [kept] = status["silences"]
            assert (kept["state"], kept["silence_id"]) == ("active", silence["id"])

            go_on.touch()
            assert finish(run)["status"] == "succeeded"
            wait_until(
                lambda: not active(silences_for(manager, store.host)),
                timeout=60,
                what="the silence to end",
            )
            [gone] = silences_for(manager, store.host)
            assert gone["id"] == silence["id"] and gone["status"]["state"] == "expired"
            [window] = window_store.recent_windows(store, 1)
            # The daemon records the deletion after Alertmanager has answered it.
            wait_until(
                lambda: [
                    row
                    for row in window_silences.silences_of(store, [window.id])
                    if row.record.state.value == "deleted"
                ],
                timeout=30,
                what="the store to record the silence as deleted",
            )
        finally:
            store.dispose()


def test_a_silence_alertmanager_refused_is_shown_then_made_when_it_answers(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket, tmp_path: Path
) -> None:
    port = free_port()
    write_site(site, {}, am_sections(f"http://127.0.0.1:{port}"))
    started = cli(site, "maintenance", "start", "--for", "1h", "--reason", "switch swap")
    assert "silence created FAILED" in started and "the daemon retries" in started
    status = cli(site, "status")
    assert "silence of window #1 failing (1 attempts)" in status

    with alertmanager(tmp_path / "am", port=port) as manager:
        start_daemon()
        notify.wait_key("READY", "1", timeout=30)
        store = prepare_store(load_config(str(site.config)).config)
        try:
            [silence] = wait_until(
                lambda: active(silences_for(manager, store.host)), timeout=60, what="a silence"
            )
            assert "switch swap" in silence["comment"]
            assert window_silences.silence_problems(store) == []
        finally:
            store.dispose()
