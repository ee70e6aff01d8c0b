"""File system primitives with the safety rules of the design.

Everything that walks, deletes or rewrites files below a configured root works through
directory file descriptors: each directory is opened relative to its parent with
O_NOFOLLOW, so a symlink (planted before or during the walk) is never followed, the walk
never leaves the root, and a directory on another device (st_dev) is not entered.
Files that vanish or change between listing and acting are skipped and reported.

Kept whole: the descriptor-based walking and deleting primitives share the safety checks
of the design.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import translate
from pathlib import Path
from typing import NamedTuple, TypeVar

from hostkeeper.adapters.gzipstream import CHUNK_SIZE

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
# Files at least this large are compressed in chunks on several threads (pigz style);
# smaller ones are compressed whole, several files at once.
PARALLEL_THRESHOLD = 8 * CHUNK_SIZE
TEMP_SUFFIX = ".gz.tmp"
# What hostkeeper's own directories (state, reports, backups, locks) are created with:
# nothing for other users, so they pass hostkeeper's own audit (core/audit.py) even when
# the CLI runs under a login shell's umask 022.
PRIVATE_DIRECTORY_MODE = 0o750


def make_private_directory(path: Path, mode: int = PRIVATE_DIRECTORY_MODE) -> Path:
    """Create `path` and its missing parents with exactly `mode`, whatever the umask.

    A directory that already exists keeps its mode: it may be the operator's.
    """
    missing: list[Path] = []
    candidate = path
    while not candidate.is_dir():
        missing.append(candidate)
        if candidate.parent == candidate:
            break
        candidate = candidate.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, mode)
        except FileExistsError:
            if not directory.is_dir():
                raise
            continue  # made by a concurrent process: its mode is its own
        # mkdir's mode is masked by the umask; fchmod through O_NOFOLLOW never follows a
        # symlink swapped in meanwhile
        fd = os.open(directory, _DIR_FLAGS)
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
    return path


def atomic_write(path: Path, data: bytes, mode: int = 0o640) -> None:
    """Write to a temp name in the same directory, fsync, rename, fsync the directory.

    Missing directories are created private (`make_private_directory`).
    """
    make_private_directory(path.parent)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def fsync_directory(path: Path | int) -> None:
    """Make renames and unlinks in a directory durable (by path or open descriptor)."""
    if isinstance(path, int):
        os.fsync(path)
        return
    directory = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def name_matcher(patterns: str | Sequence[str]) -> Callable[[str], bool]:
    """A fast case-sensitive test of a file name against one or more globs."""
    if isinstance(patterns, str):
        patterns = [patterns]
    regex = re.compile("|".join(f"(?:{translate(pattern)})" for pattern in patterns))
    match = regex.match
    return lambda name: match(name) is not None


# -- walking -----------------------------------------------------------------------------


class FileEntry(NamedTuple):
    """A regular file seen by a walk; `relpath` is relative to the walk's root.

    A named tuple: walks of 100,000 files create one per file, and tuples are cheapest.
    """

    relpath: str
    size: int
    mtime: float
    mode: int
    dev: int
    ino: int
    name: str
    directory: str  # relpath's directory part, "" at the root


def file_entry(info: os.stat_result, prefix: str, name: str, directory: str) -> FileEntry:
    """The FileEntry of `name` in `directory` (`prefix` is "" or directory + "/")."""
    return FileEntry(
        prefix + name,
        info.st_size,
        info.st_mtime,
        info.st_mode,
        info.st_dev,
        info.st_ino,
        name,
        directory,
    )


@dataclass
class WalkProblems:
    """What a walk skipped, and why: (relpath, reason)."""

    skipped: list[tuple[str, str]] = field(default_factory=list)

    def add(self, relpath: str, reason: str) -> None:
        self.skipped.append((relpath, reason))


class UnsafeRoot(Exception):
    """The configured root cannot be walked safely (symlink, missing, not a directory)."""


def open_root(root: str | Path) -> int:
    """Open a walk's root directory without following a symlink at its last component."""
    try:
        return os.open(root, _DIR_FLAGS)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            with contextlib.suppress(OSError):
                if stat.S_ISLNK(os.lstat(root).st_mode):
                    raise UnsafeRoot(
                        f"{root} is a symlink; hostkeeper does not follow symlinks"
                    ) from None
            raise UnsafeRoot(f"{root} is not a directory") from None
        raise UnsafeRoot(f"cannot open {root}: {error.strerror}") from None


