"""`systemd_unit`: ok while the unit is active, asking `systemctl show` (argv, timeout).

Unknown, with systemctl's own words, when systemctl is missing, the system was not
booted with systemd or the bus cannot be reached: the unit's state is then not known,
which is not the same as the unit being down.
"""

from __future__ import annotations

from hostkeeper.adapters.commands import run_command
from hostkeeper.checks import CheckUnavailable
from hostkeeper.config.checks import SystemdUnitCheck
from hostkeeper.core.health import CheckState, Measurement

TYPE = "systemd_unit"
CONFIG = SystemdUnitCheck

PROPERTIES = ("LoadState", "ActiveState", "SubState", "Result")
# Active states that are on their way somewhere: worth a look, not yet a failure.
_TRANSITIONAL = {"activating", "deactivating", "reloading"}


def measure(check: SystemdUnitCheck, timeout: float) -> Measurement:
    argv = ["systemctl", "show", f"--property={','.join(PROPERTIES)}", "--", check.unit]
    result = run_command(argv, timeout=timeout, output_limit=16 * 1024)
    if not result.ok:
        reason = _first_lines(result.output) or result.describe_failure()
        raise CheckUnavailable(f"systemctl show {check.unit}: {reason}")
    properties = parse_properties(result.output)
    if "ActiveState" not in properties:
        raise CheckUnavailable(f"systemctl show {check.unit} gave no ActiveState")
    return state_of(check.unit, properties)


def parse_properties(output: str) -> dict[str, str]:
    """`Key=value` lines of `systemctl show` (other lines, e.g. warnings, are ignored)."""
    properties: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in PROPERTIES:
            properties[key] = value.strip()
    return properties


def state_of(unit: str, properties: dict[str, str]) -> Measurement:
    load_state = properties.get("LoadState", "")
    active = properties["ActiveState"]
    sub = properties.get("SubState", "")
    if load_state == "not-found":
        return Measurement(CheckState.CRITICAL, f"{unit} is not installed (unit not found)")
    described = f"{unit} is {active}" + (f" ({sub})" if sub else "")
    if active == "active":
        return Measurement(CheckState.OK, described)
    if active in _TRANSITIONAL:
        return Measurement(CheckState.WARNING, described)
    result = properties.get("Result", "")
    if result and result != "success":
        described += f", last result: {result}"
    return Measurement(CheckState.CRITICAL, described)


def _first_lines(output: str, count: int = 2) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return "; ".join(lines[:count])
