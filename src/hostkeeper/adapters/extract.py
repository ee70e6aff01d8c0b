"""Extracting a tar.gz into a fresh directory, one vetted member at a time.

hostkeeper does not leave the safety of a restore to the interpreter. Every member is
vetted here (regular files and directories only; relative paths without `..`; no
symlink, hard link, device or fifo; no name twice) and written by this module through
directory descriptors opened with O_NOFOLLOW and files created with O_EXCL, with its
mode masked (no setuid, setgid, sticky, group or other write) and never chowned.
Where tarfile has its "data" filter (3.11.4+), the filter vets each member as a second
opinion; Debian 12's 3.11.2 has none and is exactly as safe without it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

# tarfile.data_filter arrived in 3.11.4. Read at every extraction (not bound at import),
# so a test can set it to None and run the very code path of an interpreter without it.
STDLIB_DATA_FILTER: Callable[[tarfile.TarInfo, str], Any] | None = getattr(
    tarfile, "data_filter", None
)

_READ = 1 << 20
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeMember(Exception):
    """A member outside the allowlist: nothing of the archive may stay extracted."""


def member_problem(member: tarfile.TarInfo) -> str | None:
    """Why a member is outside our allowlist (regular files and directories, relative
    paths without `..`), or None."""
    name = member.name
    if not (member.isreg() or member.isdir()):
        return f"{name!r}: {_kind(member)} entries are never restored"
    if not name or name.startswith("/") or PurePosixPath(name).is_absolute():
        return f"{name!r}: absolute path"
    if ".." in PurePosixPath(name).parts or "\x00" in name:
        return f"{name!r}: path leaves the target"
    if not PurePosixPath(name).parts:
        return f"{name!r}: empty path"
    return None


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hard link"
    if member.isdev():
        return "device or fifo"
    return "special"


@dataclass
class MemberVetting:
    """The allowlist plus what needs memory: a name may appear only once."""

    seen: set[str] = field(default_factory=set)

    def problem(self, member: tarfile.TarInfo) -> str | None:
        found = member_problem(member)
        if found:
            return found
        key = "/".join(PurePosixPath(member.name).parts)
        if key in self.seen:
            return f"{member.name!r}: the name appears twice in the archive"
        self.seen.add(key)
        return None


def restored_mode(mode: int) -> int:
    """The mode a regular file archived with `mode` gets: tarfile's data filter rule
    (no setuid/setgid/sticky, no group or other write, executable only if the owner
    could execute it, owner read and write), applied by us on every interpreter."""
    mode &= 0o755
    if not mode & stat.S_IXUSR:
        mode &= ~0o111
    return mode | stat.S_IRUSR | stat.S_IWUSR


def restored_directory_mode(mode: int) -> int:
    """A directory keeps its permissions without group/other write, and its owner can
    always enter and write it."""
    return (mode & 0o755) | stat.S_IRWXU


@dataclass(frozen=True)
class _Directory:
    parts: tuple[str, ...]
    mode: int
    mtime: float


def extract_archive(
    path: Path, target: Path, *, skip: Callable[[str], bool] = lambda name: False
) -> int:
    """Extract the tar.gz `path` into the existing directory `target`; returns the
    number of regular files written. Members for which `skip(name)` is true are vetted
    but not written. Raises UnsafeMember (after emptying `target`) for a member outside
    the allowlist, and tarfile.TarError/OSError/EOFError for a damaged archive."""
    root_fd = os.open(target, _DIRECTORY_FLAGS)
    try:
        with tarfile.open(path, mode="r|gz") as tar:
            return _extract_members(tar, root_fd, os.path.realpath(target), skip)
    except BaseException:
        _empty(root_fd)
        raise
    finally:
        os.close(root_fd)


def _extract_members(
    tar: tarfile.TarFile, root_fd: int, real_target: str, skip: Callable[[str], bool]
) -> int:
    vetting = MemberVetting()
    data_filter = STDLIB_DATA_FILTER
    directories: list[_Directory] = []
    files = 0
    for member in tar:
        problem = vetting.problem(member)
        if problem is None and data_filter is not None:
            try:
                data_filter(member, real_target)
            except tarfile.FilterError as error:
                problem = f"{member.name!r}: {error}"
        if problem is None:
            problem = _escapes(member.name, real_target)
        if problem:
            raise UnsafeMember(problem)
        if skip(member.name):
            continue
        parts = PurePosixPath(member.name).parts
        if member.isdir():
            os.close(_open_directories(root_fd, parts, create=True))
            directories.append(_Directory(parts, member.mode, member.mtime))
            continue
        _write_file(tar, member, root_fd, parts)
        files += 1
    # Directories get their modes last, deepest first, so a read-only one was writable
    # while its files were extracted (tarfile does the same).
    for directory in sorted(directories, key=lambda d: len(d.parts), reverse=True):
        fd = _open_directories(root_fd, directory.parts, create=False)
        try:
            os.fchmod(fd, restored_directory_mode(directory.mode))
            os.utime(fd, (directory.mtime, directory.mtime))
        finally:
            os.close(fd)
    return files


def _escapes(name: str, real_target: str) -> str | None:
    """A second look at the path as the kernel would resolve it now."""
    resolved = os.path.realpath(os.path.join(real_target, name))
    if os.path.commonpath([resolved, real_target]) != real_target:
        return f"{name!r}: resolves to {resolved}, outside the target"
    return None


def _open_directories(root_fd: int, parts: tuple[str, ...], *, create: bool) -> int:
    """A descriptor of root/parts..., each component opened without following a
    symlink (and created 0700 when `create`)."""
    fd = os.dup(root_fd)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o700, dir_fd=fd)
            inner = os.open(part, _DIRECTORY_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_file(
    tar: tarfile.TarFile, member: tarfile.TarInfo, root_fd: int, parts: tuple[str, ...]
) -> None:
    parent_fd = _open_directories(root_fd, parts[:-1], create=True)
    try:
        fd = os.open(parts[-1], _CREATE_FLAGS, 0o600, dir_fd=parent_fd)
    finally:
        os.close(parent_fd)
    try:
        source = tar.extractfile(member)
        if source is None:
            raise tarfile.TarError(f"{member.name!r}: no data")
        while data := source.read(_READ):
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        os.fchmod(fd, restored_mode(member.mode))
        os.utime(fd, (member.mtime, member.mtime))
    finally:
        os.close(fd)


def _empty(root_fd: int) -> None:
    """Remove what a failed extraction left (only what we wrote: files and dirs)."""
    for name in os.listdir(root_fd):
        info = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            inner = os.open(name, _DIRECTORY_FLAGS, dir_fd=root_fd)
            try:
                os.fchmod(inner, 0o700)
                _empty(inner)
            finally:
                os.close(inner)
            os.rmdir(name, dir_fd=root_fd)
        else:
            os.unlink(name, dir_fd=root_fd)
