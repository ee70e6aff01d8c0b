"""The daemon evaluates rules on its own, keeps alert state across a crash, and sends
maintenance notifications (including for a run skipped by an unmet precondition)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from alerting_peers import Receiver, http_receiver, wait_until
from sqlalchemy import insert

from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store.database import inserted_id
from hostkeeper.adapters.store.schema import health_scores, samples, series
from hostkeeper.config import load_config
from hostkeeper.services.store_setup import prepare_store

Launch = Callable[[Path], subprocess.Popen[bytes]]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    """Start `hostkeeper daemon` (no systemd around it); every one is killed at the end."""
    started: list[subprocess.Popen[bytes]] = []
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "HOSTKEEPER_CONFIG", "JOURNAL_STREAM")
    }

    def start(config: Path) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"daemon-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "hostkeeper", "--config", str(config), "daemon"],
            env=environment,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def write_config(config_data: Callable[..., dict[str, Any]], path: Path, **sections: Any) -> Path:
    data = config_data(sections.pop("procedures", {}), **sections)
    data["dashboard"] = {"enabled": False}
    data["daemon"] = {"watchdog": False, "shutdown_timeout": "2s", "log_format": "json"}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def alerts_section(receiver: Receiver) -> dict[str, Any]:
    return {
        "evaluate_every": "1s",
        "repeat": "4h",
        "rules": [
            {"name": "always", "when": "health_score < 101", "channels": ["hook"]},
            {"name": "probe", "when": "probe.value > 0", "channels": ["hook"]},
        ],
        "channels": [{"name": "hook", "type": "webhook", "url": receiver.url, "timeout": "2s"}],
    }


def fired(receiver: Receiver, rule: str) -> list[Any]:
    return [b for b in receiver.bodies() if b["rule"] == rule and b["kind"] == "firing"]


def test_firing_alert_survives_a_crash_without_a_second_notification(
    launch: Launch, config_data: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    with http_receiver() as receiver:
        config_path = write_config(
            config_data, tmp_path / "hostkeeper.yaml", alerts=alerts_section(receiver)
        )
        store = prepare_store(load_config(str(config_path)).config)
        with store.write() as connection:
            connection.execute(
                insert(health_scores).values(
                    host=store.host, score=80.0, computed_at=datetime.now(UTC)
                )
            )
        first = launch(config_path)
        wait_until(lambda: fired(receiver, "always"), timeout=30, what="the firing notification")
        [before] = alert_store.active_alerts(store).values()
        first.send_signal(signal.SIGKILL)
        first.wait(10)

        launch(config_path)
        # A metric inserted now makes `probe` fire in the new daemon's evaluation: once
        # its notification arrives, the restarted daemon has evaluated `always` too.
        with store.write() as connection:
            series_id = inserted_id(
                connection.execute(insert(series).values(host=store.host, name="probe.value"))
            )
            connection.execute(
                insert(samples).values(
                    series_id=series_id, ts=datetime.now(UTC).timestamp(), value=1.0
                )
            )
        wait_until(lambda: fired(receiver, "probe"), timeout=30, what="the probe notification")
        after = alert_store.active_alerts(store)["always"]
        store.dispose()
    assert len(fired(receiver, "always")) == 1
    assert after.id == before.id and after.state.value == "firing"
    assert after.fired_at == before.fired_at and after.notifications == 1


def test_maintenance_notifications_report_start_success_and_an_unmet_precondition(
    launch: Launch, config_data: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    with http_receiver() as receiver:
        config_path = write_config(
            config_data,
            tmp_path / "hostkeeper.yaml",
            procedures={
                "fine": {"schedule": {"every": "2s"}, "steps": [{"run": ["true"]}]},
                "blocked": {
                    "schedule": {"every": "2s"},
                    "before": [{"require": "disk_free", "path": str(tmp_path), "min": "100%"}],
                    "steps": [{"run": ["true"]}],
                },
            },
            alerts={
                "channels": [
                    {"name": "hook", "type": "webhook", "url": receiver.url, "timeout": "2s"}
                ]
            },
            notify={"on": ["start", "success", "failure"], "channels": ["hook"]},
        )
        launch(config_path)

        def seen(procedure: str, state: str) -> list[Any]:
            return [
                b
                for b in receiver.bodies()
                if b["kind"] == "maintenance" and b["rule"] == procedure and b["state"] == state
            ]

        [start] = wait_until(lambda: seen("fine", "start")[:1], timeout=30, what="a start")
        [success] = wait_until(lambda: seen("fine", "success")[:1], timeout=30, what="a success")
        [failure] = wait_until(lambda: seen("blocked", "failure")[:1], timeout=30, what="failure")
    assert start["severity"] == "info" and "started (scheduled)" in start["summary"]
    assert success["summary"].startswith("fine succeeded")
    assert failure["severity"] == "warning"
    assert "precondition unmet" in failure["summary"]
    assert failure["details"]["status"] == "skipped"
