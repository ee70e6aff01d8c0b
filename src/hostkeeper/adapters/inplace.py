"""Changing files in place for a rollback: atomic replacement and private copies.

A replacement is written to a temp name in the file's own directory (mode 0600 until
its content is complete), fsynced and renamed over the original, so the path always
holds either the old or the new file. Copies of replaced files (they may hold secrets)
go to a private directory (0700) as mode 0600 files, never beside the original: a copy
there would be readable by whoever may read that directory, read by programs that load
every file of it, and swept into the next backup of it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hostkeeper.adapters.fs import fsync_directory

_READ = 1 << 20
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class Attributes:
    """What a rollback puts back besides the content: permission bits and owner."""

    mode: int
    uid: int
    gid: int

    @classmethod
    def of(cls, info: os.stat_result) -> Attributes:
        return cls(stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)

    def describe(self) -> str:
        return f"mode {self.mode:o}, owner {self.uid}:{self.gid}"


def _copy_into(source: Path, fd: int) -> None:
    source_fd = os.open(source, READ_FLAGS)
    try:
        while data := os.read(source_fd, _READ):
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
    finally:
        os.close(source_fd)


def _apply(fd: int, attributes: Attributes, *, owner: bool) -> None:
    # The owner first: chown clears setuid/setgid bits, chmod then sets what is wanted.
    if owner and os.geteuid() == 0:
        os.fchown(fd, attributes.uid, attributes.gid)
    os.fchmod(fd, attributes.mode)


def replace_file(path: Path, content_from: Path, attributes: Attributes, *, owner: bool) -> None:
    """Put the content of `content_from` at `path` atomically, with `attributes`
    (the owner only when `owner` and we are root). Raises OSError; on failure `path`
    is untouched and the temp file removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.rollback.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    fd = os.open(temp, _CREATE, 0o600)
    try:
        _copy_into(content_from, fd)
        _apply(fd, attributes, owner=owner)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    os.close(fd)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def set_attributes(path: Path, attributes: Attributes, *, owner: bool) -> None:
    """Change mode (and owner, when `owner` and root) of the regular file `path`."""
    fd = os.open(path, READ_FLAGS | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file", str(path))
        _apply(fd, attributes, owner=owner)
    finally:
        os.close(fd)


class PrivateCopies:
    """Copies of files about to be replaced, in one 0700 directory per rollback under
    `parent` (created 0700 on the first copy; nothing is created if nothing is kept)."""

    def __init__(self, parent: Path, stamp: str) -> None:
        self.parent = parent
        self.stamp = stamp
        self.directory: Path | None = None

    def keep(self, path: Path) -> Path:
        """A 0600 copy of the regular file `path`, at the directory + its absolute path."""
        if self.directory is None:
            self.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.parent, 0o700)
            self.directory = Path(tempfile.mkdtemp(prefix=f"{self.stamp}-", dir=self.parent))
        copy = self.directory / str(path.absolute()).lstrip("/")
        copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(copy, _CREATE, 0o600)
        try:
            _copy_into(path, fd)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            copy.unlink(missing_ok=True)
            raise
        os.close(fd)
        return copy
