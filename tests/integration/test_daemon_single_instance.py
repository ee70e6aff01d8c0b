"""One daemon per configuration: a second one on the same state directory refuses."""

from __future__ import annotations

import json

from notify_socket import NotifySocket

from conftest import DaemonFactory, Site, wait_until

TICK = """\
tick:
  schedule: {every: 1s}
  steps:
    - run: ["true"]
"""


def test_a_second_daemon_on_the_same_config_exits_1_naming_the_first_ones_pid(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(TICK)
    first = start_daemon()
    notify.wait_key("READY", "1")
    wait_until(lambda: site.runs("tick"), what="a first run of tick")

    second = start_daemon(notify=None, watchdog_usec=None)

    assert second.wait() == 1
    assert len(second.lines) == 1, second.stderr
    event = json.loads(second.lines[0])
    assert event["level"] == "error"
    assert event["event"] == "not starting"
    assert f"another hostkeeper daemon (pid {first.pid})" in event["error"]
    state = site.daemon_state()
    assert state is not None and state["pid"] == first.pid
    assert first.process.poll() is None
    assert first.stop() == 0


def test_the_lock_is_free_again_once_the_first_daemon_stopped_or_died(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(TICK)
    first = start_daemon()
    ready, _ = notify.wait_key("READY", "1")
    first.kill()  # SIGKILL: the kernel drops the flock with the process

    second = start_daemon()
    notify.wait_key("READY", "1", after=ready + 1)

    state = wait_until(
        lambda: (s := site.daemon_state()) and s["pid"] == second.pid and s,
        what="daemon.json written by the second daemon",
    )
    assert state["pid"] == second.pid
    assert second.stop() == 0
