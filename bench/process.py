"""Running `hostkeeper --config CFG daemon` the way systemd does, and reading its cost.

The daemon gets a clean environment plus NOTIFY_SOCKET (and WATCHDOG_USEC when asked),
its output goes to a file in the site, and it is stopped by its own PID: SIGTERM, then
SIGKILL if it does not exit in time. CPU and memory come from /proc/PID.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.notify import Message, NotifySocket, NotifyTimeout
from bench.site import Site

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Set for the benchmark runner by systemd or a developer's shell; never for the daemon.
_INHERITED = (
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "JOURNAL_STREAM",
    "HOSTKEEPER_CONFIG",
    "LISTEN_FDS",
    "LISTEN_PID",
    "INVOCATION_ID",
    "PYTHONPROFILEIMPORTTIME",
)
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0


def hostkeeper_command() -> str:
    """The `hostkeeper` script next to this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / "hostkeeper"
    if beside.exists():
        return str(beside)
    found = shutil.which("hostkeeper")
    if not found:
        raise RuntimeError("no hostkeeper command: run `make venv` first")
    return found


def clean_environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _INHERITED}
    env.update(extra)
    return env


class DaemonFailed(RuntimeError):
    pass


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    notify: NotifySocket
    log_file: Path
    spawned_at: float  # time.monotonic() just before the spawn

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> Message:
        try:
            return self.notify.wait_for("READY", "1", timeout=timeout, alive=self.alive)
        except NotifyTimeout as error:
            raise DaemonFailed(f"{error}\n{self.log_tail()}") from None

    def cpu_seconds(self) -> float:
        """User + system CPU of the daemon (all threads) and of its reaped children."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17
        ticks = sum(int(value) for value in fields[11:15])
        return ticks / CLOCK_TICKS

    def on_cpu_seconds(self) -> float:
        """Time on CPU of the live threads, from schedstat (nanoseconds, not 10 ms ticks)."""
        total = 0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9

    def status(self) -> dict[str, str]:
        """/proc/PID/status as a mapping (VmHWM, VmRSS, Threads, ...)."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return fields

    def memory_mib(self, key: str) -> float:
        """VmHWM (peak RSS) or VmRSS, in MiB."""
        kib = int(self.status()[key].split()[0])
        return kib / 1024

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no daemon output)"
        return "daemon output (last lines):\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> int:
        """SIGTERM, wait, SIGKILL if needed; the exit status."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while self.alive() and time.monotonic() < deadline:
                # keep the notification queue drained: a full queue blocks the sender
                self.notify.collect(min(time.monotonic() + 0.05, deadline))
            if self.alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
        return self.process.wait()


@contextmanager
def running_daemon(
    site: Site, watchdog_usec: int | None = None, label: str = "daemon", **extra_env: str
) -> Iterator[Daemon]:
    """Start the daemon for `site`; stop it (by its PID) when the block ends."""
    notify = NotifySocket()
    env = clean_environment(NOTIFY_SOCKET=notify.address, **extra_env)
    if watchdog_usec is not None:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    log_file = site.root / f"{label}.log"
    command = [hostkeeper_command(), "--config", str(site.config), "daemon"]
    with log_file.open("ab") as output:
        spawned_at = time.monotonic()
        process = subprocess.Popen(
            command,
            env=env,
            cwd=site.root,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
        )
    daemon = Daemon(process, notify, log_file, spawned_at)
    try:
        yield daemon
    finally:
        status = daemon.stop()
        notify.close()
        if status not in (0, -signal.SIGTERM):
            print(
                f"  !! the daemon exited with status {status}\n{daemon.log_tail()}",
                file=sys.stderr,
            )
