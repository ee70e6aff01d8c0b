"""Helpers shared by unit tests (not fixtures)."""

from __future__ import annotations

import time
from pathlib import Path


def process_gone(pid: int, within: float = 10.0) -> bool:
    """Whether `pid` exits within `within` seconds (a zombie awaiting its reaper counts)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False