def open_subdirectory(parent_fd: int, name: str, device: int) -> int:
    """Open `name` below `parent_fd`: no symlink, same device; raises OSError otherwise."""
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    if os.fstat(fd).st_dev != device:
        os.close(fd)
        raise OSError(errno.EXDEV, "on another filesystem")
    return fd


def open_relative_directory(root_fd: int, relative: str) -> int:
    """Open a directory below the root component by component, as the walk did."""
    device = os.fstat(root_fd).st_dev
    fd = os.dup(root_fd)
    for part in filter(None, relative.split("/")):
        if part in (".", ".."):
            os.close(fd)
            raise OSError(errno.EINVAL, f"{relative!r} is not a plain relative path")
        try:
            child = open_subdirectory(fd, part, device)
        finally:
            os.close(fd)
        fd = child
    return fd


def describe_os_error(error: OSError) -> str:
    """Why a walk could not use an entry, in the words of a skip list."""
    if error.errno == errno.ELOOP or error.errno == errno.ENOTDIR:
        return "is (now) a symlink, not followed"
    if error.errno == errno.ENOENT:
        return "vanished during the walk"
    if error.errno == errno.EXDEV:
        return "on another filesystem, not entered"
    return error.strerror or str(error)


def walk_files(
    root_fd: int,
    *,
    include: Callable[[str], bool] | None = None,
    recursive: bool = True,
    problems: WalkProblems | None = None,
) -> Iterator[FileEntry]:
    """Every regular file below `root_fd` whose name passes `include`.

    Symlinks are reported and never followed; directories on another device are not
    entered; entries that vanish mid-walk are skipped.
    """
    for _dir_fd, _directory, entries in walk_directories(
        root_fd, include=include, recursive=recursive, problems=problems
    ):
        yield from entries


def walk_files_at(
    root_fd: int,
    *,
    include: Callable[[str], bool] | None = None,
    recursive: bool = True,
    problems: WalkProblems | None = None,
    descend: Callable[[str], bool] | None = None,
    on_directory: Callable[[str, os.stat_result], None] | None = None,
) -> Iterator[tuple[int, FileEntry]]:
    """As `walk_files`, with the open directory descriptor each file is in (valid until
    the walk moves on)."""
    for dir_fd, _directory, entries in walk_directories(
        root_fd,
        include=include,
        recursive=recursive,
        problems=problems,
        descend=descend,
        on_directory=on_directory,
    ):
        for entry in entries:
            yield dir_fd, entry


def walk_directories(
    root_fd: int,
    *,
    include: Callable[[str], bool] | None = None,
    recursive: bool = True,
    problems: WalkProblems | None = None,
    descend: Callable[[str], bool] | None = None,
    on_directory: Callable[[str, os.stat_result], None] | None = None,
) -> Iterator[tuple[int, str, list[FileEntry]]]:
    """(open directory descriptor, its relpath, its files) for each directory walked.

    The descriptor stays open until the next directory is requested, so a caller can
    act on a directory's files while the walk holds it. `descend(relpath)` may refuse a
    directory; `on_directory(relpath, stat)` sees each directory entered.
    """
    problems = problems if problems is not None else WalkProblems()
    device = os.fstat(root_fd).st_dev
    stack: list[tuple[int, str, bool]] = [(root_fd, "", False)]
    while stack:
        dir_fd, prefix, owned = stack.pop()
        try:
            entries, subdirectories = _scan(dir_fd, prefix, include, problems)
            yield dir_fd, prefix[:-1], entries
            if not recursive:
                continue
            for name in reversed(subdirectories):
                relpath = prefix + name
                if descend is not None and not descend(relpath):
                    continue
                try:
                    child = open_subdirectory(dir_fd, name, device)
                except OSError as error:
                    problems.add(relpath, describe_os_error(error))
                    continue
                if on_directory is not None:
                    on_directory(relpath, os.fstat(child))
                stack.append((child, relpath + "/", True))
        finally:
            if owned:
                os.close(dir_fd)


Tag = TypeVar("Tag")
# (inode, name, what `classify` said about the name) of an entry the directory listing
# called a regular file; a plain tuple, as a walk makes one per file
Candidate = tuple[int, str, Tag]


