"""A backup of 2,000 small files and 50 MB of logs: hostkeeper vs `tar -czf`.

hostkeeper does more than tar: a sha256 per file into the manifest, a sha256 of the
whole archive into the sidecar, fsync and rename. The target is within 1.2x of tar.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime
from pathlib import Path

from bench.filedata import Timing, log_block, time_call, time_command, tool, write_log
from bench.harness import Context, Floor, Result, Target, median, spread, stage

NAME = "backup"
SUMMARY = "tar.gz of 2,000 files + 50 MB of logs: hostkeeper vs tar -czf"


def build_sources(root: Path, small: int, log_mb: int) -> None:
    generator = random.Random(7)
    words = [f"key{index}" for index in range(2000)]
    for index in range(small):
        directory = root / "conf" / f"d{index // 100}"
        directory.mkdir(parents=True, exist_ok=True)
        lines = [
            f"{generator.choice(words)}: {generator.randint(0, 10**6)}\n"
            for _ in range(generator.randint(20, 120))
        ]
        (directory / f"file{index}.yaml").write_text("".join(lines))
    logs = root / "logs"
    logs.mkdir()
    block = log_block(5)
    for index in range(5):
        write_log(logs / f"app{index}.log", log_mb * 1024 * 1024 // 5, block[index * 1000 :])


def run(context: Context) -> list[Result]:
    from hostkeeper.adapters.archive import create_archive

    small = 500 if context.quick else 2000
    log_mb = 10 if context.quick else 50
    runs = context.repeat(full=3, quick=1)
    base = context.work_dir / "backup"
    sources = base / "sources"
    with stage(f"writing {small} files and {log_mb} MB of logs"):
        build_sources(sources, small, log_mb)
    tar = tool("tar")
    ours: list[Timing] = []
    theirs: list[Timing] = []
    for number in range(runs):
        target = base / f"ours{number}"

        def create(target: Path = target) -> None:
            create_archive("bench", [str(sources)], [], target, datetime.now(UTC))

        ours.append(time_call(create))
        if tar:
            out = base / f"theirs{number}.tar.gz"
            theirs.append(time_command([tar, "-czf", str(out), "-C", "/", str(sources)[1:]]))
    if not tar:
        context.note("backup: `tar` is not installed; the comparison was skipped")
    sizes = {
        "ours": sum(p.stat().st_size for p in (base / "ours0").glob("*.tar.gz")),
        "tar": (base / "theirs0.tar.gz").stat().st_size if tar else None,
    }
    context.note(
        f"backup: archive size hostkeeper {sizes['ours']:,} B, tar -czf {sizes['tar']:,} B"
    )
    floor = (
        Floor(round(median([t.wall for t in theirs]), 3), "s", "tar -czf wall") if theirs else None
    )
    return [
        Result(
            NAME,
            f"{small} files + {log_mb} MB, manifest hashed, wall",
            median([t.wall for t in ours]),
            "s",
            floor,
            Target("<=", round(1.2 * floor.value, 3), "s") if floor else None,
            {
                "ours": spread([t.wall for t in ours]),
                "tar": spread([t.wall for t in theirs]) if theirs else None,
                "ours_cpu": spread([t.cpu for t in ours]),
                "tar_cpu": spread([t.cpu for t in theirs]) if theirs else None,
                "cpus": os.cpu_count(),
            },
        )
    ]
