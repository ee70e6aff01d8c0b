"""The shipped unit under a real systemd: start, status, reload, watchdog, stop.

A sandboxed systemd (see systemd_harness) gets packaging/systemd/hostkeeper.service
unchanged in /run/systemd/system, plus a test drop-in that points ExecStart and ExecReload
at this repository's venv and the configuration at a directory under /var/lib (the sandbox's /tmp
is private, so pytest's tmp_path is not visible to the unit), shortens the watchdog to
3 s and relaxes ProtectHome= (the venv's interpreter lives under /root).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tests.e2e.systemd_harness import SandboxUnavailable, SystemdSandbox, unavailable_reason
from tests.peers import missing_peer

pytestmark = pytest.mark.systemd

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
UNIT_FILE = REPO_ROOT / "packaging" / "systemd" / "hostkeeper.service"
LOGROTATE_SNIPPET = REPO_ROOT / "packaging" / "logrotate" / "hostkeeper"
HOSTKEEPER = REPO_ROOT / ".venv" / "bin" / "hostkeeper"
UNIT = "hostkeeper.service"
WATCHDOG_SECONDS = 3
# Directories the shipped unit has systemd create on the host's filesystem, which the
# sandbox shares (StateDirectory=, LogsDirectory=, ConfigurationDirectory=, ExecStartPre=).
UNIT_CREATED_DIRS = (
    "/var/lib/hostkeeper",
    "/var/log/hostkeeper",
    "/etc/hostkeeper",
    "/var/backups/hostkeeper",
)
# CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_KILL
BOUNDING_SET = sum(1 << bit for bit in (0, 1, 2, 3, 4, 5))


def wait_until(
    probe: Callable[[], T | None],
    timeout: float = 15.0,
    interval: float = 0.2,
    what: str = "condition",
) -> T:
    """Call `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {last!r}")
        time.sleep(interval)
        last = probe()
    return last


# -- the installation under test ---------------------------------------------------------


@dataclass
class Site:
    """The unit's configuration and state, in a directory the sandbox can see."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "hostkeeper.yaml"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    def config_text(self, procedures: str, shutdown_timeout: str = "5s") -> str:
        """A complete config; `procedures` is the YAML under `procedures:`, indented."""
        quoted = json.dumps  # a JSON string is a valid double-quoted YAML scalar
        return (
            "version: 1\n"
            "timezone: UTC\n"
            "paths:\n"
            f"  state_dir: {quoted(str(self.state_dir))}\n"
            f"  report_dir: {quoted(str(self.root / 'reports'))}\n"
            f"  backup_dir: {quoted(str(self.root / 'backups'))}\n"
            f"  log_dir: {quoted(str(self.log_dir))}\n"
            "database:\n"
            f"  url: {quoted('sqlite:///' + str(self.state_dir / 'hostkeeper.db'))}\n"
            "daemon:\n"
            "  watchdog: true\n"
            f"  shutdown_timeout: {shutdown_timeout}\n"
            "  log_format: auto\n"
            "  log_level: info\n"
            "dashboard:\n"
            "  enabled: false\n"
            "procedures:\n" + procedures
        )

    def write_config(self, text: str) -> None:
        """Replace the config atomically (the daemon may read it at any time)."""
        partial = self.config.with_name(self.config.name + ".tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(self.config)

    def daemon_state(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads((self.state_dir / "daemon.json").read_text())
        except (OSError, ValueError):
            return None
        return data

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The hostkeeper CLI on the host, on the same config and store as the unit."""
        environment = {k: v for k, v in os.environ.items() if k != "HOSTKEEPER_CONFIG"}
        return subprocess.run(
            [sys.executable, "-m", "hostkeeper", "--config", str(self.config), *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


BASE_PROCEDURES = """\
  weekly:
    schedule: {every: 7d}
    steps:
      - run: ["true"]
"""


def drop_in(site: Site) -> str:
    return f"""\
# Test drop-in: the repository's venv and a test-owned configuration.
[Service]
ExecStart=
ExecStart={HOSTKEEPER} --config {site.config} daemon
ExecReload=
ExecReload={HOSTKEEPER} --config {site.config} reload --pid $MAINPID
# the venv's interpreter is under /root/.pyenv
ProtectHome=read-only
ReadWritePaths={site.root}
WatchdogSec={WATCHDOG_SECONDS}s
RestartSec=200ms
# the watchdog test ends the daemon with SIGABRT: no core file
LimitCORE=0
"""


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SystemdSandbox]:
    reason = unavailable_reason()
    if reason:
        missing_peer(f"systemd sandbox: {reason}")
    if not os.access(HOSTKEEPER, os.X_OK):
        pytest.skip(f"{HOSTKEEPER} is missing: run `make venv` first")
    if REPO_ROOT.is_relative_to("/tmp") or REPO_ROOT.is_relative_to("/var/tmp"):
        pytest.skip(f"the repository at {REPO_ROOT} is under a directory private to the sandbox")
    absent = [d for d in UNIT_CREATED_DIRS if not os.path.lexists(d)]
    try:
        booted = SystemdSandbox.boot()
    except SandboxUnavailable as error:
        missing_peer(f"systemd sandbox: {error}")
    try:
        yield booted
    finally:
        booted.stop()
        for directory in absent:
            with contextlib.suppress(OSError):
                os.rmdir(directory)  # only if systemd created it and it stayed empty


@pytest.fixture(scope="module")
def site(sandbox: SystemdSandbox) -> Iterator[Site]:
    root = Path(tempfile.mkdtemp(prefix="hostkeeper-e2e-", dir="/var/lib"))
    installed = Site(root)
    installed.log_dir.mkdir(mode=0o750)
    installed.write_config(installed.config_text(BASE_PROCEDURES))
    sandbox.install_unit(
        UNIT, UNIT_FILE.read_text(encoding="utf-8"), [("50-e2e.conf", drop_in(installed))]
    )
    try:
        yield installed
    finally:
        sandbox.systemctl("stop", UNIT, timeout=150)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def service(sandbox: SystemdSandbox, site: Site) -> SystemdSandbox:
    """hostkeeper freshly (re)started on the base configuration."""
    site.write_config(site.config_text(BASE_PROCEDURES))
    sandbox.systemctl("reset-failed", UNIT)  # also resets the start rate limit
    result = sandbox.systemctl("restart", UNIT, timeout=120)
    assert result.returncode == 0, result.stderr + status_of(sandbox)
    assert sandbox.show(UNIT, "ActiveState")["ActiveState"] == "active"
    return sandbox


def status_of(sandbox: SystemdSandbox) -> str:
    status = sandbox.systemctl("status", "--lines=30", UNIT).stdout
    return f"\n--- systemctl status ---\n{status}"


def main_pid(sandbox: SystemdSandbox) -> int:
    return int(sandbox.show(UNIT, "MainPID")["MainPID"])


def invocation(sandbox: SystemdSandbox) -> str:
    return sandbox.show(UNIT, "InvocationID")["InvocationID"]


def status_text(sandbox: SystemdSandbox) -> str:
    return sandbox.show(UNIT, "StatusText")["StatusText"]


_TIMESPAN_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "h": 3600, "d": 86400}


def timespan_seconds(text: str) -> float:
    """Seconds in a timespan as `systemctl show` prints it: "2min", "1min 30s", "500ms"."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|min|h|d)\b", text)
    assert parts and " ".join(n + u for n, u in parts) == text.strip(), text
    return sum(float(number) * _TIMESPAN_UNITS[unit] for number, unit in parts)


def line_of(text: str, fragment: str) -> int:
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(found) == 1, f"{fragment!r} is on lines {found}"
    return found[0]


# -- tests ---------------------------------------------------------------------------------


def test_start_becomes_active_and_reports_status(service: SystemdSandbox) -> None:
    props = service.show(UNIT, "ActiveState", "SubState", "Type", "NotifyAccess", "StatusText")
    assert props["ActiveState"] == "active"
    assert props["SubState"] == "running"
    assert props["Type"] == "notify"
    assert props["NotifyAccess"] == "main"
    assert props["StatusText"].startswith("next weekly ")

    status = service.systemctl("status", UNIT).stdout
    assert "Active: active (running)" in status
    assert 'Status: "next weekly ' in status

    journal = service.journal("-u", UNIT, f"_SYSTEMD_INVOCATION_ID={invocation(service)}")
    ready = [json.loads(line) for line in journal.splitlines() if '"event":"ready"' in line]
    assert ready, journal
    assert ready[0]["watchdog_seconds"] == WATCHDOG_SECONDS


def test_hardening_applies_to_the_running_daemon(service: SystemdSandbox, site: Site) -> None:
    status = service.path(f"/proc/{main_pid(service)}/status").read_text()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Seccomp"].strip() == "2"  # SystemCallFilter= is a seccomp filter
    assert int(fields["CapBnd"], 16) == BOUNDING_SET
    mounts = service.path(f"/proc/{main_pid(service)}/mounts").read_text().splitlines()
    options = {fields[1]: fields[3].split(",") for fields in map(str.split, mounts)}
    assert "ro" in options["/"], "ProtectSystem=strict: / is read-only"
    assert "rw" in options[str(site.root)], "ReadWritePaths= of the drop-in"


def test_reload_applies_a_valid_changed_config(service: SystemdSandbox, site: Site) -> None:
    pid = main_pid(service)
    site.write_config(
        site.config_text(
            BASE_PROCEDURES
            + """\
  added:
    schedule: {every: 1d}
    steps:
      - run: ["true"]
"""
        )
    )

    result = service.systemctl("reload", UNIT)

    assert result.returncode == 0, result.stderr + status_of(service)
    wait_until(
        lambda: status_text(service).startswith("next added "),
        what="STATUS= to name the added procedure",
    )
    state = wait_until(
        lambda: s if (s := site.daemon_state()) and s.get("last_reload_at") else None,
        what="daemon.json to record the reload",
    )
    assert state["last_reload"] == "ok"

    def reload_logged() -> str | None:
        text = service.journal("-u", UNIT, f"_SYSTEMD_INVOCATION_ID={invocation(service)}")
        return text if '"event":"configuration reloaded"' in text else None

    journal = wait_until(reload_logged, what="the reload in the journal")
    reloaded = next(
        json.loads(line)
        for line in journal.splitlines()
        if '"event":"configuration reloaded"' in line
    )
    assert reloaded["schedule_changes"] == ["scheduled added"]
    assert main_pid(service) == pid
    assert service.show(UNIT, "ActiveState")["ActiveState"] == "active"
    schedule = site.cli("--json", "schedule")
    assert schedule.returncode == 0, schedule.stderr
    assert {row["procedure"] for row in json.loads(schedule.stdout)} == {"weekly", "added"}


def test_reload_with_an_invalid_config_keeps_the_service_running(
    service: SystemdSandbox, site: Site
) -> None:
    pid = main_pid(service)
    restarts = service.show(UNIT, "NRestarts")["NRestarts"]
    bad_value = f"bogus-{uuid.uuid4().hex[:8]}"
    text = site.config_text(
        BASE_PROCEDURES
        + """\
  never_applied:
    schedule: {every: 1h}
    steps:
      - run: ["true"]
""",
        shutdown_timeout=bad_value,
    )
    line = line_of(text, "shutdown_timeout:")
    site.write_config(text)
    where = f"{site.config}:{line}: daemon.shutdown_timeout"

    result = service.systemctl("reload", UNIT)

    # ExecReload= (`hostkeeper reload`) waited for the verdict and failed with it.
    assert result.returncode != 0, status_of(service)
    assert "Job for hostkeeper.service failed" in result.stderr, result.stderr
    status = wait_until(
        lambda: s if (s := status_text(service)).startswith("reload failed") else None,
        what="STATUS= to report the failed reload",
    )
    assert where in status
    assert "| next weekly " in status
    assert "never_applied" not in status  # the old configuration is still in force
    shown = service.systemctl("status", "--lines=30", UNIT).stdout
    assert "reload failed" in shown
    # The reload command's first line (the first error, as text, not the daemon's JSON
    # event) is among the log lines `systemctl status` shows.
    messages = [line.split("]: ", 1)[-1] for line in shown.splitlines()]
    assert any(message.startswith(where) for message in messages), shown

    errors = wait_until(
        lambda: text if bad_value in (text := service.journal("-u", UNIT, "-p", "err")) else None,
        what="the error in the journal at priority err",
    )
    error_lines = [entry for entry in errors.splitlines() if bad_value in entry]
    assert any(where in entry for entry in error_lines), errors
    assert '"event":"ready"' not in errors  # info events are not at priority err
    props = service.show(UNIT, "ActiveState", "NRestarts")
    assert props["ActiveState"] == "active"
    assert props["NRestarts"] == restarts
    assert main_pid(service) == pid
    state = site.daemon_state()
    assert state is not None and where in state["last_reload"]

    # Fixing the file and reloading again clears the error.
    site.write_config(site.config_text(BASE_PROCEDURES))
    assert service.systemctl("reload", UNIT).returncode == 0
    wait_until(
        lambda: status_text(service).startswith("next weekly "),
        what="STATUS= to drop the reload error",
    )


def test_watchdog_restarts_a_hung_daemon(service: SystemdSandbox) -> None:
    # A healthy daemon pings: systemd records each WATCHDOG=1 it receives.
    first = service.show(UNIT, "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"]
    wait_until(
        lambda: (
            service.show(UNIT, "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"] != first
        ),
        timeout=WATCHDOG_SECONDS * 2,
        what="a WATCHDOG=1 ping",
    )
    before = service.show(UNIT, "MainPID", "NRestarts")
    timeouts = service.journal("-u", UNIT).count("Watchdog timeout")
    service.run("kill", "-STOP", before["MainPID"], check=True)

    gone = ("0", before["MainPID"])

    def restarted() -> dict[str, str] | None:
        props = service.show(UNIT, "MainPID", "NRestarts", "ActiveState")
        replaced = props.get("ActiveState") == "active" and props["MainPID"] not in gone
        return props if replaced else None

    after = wait_until(
        restarted,
        timeout=15,
        what="systemd to restart the hung daemon",
    )

    assert int(after["NRestarts"]) > int(before["NRestarts"])
    journal = wait_until(
        lambda: (
            text
            if (text := service.journal("-u", UNIT)).count("Watchdog timeout") > timeouts
            else None
        ),
        what="systemd to log the watchdog timeout",
    )
    assert f"Watchdog timeout (limit {WATCHDOG_SECONDS}s)" in journal


def test_stop_is_clean(service: SystemdSandbox) -> None:
    running = invocation(service)
    started = time.monotonic()

    result = service.systemctl("stop", UNIT, timeout=150)

    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 15, "stopping an idle daemon should be quick"
    props = service.show(UNIT, "ActiveState", "Result", "ExecMainStatus")
    assert props == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}
    journal = service.journal("-u", UNIT, f"_SYSTEMD_INVOCATION_ID={running}")
    events = [json.loads(line)["event"] for line in journal.splitlines() if line.startswith("{")]
    assert events[-2:] == ["stopping", "stopped"], journal


def test_shipped_settings_as_systemd_reads_them(sandbox: SystemdSandbox) -> None:
    # A second copy without the test drop-in, loaded but never started (so WatchdogUSec=
    # is not shown: systemd reports it only for a running service).
    sandbox.install_unit("hostkeeper-shipped.service", UNIT_FILE.read_text(encoding="utf-8"))
    props = sandbox.show(
        "hostkeeper-shipped.service",
        "LoadState",
        "Type",
        "NotifyAccess",
        "Restart",
        "KillMode",
        "TimeoutStopUSec",
        "ExecStart",
        "ExecReload",
        "ProtectSystem",
        "ProtectHome",
        "ProtectProc",
        "ProcSubset",
        "UMask",
    )
    assert props["LoadState"] == "loaded"
    assert props["Type"] == "notify"
    assert props["NotifyAccess"] == "main"
    assert props["Restart"] == "on-failure"
    assert props["KillMode"] == "mixed"  # SIGTERM to the daemon only, steps may finish
    assert timespan_seconds(props["TimeoutStopUSec"]) > 60, (
        "TimeoutStopSec= must exceed daemon.shutdown_timeout (60s)"
    )
    assert (
        "path=/opt/hostkeeper/bin/hostkeeper ; argv[]=/opt/hostkeeper/bin/hostkeeper "
        "--config /etc/hostkeeper/hostkeeper.yaml daemon ;" in props["ExecStart"]
    )
    assert (
        "path=/opt/hostkeeper/bin/hostkeeper ; argv[]=/opt/hostkeeper/bin/hostkeeper "
        "--config /etc/hostkeeper/hostkeeper.yaml reload --pid $MAINPID ;" in props["ExecReload"]
    )
    assert props["ProtectSystem"] == "strict"
    assert props["ProtectHome"] == "yes"
    assert props["ProtectProc"] == "default"
    assert props["ProcSubset"] == "all"
    assert props["UMask"] == "0027"


def test_systemd_analyze_verify_accepts_the_unit(sandbox: SystemdSandbox, site: Site) -> None:
    result = sandbox.run("systemd-analyze", "verify", UNIT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert UNIT not in result.stdout + result.stderr, result.stdout + result.stderr

    # The same check notices a broken copy, so silence above means something.
    broken = UNIT_FILE.read_text(encoding="utf-8").replace("ProtectSystem=", "ProtectSystm=")
    sandbox.install_file("/run/hostkeeper-verify/hostkeeper-broken.service", broken)
    control = sandbox.run(
        "systemd-analyze", "verify", "/run/hostkeeper-verify/hostkeeper-broken.service"
    )
    assert "ProtectSystm" in control.stdout + control.stderr


def test_logrotate_postrotate_reloads_the_service(service: SystemdSandbox, site: Site) -> None:
    if service.run("sh", "-c", "command -v logrotate").returncode != 0:
        missing_peer("logrotate is not installed (Debian package `logrotate`)")
    log = site.log_dir / "hostkeeper.log"
    log.write_text("a line to rotate\n", encoding="utf-8")
    config = site.root / "logrotate.conf"
    config.write_text(
        LOGROTATE_SNIPPET.read_text(encoding="utf-8").replace(
            "/var/log/hostkeeper", str(site.log_dir)
        ),
        encoding="utf-8",
    )
    config.chmod(0o644)
    assert (site.daemon_state() or {}).get("last_reload_at") is None

    result = service.run("logrotate", "-s", str(site.root / "logrotate.state"), "-f", str(config))

    assert result.returncode == 0, result.stdout + result.stderr
    assert (site.log_dir / "hostkeeper.log.1").read_text(encoding="utf-8") == "a line to rotate\n"
    state = wait_until(
        lambda: s if (s := site.daemon_state()) and s.get("last_reload_at") else None,
        what="the postrotate script to reload hostkeeper",
    )
    assert state["last_reload"] == "ok"
