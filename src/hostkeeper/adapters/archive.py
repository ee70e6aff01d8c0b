"""Backup archives: tar.gz with a manifest, verified by re-hashing, restored safely.

An archive `SET-YYYYmmddTHHMMSSZ.tar.gz` holds the set's files under their absolute
paths without the leading `/`, then `MANIFEST.json` (path, size, mode, sha256 per file).
Beside it, `NAME.sha256` in `sha256sum` format. Both are written to temp names,
fsynced and renamed, so a crash never leaves a partial archive under a listed name.
Restoring vets and extracts member by member (adapters/extract.py: regular files and
directories only, modes masked, tarfile's "data" filter as a second opinion where the
interpreter has it) into a fresh directory, and checks every manifest entry there.

Kept whole: writing, verifying and restoring share the manifest format and the member
vetting that keeps restores safe.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import socket
import stat
import tarfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

from hostkeeper.adapters.extract import (
    MemberVetting,
    UnsafeMember,
    extract_archive,
    restored_mode,
)
from hostkeeper.adapters.fs import (
    WalkProblems,
    atomic_write,
    delete_path,
    fsync_directory,
    make_private_directory,
    open_root,
    walk_files_at,
)
from hostkeeper.adapters.gzipstream import GzipWriter, StreamWriter
from hostkeeper.adapters.manifest import MAX_MANIFEST_BYTES, ManifestError, parse_manifest

MANIFEST = "MANIFEST.json"
LEVEL = 6
SUFFIX = ".tar.gz"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^(?P<set>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<seq>\d+))?\.tar\.gz$")
_READ = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class BackupError(Exception):
    pass


# -- names -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveFile:
    path: Path
    backup_set: str
    created_at: datetime
    size: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def sidecar(self) -> Path:
        return sidecar_of(self.path)


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def parse_archive_name(name: str) -> tuple[str, datetime] | None:
    """(set, created_at) of an archive file name, or None for anything else.

    Names carry whole seconds; a second archive within the same second is named `-2`,
    `-3`, ..., and that sequence number becomes the microseconds of `created_at`, so
    archives always sort in the order they were made.
    """
    match = _NAME.match(name)
    if match is None:
        return None
    created = datetime.strptime(match.group("stamp"), _STAMP).replace(tzinfo=UTC)
    sequence = int(match.group("seq") or 0)
    return match.group("set"), created.replace(microsecond=min(sequence, 999_999))


def list_archives(set_directory: Path, backup_set: str) -> list[ArchiveFile]:
    """Complete archives of a set, oldest first (temp files and others are ignored)."""
    found = []
    try:
        names = os.listdir(set_directory)
    except FileNotFoundError:
        return []
    for name in names:
        parsed = parse_archive_name(name)
        if parsed is None or parsed[0] != backup_set:
            continue
        try:
            info = os.stat(set_directory / name, follow_symlinks=False)
        except FileNotFoundError:
            continue
        if stat.S_ISREG(info.st_mode):
            found.append(ArchiveFile(set_directory / name, backup_set, parsed[1], info.st_size))
    return sorted(found, key=lambda archive: (archive.created_at, archive.name))


def remove_leftovers(set_directory: Path) -> list[str]:
    """Remove temp files of interrupted runs and sidecars whose archive is gone."""
    removed = []
    try:
        names = set(os.listdir(set_directory))
    except FileNotFoundError:
        return []
    for name in sorted(names):
        stale_temp = name.startswith(".") and name.endswith(".tmp")
        orphan = name.endswith(SUFFIX + ".sha256") and name[: -len(".sha256")] not in names
        if (stale_temp or orphan) and delete_path(set_directory / name) is None:
            removed.append(name)
    return removed


# -- creating ---------------------------------------------------------------------------


@dataclass
class ArchiveResult:
    path: Path
    sha256: str
    size: int
    files: int
    bytes_in: int
    created_at: datetime
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


class _HashingReader:
    """Reads exactly `size` bytes of a file for tarfile, hashing them on the way.

    A file that shrank while being read is padded with zeros (the tar header already
    promised `size` bytes) and reported as changed; the manifest hashes what was stored.
    """

    def __init__(self, fd: int, size: int) -> None:
        self.fd = fd
        self.left = size
        self.digest = hashlib.sha256()
        self.short = False

    def read(self, wanted: int = -1) -> bytes:
        wanted = self.left if wanted < 0 else min(wanted, self.left)
        parts = []
        got = 0
        while got < wanted:
            data = b"" if self.short else os.read(self.fd, wanted - got)
            if not data:
                self.short = True
                data = bytes(wanted - got)
            parts.append(data)
            got += len(data)
        self.left -= got
        block = b"".join(parts)
        self.digest.update(block)
        return block


def _excluded(patterns: list[str]) -> Callable[[str, str], bool]:
    def check(name: str, absolute: str) -> bool:
        return any(fnmatchcase(name, p) or fnmatchcase(absolute, p) for p in patterns)

    return check


def _unique_name(directory: Path, backup_set: str, created_at: datetime) -> str:
    stamp = created_at.astimezone(UTC).strftime(_STAMP)
    name = f"{backup_set}-{stamp}{SUFFIX}"
    sequence = 1
    while (directory / name).exists():
        sequence += 1
        name = f"{backup_set}-{stamp}-{sequence}{SUFFIX}"
    return name


def create_archive(
    backup_set: str,
    sources: list[str],
    exclude: list[str],
    directory: Path,
    now: datetime,
    *,
    level: int = LEVEL,
    check: Callable[[], None] | None = None,
) -> ArchiveResult:
    """Archive `sources` into `directory`; raises BackupError when it cannot be written.

    Unreadable files are listed in the result, not fatal. On any failure the temp file
    is removed and nothing under an archive name changes.
    """
    # Relative sources are relative to the working directory, like every configured path.
    sources = [os.path.abspath(source) for source in sources]
    make_private_directory(directory)
    name = _unique_name(directory, backup_set, now)
    temp = directory / f".{name}.tmp"
    result = ArchiveResult(directory / name, "", 0, 0, 0, now)
    digest = hashlib.sha256()
    try:
        fd = os.open(
            temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
    except OSError as error:
        raise BackupError(f"cannot create {temp}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "wb", buffering=0) as raw:

            def write(data: bytes) -> None:
                digest.update(data)
                raw.write(data)

            workers = os.cpu_count() or 1
            with ThreadPoolExecutor(workers, thread_name_prefix="backup-gzip") as pool:
                writer = GzipWriter(write, level, pool=pool, workers=workers)
                try:
                    _write_tar(
                        StreamWriter(writer), backup_set, sources, exclude, now, result, check
                    )
                    writer.close()
                except BaseException:
                    writer.abandon()
                    raise
            os.fsync(raw.fileno())
            result.size = writer.bytes_out
        result.sha256 = digest.hexdigest()
        atomic_write(sidecar_of(result.path), f"{result.sha256}  {name}\n".encode(), 0o600)
        os.rename(temp, result.path)
        fsync_directory(directory)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        if error.errno == errno.ENOSPC:
            raise BackupError(
                f"no space left on the device of {directory} while writing {name}; "
                "the partial archive was removed and older archives are untouched"
            ) from None
        raise BackupError(f"writing {name} failed: {error.strerror or error}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return result


def _write_tar(
    output: StreamWriter,
    backup_set: str,
    sources: list[str],
    exclude: list[str],
    now: datetime,
    result: ArchiveResult,
    check: Callable[[], None] | None,
) -> None:
    files: list[dict[str, Any]] = []
    directories: list[dict[str, Any]] = []
    excluded = _excluded(exclude)
    with tarfile.open(fileobj=output, mode="w", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
        tar.copybufsize = _READ
        for source in sources:
            for fd, relpath, info in _source_files(source, excluded, result, directories, tar):
                if check:
                    check()
                reader = _HashingReader(fd, info.st_size)
                member = _tarinfo(relpath, info)
                try:
                    tar.addfile(member, reader)
                    after = os.fstat(fd)
                finally:
                    os.close(fd)
                if reader.short or (after.st_size, after.st_mtime_ns) != (
                    info.st_size,
                    info.st_mtime_ns,
                ):
                    result.changed.append("/" + relpath)
                files.append(
                    {
                        "path": relpath,
                        "size": info.st_size,
                        "mode": stat.S_IMODE(info.st_mode),
                        "uid": info.st_uid,
                        "gid": info.st_gid,
                        "mtime": int(info.st_mtime),
                        "sha256": reader.digest.hexdigest(),
                    }
                )
                result.files += 1
                result.bytes_in += info.st_size
        manifest = {
            "format": 1,
            "set": backup_set,
            "host": socket.gethostname(),
            "created_at": now.astimezone(UTC).isoformat(),
            "sources": sources,
            "files": files,
            "directories": directories,
            "unreadable": [{"path": p, "error": e} for p, e in result.unreadable],
        }
        data = json.dumps(manifest, indent=1, sort_keys=True).encode()
        member = tarfile.TarInfo(MANIFEST)
        member.size = len(data)
        member.mode = 0o600
        member.mtime = int(now.timestamp())
        tar.addfile(member, io.BytesIO(data))


def _tarinfo(relpath: str, info: os.stat_result) -> tarfile.TarInfo:
    member = tarfile.TarInfo(relpath)
    member.size = info.st_size
    member.mode = stat.S_IMODE(info.st_mode)
    member.mtime = int(info.st_mtime)
    member.uid, member.gid = info.st_uid, info.st_gid
    return member


# Complexity ceiling exception (C901): one walk keeps each descriptor's lifetime, the unreadable
# notes and the tar member in one place.
def _source_files(  # noqa: C901
    source: str,
    excluded: Callable[[str, str], bool],
    result: ArchiveResult,
    directories: list[dict[str, Any]],
    tar: tarfile.TarFile,
) -> Iterator[tuple[int, str, os.stat_result]]:
    """(open fd, archive name, stat) of every file of one source, unreadable ones noted."""
    path = Path(source)
    if not path.is_absolute():
        result.unreadable.append((source, "not an absolute path"))
        return
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError as error:
        result.unreadable.append((source, error.strerror or str(error)))
        return
    if stat.S_ISREG(info.st_mode):
        if excluded(path.name, str(path)):
            return
        try:
            fd = os.open(path, _OPEN_FLAGS)
        except OSError as error:
            result.unreadable.append((source, error.strerror or str(error)))
            return
        yield fd, str(path).lstrip("/"), os.fstat(fd)
        return
    if not stat.S_ISDIR(info.st_mode):
        result.skipped.append((source, "not a regular file or directory"))
        return
    base = str(path).strip("/")

    def add_directory(relative: str, info: os.stat_result) -> None:
        name = f"{base}/{relative}" if relative else base
        directories.append({"path": name, "mode": stat.S_IMODE(info.st_mode)})
        member = tarfile.TarInfo(name)
        member.type = tarfile.DIRTYPE
        member.mode = stat.S_IMODE(info.st_mode)
        member.mtime = int(info.st_mtime)
        tar.addfile(member)

    try:
        root_fd = open_root(path)
    except Exception as error:
        result.unreadable.append((source, str(error)))
        return
    problems = WalkProblems()
    try:
        add_directory("", os.fstat(root_fd))
        walk = walk_files_at(
            root_fd,
            problems=problems,
            descend=lambda rel: not excluded(rel.rpartition("/")[2], f"/{base}/{rel}"),
            on_directory=add_directory,
        )
        for dir_fd, entry in walk:
            absolute = f"/{base}/{entry.relpath}"
            if excluded(entry.name, absolute):
                continue
            try:
                fd = os.open(entry.name, _OPEN_FLAGS, dir_fd=dir_fd)
            except OSError as error:
                result.unreadable.append((absolute, error.strerror or str(error)))
                continue
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode) or opened.st_ino != entry.ino:
                os.close(fd)
                result.skipped.append((absolute, "replaced while the backup ran"))
                continue
            yield fd, f"{base}/{entry.relpath}", opened
    finally:
        os.close(root_fd)
    for relpath, reason in problems.skipped:
        target = result.unreadable if "denied" in reason.lower() else result.skipped
        target.append((f"/{base}/{relpath}", reason))


# -- verifying --------------------------------------------------------------------------


@dataclass
class VerifyResult:
    path: Path
    ok: bool
    files: int = 0
    sha256: str = ""
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None

    @property
    def detail(self) -> str:
        if self.ok:
            return f"{self.files} files verified"
        return "; ".join(self.problems[:5]) + (
            f" (+{len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    fd = os.open(path, _OPEN_FLAGS)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        while data := handle.read(_READ):
            digest.update(data)
    return digest.hexdigest()


def read_sidecar(path: Path) -> str | None:
    try:
        text = sidecar_of(path).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    value = text.split()[0] if text else ""
    return value.lower() if re.fullmatch(r"[0-9a-fA-F]{64}", value) else None


def verify_archive(path: Path, expected_sha256: str | None = None) -> VerifyResult:
    """Re-hash the archive against its sidecar (and the store), then every member
    against the manifest. Never raises for a damaged archive: the problems say why."""
    result = VerifyResult(path, False)
    try:
        result.sha256 = file_sha256(path)
    except OSError as error:
        result.problems.append(f"cannot read: {error.strerror or error}")
        return result
    sidecar = read_sidecar(path)
    if sidecar is None:
        result.problems.append("the .sha256 sidecar is missing or unreadable")
    elif sidecar != result.sha256:
        result.problems.append("archive sha256 differs from its .sha256 sidecar")
    if expected_sha256 and expected_sha256 != result.sha256:
        result.problems.append("archive sha256 differs from the one recorded at creation")
    members: dict[str, tuple[int, str]] = {}
    manifest_found = False
    vetting = MemberVetting()
    try:
        with tarfile.open(path, mode="r|gz") as tar:
            for member in tar:
                problem = vetting.problem(member)
                if problem:
                    result.problems.append(problem)
                    continue
                if member.isdir():
                    continue
                handle = tar.extractfile(member)
                assert handle is not None
                if member.name == MANIFEST:
                    manifest_found = True
                    try:
                        result.manifest = parse_manifest(handle.read(MAX_MANIFEST_BYTES + 1))
                    except ManifestError as error:
                        result.problems.append(f"{MANIFEST} is malformed: {error}")
                    continue
                digest = hashlib.sha256()
                size = 0
                while data := handle.read(_READ):
                    digest.update(data)
                    size += len(data)
                members[member.name] = (size, digest.hexdigest())
    except (tarfile.TarError, OSError, EOFError, ValueError) as error:
        result.problems.append(f"corrupt archive: {error}")
        return result
    _compare_manifest(result, members, manifest_found)
    result.ok = not result.problems
    return result


def _compare_manifest(
    result: VerifyResult, members: dict[str, tuple[int, str]], manifest_found: bool = False
) -> None:
    if result.manifest is None:
        if not manifest_found:  # a malformed one was reported as such
            result.problems.append(f"no {MANIFEST} in the archive")
        return
    listed = {entry["path"]: entry for entry in result.manifest.get("files", [])}
    for name, entry in listed.items():
        found = members.get(name)
        if found is None:
            result.problems.append(f"{name}: in the manifest, missing from the archive")
        elif found != (entry["size"], entry["sha256"]):
            result.problems.append(f"{name}: content differs from the manifest")
    for name in members.keys() - listed.keys():
        result.problems.append(f"{name}: in the archive, not in the manifest")
    result.files = len(listed)


# -- restoring --------------------------------------------------------------------------


@dataclass
class RestoreResult:
    archive: Path
    target: Path
    ok: bool
    files_checked: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None


def prepare_target(target: Path) -> None:
    """A fresh directory: created here, or an existing empty one; never a symlink."""
    try:
        os.mkdir(target, 0o700)
        return
    except FileExistsError:
        pass
    info = os.lstat(target)
    if not stat.S_ISDIR(info.st_mode):
        raise BackupError(f"{target} exists and is not a directory")
    if os.listdir(target):
        raise BackupError(f"{target} is not empty; restore into a fresh directory")


def restore_archive(path: Path, target: Path) -> RestoreResult:
    """Verify `path`, extract it into the fresh directory `target`, check the result."""
    result = RestoreResult(path, target, False)
    verified = verify_archive(path)
    result.manifest = verified.manifest
    sidecar_missing = [p for p in verified.problems if "sidecar is missing" in p]
    if sidecar_missing:
        result.warnings.extend(sidecar_missing)
    blocking = [p for p in verified.problems if p not in sidecar_missing]
    if blocking:
        result.problems = ["refused, the archive does not verify: " + p for p in blocking]
        return result
    prepare_target(target)
    try:
        extract_archive(path, target, skip=lambda name: name == MANIFEST)
    except UnsafeMember as unsafe:
        result.problems.append(f"refused, unsafe member {unsafe}; nothing was kept")
        return result
    except (tarfile.TarError, OSError, EOFError) as error:
        result.problems.append(f"extraction failed: {error}")
        return result
    result.problems.extend(check_restored(target, verified.manifest or {}))
    result.files_checked = len((verified.manifest or {}).get("files", []))
    result.ok = not result.problems
    return result


def check_restored(target: Path, manifest: dict[str, Any]) -> list[str]:
    """Every manifest entry exists under `target` as a regular file of the right size,
    mode and sha256."""
    problems = []
    for entry in manifest.get("files", []):
        relative = PurePosixPath(str(entry["path"]))
        if relative.is_absolute() or ".." in relative.parts:
            problems.append(f"{entry['path']}: the manifest names a path outside the archive")
            continue
        restored = target / relative
        try:
            info = os.lstat(restored)
        except OSError:
            problems.append(f"{entry['path']}: not restored")
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append(f"{entry['path']}: not a regular file after restore")
        elif info.st_size != entry["size"]:
            problems.append(f"{entry['path']}: size {info.st_size}, expected {entry['size']}")
        elif file_sha256(restored) != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 differs from the manifest")
        elif stat.S_IMODE(info.st_mode) != restored_mode(entry["mode"]):
            problems.append(
                f"{entry['path']}: mode {stat.S_IMODE(info.st_mode):o}, "
                f"expected {restored_mode(entry['mode']):o}"
            )
    return problems
