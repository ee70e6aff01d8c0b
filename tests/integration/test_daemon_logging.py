"""Logging under journald: one JSON event per line, with the sd-daemon priority prefix."""

from __future__ import annotations

import json
import re

from notify_socket import NotifySocket

from conftest import DaemonFactory, Site

BROKEN = """\
broken:
  schedule: {every: 1s}
  steps:
    - run: ["false"]
"""

PRIORITIES = {"critical": 2, "error": 3, "warning": 4, "info": 6, "debug": 7}
LINE = re.compile(r"<(\d)>(\{.*)")


def test_under_journald_every_stderr_line_is_prefixed_json_with_its_priority(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(BROKEN, log_format="auto")
    daemon = start_daemon(journal=True)
    notify.wait_key("READY", "1")
    daemon.wait_for_event(
        lambda e: e.get("event") == "run finished" and e.get("status") == "failed",
        what="a failed run",
    )

    assert daemon.stop() == 0
    lines = daemon.lines
    assert len(lines) >= 5
    events = []
    for line in lines:
        match = LINE.fullmatch(line)
        assert match, f"not a prefixed JSON line: {line!r}"
        event = json.loads(match[2])
        assert int(match[1]) == PRIORITIES[event["level"]], line
        events.append(event)
    errors = [e for e in events if e["level"] == "error"]
    assert {e["event"] for e in errors} >= {"step failed", "run finished"}
    assert all(e["procedure"] == "broken" for e in errors)
    assert any(line.startswith("<3>{") for line in lines)
    assert any(line.startswith("<6>{") and '"event":"ready"' in line for line in lines)


def test_json_logs_away_from_journald_are_plain_json_lines(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(BROKEN, log_format="json")
    daemon = start_daemon()
    notify.wait_key("READY", "1")
    daemon.wait_for_event(lambda e: e.get("event") == "run finished", what="a run")
    assert daemon.stop() == 0
    events = [json.loads(line) for line in daemon.lines]
    assert all(isinstance(event, dict) and "level" in event for event in events)
    assert any(event["event"] == "ready" for event in events)
