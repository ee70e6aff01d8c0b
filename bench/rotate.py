"""Rotating 1,000 logs of 100 KB with compression: hostkeeper vs `logrotate -f`.

Equivalent configurations: numbered generations, rotate/keep 5, compress at level 6
(logrotate runs `gzip -6` per file), create mode, no scripts. hostkeeper runs the real
`rotate` path in-process (plan, renames, fsynced compression on a thread pool, state).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from bench.filedata import Timing, log_block, time_call, time_command, tool
from bench.harness import Context, Floor, Result, Target, median, spread, stage

NAME = "rotate"
SUMMARY = "rotate + compress 1,000 x 100 KB logs: hostkeeper vs logrotate -f"


def write_logs(directory: Path, count: int, block: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    size = 100 * 1024
    for index in range(count):
        start = (index * 7919) % (len(block) - size)
        (directory / f"app{index:04d}.log").write_bytes(block[start : start + size])


def run(context: Context) -> list[Result]:
    from hostkeeper.config import Config
    from hostkeeper.services.store_setup import prepare_store
    from hostkeeper.steps.rotate_logs import rotate

    count = 200 if context.quick else 1000
    runs = context.repeat(full=3, quick=1)
    base = context.work_dir / "rotate"
    logrotate = tool("logrotate")
    state = base / "state"
    config = Config.model_validate(
        yaml.safe_load(
            f"""
            paths: {{state_dir: {state}}}
            database: {{url: "sqlite:///{state}/hk.db"}}
            logs:
              - {{name: bench, paths: ["{base}/ours/*.log"], keep: 5, compress: true}}
            """
        )
    )
    store = prepare_store(config)
    (base / "logrotate.conf").parent.mkdir(parents=True, exist_ok=True)
    (base / "logrotate.conf").write_text(
        f"{base}/theirs/*.log {{\n    rotate 5\n    compress\n    compresscmd /bin/gzip\n"
        "    compressoptions -6\n    create\n    missingok\n}\n"
    )
    block = log_block(3)
    ours: list[Timing] = []
    theirs: list[Timing] = []
    for number in range(runs):
        with stage(f"run {number + 1}: {count} logs on each side"):
            write_logs(base / "ours", count, block)
            write_logs(base / "theirs", count, block)
        ours.append(time_call(lambda: rotate(config, store, now=datetime.now(UTC), force=True)))
        if logrotate:
            theirs.append(
                time_command(
                    [logrotate, "-s", str(base / "lr.state"), "-f", str(base / "logrotate.conf")]
                )
            )
    store.dispose()
    gz = len(list((base / "ours").glob("*.log.1.gz")))
    assert gz == count, f"{gz} of {count} compressed"
    if not logrotate:
        context.note("rotate: `logrotate` is not installed; the comparison was skipped")
    floor = (
        Floor(round(median([t.wall for t in theirs]), 3), "s", "logrotate -f wall")
        if theirs
        else None
    )
    cpu_floor = (
        Floor(round(median([t.cpu for t in theirs]), 3), "s", "logrotate -f CPU")
        if theirs
        else None
    )
    detail = {
        "ours_wall": spread([t.wall for t in ours]),
        "ours_cpu": spread([t.cpu for t in ours]),
        "logrotate_wall": spread([t.wall for t in theirs]) if theirs else None,
        "logrotate_cpu": spread([t.cpu for t in theirs]) if theirs else None,
    }
    return [
        Result(
            NAME,
            f"{count} x 100 KB, compress, wall",
            median([t.wall for t in ours]),
            "s",
            floor,
            Target("<", floor.value, "s") if floor else None,
            detail,
        ),
        Result(
            NAME,
            f"{count} x 100 KB, compress, CPU",
            median([t.cpu for t in ours]),
            "s",
            cpu_floor,
            None,
            detail,
        ),
    ]
