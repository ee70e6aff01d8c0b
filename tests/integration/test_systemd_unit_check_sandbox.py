"""`systemd_unit` checks against a real systemd (PID 1 in a private sandbox)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.systemd_harness import SandboxUnavailable, SystemdSandbox, unavailable_reason
from tests.peers import missing_peer

pytestmark = pytest.mark.systemd

SRC = Path(__file__).resolve().parents[2] / "src"

# Runs inside the sandbox: measure each unit named on the command line, print JSON.
_MEASURE = """
import json, sys
from pydantic import TypeAdapter
from hostkeeper.checks import measure
from hostkeeper.config.checks import Check
adapter = TypeAdapter(Check)
out = {}
for unit in sys.argv[1:]:
    check = adapter.validate_python({"name": "u", "type": "systemd_unit", "unit": unit})
    m = measure(check, 10.0)
    out[unit] = {"state": m.state.value, "detail": m.detail}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SystemdSandbox]:
    reason = unavailable_reason()
    if reason:
        missing_peer(f"systemd sandbox: {reason}")
    if SRC.is_relative_to("/tmp"):
        pytest.skip("the source tree is under /tmp, which is private inside the sandbox")
    try:
        booted = SystemdSandbox.boot()
    except SandboxUnavailable as error:
        missing_peer(f"systemd sandbox: {error}")
    try:
        yield booted
    finally:
        booted.stop()


def _measure(sandbox: SystemdSandbox, *units: str) -> dict[str, dict[str, str]]:
    result = sandbox.run(
        "env", f"PYTHONPATH={SRC}", sys.executable, "-c", _MEASURE, *units, check=True
    )
    measured: dict[str, dict[str, str]] = json.loads(result.stdout)
    return measured


def test_unit_states_under_a_real_systemd(sandbox: SystemdSandbox) -> None:
    sandbox.run("systemd-run", "--unit=hk-check-running", "sleep", "600", check=True)
    sandbox.run(
        "systemd-run", "--unit=hk-check-failed", "--wait", "false"
    )  # exits 1: the unit is left failed
    measured = _measure(
        sandbox, "hk-check-running.service", "hk-check-failed.service", "hk-check-absent.service"
    )
    running = measured["hk-check-running.service"]
    assert running == {"state": "ok", "detail": "hk-check-running.service is active (running)"}
    failed = measured["hk-check-failed.service"]
    assert failed["state"] == "critical"
    assert "failed" in failed["detail"] and "last result: exit-code" in failed["detail"]
    absent = measured["hk-check-absent.service"]
    assert absent == {
        "state": "critical",
        "detail": "hk-check-absent.service is not installed (unit not found)",
    }


def test_a_stopped_unit_is_critical(sandbox: SystemdSandbox) -> None:
    sandbox.run("systemd-run", "--unit=hk-check-stopped", "--remain-after-exit", "true", check=True)
    assert (
        _measure(sandbox, "hk-check-stopped.service")["hk-check-stopped.service"]["state"] == "ok"
    )
    sandbox.systemctl("stop", "hk-check-stopped.service", check=True)
    stopped = _measure(sandbox, "hk-check-stopped.service")["hk-check-stopped.service"]
    assert stopped["state"] == "critical"