def list_directory(
    dir_fd: int, prefix: str, classify: Callable[[str], Tag | None]
) -> tuple[list[Candidate[Tag]], list[str], list[tuple[str, str]]]:
    """(candidates in inode order, subdirectory names, (relpath, reason) skipped) of one
    directory, without a stat per file.

    A candidate is an entry the listing calls a regular file and `classify` tags (not
    None); symlinks `classify` would tag are reported, never followed. Inode order reads
    ext4's inode table sequentially rather than in the directory's hash order.
    """
    candidates: list[Candidate[Tag]] = []
    subdirectories: list[str] = []
    problems: list[tuple[str, str]] = []
    try:
        # scandir(fd) lists a duplicate of the descriptor: ours stays usable
        iterator = os.scandir(dir_fd)
    except OSError as error:
        problems.append((prefix.rstrip("/") or ".", describe_os_error(error)))
        return candidates, subdirectories, problems
    append = candidates.append
    with iterator:
        for entry in iterator:
            name = entry.name
            try:
                # d_type answers these without a syscall on ext4, xfs, btrfs and tmpfs
                if entry.is_file(follow_symlinks=False):
                    tag = classify(name)
                    if tag is not None:
                        append((entry.inode(), name, tag))
                elif entry.is_dir(follow_symlinks=False):
                    subdirectories.append(name)
                elif entry.is_symlink() and classify(name) is not None:
                    problems.append((prefix + name, "is a symlink, not followed"))
            except OSError as error:
                problems.append((prefix + name, describe_os_error(error)))
    candidates.sort()
    return candidates, subdirectories, problems


def _scan(
    dir_fd: int,
    prefix: str,
    include: Callable[[str], bool] | None,
    problems: WalkProblems,
) -> tuple[list[FileEntry], list[str]]:
    def classify(name: str) -> bool | None:
        return True if include is None or include(name) else None

    candidates, subdirectories, skipped = list_directory(dir_fd, prefix, classify)
    problems.skipped += skipped
    directory = prefix[:-1]
    entries: list[FileEntry] = []
    for _ino, name, _tag in candidates:
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as error:
            problems.add(prefix + name, describe_os_error(error))
            continue
        if stat.S_ISREG(info.st_mode):
            entries.append(file_entry(info, prefix, name, directory))
    return entries, subdirectories


# -- deleting ----------------------------------------------------------------------------


def same_file(info: os.stat_result, expected: FileEntry) -> str | None:
    """Why `info` is no longer the file the plan was made from, or None."""
    if not stat.S_ISREG(info.st_mode):
        return "is no longer a regular file"
    if (info.st_dev, info.st_ino) != (expected.dev, expected.ino):
        return "was replaced since it was listed"
    if info.st_mtime != expected.mtime or info.st_size != expected.size:
        return "changed since it was listed"
    return None


def delete_entry(dir_fd: int, expected: FileEntry) -> str | None:
    """Unlink `expected` in `dir_fd` if it is still that file; the reason if not.

    unlinkat never follows a symlink, so even a swap after the check removes only the
    directory entry below the root, never what a link points to.
    """
    name = expected.name
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return "vanished before deletion"
    reason = same_file(info, expected)
    if reason:
        return reason
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return "vanished before deletion"
    return None


def delete_path(path: Path, expected: FileEntry | None = None) -> str | None:
    """Delete the regular file `path` (never a symlink there); the reason if not deleted.

    With `expected`, only if it is still that file.
    """
    fd = open_root(path.parent)
    try:
        if expected is None:
            try:
                info = os.stat(path.name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                return "vanished before deletion"
            if not stat.S_ISREG(info.st_mode):
                return "is not a regular file"
            expected = FileEntry(
                path.name,
                info.st_size,
                info.st_mtime,
                info.st_mode,
                info.st_dev,
                info.st_ino,
                path.name,
                "",
            )
        return delete_entry(fd, expected._replace(name=path.name))
    finally:
        os.close(fd)


# -- who has a file open -----------------------------------------------------------------


def open_files() -> set[tuple[int, int]]:
    """(st_dev, st_ino) of every file some process has open (as far as /proc shows us)."""
    found: set[tuple[int, int]] = set()
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return found
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                info = os.stat(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                found.add((info.st_dev, info.st_ino))
    return found
