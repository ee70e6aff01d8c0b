"""Reading the per-day logs back: whole files (plain or gzipped) and `tail -f` that
survives rotation.

A `Follower` reads each file it is given from the start, then whatever is appended.
When a file is renamed away (rotated) it first reads the rest of the old file, whose
handle it keeps, then the new file from its start; a file truncated in place
(copytruncate) is read again from its start. Only whole lines are returned.
"""

from __future__ import annotations

import gzip
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

MAX_PARTIAL = 1024 * 1024  # a "line" longer than this is returned as it is


def read_log(path: Path) -> list[str]:
    """The lines of a log file; `.gz` files are decompressed."""
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as stream:
            return stream.read().splitlines()
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


@dataclass
class _Tracked:
    fd: int
    identity: tuple[int, int]
    partial: bytearray = field(default_factory=bytearray)


class Follower:
    """Follows the files `paths()` names (asked again at every poll; a file once
    followed stays followed while it exists)."""

    def __init__(self, paths: Callable[[], Iterable[Path]]) -> None:
        self._paths = paths
        self._tracked: dict[Path, _Tracked] = {}

    def poll(self) -> list[tuple[Path, str]]:
        """The whole lines written since the last poll, as (file, line), file by file."""
        lines: list[tuple[Path, str]] = []
        for path in [*self._tracked, *(p for p in self._paths() if p not in self._tracked)]:
            lines += [(path, line) for line in self._poll_one(path)]
        return lines

    def close(self) -> None:
        for tracked in self._tracked.values():
            os.close(tracked.fd)
        self._tracked.clear()

    def _poll_one(self, path: Path) -> list[str]:
        tracked = self._tracked.get(path)
        try:
            info = os.stat(path)
        except FileNotFoundError:
            info = None
        identity = (info.st_dev, info.st_ino) if info else None
        lines: list[str] = []
        if tracked is not None and tracked.identity != identity:
            # Rotated or removed: what was appended to the old file before it moved
            # comes first, then the old file is let go.
            lines += self._read(tracked, final=True)
            os.close(tracked.fd)
            del self._tracked[path]
            tracked = None
        if identity is None:
            return lines
        if tracked is None:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return lines
            tracked = self._tracked[path] = _Tracked(fd, identity)
        elif info is not None and info.st_size < os.lseek(tracked.fd, 0, os.SEEK_CUR):
            os.lseek(tracked.fd, 0, os.SEEK_SET)  # truncated in place: read it again
            tracked.partial.clear()
        return lines + self._read(tracked, final=False)

    @staticmethod
    def _read(tracked: _Tracked, final: bool) -> list[str]:
        while chunk := os.read(tracked.fd, 65536):
            tracked.partial += chunk
        *whole, rest = bytes(tracked.partial).split(b"\n")
        tracked.partial = bytearray(rest)
        if (final or len(rest) > MAX_PARTIAL) and rest:
            whole.append(rest)
            tracked.partial.clear()
        return [line.decode("utf-8", errors="replace") for line in whole]


def follow(
    paths: Callable[[], Iterable[Path]],
    emit: Callable[[list[tuple[Path, str]]], None],
    stop: threading.Event,
    interval: float = 0.5,
) -> None:
    """Poll `paths` every `interval` seconds, handing each batch of new lines to `emit`,
    until `stop` is set."""
    follower = Follower(paths)
    try:
        while True:
            batch = follower.poll()
            if batch:
                emit(batch)
            if stop.wait(interval):
                return
    finally:
        follower.close()
