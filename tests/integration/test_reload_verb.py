"""`hostkeeper reload` (the unit's ExecReload=): signal the real daemon, wait for its
verdict, and exit with it, so `systemctl reload` fails for a refused file on systemd 252."""

from __future__ import annotations

import json
import signal
import subprocess
from typing import Any

from notify_socket import NotifySocket

from conftest import (
    PYTHON,
    DaemonFactory,
    DaemonProcess,
    Site,
    clean_environment,
    line_number,
)

NIGHTLY = """\
nightly:
  schedule: {hour: 3, minute: 0}
  steps:
    - run: ["true"]
"""

FRESH = """\
fresh:
  schedule: {hour: 4, minute: 0}
  steps:
    - run: ["true"]
"""


def reload_command(site: Site, *args: str, json_output: bool = False) -> list[str]:
    """The verb on the daemon's own config file (which the test may have broken)."""
    options = ["--json"] if json_output else []
    return [PYTHON, "-m", "hostkeeper", "--config", str(site.config), *options, "reload", *args]


def run_reload(
    site: Site, *args: str, json_output: bool = False
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        reload_command(site, *args, json_output=json_output),
        env=clean_environment(),
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def started_daemon(site: Site, start_daemon: DaemonFactory, notify: NotifySocket) -> DaemonProcess:
    site.write_config(NIGHTLY)
    daemon = start_daemon()
    notify.wait_key("READY", "1")
    return daemon


def test_reload_of_a_valid_edit_exits_0_once_the_new_configuration_is_in_force(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    daemon = started_daemon(site, start_daemon, notify)
    site.write_config(NIGHTLY + FRESH)

    result = run_reload(site)

    assert result.returncode == 0, result.stderr
    assert f"pid {daemon.pid}" in result.stdout
    assert result.stderr == ""
    # The verdict came from the attempt that read the edited file, already recorded.
    state = site.daemon_state()
    assert state is not None
    assert state["last_reload"] == "ok"
    assert state["reload"]["result"] == "ok"
    assert state["reload"]["sequence"] == 1
    assert state["reload"]["errors"] == []
    reloaded = daemon.wait_for_event(lambda e: e.get("event") == "configuration reloaded")
    assert reloaded["schedule_changes"] == ["scheduled fresh"]
    assert daemon.stop() == 0


def test_reload_of_a_refused_file_exits_1_with_the_first_error_on_the_first_line(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    daemon = started_daemon(site, start_daemon, notify)
    text = site.config_text(NIGHTLY + FRESH, daemon_extra="shutdown_timeot: 5s\nbogus_key: 1")
    site.write_text(text)
    first = f"{site.config}:{line_number(text, 'shutdown_timeot')}: daemon.shutdown_timeot: "
    second = f"{site.config}:{line_number(text, 'bogus_key')}: daemon.bogus_key: "

    result = run_reload(site)

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(first), lines
    assert "unknown key" in lines[0]
    assert lines[1].startswith(second), lines
    assert "refused" in lines[-1] and "keeps running the previous one" in lines[-1]
    assert result.stdout == ""
    # The daemon keeps running on the previous configuration and says so.
    assert daemon.process.poll() is None
    state = site.daemon_state()
    assert state is not None
    assert state["reload"]["result"] == "failed"
    assert state["reload"]["errors"][:2] == lines[:2]
    assert first in state["last_reload"]
    failed = daemon.wait_for_event(lambda e: e.get("level") == "error")
    assert first in failed["problem"]

    # A fixed file gets its own verdict, not the failed attempt still in daemon.json.
    site.write_config(NIGHTLY + FRESH)
    fixed = run_reload(site)

    assert fixed.returncode == 0, fixed.stderr
    state = site.daemon_state()
    assert state is not None
    assert (state["reload"]["sequence"], state["reload"]["result"]) == (2, "ok")
    assert daemon.stop() == 0


def test_reload_without_a_running_daemon_exits_1_and_says_so(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(NIGHTLY)

    never_started = run_reload(site)

    assert never_started.returncode == 1
    assert "no hostkeeper daemon is running" in never_started.stderr
    assert str(site.state_dir / "daemon.json") in never_started.stderr

    daemon = started_daemon(site, start_daemon, notify)
    pid = daemon.pid
    assert daemon.stop() == 0

    stopped = run_reload(site)

    assert stopped.returncode == 1
    assert "no hostkeeper daemon is running" in stopped.stderr
    assert f"pid {pid}, which has exited" in stopped.stderr


def test_reload_never_signals_a_pid_that_is_not_a_hostkeeper_daemon(site: Site) -> None:
    site.write_config(NIGHTLY)
    # SIGHUP would end `sleep`: if it is still running, it was not signalled.
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        result = run_reload(site, "--pid", str(bystander.pid))

        assert result.returncode == 1
        assert f"no hostkeeper daemon runs as pid {bystander.pid}" in result.stderr
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_reload_with_the_daemons_pid_but_another_state_dir_fails_at_once(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    daemon = started_daemon(site, start_daemon, notify)
    other = site.root / "other.yaml"
    other.write_text(
        site.config_text(NIGHTLY).replace(str(site.state_dir), str(site.root / "elsewhere")),
        encoding="utf-8",
    )

    result = subprocess.run(
        [PYTHON, "-m", "hostkeeper", "--config", str(other), "reload", "--pid", str(daemon.pid)],
        env=clean_environment(),
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )

    assert result.returncode == 1
    assert "another --config" in result.stderr
    assert str(site.root / "elsewhere" / "daemon.json") in result.stderr
    state = site.daemon_state()
    assert state is not None and state.get("reload") is None  # not signalled
    assert daemon.stop() == 0


def _signalled(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Read the verb's stderr up to its "signalled the daemon" event."""
    assert process.stderr is not None
    for line in process.stderr:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "signalled the daemon":
            return event
    raise AssertionError(f"reload exited ({process.wait()}) before signalling")


def test_concurrent_reloads_coalesced_into_one_attempt_each_get_its_verdict(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    daemon = started_daemon(site, start_daemon, notify)
    site.write_config(NIGHTLY + FRESH)
    # While the daemon is stopped both SIGHUPs stay pending as one: a single reload
    # attempt must answer both waiters.
    daemon.send(signal.SIGSTOP)
    waiters = []
    try:
        for _ in range(2):
            command = reload_command(site, json_output=True)
            command.insert(command.index("reload"), "--verbose")
            waiter = subprocess.Popen(
                command,
                env=clean_environment(),
                cwd=site.root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            waiters.append(waiter)
            _signalled(waiter)
    finally:
        daemon.send(signal.SIGCONT)
    outputs = []
    for waiter in waiters:
        stdout, stderr = waiter.communicate(timeout=90)
        assert waiter.returncode == 0, stderr
        outputs.append(json.loads(stdout))

    first, second = outputs
    assert first["applied"] and second["applied"]
    assert first["reload"]["sequence"] == second["reload"]["sequence"] == 1
    for output in outputs:
        assert output["pid"] == daemon.pid
        assert output["reload"]["started_monotonic_usec"] >= output["signalled_monotonic_usec"]
    reloads = [e for e in daemon.events() if e.get("event") == "reloading"]
    assert len(reloads) == 1, reloads
    assert daemon.stop() == 0


def test_a_reload_under_way_when_a_waiter_signals_does_not_answer_it(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    daemon = started_daemon(site, start_daemon, notify)
    site.write_config(NIGHTLY + FRESH)
    # An attempt that began before this waiter's signal: the daemon is stopped right
    # after announcing it, before it can record the verdict.
    daemon.send(signal.SIGHUP)
    notify.wait_key("RELOADING", "1")
    daemon.send(signal.SIGSTOP)
    try:
        command = reload_command(site, json_output=True)
        command.insert(command.index("reload"), "--verbose")
        waiter = subprocess.Popen(
            command,
            env=clean_environment(),
            cwd=site.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _signalled(waiter)
    finally:
        daemon.send(signal.SIGCONT)
    stdout, stderr = waiter.communicate(timeout=90)

    assert waiter.returncode == 0, stderr
    verdict = json.loads(stdout)
    assert verdict["reload"]["sequence"] == 2
    assert verdict["reload"]["started_monotonic_usec"] >= verdict["signalled_monotonic_usec"]
    assert daemon.stop() == 0
