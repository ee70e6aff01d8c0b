"""Shared by the file benchmarks: realistic log text, and wall/CPU timing of work."""

from __future__ import annotations

import os
import random
import resource
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_BLOCK_LINES = 120_000  # ~13 MB of distinct lines, far beyond deflate's 32 KiB window


def log_block(seed: int = 1) -> bytes:
    generator = random.Random(seed)
    users = [f"user{index}" for index in range(3000)]
    paths = [f"/api/v1/{word}/{index}" for index in range(400) for word in ("orders", "items")]
    levels = ["INFO"] * 8 + ["WARN", "ERROR"]
    lines = []
    for number in range(_BLOCK_LINES):
        lines.append(
            f"2024-06-30T12:{number // 3600 % 60:02d}:{number % 60:02d}.{number % 1000:03d}Z "
            f"{generator.choice(levels)} req={generator.getrandbits(48):012x} "
            f"user={generator.choice(users)} path={generator.choice(paths)} "
            f"status={generator.choice((200, 200, 200, 201, 304, 404, 500))} "
            f"took={generator.random() * 900:.3f}ms\n"
        )
    return "".join(lines).encode()


def write_log(path: Path, size: int, block: bytes | None = None) -> None:
    block = block or log_block()
    with open(path, "wb") as handle:
        left = size
        while left > 0:
            handle.write(block[:left])
            left -= len(block)


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # user + system seconds (this process's threads, or the children's)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def time_call(work: Callable[[], object]) -> Timing:
    cpu = _cpu(resource.RUSAGE_SELF)
    started = time.perf_counter()
    work()
    return Timing(time.perf_counter() - started, _cpu(resource.RUSAGE_SELF) - cpu)


def time_command(
    argv: Sequence[str], stdout: Path | None = None, cwd: Path | None = None
) -> Timing:
    cpu = _cpu(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if stdout is None:
        subprocess.run(list(argv), check=True, cwd=cwd, stdout=subprocess.DEVNULL)
    else:
        with open(stdout, "wb") as handle:
            subprocess.run(list(argv), check=True, cwd=cwd, stdout=handle)
    return Timing(time.perf_counter() - started, _cpu(resource.RUSAGE_CHILDREN) - cpu)


def tool(name: str) -> str | None:
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.path.isfile(p)), None
    )
