"""Running commands: argv lists, never a shell, with a timeout and bounded captured output."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hostkeeper.core.output import DEFAULT_OUTPUT_LIMIT

# Variables that belong to hostkeeper's own relation with systemd, not to its children.
_PRIVATE_ENVIRONMENT = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS")
KILL_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int | None  # None when it never started or had to be killed
    output: str
    duration: float
    timed_out: bool = False
    cancelled: bool = False
    start_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe_failure(self) -> str:
        if self.start_error:
            return self.start_error
        if self.timed_out:
            return f"timed out after {self.duration:.1f}s and was killed"
        if self.cancelled:
            return "stopped because hostkeeper is shutting down"
        if self.returncode is not None and self.returncode < 0:
            return f"killed by signal {signal.Signals(-self.returncode).name}"
        return f"exited with status {self.returncode}"


class _BoundedCapture:
    """Keeps the first and last `limit // 2` bytes of a stream, counting the rest."""

    def __init__(self, limit: int) -> None:
        self.half = limit // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > self.half:
            excess = len(self.tail) - self.half
            self.dropped += excess
            del self.tail[:excess]

    def text(self) -> str:
        middle = f"\n... [{self.dropped} bytes omitted] ...\n" if self.dropped else ""
        return (
            bytes(self.head).decode(errors="replace")
            + middle
            + bytes(self.tail).decode(errors="replace")
        )


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in _PRIVATE_ENVIRONMENT}
    environment.update(extra or {})
    return environment


def run_command(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
    on_line: Callable[[str], None] | None = None,
) -> CommandResult:
    """Run `argv` to completion, a timeout, or `cancel`; never raises for the command's sake.

    The command gets its own session, so a timeout kills the whole process group, not
    only its first process. `on_line` is given each line of output as it comes (from
    the reading thread), besides the bounded capture in the result.
    """
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=child_environment(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as error:
        return CommandResult(
            tuple(argv), None, "", 0.0, start_error=f"cannot start {argv[0]}: {error.strerror}"
        )
    capture = _BoundedCapture(output_limit)
    lines = _LineSplitter(on_line) if on_line is not None else None
    reader = threading.Thread(target=_drain, args=(process, capture, lines), daemon=True)
    reader.start()
    timed_out = cancelled = False
    while True:
        try:
            process.wait(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            pass
        if timeout is not None and time.monotonic() - started > timeout:
            timed_out = True
        elif cancel is not None and cancel.is_set():
            cancelled = True
        if timed_out or cancelled:
            _kill_group(process)
            break
    reader.join(timeout=KILL_GRACE_SECONDS)
    returncode = process.returncode
    return CommandResult(
        tuple(argv),
        None if (timed_out or cancelled) else returncode,
        capture.text(),
        time.monotonic() - started,
        timed_out=timed_out,
        cancelled=cancelled,
    )


class _LineSplitter:
    """Cuts a byte stream into lines for a callback; a line longer than MAX_LINE_BYTES
    is handed over in pieces rather than held without bound."""

    MAX_LINE_BYTES = 64 * 1024

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self.pending = bytearray()

    def add(self, chunk: bytes) -> None:
        self.pending += chunk
        *whole, rest = bytes(self.pending).split(b"\n")
        self.pending = bytearray(rest)
        for line in whole:
            self._emit(line)
        while len(self.pending) > self.MAX_LINE_BYTES:
            self._emit(bytes(self.pending[: self.MAX_LINE_BYTES]))
            del self.pending[: self.MAX_LINE_BYTES]

    def close(self) -> None:
        if self.pending:
            self._emit(bytes(self.pending))
            self.pending.clear()

    def _emit(self, line: bytes) -> None:
        # Whoever listens must not stop the draining (and so the command).
        with contextlib.suppress(Exception):
            self.on_line(line.decode(errors="replace").rstrip("\r"))


def _drain(
    process: subprocess.Popen[bytes], capture: _BoundedCapture, lines: _LineSplitter | None
) -> None:
    stream = process.stdout
    assert isinstance(stream, io.BufferedReader)
    with stream:
        while chunk := stream.read1(65536):
            capture.add(chunk)
            if lines is not None:
                lines.add(chunk)
    if lines is not None:
        lines.close()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the command's process group, then SIGKILL what is left after a grace."""
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            if sig == signal.SIGTERM:
                # The leader is gone; make sure its children are too.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue
