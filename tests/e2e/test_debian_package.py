"""The Debian package, and an operator's week on it under a real systemd.

`make deb`'s build script makes two builds of this checkout (revisions 1 and 2). The
first is checked as a file (contents, conffiles, interpreter, lintian); then a sandboxed
systemd whose root is a throwaway overlay of this machine's (see systemd_harness) gets
it with `dpkg -i`, as an operator would on a stock Debian 12 host: the service runs on
the system's /usr/bin/python3 through the hardened unit, every shipped procedure runs by
hand, `validate-system` and `audit` pass, a restore test shows in `status`, reloads
with a valid and an invalid file behave, `logrotate -f` rotates with the shipped snippet,
the upgrade to revision 2 keeps the data, removal keeps configuration and data, and a
purge leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.systemd_harness import SandboxUnavailable, SystemdSandbox, unavailable_reason
from tests.peers import missing_peer

pytestmark = pytest.mark.systemd

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD = REPO_ROOT / "packaging" / "debian" / "build"
SYSTEM_PYTHON = "/usr/bin/python3"
UNIT = "hostkeeper.service"
CONFIG = "/etc/hostkeeper/hostkeeper.yaml"
INBOX = "/srv/hostkeeper-e2e"  # where the packages are put inside the sandbox
PROCEDURES = ("daily", "weekly", "monthly", "quarterly")
# Everything the package or the service may create; after a purge none of it remains.
OWN_PATHS = (
    "/opt/hostkeeper",
    "/usr/bin/hostkeeper",
    "/lib/systemd/system/hostkeeper.service",
    "/etc/systemd/system/multi-user.target.wants/hostkeeper.service",
    "/etc/hostkeeper",
    "/etc/logrotate.d/hostkeeper",
    "/usr/share/hostkeeper",
    "/usr/share/doc/hostkeeper",
    "/var/lib/hostkeeper",
    "/var/log/hostkeeper",
    "/var/backups/hostkeeper",
)
# Trees compared before the install and after the purge (dpkg's own records aside).
WATCHED_TREES = ("/etc", "/opt", "/usr", "/lib/systemd", "/var/lib", "/var/log", "/var/backups")
# dpkg's own records, and logrotate's state file, which the test's `logrotate -f` makes
# (a real host has it already).
BOOKKEEPING = (
    "/var/lib/dpkg/",
    "/var/log/dpkg.log",
    "/var/log/apt/",
    "/var/cache/",
    "/var/lib/logrotate/",
)


@dataclass(frozen=True)
class Builds:
    first: Path
    second: Path


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """Revisions 1 and 2 of the package, built from this checkout on /usr/bin/python3."""
    if shutil.which("dpkg-deb") is None:
        missing_peer("dpkg-deb is not installed (Debian package dpkg)")
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        missing_peer(f"{SYSTEM_PYTHON} is missing (Debian package python3, python3-venv)")
    out = tmp_path_factory.mktemp("debs")
    built = []
    for revision in ("1", "2"):
        done = subprocess.run(
            [str(BUILD), str(out), revision],
            env={**os.environ, "DEB_PYTHON": SYSTEM_PYTHON},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        built.append(Path(done.stdout.strip().splitlines()[-1]))
    return Builds(*built)


def deb_field(deb: Path, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "--field", str(deb), name], capture_output=True, text=True, check=True
    ).stdout.strip()


def deb_listing(deb: Path) -> dict[str, str]:
    """Path in the package -> its `ls -l`-style mode string (and link target)."""
    listing = subprocess.run(
        ["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    entries = {}
    for line in listing.splitlines():
        mode, _owner, _size, _date, _time, name, *rest = line.split()
        entries[name.removeprefix(".").rstrip("/") or "/"] = " ".join([mode, *rest])
    return entries


# -- the package as a file -------------------------------------------------------------------


def test_the_package_is_self_contained_on_the_system_interpreter(builds: Builds) -> None:
    assert builds.first.name.startswith("hostkeeper_") and builds.first.suffix == ".deb"
    assert deb_field(builds.first, "Version").endswith("-1")
    assert deb_field(builds.second, "Version").endswith("-2")
    depends = deb_field(builds.first, "Depends")
    assert "python3 (>= 3.11.2)" in depends and "python3 (<< 3." in depends

    entries = deb_listing(builds.first)
    assert entries["/opt/hostkeeper/bin/python3"].endswith(f"-> {SYSTEM_PYTHON}")
    assert entries["/usr/bin/hostkeeper"].endswith("-> /opt/hostkeeper/bin/hostkeeper")
    for path in (
        "/lib/systemd/system/hostkeeper.service",
        "/etc/logrotate.d/hostkeeper",
        "/usr/share/hostkeeper/hostkeeper-rules.yml",
        "/usr/share/doc/hostkeeper/copyright",
    ):
        assert path in entries, path
    assert entries[CONFIG].startswith("-rw-r-----")
    assert not any("__pycache__" in name for name in entries)

    conffiles = subprocess.run(
        ["dpkg-deb", "--info", str(builds.first), "conffiles"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert CONFIG in conffiles


def test_lintian_finds_no_errors(builds: Builds) -> None:
    if shutil.which("lintian") is None:
        missing_peer("lintian is not installed (Debian package lintian)")
    done = subprocess.run(
        ["lintian", "--no-tag-display-limit", str(builds.first)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors = [line for line in done.stdout.splitlines() if line.startswith("E:")]
    assert errors == [], done.stdout


# -- an operator's week ----------------------------------------------------------------------


@dataclass
class Host:
    """The sandboxed host, with a log of what the operator did and saw."""

    sandbox: SystemdSandbox
    journal_of_the_week: list[tuple[str, str]] = field(default_factory=list)

    def sh(self, command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.sandbox.run("sh", "-c", command, timeout=timeout)

    def hostkeeper(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.sandbox.run("hostkeeper", *args, timeout=timeout)

    def record(self, step: str, result: str) -> None:
        self.journal_of_the_week.append((step, result))

    def exists(self, path: str) -> bool:
        return self.sh(f"test -e {path} || test -L {path}").returncode == 0

    def active(self) -> bool:
        return self.sandbox.show(UNIT, "ActiveState")["ActiveState"] == "active"

    def main_pid(self) -> int:
        return int(self.sandbox.show(UNIT, "MainPID")["MainPID"])

    def status_text(self) -> str:
        return self.sandbox.show(UNIT, "StatusText")["StatusText"]

    def wait_until_active_with_status(self, timeout: float = 120) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.active() and self.status_text():
                return time.monotonic() - start
            time.sleep(0.1)
        raise AssertionError(f"{UNIT} did not become active:\n{self.unit_status()}")

    def unit_status(self) -> str:
        status = self.sandbox.systemctl("status", "--lines=40", UNIT).stdout
        return status + self.sandbox.journal("-u", UNIT, "-n", "40")

    def write_config(self, text: str) -> None:
        target = self.sandbox.path(CONFIG)
        partial = target.with_name(target.name + ".e2e-tmp")
        partial.write_text(text, encoding="utf-8")
        partial.chmod(0o640)
        partial.replace(target)

    def reload_sequence(self) -> int:
        """How many reloads the running daemon has attempted (its daemon.json)."""
        state = json.loads(self.sandbox.path("/var/lib/hostkeeper/daemon.json").read_text())
        return int((state.get("reload") or {}).get("sequence", 0))

    def read_config(self) -> str:
        return self.sandbox.path(CONFIG).read_text(encoding="utf-8")

    def run_ids(self) -> list[int]:
        done = self.hostkeeper("--json", "runs", "--limit", "1000")
        assert done.returncode == 0, done.stderr
        return sorted(run["id"] for run in json.loads(done.stdout))

    def tree(self) -> set[str]:
        roots = " ".join(WATCHED_TREES)
        listing = self.sh(f"find {roots} -xdev 2>/dev/null", timeout=600).stdout
        return {path for path in listing.splitlines() if not path.startswith(BOOKKEEPING)}


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    reason = unavailable_reason()
    if reason:
        missing_peer(f"systemd sandbox: {reason}")
    try:
        sandbox = SystemdSandbox.boot(overlay=True)
    except SandboxUnavailable as error:
        missing_peer(f"systemd sandbox: {error}")
    try:
        booted = Host(sandbox)
        # Build machines and containers forbid service starts with policy-rc.d; a host
        # does not. Removing it only touches the sandbox's overlay.
        booted.sh("rm -f /usr/sbin/policy-rc.d")
        # A stock host has no hostkeeper yet, whatever this machine has (overlay only).
        booted.sh("rm -rf " + " ".join(OWN_PATHS))
        yield booted
    finally:
        for step, result in booted.journal_of_the_week:
            print(f"operator's week: {step}: {result}")
        sandbox.stop()


def test_an_operators_week(host: Host, builds: Builds) -> None:
    inbox = host.sandbox.path(INBOX)
    inbox.mkdir(parents=True, exist_ok=True)
    for deb in (builds.first, builds.second):
        shutil.copy2(deb, inbox / deb.name)
    first = f"{INBOX}/{builds.first.name}"
    second = f"{INBOX}/{builds.second.name}"
    before_install = host.tree()

    install(host, first)
    run_every_procedure(host)
    validate_and_audit(host)
    restore_test(host)
    reload_valid_and_invalid(host)
    rotate_with_logrotate(host)
    upgrade(host, second)
    remove_and_purge(host, before_install)


def install(host: Host, deb: str) -> None:
    started = time.monotonic()
    done = host.sh(f"dpkg -i {deb}", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    installed = time.monotonic() - started
    active = installed + host.wait_until_active_with_status()
    host.record("dpkg -i", f"exit 0 in {installed:.1f} s, active with STATUS= {active:.1f} s")

    assert host.sh("systemctl is-enabled hostkeeper").stdout.strip() == "enabled"
    executable = host.sh(f"readlink /proc/{host.main_pid()}/exe").stdout.strip()
    assert executable.startswith("/usr/bin/python3"), executable
    assert host.status_text().startswith("next "), host.status_text()
    host.record("service", f"active on {executable}, STATUS={host.status_text()!r}")


def run_every_procedure(host: Host) -> None:
    for procedure in PROCEDURES:
        done = host.hostkeeper("run", procedure, timeout=600)
        first_line = done.stdout.splitlines()[0] if done.stdout else done.stderr
        assert done.returncode == 0, done.stdout + done.stderr
        host.record(f"hostkeeper run {procedure}", first_line)
        assert " failed" not in first_line
        if procedure == "daily":  # nothing on a fresh install is worth a warning
            assert first_line.startswith("daily: succeeded"), done.stdout


def validate_and_audit(host: Host) -> None:
    checked = host.hostkeeper("validate-system", "--alert-timeout", "10")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    host.record("hostkeeper validate-system", checked.stdout.splitlines()[-1])

    audited = host.hostkeeper("--json", "audit")
    findings: list[dict[str, Any]] = json.loads(audited.stdout)["findings"]
    own = [f for f in findings if any(str(f).find(path) >= 0 for path in OWN_PATHS)]
    assert own == [], own
    assert audited.returncode == 0, audited.stdout
    host.record("hostkeeper audit", "no findings")


def restore_test(host: Host) -> None:
    done = host.hostkeeper("backup", "restore-test")
    assert done.returncode == 0, done.stdout + done.stderr
    status = host.hostkeeper("--json", "status")
    assert status.returncode == 0, status.stderr
    text = host.hostkeeper("status").stdout
    backup_line = next(line for line in text.splitlines() if line.startswith("config "))
    assert "PASSED" in backup_line.split()[-3:], text
    shown = " ".join(backup_line.split())
    host.record("hostkeeper backup restore-test", f"exit 0; status: {shown}")


def reload_valid_and_invalid(host: Host) -> None:
    original = host.read_config()
    pid = host.main_pid()
    valid = re.sub(
        r"(?m)^(procedures:.*\n)",
        r"\1  e2e_pulse:\n    schedule: {every: 1h}\n    steps: [health_check]\n",
        original,
        count=1,
    )
    assert valid != original
    host.write_config(valid)
    reloaded = host.sandbox.systemctl("reload", UNIT, timeout=120)
    assert reloaded.returncode == 0, reloaded.stderr + host.unit_status()
    assert "e2e_pulse" in host.hostkeeper("schedule").stdout
    assert host.main_pid() == pid
    host.record("valid edit + systemctl reload", "exit 0, e2e_pulse scheduled, same PID")

    invalid = valid.replace("interval: 10s", "interval: often")
    assert invalid != valid
    host.write_config(invalid)
    rejected = host.sandbox.systemctl("reload", UNIT, timeout=120)
    assert rejected.returncode != 0, host.unit_status()
    assert host.active() and host.main_pid() == pid
    journal = host.sandbox.journal("-u", UNIT, "-p", "err")
    assert f"{CONFIG}:" in journal and "metrics.interval" in journal, journal
    status = host.hostkeeper("status")
    assert status.returncode == 0, status.stderr
    assert "e2e_pulse" in status.stdout  # what the daemon runs, not the broken file
    assert CONFIG in status.stderr
    check = host.hostkeeper("check")
    assert check.stdout.strip(), "check printed no Nagios line"
    host.record(
        "invalid edit + systemctl reload",
        f"exit {rejected.returncode}, daemon kept running; status answers; "
        f"check: {check.stdout.splitlines()[0]}",
    )

    host.write_config(valid)
    assert host.sandbox.systemctl("reload", UNIT, timeout=120).returncode == 0


def rotate_with_logrotate(host: Host) -> None:
    pid = host.main_pid()
    reloads = host.reload_sequence()
    host.sh("printf 'line\\n' > /var/log/hostkeeper/e2e.log")
    done = host.sh("logrotate -f /etc/logrotate.d/hostkeeper")
    assert done.returncode == 0, done.stdout + done.stderr
    assert host.exists("/var/log/hostkeeper/e2e.log.1")
    assert host.active() and host.main_pid() == pid
    assert host.reload_sequence() == reloads + 1, "postrotate did not reload the daemon"
    host.record("logrotate -f /etc/logrotate.d/hostkeeper", "rotated, daemon reloaded in place")


def upgrade(host: Host, deb: str) -> None:
    runs_before = host.run_ids()
    edited = host.read_config()
    pid = host.main_pid()
    done = host.sh(f"dpkg -i --force-confold {deb}", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    host.wait_until_active_with_status()
    version = host.sh("dpkg-query -W -f '${Version}' hostkeeper").stdout
    assert version.endswith("-2"), version
    assert host.main_pid() != pid, "the upgrade did not restart the service"
    assert host.read_config() == edited, "the upgrade replaced the edited configuration"
    runs_after = host.run_ids()
    assert runs_after[: len(runs_before)] == runs_before
    host.record("upgrade to -2", f"restarted, {len(runs_before)} runs and the edited config kept")


def remove_and_purge(host: Host, before_install: set[str]) -> None:
    done = host.sh("dpkg -r hostkeeper", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not host.active()
    for kept in (CONFIG, "/var/lib/hostkeeper/hostkeeper.db", "/var/backups/hostkeeper/config"):
        assert host.exists(kept), f"remove deleted {kept}"
    program = ("/opt/hostkeeper", "/usr/bin/hostkeeper", "/lib/systemd/system/hostkeeper.service")
    for gone in program:
        assert not host.exists(gone), f"remove left {gone}"
    host.record("dpkg -r", "service stopped, program gone, configuration and data kept")

    done = host.sh("dpkg -P hostkeeper", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    left = [path for path in OWN_PATHS if host.exists(path)]
    assert left == [], left
    new = sorted(host.tree() - before_install)
    assert new == [], new
    host.record("dpkg -P", "nothing left")
