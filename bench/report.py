"""The results table on stdout and the JSON record under bench/results/."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import REPO, Result, format_value

COLUMNS = ("benchmark", "figure", "peer/floor", "ratio", "target", "met")


def _row(result: Result) -> tuple[str, ...]:
    floor = "-"
    if result.floor is not None:
        floor = f"{format_value(result.floor.value, result.floor.unit)} ({result.floor.label})"
    ratio = "-" if result.ratio is None else f"{result.ratio:.2f}x"
    met = {None: "-", True: "yes", False: "NO"}[result.met]
    return (
        f"{result.benchmark}: {result.figure}",
        format_value(result.value, result.unit),
        floor,
        ratio,
        "-" if result.target is None else str(result.target),
        met,
    )


def table(results: list[Result]) -> str:
    rows = [COLUMNS, *(_row(result) for result in results)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(),
        "commit": commit or None,
    }


def write_json(
    directory: Path,
    started: datetime,
    arguments: list[str],
    results: list[Result],
    notes: list[str],
    errors: dict[str, str],
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    record = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "arguments": arguments,
        "machine": machine(),
        "results": [result.as_json() for result in results],
        "notes": notes,
        "errors": errors,
    }
    text = json.dumps(record, indent=2) + "\n"
    path = directory / f"bench-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    return path


def print_report(results: list[Result], notes: list[str], errors: dict[str, str]) -> None:
    print()
    print(table(results) if results else "no results")
    for note in notes:
        print(f"\nnote: {note}")
    for name, error in errors.items():
        print(f"\nerror in {name}: {error}", file=sys.stderr)
