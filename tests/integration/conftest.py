"""Running the real `hostkeeper daemon` as a subprocess, with a fake systemd around it.

Each test gets its own directory tree and SQLite file under tmp_path, a notification
socket standing in for systemd, and a factory that starts daemons and kills whatever
is left of them (and of the commands they ran) when the test ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psutil
import pytest
from notify_socket import NotifySocket

T = TypeVar("T")

PYTHON = sys.executable
# What systemd (or the developer's shell) might have set for the test runner itself.
_INHERITED_NOISE = (
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "JOURNAL_STREAM",
    "HOSTKEEPER_CONFIG",
    "LISTEN_FDS",
    "LISTEN_PID",
    "INVOCATION_ID",
)
_PRIORITY_PREFIX = "<"


def clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_NOISE}
    env.update(extra)
    return env


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


def line_number(text: str, fragment: str) -> int:
    """The 1-based line of the only line of `text` containing `fragment`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(found) == 1, f"{fragment!r} is on lines {found}"
    return found[0]


# -- configuration -----------------------------------------------------------------------


@dataclass
class Site:
    """One test's hostkeeper installation: its directories, config file and database."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "hostkeeper.yaml"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def database(self) -> Path:
        return self.state_dir / "hostkeeper.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    def config_text(
        self,
        procedures: str,
        *,
        shutdown_timeout: str = "1s",
        log_format: str = "json",
        watchdog: bool = True,
        database_url: str | None = None,
        preamble: str = "",
        daemon_extra: str = "",
    ) -> str:
        """A complete config; `procedures` is the YAML under `procedures:`, unindented."""
        body = "".join(f"  {line}\n" if line.strip() else "\n" for line in procedures.splitlines())
        extra = "".join(f"  {line}\n" for line in daemon_extra.splitlines() if line.strip())
        quoted = json.dumps  # a JSON string is a valid double-quoted YAML scalar
        return (
            preamble
            + "version: 1\n"
            + "timezone: UTC\n"
            + "paths:\n"
            + f"  state_dir: {quoted(str(self.state_dir))}\n"
            + f"  report_dir: {quoted(str(self.root / 'reports'))}\n"
            + f"  backup_dir: {quoted(str(self.root / 'backups'))}\n"
            + f"  log_dir: {quoted(str(self.root / 'log'))}\n"
            + "database:\n"
            + f"  url: {quoted(database_url or self.database_url)}\n"
            + "daemon:\n"
            + f"  watchdog: {'true' if watchdog else 'false'}\n"
            + f"  shutdown_timeout: {shutdown_timeout}\n"
            + f"  log_format: {log_format}\n"
            + "  log_level: info\n"
            + extra
            + "dashboard:\n"
            + "  enabled: false\n"
            + "procedures:\n"
            + body
        )

    def write_config(self, procedures: str, **options: Any) -> str:
        """Write the config file atomically (the daemon may read it at any time)."""
        text = self.config_text(procedures, **options)
        self.write_text(text)
        return text

    def write_text(self, text: str) -> None:
        partial = self.config.with_name(self.config.name + ".tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(self.config)

    # -- the CLI ---------------------------------------------------------------------------

    @property
    def cli_config(self) -> Path:
        """A config of its own for the CLI: same database, valid whatever the test does
        to the daemon's file."""
        path = self.root / "cli.yaml"
        if not path.exists():
            path.write_text(self.config_text("{}"), encoding="utf-8")
        return path

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PYTHON, "-m", "hostkeeper", "--config", str(self.cli_config), *args],
            env=clean_environment(),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check:
            assert result.returncode == 0, (
                f"hostkeeper {' '.join(args)} exited {result.returncode}: {result.stderr}"
            )
        return result

    def runs(self, procedure: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Run history through `hostkeeper --json runs`, newest first."""
        args = ["--json", "runs", "--limit", str(limit)]
        if procedure:
            args += ["--procedure", procedure]
        records: list[dict[str, Any]] = json.loads(self.cli(*args).stdout)
        return records

    def daemon_state(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads((self.state_dir / "daemon.json").read_text())
        except (OSError, ValueError):
            return None
        return data


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


# -- the daemon ---------------------------------------------------------------------------


class DaemonProcess:
    """A running `hostkeeper daemon` whose stderr is collected line by line."""

    def __init__(
        self,
        site: Site,
        notify: NotifySocket | None,
        watchdog_usec: int | None,
        journal: bool,
        extra_env: dict[str, str],
    ) -> None:
        self.site = site
        env = clean_environment(**extra_env)
        if notify is not None:
            env["NOTIFY_SOCKET"] = notify.address
        if watchdog_usec is not None:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        read_end, write_end = os.pipe()
        stat = os.fstat(write_end)
        self.journal_stream = f"{stat.st_dev}:{stat.st_ino}"
        if journal:
            env["JOURNAL_STREAM"] = self.journal_stream
        self._lines: list[str] = []
        self._changed = threading.Condition()
        try:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "hostkeeper", "--config", str(site.config), "daemon"],
                env=env,
                cwd=site.root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=write_end,
            )
        finally:
            os.close(write_end)
        self._stderr = os.fdopen(read_end, "r", encoding="utf-8", errors="replace")
        self._reader = threading.Thread(target=self._read, name="daemon-stderr", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        for line in self._stderr:
            with self._changed:
                self._lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    # -- stderr ----------------------------------------------------------------------------

    @property
    def lines(self) -> list[str]:
        with self._changed:
            return list(self._lines)

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def events(self) -> list[dict[str, Any]]:
        """Every stderr line that is a JSON log event (a `<N>` prefix is dropped)."""
        events = []
        for line in self.lines:
            text = line
            if text.startswith(_PRIORITY_PREFIX) and ">" in text:
                text = text.split(">", 1)[1]
            try:
                event = json.loads(text)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.append(event)
        return events

    def wait_for_event(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0, what: str = ""
    ) -> dict[str, Any]:
        return wait_until(
            lambda: next((e for e in self.events() if predicate(e)), None),
            timeout=timeout,
            interval=0.05,
            what=what or "a log event",
        )

    def wait_for_stderr_close(self, timeout: float = 10.0) -> None:
        self._reader.join(timeout)

    # -- process ---------------------------------------------------------------------------

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 15.0) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"hostkeeper daemon still running after {timeout:g}s; stderr:\n{self.stderr}"
            ) from None
        self.wait_for_stderr_close()
        return code

    def stop(self, timeout: float = 15.0) -> int:
        self.send(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        self._reader.join(5)
        with contextlib.suppress(OSError):
            self._stderr.close()


DaemonFactory = Callable[..., DaemonProcess]


@pytest.fixture
def notify() -> Iterator[NotifySocket]:
    socket = NotifySocket()
    yield socket
    socket.close()


@pytest.fixture
def start_daemon(site: Site, notify: NotifySocket) -> Iterator[DaemonFactory]:
    """Start `hostkeeper daemon` on the site's config; every daemon is killed at the end.

    By default it is watched by the `notify` socket with WATCHDOG_USEC=1s; pass
    `notify=None` and/or `watchdog_usec=None` to leave those unset.
    """
    started: list[DaemonProcess] = []
    default_notify = notify

    def start(
        notify: NotifySocket | None = default_notify,
        watchdog_usec: int | None = 1_000_000,
        journal: bool = False,
        **extra_env: str,
    ) -> DaemonProcess:
        daemon = DaemonProcess(site, notify, watchdog_usec, journal, extra_env)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


# -- commands the daemon runs ------------------------------------------------------------


class SleepMarker:
    """A `sleep` duration no other process uses, so its processes can be found and killed."""

    def __init__(self, seconds: int) -> None:
        self.argument = f"{seconds}.{uuid.uuid4().int % 1_000_000:06d}"

    @property
    def argv_yaml(self) -> str:
        return f'[sleep, "{self.argument}"]'

    def processes(self) -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["cmdline", "status"]):
            with contextlib.suppress(psutil.Error):
                cmdline = process.info["cmdline"] or []
                if (
                    len(cmdline) == 2
                    and cmdline[1] == self.argument
                    and process.info["status"] != psutil.STATUS_ZOMBIE
                ):
                    found.append(process)
        return found

    def kill_all(self) -> None:
        for process in self.processes():
            with contextlib.suppress(psutil.Error):
                process.kill()


@pytest.fixture
def sleep_marker() -> Iterator[Callable[[int], SleepMarker]]:
    markers: list[SleepMarker] = []

    def make(seconds: int) -> SleepMarker:
        marker = SleepMarker(seconds)
        markers.append(marker)
        return marker

    yield make
    for marker in markers:
        marker.kill_all()
