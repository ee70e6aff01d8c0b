"""Locks of the file maintenance, shared by the daemon's steps and the CLI verbs.

Rotation and cleanup take one lock (`files.lock`): both rename, compress and delete in
log directories, and a `.gz.tmp` found while holding it can only be a crash's leftover.
Each backup set has its own lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hostkeeper.adapters.locks import FileLock, LockHeld
from hostkeeper.config import Config
from hostkeeper.core.names import safe_path_name

DEFAULT_WAIT_SECONDS = 60.0


def files_lock_path(config: Config) -> Path:
    return Path(config.paths.state_dir) / "locks" / "files.lock"


def backup_lock_path(config: Config, backup_set: str) -> Path:
    return Path(config.paths.state_dir) / "locks" / f"backup-{safe_path_name(backup_set)}.lock"


@contextmanager
def waiting_lock(
    path: Path,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    check: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold `path`'s lock, waiting up to `wait_seconds` for another holder; raises LockHeld."""
    deadline = time.monotonic() + wait_seconds
    lock = FileLock(path)
    while True:
        try:
            lock.acquire()
            break
        except LockHeld:
            if time.monotonic() >= deadline:
                raise
            if check:
                check()
            time.sleep(0.2)
    try:
        yield
    finally:
        lock.release()
