"""Health checks: one module per check type, each with `measure(check, timeout)`.

A check module (contract: `checks.contract.CheckModule`) is given its validated
configuration and the seconds it may take, and returns a `Measurement` (state, value,
unit, detail). It returns `unknown` with the reason, or raises `CheckUnavailable`, when
the check cannot run; the runner turns any other exception into `unknown` too, so one
broken check never hides the others. Adding a check type is one module plus one line in
MODULES (and its config model); `load` checks the module against the contract.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, cast

from hostkeeper.core.contracts import check_config_model, check_declared_name, check_member
from hostkeeper.core.health import Measurement

if TYPE_CHECKING:
    from hostkeeper.checks.contract import CheckModule

# check type -> module implementing it (imported when a check of that type runs)
MODULES: dict[str, str] = {
    "disk_free": "hostkeeper.checks.disk_free",
    "memory_available": "hostkeeper.checks.memory_available",
    "load": "hostkeeper.checks.load",
    "systemd_unit": "hostkeeper.checks.systemd_unit",
    "http": "hostkeeper.checks.http",
    "tcp": "hostkeeper.checks.tcp",
    "certificate": "hostkeeper.checks.certificate",
    "file_age": "hostkeeper.checks.file_age",
    "process": "hostkeeper.checks.process",
    "vulnerabilities": "hostkeeper.checks.vulnerabilities",
}

# Checks that look only at this host's own state, without a network, a bus or a
# command: what `hostkeeper check --quick` runs.
LOCAL_TYPES = frozenset(
    {"disk_free", "memory_available", "load", "process", "file_age", "vulnerabilities"}
)


class CheckUnavailable(Exception):
    """The check cannot run here; the message says why (the check is `unknown`)."""


def load_module(check_type: str) -> CheckModule:
    """The module of `check_type`, checked against the CheckModule contract: it provides
    TYPE, CONFIG and measure, TYPE is the name it is registered under and CONFIG is the
    config model whose `type` is that name. Raises KeyError for an unknown type,
    PluginContractError for a module that breaks the contract."""
    from hostkeeper.checks.contract import CheckModule

    module = importlib.import_module(MODULES[check_type])
    check_member("check", check_type, module, CheckModule)
    check_declared_name("check", check_type, module, "TYPE")
    check_config_model("check", check_type, module)
    return cast("CheckModule", module)


def measure(check: Any, timeout: float) -> Measurement:
    """Run one check of any type; `CheckUnavailable` becomes an `unknown` measurement."""
    module = load_module(check.type)
    try:
        result: Measurement = module.measure(check, timeout)
    except CheckUnavailable as unavailable:
        return Measurement.unknown(str(unavailable))
    return result
