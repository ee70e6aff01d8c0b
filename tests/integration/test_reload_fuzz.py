"""Property: no configuration file, however broken, ends a running daemon on reload.

One real daemon takes a fixed, derandomized series of SIGHUPs, each with a mutation of a
reference configuration on disk. The references point at another database than the
daemon's, so even a mutation that validates is refused (a database change needs a
restart): after every reload the daemon is alive, answers READY=1 with "reload failed",
and in the end still runs its old configuration."""

from __future__ import annotations

import signal

from hypothesis import HealthCheck, given, settings
from notify_socket import NotifySocket
from tests.config_mutations import mutated_reference

from conftest import DaemonFactory, Site, wait_until

TICK = """\
tick:
  schedule: {every: 1s}
  steps:
    - run: ["true"]
"""


def test_reloads_of_mutated_references_never_end_the_daemon(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(TICK)
    daemon = start_daemon()
    last_ready, _ = notify.wait_key("READY", "1")
    state = site.daemon_state()
    assert state is not None
    running_config = state["config_sha256"]

    @settings(
        max_examples=60,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(text=mutated_reference())
    def reload_with(text: str) -> None:
        nonlocal last_ready
        site.write_text(text)
        daemon.send(signal.SIGHUP)
        reloading, _ = notify.wait_key("RELOADING", "1", after=last_ready + 1)
        last_ready, ready = notify.wait_key("READY", "1", after=reloading + 1)
        assert ready.status is not None and ready.status.startswith("reload failed"), ready.raw
        assert daemon.process.poll() is None, daemon.stderr

    reload_with()

    assert "Traceback" not in daemon.stderr
    state = site.daemon_state()
    assert state is not None and state["config_sha256"] == running_config
    before = len(site.runs("tick"))
    wait_until(lambda: len(site.runs("tick")) > before, what="a run of tick after the reloads")
    assert daemon.stop() == 0
