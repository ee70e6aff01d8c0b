"""Start-up, readiness, the watchdog and running without systemd."""

from __future__ import annotations

import itertools
import signal
import sqlite3
import statistics

import pytest
from notify_socket import Message, NotifySocket

from conftest import DaemonFactory, Site, line_number, wait_until
from hostkeeper.adapters.store.schema import SCHEMA_REVISION

NIGHTLY = """\
nightly:
  schedule: {hour: 3, minute: 0}
  steps:
    - run: ["true"]
"""

TICK = """\
tick:
  schedule: {every: 1s}
  steps:
    - run: ["true"]
"""


def test_ready_arrives_with_a_status_line_once_the_database_is_migrated(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(NIGHTLY)
    assert not site.database.exists()
    daemon = start_daemon()

    index, ready = notify.wait_key("READY", "1")
    tables = {
        row[0]
        for row in sqlite3.connect(site.database).execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    revision = sqlite3.connect(site.database).execute("SELECT version_num FROM alembic_version")

    assert ready.status is not None
    assert ready.status.startswith("next nightly ")
    assert ready.status.endswith(" 03:00 UTC")
    assert {"runs", "step_results", "procedure_state", "alembic_version"} <= tables
    assert revision.fetchone() == (SCHEMA_REVISION,)
    assert not any(m.has("WATCHDOG") for m in notify.messages[:index]), "pinged before READY"
    state = site.daemon_state()
    assert state is not None
    assert state["pid"] == daemon.pid
    assert state["last_reload"] == "ok"
    assert daemon.stop() == 0


def test_ready_carries_a_status_with_text_beyond_latin1(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    # systemd reads STATUS= as UTF-8; a procedure may be named in any alphabet.
    site.write_config(NIGHTLY.replace("nightly:", "ночной_бэкап:"))
    daemon = start_daemon()

    _, ready = notify.wait_key("READY", "1")

    assert ready.status is not None
    assert ready.status.startswith("next ночной_бэкап ")
    assert daemon.stop() == 0


def _pings(notify: NotifySocket, after: int) -> list[Message]:
    return [m for m in notify.messages[after:] if m.has("WATCHDOG", "1")]


def test_watchdog_pings_arrive_at_about_half_the_watchdog_interval(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(NIGHTLY)
    start_daemon(watchdog_usec=1_000_000)
    ready_index, ready = notify.wait_key("READY", "1")

    pings = wait_until(
        lambda: found if len(found := _pings(notify, ready_index)) >= 8 else None,
        timeout=20,
        what="eight WATCHDOG=1 pings",
    )

    # Eight pings at ~0.5 s take ~4 s; a gap as long as WATCHDOG_USEC would get the
    # service killed by systemd.
    span = pings[7].at - pings[0].at
    gaps = [b.at - a.at for a, b in itertools.pairwise(pings)]
    assert 1.5 < span < 7.0, gaps
    assert 0.25 < statistics.median(gaps) < 0.85, gaps
    assert max(gaps) < 1.0, gaps
    assert pings[0].at - ready.at < 1.0
    assert all(m.raw == "WATCHDOG=1" for m in pings)


@pytest.mark.parametrize(
    ("watchdog_usec", "extra_env", "watchdog_setting"),
    [
        pytest.param(None, {}, True, id="no-WATCHDOG_USEC"),
        pytest.param(1_000_000, {"WATCHDOG_PID": "1"}, True, id="WATCHDOG_PID-of-another"),
        pytest.param(1_000_000, {}, False, id="watchdog-disabled-in-config"),
    ],
)
def test_no_watchdog_pings_when_the_daemon_is_not_watched(
    site: Site,
    start_daemon: DaemonFactory,
    notify: NotifySocket,
    watchdog_usec: int | None,
    extra_env: dict[str, str],
    watchdog_setting: bool,
) -> None:
    site.write_config(TICK, watchdog=watchdog_setting)
    daemon = start_daemon(watchdog_usec=watchdog_usec, **extra_env)
    ready_index, _ = notify.wait_key("READY", "1")

    # Each finished run refreshes STATUS=; three of them at 1 s apart give the loop
    # several wake-ups in which it could have pinged.
    wait_until(
        lambda: (
            len([m for m in notify.messages[ready_index:] if "last tick" in (m.status or "")]) >= 3
        ),
        timeout=20,
        what="three STATUS updates after runs of tick",
    )

    assert notify.with_key("WATCHDOG") == []
    assert daemon.stop() == 0


def test_runs_and_stops_without_a_notify_socket(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(TICK)
    daemon = start_daemon(notify=None)

    daemon.wait_for_event(lambda e: e.get("event") == "ready", what="the ready log event")
    wait_until(
        lambda: [r for r in site.runs("tick") if r["status"] == "succeeded"],
        what="a succeeded run of tick",
    )
    daemon.send(signal.SIGTERM)

    assert daemon.wait() == 0
    assert notify.messages == []
    assert any(e.get("event") == "stopped" for e in daemon.events())


@pytest.mark.parametrize(
    ("bad_line", "location", "message"),
    [
        pytest.param("shutdown_timeot: 5s", "daemon.shutdown_timeot", "unknown key", id="key"),
        pytest.param("catch_up: sometimes", "daemon.catch_up", "bool", id="value"),
    ],
)
def test_an_invalid_config_at_start_exits_1_naming_file_line_and_key(
    site: Site,
    start_daemon: DaemonFactory,
    notify: NotifySocket,
    bad_line: str,
    location: str,
    message: str,
) -> None:
    text = site.write_config(NIGHTLY, daemon_extra=bad_line)
    line = line_number(text, bad_line)

    daemon = start_daemon()

    assert daemon.wait() == 1
    where = f"{site.config}:{line}: {location}: "
    errors = [e for e in daemon.events() if e.get("level") == "error"]
    assert any(
        where in str(e.get("problem")) and message in str(e.get("problem")) for e in errors
    ), daemon.stderr
    statuses = [m.status for m in notify.with_key("STATUS")]
    assert any(s and s.startswith("invalid configuration: ") and where in s for s in statuses)
    assert notify.with_key("READY") == []
    assert not site.database.exists()


def test_a_database_that_cannot_be_opened_ends_the_start_with_one_clear_error(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    directory = site.root / "a-directory.db"
    directory.mkdir()
    site.write_config(NIGHTLY, database_url=f"sqlite:///{directory}")

    daemon = start_daemon()

    assert daemon.wait() == 1
    failures = [e for e in daemon.events() if e.get("event") == "start failed"]
    assert len(failures) == 1, daemon.stderr
    assert failures[0]["level"] == "error"
    assert "unable to open database file" in failures[0]["error"]
    assert "sqlalche.me" not in failures[0]["error"]
    # the traceback travels inside the JSON event, never as loose lines
    assert all(line.startswith("{") for line in daemon.lines), daemon.stderr
    statuses = [m.status for m in notify.with_key("STATUS")]
    assert any(s and s.startswith("start failed: database OperationalError") for s in statuses)
    assert notify.with_key("READY") == []
