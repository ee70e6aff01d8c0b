"""Maintenance notifications about runs (`notify.on`, `notify.channels`), the same for a
run the daemon started and one started by hand with `hostkeeper run`.

Events: start, success, failure, wait (a run waits for checklist items before a step)
and wait_timeout (nobody confirmed them in time: the step was skipped). A wait that
timed out is notified under `failure` as well as under `wait`: a step that did not run
is something to hear about whichever of the two is asked for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hostkeeper.alerting.messages import maintenance_message
from hostkeeper.channels.base import Message
from hostkeeper.config import Config
from hostkeeper.core.runs import describe_origin

# Which `notify.on` entries ask for each engine event.
ASKED_BY = {
    "start": {"start"},
    "success": {"success"},
    "failure": {"failure"},
    "wait": {"wait"},
    "wait_timeout": {"wait", "failure"},
}


def wanted(event: str, on: set[str]) -> bool:
    return bool(ASKED_BY.get(event, {event}) & on)


def run_event_message(
    config: Config, host: str, procedure: str, event: str, report: Any, now: datetime
) -> Message | None:
    """The message for `event` of a run (an engine RunReport), or None when notify.on
    does not ask for it."""
    if not wanted(event, {value.value for value in config.notify.on}):
        return None
    details = {"run": str(report.run_id), "status": report.status.value}
    details["trigger"] = report.trigger.value
    if report.started_by:
        details["started_by"] = report.started_by
    if report.reason:
        details["reason"] = report.reason
    return maintenance_message(procedure, event, host, now, describe_run(event, report), details)


def notify_run_event(
    config: Config, worker: Any, host: str, procedure: str, event: str, report: Any
) -> None:
    """Queue the message for `event` on every notify channel of `worker` (a
    DeliveryWorker), when notify.on asks for it."""
    message = run_event_message(config, host, procedure, event, report, datetime.now(UTC))
    if message is None:
        return
    for channel in config.notify.channels:
        worker.submit(channel, message)


def describe_run(event: str, report: Any) -> str:
    if event in ("wait", "wait_timeout"):
        return str(report.notice or f"{report.procedure} {event}")
    if event == "start":
        origin = describe_origin(report.trigger.value, report.started_by, report.reason)
        return f"{report.procedure} started ({origin})"
    if event == "success":
        return f"{report.procedure} {report.status.value} ({len(report.steps)} steps)"
    return f"{report.procedure} {report.status.value}: {report.error or 'see hostkeeper runs'}"
