"""Ask the running daemon to reload and wait for its verdict (`hostkeeper reload`).

A bare SIGHUP answers nothing: systemd before 253 reports only the exit status of
`ExecReload=`, so `kill -HUP` made `systemctl reload` succeed for a refused file. The
daemon records its latest reload attempt in daemon.json with the CLOCK_MONOTONIC time
it began, taken after it noticed the request and before it read the file. A waiter
notes that clock before it signals and takes the first attempt that began at or after
its signal. Signals that arrive before the daemon's loop looks are one attempt, which
began after all of them and so answers every waiter; an attempt already under way when
a waiter signalled began before it and is not that waiter's answer: the signal asked for
another attempt, and that one is.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import yaml

from hostkeeper.adapters.daemon_state import is_daemon_process, state_file
from hostkeeper.adapters.systemd import monotonic_usec
from hostkeeper.config import ConfigError, load_config
from hostkeeper.config.models import Paths

log = structlog.get_logger("hostkeeper.reload")

POLL_SECONDS = 0.1


class ReloadUnanswered(Exception):
    """No verdict: no daemon, one we may not signal, or one that exited or kept silent."""


@dataclass(frozen=True)
class ReloadVerdict:
    pid: int
    signalled_usec: int  # CLOCK_MONOTONIC just before the signal was sent
    attempt: dict[str, Any]  # daemon.json's `reload`: sequence, result, errors, ...

    @property
    def applied(self) -> bool:
        return self.attempt.get("result") == "ok"

    @property
    def errors(self) -> list[str]:
        return [str(error) for error in self.attempt.get("errors") or []]

    def as_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "signalled_monotonic_usec": self.signalled_usec} | {
            "applied": self.applied,
            "reload": self.attempt,
        }


def state_dir_of(config_file: str) -> str:
    """paths.state_dir of `config_file`, read leniently: a file the daemon will refuse is
    the case this verb is for, and the default when the file does not say."""
    try:
        return load_config(config_file).config.paths.state_dir
    except ConfigError:
        pass
    try:
        raw = yaml.safe_load(Path(config_file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raw = None
    paths = raw.get("paths") if isinstance(raw, dict) else None
    value = paths.get("state_dir") if isinstance(paths, dict) else None
    default: str = Paths.model_fields["state_dir"].default
    return str(value) if isinstance(value, str) and value else default


def request_reload(state_dir: str, pid: int | None, timeout: float) -> ReloadVerdict:
    """SIGHUP to the daemon (`pid`, else the one daemon.json names), then wait up to
    `timeout` seconds for the attempt that answers it.

    Raises ReloadUnanswered with a sentence for the operator.
    """
    target = _target(state_dir, pid)
    signalled = monotonic_usec()
    try:
        os.kill(target, signal.SIGHUP)
    except ProcessLookupError:
        raise ReloadUnanswered(f"the hostkeeper daemon (pid {target}) has exited") from None
    except PermissionError:
        raise ReloadUnanswered(
            f"not allowed to signal the hostkeeper daemon (pid {target}); run as root"
        ) from None
    log.info("signalled the daemon", pid=target, signalled_monotonic_usec=signalled)
    deadline = time.monotonic() + timeout
    while True:
        state = _read_state(state_dir)
        attempt = answer(state, target, signalled)
        if attempt is not None:
            return ReloadVerdict(target, signalled, attempt)
        if not is_daemon_process(target):
            raise ReloadUnanswered(f"the hostkeeper daemon (pid {target}) exited before answering")
        if time.monotonic() >= deadline:
            raise ReloadUnanswered(
                f"no answer from the hostkeeper daemon (pid {target}) within {timeout:g}s "
                "(journalctl -u hostkeeper shows what it is doing)"
            )
        time.sleep(POLL_SECONDS)


def answer(state: dict[str, Any] | None, pid: int, signalled_usec: int) -> dict[str, Any] | None:
    """The reload attempt recorded in `state` that answers a SIGHUP sent to `pid` at
    CLOCK_MONOTONIC `signalled_usec`, or None while there is none yet."""
    if not state or state.get("pid") != pid:
        return None
    attempt = state.get("reload")
    if not isinstance(attempt, dict):
        return None
    started = attempt.get("started_monotonic_usec")
    if not isinstance(started, int) or started < signalled_usec:
        return None
    return attempt


def _target(state_dir: str, pid: int | None) -> int:
    """The daemon to signal: `pid` when given (systemd's $MAINPID), else daemon.json's."""
    path = state_file(state_dir)
    state = _read_state(state_dir)
    if pid is not None:
        if not is_daemon_process(pid):
            raise ReloadUnanswered(f"no hostkeeper daemon runs as pid {pid}")
        if state is None or state.get("pid") != pid:
            # It would answer in a state file we do not read: say so now, not at timeout.
            found = "does not exist" if state is None else f"names pid {state.get('pid')}"
            raise ReloadUnanswered(
                f"{path} {found}, not the daemon's pid {pid}: "
                "does the daemon run with another --config?"
            )
        return pid
    if state is None:
        raise ReloadUnanswered(f"no hostkeeper daemon is running ({path} does not exist)")
    recorded = state.get("pid")
    if not isinstance(recorded, int) or not is_daemon_process(recorded):
        raise ReloadUnanswered(
            f"no hostkeeper daemon is running ({path} names pid {recorded}, which has exited)"
        )
    return recorded


def _read_state(state_dir: str) -> dict[str, Any] | None:
    """daemon.json, or None when missing or unreadable as JSON (it is replaced atomically,
    so a half-written file is never seen); a permission problem is an error of its own."""
    path = state_file(state_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except PermissionError:
        raise ReloadUnanswered(f"cannot read {path}: permission denied; run as root") from None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
