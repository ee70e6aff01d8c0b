"""While the file on disk is invalid, the read-only verbs show what the daemon is running.

The daemon keeps its configuration on a bad edit; the CLI must not go blind meanwhile:
`status`, `runs`, `schedule` and `check` read the copy the daemon wrote to
state_dir/running-config.yaml, and say on stderr that the file has errors. Verbs that
change things still refuse the invalid file.
"""

from __future__ import annotations

import json
import signal
import stat
import subprocess
from collections.abc import Callable
from typing import Any

from notify_socket import NotifySocket

from conftest import PYTHON, DaemonFactory, Site, clean_environment, line_number, wait_until

TICK = """\
tick:
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

# A check that is always OK here, so `check` has a health state to report.
CHECKS = """\
checks:
- name: load
  type: load
  warning: 1000.0
  critical: 2000.0
"""

Run = Callable[..., subprocess.CompletedProcess[str]]


def _cli(site: Site) -> Run:
    """The real CLI on the daemon's own (soon broken) configuration file."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "-m", "hostkeeper", "--config", str(site.config), *args],
            env=clean_environment(),
            cwd=site.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


def _running_copy(site: Site) -> str:
    return (site.state_dir / "running-config.yaml").read_text(encoding="utf-8")


def _reload_and_wait(daemon: Any, event: str, count: int) -> None:
    daemon.send(signal.SIGHUP)
    wait_until(
        lambda: len([e for e in daemon.events() if event in str(e.get("event"))]) >= count,
        what=f"{event!r} in the daemon's log",
    )


def test_read_only_verbs_show_the_running_configuration_while_the_file_is_invalid(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    started_text = site.write_config(TICK, preamble=CHECKS)
    daemon = start_daemon()
    notify.wait_key("READY", "1")
    wait_until(lambda: site.runs("tick"), what="a first run of tick")
    copy = site.state_dir / "running-config.yaml"
    assert _running_copy(site) == started_text
    assert stat.S_IMODE(copy.stat().st_mode) == 0o640

    # A valid edit is reloaded: the copy follows it.
    reloaded_text = site.write_config(TICK + NIGHTLY, preamble=CHECKS)
    _reload_and_wait(daemon, "configuration reloaded", 1)
    assert _running_copy(site) == reloaded_text
    state = site.daemon_state()
    assert state is not None
    assert state["config_file"] == str(site.config)

    # A bad edit, reloaded: the daemon keeps the previous configuration, and so does the copy.
    bad_text = site.write_config(TICK, preamble=CHECKS, daemon_extra="shutdown_timeot: 5s")
    bad_line = line_number(bad_text, "shutdown_timeot")
    _reload_and_wait(daemon, "reload failed", 1)
    assert _running_copy(site) == reloaded_text
    cli = _cli(site)
    notice = (
        f"hostkeeper: {site.config} has 1 error (first: {site.config}:{bad_line}: "
        "daemon.shutdown_timeot: unknown key (not allowed here)); "
        "showing the configuration the daemon is running (loaded "
    )

    schedule = cli("--json", "schedule")
    assert schedule.returncode == 0, schedule.stderr
    assert notice in schedule.stderr
    # nightly exists only in the running configuration, not in the file on disk.
    assert {row["procedure"] for row in json.loads(schedule.stdout)} == {"tick", "nightly"}

    runs = cli("--json", "runs", "--procedure", "tick")
    assert runs.returncode == 0, runs.stderr
    assert notice in runs.stderr
    assert json.loads(runs.stdout)[0]["procedure"] == "tick"

    status = cli("status")
    assert status.returncode == 0, status.stderr
    assert notice in status.stderr
    assert "daemon running" in status.stdout
    assert "last reload FAILED" in status.stdout

    check = cli("check")
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("OK: health score 100 - all 1 checks ok")
    assert notice in check.stderr

    # Changing things from a file that does not validate stays refused.
    run = cli("run", "tick")
    assert run.returncode == 1
    assert f"{site.config}:{bad_line}: daemon.shutdown_timeot: unknown key" in run.stderr
    assert "showing the configuration" not in run.stderr
    assert daemon.stop() == 0


def test_a_yaml_syntax_error_still_finds_the_running_copy_under_its_state_dir(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    text = site.write_config(TICK, preamble=CHECKS)
    daemon = start_daemon()
    notify.wait_key("READY", "1")
    assert daemon.stop() == 0
    # Not parseable at all: the state directory is found from its own line.
    broken = text.replace("timezone: UTC", "timezone: 'UTC")
    site.write_text(broken)

    result = _cli(site)("--json", "schedule")

    assert result.returncode == 0, result.stderr
    opened = line_number(broken, "timezone")
    first = f"{site.config}:{opened}: (top level): invalid YAML: unclosed quoted string"
    assert f"has 1 error (first: {first} (opened here)); " in result.stderr
    assert "showing the configuration the daemon last ran (loaded " in result.stderr
    assert "daemon not running" in result.stderr
    assert [row["procedure"] for row in json.loads(result.stdout)] == ["tick"]
