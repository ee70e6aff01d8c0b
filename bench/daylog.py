"""Per-day log lines: hostkeeper's LineLog against the standard library's
`logging.handlers.WatchedFileHandler`, which does the same work (one stat per line to
notice a rotation, reopen, append). A chatty command's output goes through it line by
line while its run goes on.
"""

from __future__ import annotations

import logging
import logging.handlers
import time
from pathlib import Path

from bench.harness import Context, Floor, Result, Target, median, spread, stage
from hostkeeper.adapters.daylog import LineLog

NAME = "daylog"
SUMMARY = "per-day log lines/s: LineLog vs logging's WatchedFileHandler"
LINE = "2026-01-04 03:00:01 weekly[42]   run: /usr/local/bin/sync | copying file 00042 of 99999"


def _ours(path: str, lines: int) -> float:
    started = time.perf_counter()
    with LineLog(Path(path)) as log:
        for _ in range(lines):
            log.write(LINE)
    return time.perf_counter() - started


def _peer(path: str, lines: int) -> float:
    handler = logging.handlers.WatchedFileHandler(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"bench.daylog.{path}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    started = time.perf_counter()
    for _ in range(lines):
        logger.info(LINE)  # the handler flushes after every record
    elapsed = time.perf_counter() - started
    logger.removeHandler(handler)
    handler.close()
    return elapsed


def run(context: Context) -> list[Result]:
    lines = 20_000 if context.quick else 100_000
    runs = context.repeat(full=5, quick=2)
    directory = context.work_dir / "daylog"
    directory.mkdir()
    ours, peer = [], []
    for index in range(runs):
        with stage(f"{lines} lines, run {index + 1}"):
            ours.append(lines / _ours(str(directory / f"ours{index}.log"), lines))
            peer.append(lines / _peer(str(directory / f"peer{index}.log"), lines))
    floor = Floor(round(median(peer)), "lines/s", "logging.WatchedFileHandler")
    return [
        Result(
            NAME,
            f"{lines} lines appended, reopen check on each",
            round(median(ours)),
            "lines/s",
            floor,
            # well above what a command prints; the step's 1 MiB bound caps a run's share
            Target(">=", 20_000, "lines/s"),
            {"ours": spread(ours), "peer": spread(peer)},
        )
    ]
