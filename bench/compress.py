"""Compression of one large log: hostkeeper vs `gzip -6` and `pigz -6`, same level.

hostkeeper compresses to `.gz.tmp`, fsyncs and renames, as cleanup and rotation do:
once on one thread (Python's zlib), once in chunks on every core (pigz style). A
second figure compresses several files at once on the thread pool.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.filedata import Timing, log_block, time_call, time_command, tool, write_log
from bench.harness import Context, Floor, Result, Target, median, spread, stage
from hostkeeper.adapters.compress import CompressJob, compress_many, compress_to_temp_and_rename
from hostkeeper.adapters.fs import open_root

NAME = "compress"
SUMMARY = "gzip a 200 MB log: hostkeeper vs gzip -6 and pigz -6"
LEVEL = 6


def _ours(directory: Path, name: str, threads: int) -> int:
    fd = open_root(directory)
    try:
        if threads > 1:
            size = os.stat(name, dir_fd=fd).st_size
            _done, failed = compress_many(
                [CompressJob(fd, name, size=size)], level=LEVEL, workers=threads
            )
            assert not failed, failed
        else:
            compress_to_temp_and_rename(fd, name, level=LEVEL)
    finally:
        os.close(fd)
    packed = directory / f"{name}.gz"
    size = packed.stat().st_size
    packed.unlink()
    return size


def _many(directory: Path, names: list[str]) -> None:
    fd = open_root(directory)
    try:
        jobs = [CompressJob(fd, name, size=os.stat(name, dir_fd=fd).st_size) for name in names]
        # several medium files: whole files on the pool (below the chunking threshold)
        _done, failed = compress_many(jobs, level=LEVEL)
        assert not failed, failed
    finally:
        os.close(fd)
    for name in names:
        (directory / f"{name}.gz").unlink()


# Complexity ceiling exception (C901): one benchmark's steps, peer beside ours, in order.
def run(context: Context) -> list[Result]:  # noqa: C901
    size_mb = 50 if context.quick else 200
    runs = context.repeat(full=3, quick=1)
    directory = context.work_dir / "compress"
    directory.mkdir()
    source = directory / "app.log"
    with stage(f"writing a {size_mb} MB log"):
        block = log_block()
        write_log(source, size_mb * 1024 * 1024, block)
    megabytes = source.stat().st_size / 1e6
    times: dict[str, list[Timing]] = {}
    sizes: dict[str, int] = {}
    peers = {name: tool(name) for name in ("gzip", "pigz")}
    threads = os.cpu_count() or 1
    for _ in range(runs):
        with stage(f"hostkeeper, 1 thread and {threads} threads"):
            for key, count in (("one", 1), ("all", threads)):

                def ours(key: str = key, count: int = count) -> None:
                    sizes[key] = _ours(directory, "app.log", count)

                times.setdefault(key, []).append(time_call(ours))
        for peer, path in peers.items():
            if path is None:
                continue
            with stage(f"{peer} -{LEVEL}"):
                out = directory / f"{peer}.gz"
                times.setdefault(peer, []).append(
                    time_command([path, f"-{LEVEL}", "-c", str(source)], stdout=out)
                )
                sizes[peer] = out.stat().st_size
                out.unlink()
    rate = {key: megabytes / median([t.wall for t in value]) for key, value in times.items()}
    results = []
    gzip_floor = Floor(round(rate["gzip"], 1), "MB/s", "gzip -6") if "gzip" in rate else None
    pigz_floor = Floor(round(rate["pigz"], 1), "MB/s", "pigz -6") if "pigz" in rate else None
    for peer, path in peers.items():
        if path is None:
            context.note(f"compress: `{peer}` is not installed; its comparison was skipped")
    target = Target(">=", round(rate["gzip"] * 1.1, 1), "MB/s") if "gzip" in rate else None
    detail = {key: spread([t.wall for t in value]) for key, value in times.items()}
    detail["compressed_bytes"] = sizes
    results.append(
        Result(NAME, f"{size_mb} MB log, 1 thread", rate["one"], "MB/s", gzip_floor, None, detail)
    )
    results.append(
        Result(
            NAME,
            f"{size_mb} MB log, {os.cpu_count()} threads (chunks)",
            rate["all"],
            "MB/s",
            gzip_floor,
            target,
            detail,
        )
    )
    if pigz_floor is not None:
        results.append(
            Result(
                NAME,
                f"{size_mb} MB log, {os.cpu_count()} threads vs pigz",
                rate["all"],
                "MB/s",
                pigz_floor,
                None,
                detail,
            )
        )
    if "gzip" in sizes:
        context.note(
            f"compress: output size hostkeeper chunked {sizes['all']:,} B, one stream "
            f"{sizes['one']:,} B, gzip -6 {sizes['gzip']:,} B"
            + (f", pigz -6 {sizes['pigz']:,} B" if "pigz" in sizes else "")
        )
    # several files at once
    names = [f"part{index}.log" for index in range(8)]
    part = min(6 * 1024 * 1024, size_mb * 1024 * 1024 // 32)
    for name in names:
        write_log(directory / name, part, block)
    many = [time_call(lambda: _many(directory, names)) for _ in range(runs)]
    sequential = []
    if peers["gzip"]:
        for _ in range(runs):
            started = Timing(0.0, 0.0)
            for name in names:
                spent = time_command(
                    [peers["gzip"], f"-{LEVEL}", "-c", str(directory / name)],
                    stdout=directory / "peer.gz",
                )
                started = Timing(started.wall + spent.wall, started.cpu + spent.cpu)
            sequential.append(started)
    total = len(names) * part / 1e6
    results.append(
        Result(
            NAME,
            f"{len(names)} files of {part / 1024 / 1024:.1f} MB at once",
            total / median([t.wall for t in many]),
            "MB/s",
            Floor(round(total / median([t.wall for t in sequential]), 1), "MB/s", "gzip -6 each")
            if sequential
            else None,
            None,
            {"ours": spread([t.wall for t in many])},
        )
    )
    return results
