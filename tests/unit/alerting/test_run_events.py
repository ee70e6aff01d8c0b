"""Which run events `notify.on` asks for, and what their messages say."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hostkeeper.alerting.run_events import run_event_message, wanted
from hostkeeper.config import Config
from hostkeeper.core.runs import RunStatus, Trigger
from hostkeeper.procedures.engine import RunReport

NOW = datetime(2026, 1, 4, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "on", "notified"),
    [
        ("start", {"start"}, True),
        ("start", {"failure"}, False),
        ("failure", {"failure"}, True),
        ("wait", {"failure"}, False),
        ("wait", {"wait"}, True),
        ("wait_timeout", {"failure"}, True),  # a step that did not run is worth hearing
        ("wait_timeout", {"wait"}, True),
        ("wait_timeout", {"start", "success"}, False),
    ],
)
def test_which_events_notify_on_asks_for(event: str, on: set[str], notified: bool) -> None:
    assert wanted(event, on) is notified


def _config(make_config: Any, on: list[str]) -> Config:
    config: Config = make_config(
        alerts={"channels": [{"name": "log", "type": "log"}]},
        notify={"on": on, "channels": ["log"]},
    )
    return config


def test_a_manual_run_says_who_started_it_and_why(make_config: Any) -> None:
    report = RunReport("weekly", 7, RunStatus.RUNNING, Trigger.MANUAL, started_by="alice")
    report.reason = "disk filling up"
    message = run_event_message(
        _config(make_config, ["start"]), "web-1", "weekly", "start", report, NOW
    )
    assert message is not None
    assert message.summary == "weekly started (manual by alice: disk filling up)"
    assert message.details == {
        "run": "7",
        "status": "running",
        "trigger": "manual",
        "started_by": "alice",
        "reason": "disk filling up",
    }


def test_a_wait_event_carries_the_engines_notice(make_config: Any) -> None:
    report = RunReport("weekly", 7, RunStatus.RUNNING, Trigger.SCHEDULED)
    report.notice = "weekly run 7: checklist items approval not confirmed within 1h; step x skipped"
    message = run_event_message(
        _config(make_config, ["failure"]), "web-1", "weekly", "wait_timeout", report, NOW
    )
    assert message is not None
    assert (message.state, message.severity, message.summary) == (
        "wait_timeout",
        "warning",
        report.notice,
    )
    assert "started_by" not in message.details
    assert (
        run_event_message(_config(make_config, ["failure"]), "web-1", "weekly", "wait", report, NOW)
        is None
    )
