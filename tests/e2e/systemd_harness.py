"""Boot a real systemd as PID 1 in private namespaces, to test units with systemctl.

The sandbox gets private mount, PID, network (loopback only), UTS and IPC namespaces.
Inside it, /tmp, /var/tmp, /run and /var/log/journal are fresh tmpfs mounts: without
them systemd-tmpfiles would empty the host's /tmp at boot, and the sandbox's journal and
units would land on the host. The host's enabled units are hidden by bind-mounting an
empty directory over every /etc/systemd/system/*.wants, and systemd stops at
basic.target, so only the units a test starts run. systemd logs to the sandbox's journal
(kmsg only until journald is up), so `journalctl -u UNIT` shows its messages about a unit.

Traps:
- /tmp is private inside: nothing under the host's /tmp (pytest's tmp_path included) is
  visible to units. Keep the config, state and programs a unit uses elsewhere.
- Everything else (/etc, /var/lib, /opt, ...) is the host's filesystem: directories a
  unit creates there (StateDirectory=, ...) stay on the host after the sandbox is gone.
- Stop it by killing its PID 1 from the host; the kernel ends every process inside.

Needs root, util-linux `unshare` and `nsenter`, and the systemd package.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

SYSTEMD = "/lib/systemd/systemd"
UNIT_DIR = "/run/systemd/system"
NAMESPACES = ("-m", "-p", "-n", "-u", "-i")

# Runs inside the new namespaces as their PID 1, then becomes systemd.
_INNER = f"""
set -e
mount --make-rprivate /
@OVERLAY@
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/tmp
mount -t tmpfs tmpfs /run
mkdir -p /var/log/journal && mount -t tmpfs tmpfs /var/log/journal
mkdir -p {UNIT_DIR} /run/empty-wants
for d in /etc/systemd/system/*.wants; do
  if [ -d "$d" ]; then mount --bind /run/empty-wants "$d"; fi
done
ip link set lo up 2>/dev/null || true
export container=hostkeeper-e2e
exec {SYSTEMD} --system --unit=basic.target --log-target=journal-or-kmsg --log-level=warning \\
  </dev/null >/dev/null 2>&1
"""

# With `overlay=True`, the sandbox's root is an overlay of the host's root filesystem
# with a tmpfs on top: whatever happens inside (`dpkg -i`, files under /opt, /etc, /var)
# stays in the tmpfs and is gone with the sandbox. /mnt only serves as a mount point in
# the private mount namespace; the host's /mnt is untouched.
_OVERLAY = """
mount -t tmpfs -o mode=0755 tmpfs /mnt
mkdir -p /mnt/upper /mnt/work /mnt/root
mount -t overlay overlay -o lowerdir=/,upperdir=/mnt/upper,workdir=/mnt/work /mnt/root
for m in /proc /sys /dev; do mount --rbind "$m" "/mnt/root$m"; done
cd /mnt/root
mkdir -p .host-root
pivot_root . .host-root
cd /
umount -l /.host-root
rmdir /.host-root
"""


class SandboxUnavailable(RuntimeError):
    """This machine cannot run the sandbox; the message says why."""


def unavailable_reason() -> str | None:
    """Why a sandbox cannot be booted here, or None if it is worth trying."""
    if os.geteuid() != 0:
        return "needs root to create namespaces and boot systemd"
    for tool in ("unshare", "nsenter", "mount"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (Debian package util-linux)"
    if not os.access(SYSTEMD, os.X_OK):
        return f"{SYSTEMD} is missing (Debian package systemd)"
    if shutil.which("systemctl") is None or shutil.which("journalctl") is None:
        return "systemctl/journalctl are missing (Debian package systemd)"
    return None


class SystemdSandbox:
    """A running sandboxed systemd; `pid` is its PID 1 as the host sees it."""

    def __init__(self, launcher: subprocess.Popen[bytes], pid: int) -> None:
        self._launcher = launcher
        self.pid = pid

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def boot(cls, timeout: float = 60.0, overlay: bool = False) -> SystemdSandbox:
        """Start systemd and wait until it reports running (or degraded).

        `overlay`: give the sandbox a throwaway copy-on-write view of the host's root
        filesystem, so that installing packages inside it leaves the host as it was.
        """
        reason = unavailable_reason()
        if reason:
            raise SandboxUnavailable(reason)
        launcher = subprocess.Popen(
            [
                "unshare",
                "--mount",
                "--pid",
                "--fork",
                "--mount-proc",
                "--uts",
                "--ipc",
                "--net",
                "/bin/bash",
                "-c",
                _INNER.replace("@OVERLAY@", _OVERLAY if overlay else ""),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        sandbox: SystemdSandbox | None = None
        state = ""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if launcher.poll() is not None:
                    stderr = (
                        launcher.stderr.read().decode(errors="replace") if launcher.stderr else ""
                    )
                    raise SandboxUnavailable(
                        f"the namespaces could not be set up (exit {launcher.returncode}): "
                        f"{stderr.strip()}"
                    )
                if sandbox is None:
                    pid = _systemd_child(launcher.pid)
                    if pid is not None:
                        sandbox = cls(launcher, pid)
                if sandbox is not None:
                    remaining = max(deadline - time.monotonic(), 1.0)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        state = sandbox.run(
                            "systemctl", "is-system-running", "--wait", timeout=remaining
                        ).stdout.strip()
                    if state in ("running", "degraded"):
                        return sandbox
                time.sleep(0.2)
        except BaseException:
            if sandbox is not None:
                sandbox.stop()
            else:
                _end(launcher)
            raise
        if sandbox is not None:
            sandbox.stop()
        else:
            _end(launcher)
        raise SandboxUnavailable(
            f"systemd did not come up within {timeout:g}s (last state: {state or 'none'})"
        )

    def stop(self) -> None:
        """Kill PID 1 of the sandbox; the kernel then ends everything inside."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 9)
        _end(self._launcher)

    # -- commands inside -------------------------------------------------------------------

    def run(
        self, *argv: str, timeout: float = 60.0, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the sandbox's namespaces, output captured."""
        result = subprocess.run(
            ["nsenter", "-t", str(self.pid), *NAMESPACES, *argv],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv)} exited {result.returncode} in the sandbox:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def systemctl(
        self, *args: str, timeout: float = 60.0, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return self.run("systemctl", "--no-pager", *args, timeout=timeout, check=check)

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        """`systemctl show` properties of `unit` as a dict."""
        args = [f"--property={name}" for name in properties]
        output = self.systemctl("show", *args, unit, check=True).stdout
        values = {}
        for line in output.splitlines():
            name, _, value = line.partition("=")
            values[name] = value
        return values

    def journal(self, *args: str) -> str:
        """`journalctl ARGS` output (message text only) from the sandbox's journal."""
        return self.run("journalctl", "--no-pager", "-o", "cat", *args, check=True).stdout

    # -- files inside ----------------------------------------------------------------------

    def path(self, inside: str) -> Path:
        """The host path of `inside` as the sandbox sees it (its /run, /tmp, ...)."""
        return Path(f"/proc/{self.pid}/root") / inside.lstrip("/")

    def install_file(self, inside: str, text: str, mode: int = 0o644) -> None:
        target = self.path(inside)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        target.chmod(mode)

    def install_unit(self, name: str, text: str, drop_ins: Sequence[tuple[str, str]] = ()) -> None:
        """Put a unit (and `(file name, text)` drop-ins) in /run/systemd/system, reload."""
        self.install_file(f"{UNIT_DIR}/{name}", text)
        for file_name, drop_in in drop_ins:
            self.install_file(f"{UNIT_DIR}/{name}.d/{file_name}", drop_in)
        self.systemctl("daemon-reload", check=True)


def _systemd_child(launcher_pid: int) -> int | None:
    """The PID of systemd once `unshare --fork` has started it."""
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(launcher_pid).children():
            with contextlib.suppress(psutil.Error):
                if child.name() == "systemd":
                    return child.pid
    return None


def _end(launcher: subprocess.Popen[bytes]) -> None:
    """Make sure `unshare` and its child are gone (the child is PID 1 of the sandbox)."""
    if launcher.poll() is None:
        for child in _children(launcher.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, 9)
        try:
            launcher.wait(10)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait(10)
    if launcher.stderr is not None:
        launcher.stderr.close()


def _children(pid: int) -> list[int]:
    with contextlib.suppress(psutil.Error):
        return [child.pid for child in psutil.Process(pid).children()]
    return []
