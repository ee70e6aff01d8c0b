"""Advisory file locks (flock) shared by the daemon and the CLI."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from hostkeeper.adapters.fs import make_private_directory


class LockHeld(Exception):
    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder
        super().__init__(f"{path} is held by {holder or 'another process'}")


class FileLock:
    """An flock on `path`; the file records the holder's PID for messages.

    The kernel drops the lock when the holder dies, so a crash never leaves it stuck.
    """

    def __init__(self, path: Path, blocking: bool = False) -> None:
        self.path = path
        self.blocking = blocking
        self._fd: int | None = None

    def acquire(self) -> None:
        make_private_directory(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if self.blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            os.close(fd)
            raise LockHeld(self.path, f"pid {holder}" if holder else "") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
