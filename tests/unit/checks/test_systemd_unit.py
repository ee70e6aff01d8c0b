"""`systemd_unit` checks with this host's real systemctl, and how states are read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hostkeeper.checks import measure
from hostkeeper.checks.systemd_unit import parse_properties, state_of
from hostkeeper.core.health import CheckState

from .peers import make_check

BOOTED_WITH_SYSTEMD = os.path.isdir("/run/systemd/system")


def _unit(name: str) -> object:
    return make_check(type="systemd_unit", unit=name, timeout="10s")


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="systemctl is not installed")
@pytest.mark.skipif(BOOTED_WITH_SYSTEMD, reason="this host runs systemd")
def test_without_a_running_systemd_the_unit_is_unknown_with_systemctls_reason() -> None:
    measurement = measure(_unit("postgresql.service"), timeout=10)
    assert measurement.state is CheckState.UNKNOWN
    assert measurement.detail.startswith("systemctl show postgresql.service: ")
    assert len(measurement.detail) > len("systemctl show postgresql.service: ")


@pytest.mark.skipif(not BOOTED_WITH_SYSTEMD, reason="this host was not booted with systemd")
def test_on_a_systemd_host_a_unit_that_does_not_exist_is_critical() -> None:
    measurement = measure(_unit("hostkeeper-no-such-unit.service"), timeout=10)
    assert measurement.state is CheckState.CRITICAL
    assert "not installed" in measurement.detail


def test_without_systemctl_on_path_the_unit_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    measurement = measure(_unit("postgresql.service"), timeout=10)
    assert measurement.state is CheckState.UNKNOWN
    assert "cannot start systemctl" in measurement.detail


def test_properties_are_read_from_key_value_lines_ignoring_others() -> None:
    output = "Warning: something\nLoadState=loaded\nActiveState=active\nSubState=running\nX=y\n"
    assert parse_properties(output) == {
        "LoadState": "loaded",
        "ActiveState": "active",
        "SubState": "running",
    }


@pytest.mark.parametrize(
    ("properties", "state", "detail"),
    [
        ({"LoadState": "loaded", "ActiveState": "active", "SubState": "running"}, "ok", "active"),
        ({"LoadState": "loaded", "ActiveState": "reloading"}, "warning", "reloading"),
        ({"LoadState": "loaded", "ActiveState": "activating"}, "warning", "activating"),
        (
            {"LoadState": "loaded", "ActiveState": "failed", "Result": "exit-code"},
            "critical",
            "last result: exit-code",
        ),
        (
            {"LoadState": "loaded", "ActiveState": "inactive", "SubState": "dead"},
            "critical",
            "dead",
        ),
        ({"LoadState": "not-found", "ActiveState": "inactive"}, "critical", "not installed"),
    ],
)
def test_unit_states_map_to_check_states(
    properties: dict[str, str], state: str, detail: str
) -> None:
    measurement = state_of("app.service", properties)
    assert measurement.state.value == state
    assert detail in measurement.detail
