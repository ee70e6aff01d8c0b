"""Catch-up at start: what was due while the daemon was down runs once, the rest is missed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notify_socket import NotifySocket

from conftest import DaemonFactory, DaemonProcess, Site, wait_until
from hostkeeper.core.fleet import splay_offset

HOURLY = """\
hourly:
  schedule: {cron: "0 * * * *"}
  steps:
    - run: ["true"]
"""

# How SQLAlchemy keeps a DateTime in SQLite: naive UTC text.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


def _hour_marks(since: datetime, until: datetime) -> list[datetime]:
    """Every full hour in (since, until]."""
    mark = since.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    marks = []
    while mark <= until:
        marks.append(mark)
        mark += timedelta(hours=1)
    return marks


def _pretend_known_since(site: Site, procedure: str, since: datetime) -> None:
    """Make the store believe the daemon has scheduled `procedure` since `since`."""
    with sqlite3.connect(site.database) as db:
        updated = db.execute(
            "UPDATE procedure_state SET known_since = ? WHERE procedure = ?",
            (since.astimezone(UTC).replace(tzinfo=None).strftime(SQLITE_DATETIME), procedure),
        ).rowcount
        db.execute("DELETE FROM runs WHERE procedure = ?", (procedure,))
    db.close()
    assert updated == 1, "the first start did not record the procedure's schedule"


@pytest.fixture
def down_for_hours(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> Callable[..., tuple[DaemonProcess, list[datetime]]]:
    """Start once to record the schedule, pretend that was 5.5 h ago, start again.

    Returns the second daemon and the fire times due while it was "down".
    """

    def restart(**config: Any) -> tuple[DaemonProcess, list[datetime]]:
        site.write_config(HOURLY, **config)
        first = start_daemon()
        notify.wait_key("READY", "1")
        assert first.stop() == 0
        since = datetime.now(UTC) - timedelta(hours=5, minutes=30)
        _pretend_known_since(site, "hourly", since)
        seen = len(notify.messages)
        before = datetime.now(UTC)
        second = start_daemon()
        notify.wait_key("READY", "1", after=seen)
        after = datetime.now(UTC)
        due = _hour_marks(since, before)
        if due != _hour_marks(since, after):
            pytest.skip("an hour began while the daemon was starting")
        return second, due

    return restart


def _scheduled_for(records: list[dict[str, Any]]) -> list[datetime]:
    return sorted(datetime.fromisoformat(str(r["scheduled_for"])) for r in records)


def test_catch_up_runs_the_newest_missed_fire_and_records_older_ones_as_missed(
    site: Site, down_for_hours: Callable[..., tuple[DaemonProcess, list[datetime]]]
) -> None:
    daemon, due = down_for_hours()
    assert len(due) in (5, 6)

    caught_up = wait_until(
        lambda: [r for r in site.runs("hourly") if r["trigger"] == "catch-up" and r["finished_at"]],
        what="a finished catch-up run",
    )

    assert len(caught_up) == 1
    assert caught_up[0]["status"] == "succeeded"
    assert _scheduled_for(caught_up) == [due[-1]]
    missed = [r for r in site.runs("hourly") if r["status"] == "missed"]
    assert _scheduled_for(missed) == due[:-1]
    assert all(r["trigger"] == "scheduled" for r in missed)
    assert all("not running" in str(r["error"]) for r in missed)
    ready = daemon.wait_for_event(lambda e: e.get("event") == "ready")
    assert ready["catch_up"] == ["hourly"]
    assert daemon.stop() == 0


def test_without_catch_up_every_fire_missed_while_down_is_recorded_as_missed(
    site: Site, down_for_hours: Callable[..., tuple[DaemonProcess, list[datetime]]]
) -> None:
    daemon, due = down_for_hours(daemon_extra="catch_up: false")
    ready = daemon.wait_for_event(lambda e: e.get("event") == "ready")

    assert ready["catch_up"] == []
    records = site.runs("hourly")
    assert [r for r in records if r["trigger"] == "catch-up"] == []
    assert {r["status"] for r in records} == {"missed"}
    assert _scheduled_for(records) == due
    assert daemon.stop() == 0


EVERY_HOUR = """\
often:
  schedule: {every: 1h}
  steps:
    - run: ["true"]
