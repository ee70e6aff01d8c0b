"""`disk_free`, `memory_available` and `load` on this host's real figures."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from hostkeeper.checks import measure
from hostkeeper.core.health import CheckState

from .peers import make_check


def _disk(path: Path | str, warning: str, critical: str) -> object:
    return make_check(type="disk_free", path=str(path), warning=warning, critical=critical)


def test_disk_free_value_is_100_minus_dfs_use_percent(tmp_path: Path) -> None:
    usage = psutil.disk_usage(str(tmp_path))  # df's Use%, rounded to 0.1
    expected = 100.0 - usage.percent
    measurement = measure(_disk(tmp_path, "0%", "0%"), timeout=5)
    assert measurement.unit == "%"
    assert measurement.value == pytest.approx(expected, abs=0.5)
    assert measurement.state is CheckState.OK
    assert str(tmp_path) in measurement.detail


def test_disk_free_below_the_levels_is_warning_then_critical(tmp_path: Path) -> None:
    free = measure(_disk(tmp_path, "0%", "0%"), timeout=5).value
    assert free is not None and 0 < free < 100
    assert measure(_disk(tmp_path, "100%", "0%"), timeout=5).state is CheckState.WARNING
    assert measure(_disk(tmp_path, "100%", "100%"), timeout=5).state is CheckState.CRITICAL


def test_disk_free_on_a_missing_path_is_unknown(tmp_path: Path) -> None:
    measurement = measure(_disk(tmp_path / "absent", "20%", "10%"), timeout=5)
    assert measurement.state is CheckState.UNKNOWN
    assert "cannot read" in measurement.detail


def _memory(warning: str, critical: str) -> object:
    return make_check(type="memory_available", warning=warning, critical=critical)


def test_memory_available_value_is_psutils_available_share() -> None:
    memory = psutil.virtual_memory()
    measurement = measure(_memory("0%", "0%"), timeout=5)
    assert measurement.unit == "%"
    assert measurement.value == pytest.approx(100 * memory.available / memory.total, abs=5)
    assert measurement.state is CheckState.OK


def test_memory_available_below_the_levels_is_warning_then_critical() -> None:
    assert measure(_memory("100%", "0%"), timeout=5).state is CheckState.WARNING
    assert measure(_memory("100%", "100%"), timeout=5).state is CheckState.CRITICAL


def _load(warning: float, critical: float) -> object:
    return make_check(type="load", warning=warning, critical=critical)


def test_load_value_is_the_five_minute_average_per_cpu() -> None:
    before = os.getloadavg()[1] / (psutil.cpu_count() or 1)
    measurement = measure(_load(1000.0, 2000.0), timeout=5)
    after = os.getloadavg()[1] / (psutil.cpu_count() or 1)
    assert measurement.state is CheckState.OK
    assert measurement.unit == "per cpu"
    assert measurement.value is not None
    assert min(before, after) - 0.01 <= measurement.value <= max(before, after) + 0.01


def test_load_above_the_levels_is_warning_then_critical() -> None:
    if os.getloadavg()[1] == 0:
        pytest.skip("the 5-minute load is exactly 0 on this idle host")
    assert measure(_load(1e-9, 1000.0), timeout=5).state is CheckState.WARNING
    assert measure(_load(1e-9, 1e-9), timeout=5).state is CheckState.CRITICAL
