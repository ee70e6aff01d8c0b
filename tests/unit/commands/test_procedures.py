"""`hostkeeper runs` as text: the step table of each run stays aligned, whatever the labels."""

from __future__ import annotations

import json
from pathlib import Path

from hostkeeper.core.numbers import format_seconds
from tests.conftest import Cli, ConfigFile

COLUMNS = ("PHASE", "STEP", "STATUS", "DURATION", "DETAIL")


def _column_starts(header: str) -> list[int]:
    starts = [header.index(name) for name in COLUMNS]
    assert starts == sorted(starts), header
    return starts


def _cells(line: str, starts: list[int]) -> list[str]:
    ends = [*starts[1:], len(line)]
    for start in starts[1:]:
        assert line[start - 2 : start] == "  ", f"no column gap before {start}: {line!r}"
    return [line[start:end].strip() for start, end in zip(starts, ends, strict=True)]


def test_runs_keeps_step_columns_aligned_with_a_long_step_name(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    script = tmp_path / "nightly-maintenance-rebuild-the-package-cache-and-index.sh"
    script.write_text("#!/bin/sh\necho rebuilt\n")
    script.chmod(0o755)
    path = config_file(
        {
            "long": {
                "schedule": {"hour": 3},
                "before": [{"require": "disk_free", "path": str(tmp_path), "min": "1%"}],
                "steps": [{"run": [str(script)]}, {"run": ["true"]}],
            },
            "short": {"schedule": {"hour": 4}, "steps": [{"run": ["sh", "-c", "exit 3"]}]},
        }
    )
    assert cli("--config", str(path), "run", "long").returncode == 0
    assert cli("--config", str(path), "run", "short").returncode == 1
    history = json.loads(cli("--json", "--config", str(path), "runs").stdout)
    assert len(max((s["label"] for r in history for s in r["steps"]), key=len)) >= 40

    result = cli("--config", str(path), "runs")

    assert result.returncode == 0, result.stderr
    blocks = result.stdout.split("\n#")
    assert len(blocks) == len(history)
    all_starts = []
    for block, run in zip(blocks, history, strict=True):
        header, *rows = block.splitlines()[1:]
        starts = _column_starts(header)
        all_starts.append(starts)
        assert len(rows) == len(run["steps"])
        for line, step in zip(rows, run["steps"], strict=True):
            phase, label, status, duration, detail = _cells(line, starts)
            assert (phase, label, status) == (step["phase"], step["label"], step["status"])
            assert duration == format_seconds(step["duration_seconds"])
            assert detail == (step["error"] or step["summary"] or "-")
    assert all(starts == all_starts[0] for starts in all_starts), "runs differ in layout"
