"""`file_age` checks on real files with set modification times."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hostkeeper.checks import measure
from hostkeeper.core.health import CheckState

from .peers import make_check

HOUR = 3600
DAY = 86400


def _aged(path: Path, seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))
    return path


def _file_age(path: Path, warning: str = "2d", critical: str = "8d") -> object:
    return make_check(type="file_age", path=str(path), warning=warning, critical=critical)


def test_the_newest_file_anywhere_under_the_directory_counts(tmp_path: Path) -> None:
    _aged(tmp_path / "old.tar.gz", 10 * DAY)
    newest = _aged(tmp_path / "deep" / "er" / "new.tar.gz", 3 * HOUR)
    measurement = measure(_file_age(tmp_path), timeout=10)
    assert measurement.state is CheckState.OK
    assert measurement.unit == "s"
    assert measurement.value is not None and abs(measurement.value - 3 * HOUR) < 60
    assert str(newest) in measurement.detail


def test_older_than_warning_is_a_warning_and_older_than_critical_is_critical(
    tmp_path: Path,
) -> None:
    _aged(tmp_path / "w" / "backup", 3 * DAY)
    _aged(tmp_path / "c" / "backup", 9 * DAY)
    assert measure(_file_age(tmp_path / "w"), timeout=10).state is CheckState.WARNING
    assert measure(_file_age(tmp_path / "c"), timeout=10).state is CheckState.CRITICAL


def test_a_single_file_path_is_its_own_age(tmp_path: Path) -> None:
    single = _aged(tmp_path / "heartbeat", 5 * DAY)
    measurement = measure(_file_age(single), timeout=10)
    assert measurement.state is CheckState.WARNING
    assert measurement.value is not None and abs(measurement.value - 5 * DAY) < 60


def test_symlinks_are_not_followed_out_of_the_tree(tmp_path: Path) -> None:
    watched = tmp_path / "backups"
    _aged(watched / "archive.tar.gz", 9 * DAY)
    fresh_elsewhere = _aged(tmp_path / "elsewhere" / "fresh", 0)
    os.symlink(fresh_elsewhere, watched / "link-to-fresh-file")
    os.symlink(fresh_elsewhere.parent, watched / "link-to-fresh-dir")
    measurement = measure(_file_age(watched), timeout=10)
    assert measurement.state is CheckState.CRITICAL
    assert "archive.tar.gz" in measurement.detail


def test_an_empty_directory_is_critical(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    measurement = measure(_file_age(tmp_path / "empty"), timeout=10)
    assert measurement.state is CheckState.CRITICAL
    assert measurement.detail.startswith("no files under")


def test_a_missing_path_is_critical(tmp_path: Path) -> None:
    measurement = measure(_file_age(tmp_path / "never-made"), timeout=10)
    assert measurement.state is CheckState.CRITICAL
    assert "does not exist" in measurement.detail


def test_a_path_that_is_neither_file_nor_directory_is_unknown(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    measurement = measure(_file_age(fifo), timeout=10)
    assert measurement.state is CheckState.UNKNOWN
