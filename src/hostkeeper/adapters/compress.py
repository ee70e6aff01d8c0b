"""Compressing rotated files: gzip beside the original, atomically, with the original's
metadata; many at once on a pool, the originals removed only once every copy is safe."""

from __future__ import annotations

import contextlib
import functools
import os
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hostkeeper.adapters.fs import (
    PARALLEL_THRESHOLD,
    READ_FLAGS,
    TEMP_SUFFIX,
    FileEntry,
    describe_os_error,
    open_root,
    same_file,
)
from hostkeeper.adapters.gzipstream import CHUNK_SIZE, DEFAULT_LEVEL, GzipWriter


@dataclass(frozen=True)
class Compressed:
    """One finished compression: `name` became `name.gz` (the source is not yet removed)."""

    dir_fd: int
    name: str
    source: os.stat_result
    original_bytes: int
    compressed_bytes: int

    @property
    def bytes_freed(self) -> int:
        """Bytes compression saved: never negative, as a freed-bytes counter only grows."""
        return max(self.original_bytes - self.compressed_bytes, 0)

    @property
    def bytes_grown(self) -> int:
        """Bytes the `.gz` has beyond its source: a tiny file gains gzip's ~20-byte frame."""
        return max(self.compressed_bytes - self.original_bytes, 0)


class CompressionError(Exception):
    pass


def compress_to_temp_and_rename(
    dir_fd: int,
    name: str,
    *,
    level: int = DEFAULT_LEVEL,
    expected: FileEntry | None = None,
    pool: ThreadPoolExecutor | None = None,
    workers: int = 1,
) -> Compressed:
    """Compress `name` (in `dir_fd`) to `name.gz.tmp`, fsync, rename to `name.gz`.

    The mode, owner and mtime of the source are kept. The source stays in place: the
    caller removes it (see `remove_compressed_sources`) once the renames are durable.
    Raises CompressionError when the source is not a regular file, was replaced, or
    changed while it was being read; the temp file is removed then.
    """
    try:
        source_fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        raise CompressionError(f"{name}: {describe_os_error(error)}") from None
    temp = name + TEMP_SUFFIX
    try:
        info = os.fstat(source_fd)
        if not stat.S_ISREG(info.st_mode):
            raise CompressionError(f"{name}: is not a regular file")
        if expected is not None and (reason := same_file(info, expected)):
            raise CompressionError(f"{name}: {reason}")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dir_fd)  # left by an interrupted run
        out_fd = os.open(
            temp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
            dir_fd=dir_fd,
        )
        try:
            written = _deflate_fd(source_fd, out_fd, name, info, level, pool, workers)
            after = os.fstat(source_fd)
            if (after.st_size, after.st_mtime_ns) != (info.st_size, info.st_mtime_ns):
                raise CompressionError(f"{name}: changed while it was being compressed")
            _copy_metadata(out_fd, info)
            os.fsync(out_fd)
        finally:
            os.close(out_fd)
        os.rename(temp, name + ".gz", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
    finally:
        os.close(source_fd)
    return Compressed(dir_fd, name, info, info.st_size, written)


def _deflate_fd(
    source_fd: int,
    out_fd: int,
    name: str,
    info: os.stat_result,
    level: int,
    pool: ThreadPoolExecutor | None,
    workers: int,
) -> int:
    def write_all(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(out_fd, view) :]

    writer = GzipWriter(
        write_all,
        level,
        name=os.fsencode(name),
        mtime=int(info.st_mtime),
        pool=pool,
        workers=workers,
    )
    try:
        while data := os.read(source_fd, CHUNK_SIZE):
            writer.write(data)
        writer.close()
    except BaseException:
        writer.abandon()
        raise
    return writer.bytes_out


def _copy_metadata(fd: int, info: os.stat_result) -> None:
    if os.geteuid() == 0:
        with contextlib.suppress(OSError):
            os.fchown(fd, info.st_uid, info.st_gid)
    os.fchmod(fd, stat.S_IMODE(info.st_mode))
    os.utime(fd, ns=(info.st_atime_ns, info.st_mtime_ns))


def remove_compressed_sources(done: Sequence[Compressed]) -> list[tuple[str, str]]:
    """After the `.gz` renames: fsync each directory, then unlink the sources.

    A source that changed after it was compressed is kept (its `.gz` too) and reported.
    """
    problems: list[tuple[str, str]] = []
    directories = {item.dir_fd for item in done}
    for fd in directories:
        os.fsync(fd)
    for item in done:
        try:
            info = os.stat(item.name, dir_fd=item.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        if (info.st_ino, info.st_size, info.st_mtime_ns) != (
            item.source.st_ino,
            item.source.st_size,
            item.source.st_mtime_ns,
        ):
            problems.append((item.name, "changed after compression; kept"))
            continue
        os.unlink(item.name, dir_fd=item.dir_fd)
    for fd in directories:
        os.fsync(fd)
    return problems


@dataclass(frozen=True)
class CompressJob:
    dir_fd: int
    name: str
    expected: FileEntry | None = None
    size: int = 0


def compress_many(
    jobs: Sequence[CompressJob],
    *,
    level: int = DEFAULT_LEVEL,
    workers: int | None = None,
    check: Callable[[], None] | None = None,
) -> tuple[list[Compressed], list[tuple[str, str]]]:
    """Compress several files at once; big ones in chunks on all threads.

    Returns the finished compressions and (name, error) for the failed ones; sources are
    not removed (see `remove_compressed_sources`). `check` is called between files and
    may raise to stop early.
    """
    workers = workers or os.cpu_count() or 1
    done: list[Compressed] = []
    failed: list[tuple[str, str]] = []
    big = [job for job in jobs if job.size >= PARALLEL_THRESHOLD]
    small = [job for job in jobs if job.size < PARALLEL_THRESHOLD]
    with ThreadPoolExecutor(workers, thread_name_prefix="gzip") as pool:
        for job in big:
            if check:
                check()
            _collect(
                functools.partial(
                    compress_to_temp_and_rename,
                    job.dir_fd,
                    job.name,
                    level=level,
                    expected=job.expected,
                    pool=pool,
                    workers=workers,
                ),
                job,
                done,
                failed,
            )
        futures = [
            (
                job,
                pool.submit(
                    compress_to_temp_and_rename,
                    job.dir_fd,
                    job.name,
                    level=level,
                    expected=job.expected,
                ),
            )
            for job in small
        ]
        for job, future in futures:
            if check:
                try:
                    check()
                except BaseException:
                    for _job, pending in futures:
                        pending.cancel()
                    raise
            _collect(future.result, job, done, failed)
    return done, failed


def _collect(
    work: Callable[[], Compressed],
    job: CompressJob,
    done: list[Compressed],
    failed: list[tuple[str, str]],
) -> None:
    try:
        done.append(work())
    except CompressionError as error:
        failed.append((job.name, str(error)))
    except OSError as error:
        failed.append((job.name, f"{job.name}: {error.strerror or error}"))


def compress_file(path: Path, level: int = DEFAULT_LEVEL) -> Compressed:
    """Compress one file by path to `path.gz` and remove it (a convenience for tools)."""
    fd = open_root(path.parent)
    try:
        size = os.stat(path.name, dir_fd=fd, follow_symlinks=False).st_size
        done, failed = compress_many([CompressJob(fd, path.name, size=size)], level=level)
        if failed:
            raise CompressionError(failed[0][1])
        problems = remove_compressed_sources(done)
        if problems:
            raise CompressionError(f"{path}: {problems[0][1]}")
        return done[0]
    finally:
        os.close(fd)
