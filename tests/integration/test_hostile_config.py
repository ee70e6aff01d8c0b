"""Hostile configuration files at every door: `config validate`, the daemon's start and
its SIGHUP reload. Each gives `FILE:LINE: key: message`; none ends a running daemon."""

from __future__ import annotations

import signal
import subprocess

import pytest
from notify_socket import NotifySocket
from tests.hostile_configs import CASES, HostileConfig

from conftest import PYTHON, DaemonFactory, Site, clean_environment, wait_until

TICK = """\
tick:
  schedule: {every: 1s}
  steps:
    - run: ["true"]
"""


def _validate(site: Site) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "hostkeeper", "--config", str(site.config), "config", "validate"],
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_config_validate_reports_a_hostile_file_in_one_line(
    site: Site, case: HostileConfig
) -> None:
    site.write_text(case.text)

    result = _validate(site)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        next(line for line in result.stderr.splitlines() if line.startswith(f"{site.config}:")),
        f"{site.config}: invalid (1 problem(s))",
    ]
    assert result.stderr.startswith(f"{site.config}:{case.file_line}: {case.key}: ")
    assert case.says in result.stderr


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_daemon_refuses_to_start_on_a_hostile_file_with_a_located_message(
    site: Site, start_daemon: DaemonFactory, case: HostileConfig
) -> None:
    site.write_text(case.text)

    daemon = start_daemon(notify=None, watchdog_usec=None)

    assert daemon.wait() == 1
    assert "Traceback" not in daemon.stderr
    problems = [e["problem"] for e in daemon.events() if e.get("event") == "invalid configuration"]
    assert len(problems) == 1, daemon.stderr
    assert problems[0].startswith(f"{site.config}:{case.file_line}: {case.key}: ")


def test_reloads_of_every_hostile_file_keep_the_daemon_on_its_old_config(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(TICK)
    daemon = start_daemon()
    after, _ = notify.wait_key("READY", "1")
    oversized = "version: 1\n" + "# padding\n" * 110_000  # over the 1 MiB limit

    for text, where in [
        *[(case.text, f"{site.config}:{case.file_line}: {case.key}: ") for case in CASES],
        (oversized, f"{site.config}:1: (top level): larger than 1024 KiB"),
    ]:
        site.write_text(text)
        daemon.send(signal.SIGHUP)
        reloading, _ = notify.wait_key("RELOADING", "1", after=after + 1)
        after, ready = notify.wait_key("READY", "1", after=reloading + 1)
        assert ready.status is not None and ready.status.startswith("reload failed"), ready.raw
        assert where in ready.status, (where, ready.status)
        assert daemon.process.poll() is None, daemon.stderr

    assert "Traceback" not in daemon.stderr
    # Still running the old configuration: tick goes on being scheduled.
    before = len(site.runs("tick"))
    wait_until(lambda: len(site.runs("tick")) > before, what="a run of tick after the reloads")
    assert daemon.stop() == 0
