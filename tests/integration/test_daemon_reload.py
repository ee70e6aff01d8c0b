"""SIGHUP: reload the configuration, or keep the running one when the new one is bad."""

from __future__ import annotations

import signal
import time
from datetime import datetime
from typing import Any

import pytest
from notify_socket import NotifySocket

from conftest import DaemonFactory, Site, line_number, wait_until

TICK = """\
tick:
  schedule: {every: 1s}
  steps:
    - run: ["true"]
"""

FRESH = """\
fresh:
  schedule: {every: 1s}
  steps:
    - run: ["true"]
"""

NIGHTLY = """\
nightly:
  schedule: {hour: 3, minute: 0}
  steps:
    - run: ["true"]
"""


def _monotonic_usec() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def _started(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["started_at"])


def _reload(notify: NotifySocket, daemon: Any, after: int) -> tuple[int, int, str]:
    """SIGHUP, then wait for RELOADING=1 and the READY=1 after it.

    Returns the index of RELOADING=1, of READY=1 and READY's STATUS text.
    """
    before = _monotonic_usec()
    daemon.send(signal.SIGHUP)
    reloading_index, reloading = notify.wait_key("RELOADING", "1", after=after)
    received = _monotonic_usec()
    stamp = reloading.fields.get("MONOTONIC_USEC", "")
    assert stamp.isdigit(), reloading.raw
    assert before <= int(stamp) <= received, (before, stamp, received)
    assert not reloading.has("READY"), "RELOADING=1 and READY=1 in one message"
    ready_index, ready = notify.wait_key("READY", "1", after=reloading_index + 1)
    assert ready.status is not None
    return reloading_index, ready_index, ready.status


def test_reload_with_a_valid_changed_config_schedules_the_new_procedure(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(NIGHTLY)
    daemon = start_daemon()
    first_ready, _ = notify.wait_key("READY", "1")
    site.write_config(NIGHTLY + FRESH)

    _, _, status = _reload(notify, daemon, after=first_ready + 1)

    assert "reload failed" not in status
    runs = wait_until(
        lambda: [r for r in site.runs("fresh") if r["status"] == "succeeded"],
        what="a run of the procedure added by the reload",
    )
    assert runs[0]["trigger"] == "scheduled"
    assert runs[0]["steps"][0]["status"] == "succeeded"
    reloaded = daemon.wait_for_event(lambda e: e.get("event") == "configuration reloaded")
    assert reloaded["schedule_changes"] == ["scheduled fresh"]
    state = site.daemon_state()
    assert state is not None
    assert state["last_reload"] == "ok"
    assert state["last_reload_at"] is not None
    assert daemon.stop() == 0


def test_reload_that_removes_a_procedure_stops_scheduling_it(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(TICK + FRESH)
    daemon = start_daemon()
    first_ready, _ = notify.wait_key("READY", "1")
    wait_until(lambda: site.runs("fresh"), what="a run of fresh")
    site.write_config(TICK)

    _reload(notify, daemon, after=first_ready + 1)
    reloaded = daemon.wait_for_event(lambda e: e.get("event") == "configuration reloaded")
    reloaded_at = datetime.fromisoformat(reloaded["timestamp"])
    # tick keeps running: once two of its runs started after the reload, fresh (same
    # interval) would have started at least once more had it still been scheduled.
    wait_until(
        lambda: len([r for r in site.runs("tick") if _started(r) > reloaded_at]) >= 2,
        what="two runs of tick after the reload",
    )

    assert [r for r in site.runs("fresh") if _started(r) > reloaded_at] == []
    assert reloaded["schedule_changes"] == ["removed fresh"]
    # Not merely refused at run time: no job of the removed procedure fires at all.
    assert [e for e in daemon.events() if e.get("level") == "error"] == []
    assert daemon.stop() == 0


@pytest.mark.parametrize(
    ("bad_line", "location"),
    [
        pytest.param("shutdown_timeot: 5s", "daemon.shutdown_timeot: unknown key", id="key"),
        pytest.param("misfire_grace_time: soonish", "daemon.misfire_grace_time: ", id="value"),
    ],
)
def test_reload_with_an_invalid_config_keeps_the_old_schedule_until_a_valid_reload(
    site: Site,
    start_daemon: DaemonFactory,
    notify: NotifySocket,
    bad_line: str,
    location: str,
) -> None:
    site.write_config(TICK)
    daemon = start_daemon()
    first_ready, _ = notify.wait_key("READY", "1")
    wait_until(lambda: site.runs("tick"), what="a first run of tick")
    text = site.write_config(TICK + FRESH, daemon_extra=bad_line)
    where = f"{site.config}:{line_number(text, bad_line)}: {location}"

    _, failed_ready, status = _reload(notify, daemon, after=first_ready + 1)

    assert status.startswith("reload failed"), status
    assert where in status
    failure = daemon.wait_for_event(
        lambda e: e.get("level") == "error" and where in str(e.get("problem"))
    )
    assert "reload failed" in failure["event"]
    state = site.daemon_state()
    assert state is not None
    assert where in state["last_reload"]
    # The old schedule goes on, and nothing of the rejected config was applied.
    failed_at = datetime.fromisoformat(failure["timestamp"])
    wait_until(
        lambda: len([r for r in site.runs("tick") if _started(r) > failed_at]) >= 2,
        what="runs of tick after the failed reload",
    )
    assert site.runs("fresh") == []
    # Later STATUS= refreshes keep telling that the running config is the old one.
    later = wait_until(
        lambda: [m.status for m in notify.messages[failed_ready + 1 :] if m.status],
        what="a STATUS refresh after the failed reload",
    )
    assert all(s.startswith("reload failed") for s in later), later

    site.write_config(TICK + FRESH)
    _, fixed_ready, status = _reload(notify, daemon, after=failed_ready + 1)

    assert "reload failed" not in status
    wait_until(lambda: site.runs("fresh"), what="a run of fresh after the fixed reload")
    statuses = [m.status for m in notify.messages[fixed_ready:] if m.status]
    assert not any("reload failed" in s for s in statuses), statuses
    state = site.daemon_state()
    assert state is not None
    assert state["last_reload"] == "ok"
    assert daemon.stop() == 0


def test_reload_that_changes_the_database_url_is_refused(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(TICK)
    daemon = start_daemon()
    first_ready, _ = notify.wait_key("READY", "1")
    wait_until(lambda: site.runs("tick"), what="a first run of tick")
    elsewhere = site.root / "elsewhere" / "other.db"
    # Comment lines move the key, so the reported line must come from the new file.
    text = site.write_config(
        TICK,
        database_url=f"sqlite:///{elsewhere}",
        preamble="# moved to a new disk\n# (not yet: needs a restart)\n",
    )
    where = f"{site.config}:{line_number(text, 'url:')}: database.url: "

    _, _, status = _reload(notify, daemon, after=first_ready + 1)

    assert status.startswith("reload failed"), status
    assert where in status
    assert "restart" in status
    refused = daemon.wait_for_event(
        lambda e: e.get("level") == "error" and where in str(e.get("problem"))
    )
    refused_at = datetime.fromisoformat(refused["timestamp"])
    wait_until(
        lambda: len([r for r in site.runs("tick") if _started(r) > refused_at]) >= 2,
        what="runs of tick recorded in the original database after the refusal",
    )
    assert not elsewhere.exists()
    assert not elsewhere.parent.exists()
    assert daemon.stop() == 0
