"""`resource_report`: top processes, filesystem use, and the size and growth of the paths
hostkeeper looks after.

The per-process scan (two passes, a second apart, for CPU use) and the directory walks
are the expensive part of resource monitoring, so they run here, on the procedure's
schedule, never in the 10-second collection. Directory sizes are stored in
`disk_usage`, so each report shows the growth since the previous one. The report is
also written to report_dir/resources/resource_report_YYYYMMDD.json.
"""

from __future__ import annotations

import glob
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hostkeeper.adapters.fs import atomic_write
from hostkeeper.adapters.store.metrics import previous_sizes, prune_sizes, record_sizes
from hostkeeper.adapters.system import (
    existing_paths,
    filesystem_usage,
    measure_tree,
    process_usage,
    top_processes,
)
from hostkeeper.config import Config
from hostkeeper.config.units import format_size
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "resource_report"

TOP_PROCESSES = 10
LARGEST_DIRECTORIES = 10
MAX_ENTRIES_PER_PATH = 200_000


def watched_paths(config: Config) -> list[str]:
    """Directories whose size the report follows: hostkeeper's own paths, the log
    directories of `logs`, the `cleanup` roots and the `backups` sources."""
    paths = [
        config.paths.state_dir,
        config.paths.report_dir,
        config.paths.backup_dir,
        config.paths.log_dir,
    ]
    for policy in config.logs:
        paths.extend(_static_directory(pattern) for pattern in policy.paths)
    paths.extend(policy.path for policy in config.cleanup)
    for backup in config.backups:
        paths.extend(backup.sources)
    return list(dict.fromkeys(os.path.normpath(path) for path in paths if path))


def _static_directory(pattern: str) -> str:
    """The directory part of a glob before its first wildcard: /var/log/app/*.log ->
    /var/log/app."""
    if not glob.has_magic(pattern):
        return os.path.dirname(pattern) or "/"
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "/"


def report_path(config: Config, now: datetime) -> Path:
    local = now.astimezone(ZoneInfo(config.timezone))
    return Path(config.paths.report_dir) / "resources" / f"resource_report_{local:%Y%m%d}.json"


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    config = ctx.config
    now = ctx.now()
    problems: list[str] = []

    usages = process_usage(1.0, wait=ctx.cancel.wait)
    ctx.check_cancelled()
    by_memory = top_processes(usages, "rss_bytes", TOP_PROCESSES)
    by_cpu = top_processes(usages, "cpu_percent", TOP_PROCESSES)

    filesystems = []
    for disk in config.metrics.disks:
        try:
            filesystems.append(filesystem_usage(disk).as_dict())
        except OSError as error:
            problems.append(f"filesystem {disk}: {error.strerror or error}")

    present, missing = existing_paths(watched_paths(config))
    previous = previous_sizes(ctx.store, present, now)
    directories: list[dict[str, Any]] = []
    largest: list[tuple[str, int]] = []
    sizes: dict[str, int] = {}
    for path in present:
        ctx.check_cancelled()
        try:
            tree = measure_tree(
                path, MAX_ENTRIES_PER_PATH, LARGEST_DIRECTORIES, check=ctx.check_cancelled
            )
        except OSError as error:
            problems.append(f"{path}: {error.strerror or error}")
            continue
        sizes[path] = tree.size_bytes
        largest.extend(tree.largest)
        before = previous.get(path)
        directories.append(
            {
                "path": path,
                "size_bytes": tree.size_bytes,
                "files": tree.files,
                "previous_size_bytes": before.size_bytes if before else None,
                "previous_measured_at": before.measured_at.isoformat() if before else None,
                "growth_bytes": tree.size_bytes - before.size_bytes if before else None,
                "truncated": tree.truncated,
                "unreadable_entries": tree.errors,
            }
        )
        if tree.truncated:
            problems.append(f"{path}: stopped after {MAX_ENTRIES_PER_PATH} entries")

    report: dict[str, Any] = {
        "generated_at": now.isoformat(),
        "processes": {
            "count": len(usages),
            "by_memory": [usage.as_dict() for usage in by_memory],
            "by_cpu": [usage.as_dict() for usage in by_cpu],
        },
        "filesystems": filesystems,
        "directories": directories,
        "missing_paths": missing,
        "largest_directories": [
            {"path": path, "size_bytes": size}
            for path, size in sorted(set(largest), key=lambda item: item[1], reverse=True)[
                :LARGEST_DIRECTORIES
            ]
        ],
        "problems": problems,
    }
    summary = _summary(report)
    if ctx.dry_run:
        return StepOutcome(StepStatus.SKIPPED, "dry run: " + summary, details=report)
    record_sizes(ctx.store, sizes, now)
    # sizes are kept as long as the hourly rollups they are read beside
    prune_sizes(ctx.store, now - config.metrics.retention.hourly)
    target = report_path(config, now)
    atomic_write(target, (json.dumps(report, indent=2) + "\n").encode(), 0o640)
    report_details = {**report, "report": str(target)}
    if problems:
        return StepOutcome(
            StepStatus.WARNING, summary + "; " + "; ".join(problems), details=report_details
        )
    return StepOutcome(StepStatus.SUCCEEDED, summary, details=report_details)


def _summary(report: dict[str, Any]) -> str:
    parts = []
    memory = report["processes"]["by_memory"]
    if memory:
        top = memory[0]
        parts.append(f"top memory {top['name']} ({format_size(top['rss_bytes'])})")
    cpu = report["processes"]["by_cpu"]
    if cpu:
        parts.append(f"top CPU {cpu[0]['name']} ({cpu[0]['cpu_percent']:g}%)")
    for filesystem in report["filesystems"]:
        parts.append(f"{filesystem['path']} {filesystem['used_percent']:g}% used")
    growth = [d for d in report["directories"] if d["growth_bytes"]]
    if growth:
        fastest = max(growth, key=lambda d: d["growth_bytes"])
        sign = "+" if fastest["growth_bytes"] >= 0 else "-"
        parts.append(
            f"most growth {fastest['path']} {sign}{format_size(abs(fastest['growth_bytes']))}"
        )
    return "; ".join(parts) or "nothing to report"
