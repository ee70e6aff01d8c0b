"""A run's lines in its per-day log: stamped, one event a line, output bounded, and a log
that cannot be written never fails the run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from hostkeeper.procedures import runlog
from hostkeeper.procedures.runlog import RunLog

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


def _lines(log: RunLog) -> list[str]:
    return log.path.read_text().splitlines()


def test_each_line_is_stamped_and_names_the_run(tmp_path: Path) -> None:
    log = RunLog(str(tmp_path), "Europe/Berlin", "weekly", 42)
    log.line("run started (scheduled)")
    log.close()
    [line] = _lines(log)
    assert re.fullmatch(rf"{STAMP} weekly\[42\] run started \(scheduled\)", line)
    assert log.path.parent == tmp_path / "maintenance"
    assert re.fullmatch(r"weekly_maintenance_\d{8}\.log", log.path.name)


def test_a_newline_inside_an_event_cannot_forge_a_line(tmp_path: Path) -> None:
    log = RunLog(str(tmp_path), "UTC", "weekly", 1)
    log.line("failed: first\n2026-01-01 00:00:00 weekly[1] run succeeded")
    log.close()
    assert len(_lines(log)) == 1
    assert "\\n2026-01-01" in _lines(log)[0]


def test_a_steps_output_is_logged_once_streamed_or_not(tmp_path: Path) -> None:
    log = RunLog(str(tmp_path), "UTC", "weekly", 1)
    log.step_started("run: /bin/sh", "steps")
    log.output_line("run: /bin/sh", "streamed")
    log.step_finished("run: /bin/sh", "steps", "succeeded", 1.5, "exited 0", "streamed\n")
    log.step_started("cleanup", "after")
    log.step_finished("cleanup", "after", "failed", 0.2, "no space", "line one\nline two")
    log.close()
    texts = [line.split("] ", 1)[1] for line in _lines(log)]
    assert texts == [
        "step run: /bin/sh started",
        "  run: /bin/sh | streamed",
        "step run: /bin/sh succeeded in 1.5 s: exited 0",
        "verification cleanup started",
        "  cleanup | line one",
        "  cleanup | line two",
        "verification cleanup failed in 200 ms: no space",
    ]


def test_a_steps_output_in_the_log_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runlog, "MAX_STEP_OUTPUT", 100)  # the bound, not the behaviour
    log = RunLog(str(tmp_path), "UTC", "weekly", 1)
    log.step_started("noisy", "steps")
    for number in range(50):
        log.output_line("noisy", f"line {number:02d}")
    log.step_started("next", "steps")
    log.output_line("next", "fresh budget")
    log.close()
    text = log.path.read_text()
    assert "line 00" in text and "line 49" not in text
    assert text.count("more output not logged here") == 1
    assert "fresh budget" in text


def test_an_unwritable_log_dir_costs_the_log_not_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with capture_logs() as events:
        log = RunLog(str(blocker), "UTC", "weekly", 1)
        log.line("nobody reads this")
        log.step_finished("x", "steps", "succeeded", 0.0, None, "output")
        log.close()
    assert not log.active
    assert [e["event"] for e in events] == ["per-day maintenance log unavailable"]