"""


def _sqlite_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).strftime(SQLITE_DATETIME)


def test_an_every_schedule_keeps_counting_from_its_last_fire_across_a_restart(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(EVERY_HOUR)
    first = start_daemon()
    notify.wait_key("READY", "1")
    assert first.stop() == 0
    # The last fire was 2.5 hours ago: the one 1.5 hours ago was missed while down and
    # the one half an hour ago is due now.
    last = (datetime.now(UTC) - timedelta(hours=2, minutes=30)).replace(microsecond=0)
    _pretend_known_since(site, "often", last - timedelta(minutes=1))
    with sqlite3.connect(site.database) as db:
        (host,) = db.execute(
            "SELECT host FROM procedure_state WHERE procedure = 'often'"
        ).fetchone()
        db.execute(
            "INSERT INTO runs (host, procedure, trigger, status, scheduled_for, started_at,"
            " finished_at, duration_seconds, dry_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (host, "often", "scheduled", "succeeded", *[_sqlite_time(last)] * 3, 0.5),
        )
    db.close()
    seen = len(notify.messages)
    second = start_daemon()
    notify.wait_key("READY", "1", after=seen)

    caught_up = wait_until(
        lambda: [r for r in site.runs("often") if r["trigger"] == "catch-up" and r["finished_at"]],
        what="a finished catch-up run",
    )
    assert _scheduled_for(caught_up) == [last + timedelta(hours=2)]
    missed = [r for r in site.runs("often") if r["status"] == "missed"]
    assert _scheduled_for(missed) == [last + timedelta(hours=1)]
    # the daemon and the CLI agree: the next fire is on the same grid, not an hour from now
    listed = site.cli("--config", str(site.config), "--json", "schedule").stdout
    [row] = [r for r in json.loads(listed) if r["procedure"] == "often"]
    assert datetime.fromisoformat(row["next_run"]) == last + timedelta(hours=3)
    assert second.stop() == 0


SPLAYED = "fleet:\n  host_id: web-07\n  splay: 15m\n"


def _runs_of(site: Site, procedure: str) -> list[dict[str, Any]]:
    """`runs --json` with the daemon's own configuration (its host id)."""
    args = ["--config", str(site.config), "--json", "runs", "--limit", "500"]
    records: list[dict[str, Any]] = json.loads(site.cli(*args, "--procedure", procedure).stdout)
    return records


def _next_run(site: Site, procedure: str) -> tuple[datetime, float]:
    listed = json.loads(site.cli("--config", str(site.config), "--json", "schedule").stdout)
    [row] = [r for r in listed if r["procedure"] == procedure]
    return datetime.fromisoformat(row["next_run"]), float(row["splay_seconds"])


def test_a_splayed_host_runs_catches_up_and_misses_at_its_shifted_times(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    offset = splay_offset("web-07", timedelta(minutes=15))
    assert offset > timedelta(0)
    site.write_config(HOURLY, preamble=SPLAYED)
    first = start_daemon()
    notify.wait_key("READY", "1")
    upcoming, splay_seconds = _next_run(site, "hourly")
    assert splay_seconds == offset.total_seconds()
    assert upcoming - upcoming.replace(minute=0, second=0) == offset
    assert first.stop() == 0
    since = datetime.now(UTC) - timedelta(hours=5, minutes=30)
    _pretend_known_since(site, "hourly", since)
    seen = len(notify.messages)
    before = datetime.now(UTC)
    second = start_daemon()
    notify.wait_key("READY", "1", after=seen)
    after = datetime.now(UTC)
    due = [mark + offset for mark in _hour_marks(since - offset, before - offset)]
    if due != [mark + offset for mark in _hour_marks(since - offset, after - offset)]:
        pytest.skip("a shifted hour began while the daemon was starting")

    caught_up = wait_until(
        lambda: [
            r for r in _runs_of(site, "hourly") if r["trigger"] == "catch-up" and r["finished_at"]
        ],
        what="a finished catch-up run",
    )
    assert _scheduled_for(caught_up) == [due[-1]]
    missed = [r for r in _runs_of(site, "hourly") if r["status"] == "missed"]
    assert _scheduled_for(missed) == due[:-1]
    # The same shift after the restart: the splay depends on the host id only.
    again, _ = _next_run(site, "hourly")
    assert again - again.replace(minute=0, second=0) == offset
    assert second.stop() == 0
