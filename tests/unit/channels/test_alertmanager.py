"""What the Alertmanager channel carries of the run events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hostkeeper.alerting.messages import maintenance_message
from hostkeeper.channels import alertmanager
from hostkeeper.channels.base import Message

NOW = datetime(2026, 1, 4, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event", "carried"),
    [
        ("failure", True),  # fires hostkeeper_procedure_failed
        ("success", True),  # resolves it
        ("start", False),
        ("wait", False),  # would resolve a failure it says nothing about
        ("wait_timeout", False),
    ],
)
def test_of_the_run_events_only_failure_and_success_reach_alertmanager(
    event: str, carried: bool
) -> None:
    message = maintenance_message("weekly", event, "web-1", NOW, f"weekly {event}")
    assert alertmanager.wants(message) is carried


def test_alerts_always_reach_alertmanager() -> None:
    message = Message("firing", "disk_low", "warning", "firing", "disk low", "web-1", NOW)
    assert alertmanager.wants(message)
