"""The daemon's state file (state_dir/daemon.json), read by `hostkeeper status` and
`hostkeeper reload`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hostkeeper.adapters.fs import atomic_write

# A file with hundreds of mistakes keeps the state file small; the journal has them all.
MAX_RECORDED_ERRORS = 50


@dataclass
class ReloadAttempt:
    """The daemon's latest reload attempt, the answer `hostkeeper reload` waits for.

    `started_monotonic_usec` is CLOCK_MONOTONIC when the attempt began, before the file
    was read: a waiter that signalled at or before it is answered by this attempt.
    """

    sequence: int  # 1 for the first reload of this daemon process
    started_at: str
    started_monotonic_usec: int
    finished_at: str
    result: str  # "ok" or "failed"
    errors: list[str] = field(default_factory=list)  # `FILE:LINE: key.path: message`

    @classmethod
    def finished(
        cls, sequence: int, started_at: str, started_usec: int, errors: list[str]
    ) -> ReloadAttempt:
        kept = errors[:MAX_RECORDED_ERRORS]
        if len(errors) > len(kept):
            kept.append(f"... and {len(errors) - len(kept)} more (journalctl -u hostkeeper -p err)")
        return cls(
            sequence=sequence,
            started_at=started_at,
            started_monotonic_usec=started_usec,
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            result="failed" if errors else "ok",
            errors=kept,
        )


@dataclass
class DaemonState:
    pid: int
    started_at: str
    config_file: str
    config_loaded_at: str
    last_reload: str  # "ok" or the error's first line
    last_reload_at: str | None = None
    version: str = ""
    dashboard_url: str | None = None
    config_sha256: str = ""  # of state_dir/running-config.yaml, the text now in force
    reload: ReloadAttempt | None = None
    # A remote database that does not answer: since when, and what waits in the spool.
    store_unreachable_since: str | None = None
    spool: dict[str, int] | None = None


def state_file(state_dir: str) -> Path:
    return Path(state_dir) / "daemon.json"


def write_state(state_dir: str, state: DaemonState) -> None:
    atomic_write(state_file(state_dir), json.dumps(asdict(state), indent=2).encode(), 0o640)


def read_state(state_dir: str) -> dict[str, Any] | None:
    """The recorded state with `running` added, or None when no daemon ever wrote one."""
    try:
        data: dict[str, Any] = json.loads(state_file(state_dir).read_text())
    except (OSError, ValueError):
        return None
    data["running"] = _alive(int(data.get("pid", 0)))
    return data


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"hostkeeper" in cmdline


def is_daemon_process(pid: int) -> bool:
    """Whether `pid` runs `hostkeeper ... daemon` (not merely something named hostkeeper,
    and not a pid the kernel has since given to another program)."""
    if pid <= 0:
        return False
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    named = any(Path(os.fsdecode(argument)).name == "hostkeeper" for argument in arguments)
    return named and b"daemon" in arguments
