"""The daemon's state file (state_dir/daemon.json), read by `hostkeeper status`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hostkeeper.adapters.fs import atomic_write


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
