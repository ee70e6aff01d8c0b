"""The registry of built-in steps: the module that implements each step name.

The names, their arguments and summaries are `config.steps.SIGNATURES` (the configuration
validates against them). A module is imported only when its step runs, so start-up stays
fast. A module provides what
`steps.contract.StepModule` states (`NAME`, `run(ctx, argument) -> StepOutcome`);
`load` checks it when the module is imported. An entry whose module is None is a
documented step that this version does not implement: configs that use it validate, and
running it fails with a clear message instead of pretending to succeed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from hostkeeper.config.arguments import ArgumentSpec
from hostkeeper.config.steps import SIGNATURES
from hostkeeper.core.contracts import check_declared_name, check_member

if TYPE_CHECKING:
    from hostkeeper.steps.contract import StepModule


@dataclass(frozen=True)
class StepDefinition:
    module: str | None
    argument: ArgumentSpec
    summary: str


# The module that implements each step named in config.steps.SIGNATURES (None: documented,
# not built in this version).
MODULES: dict[str, str | None] = {
    "run": "hostkeeper.steps.command",
    "rotate_logs": "hostkeeper.steps.rotate_logs",
    "cleanup": "hostkeeper.steps.cleanup",
    "collect_metrics": "hostkeeper.steps.collect_metrics",
    "health_check": "hostkeeper.steps.health_check",
    "evaluate_alerts": "hostkeeper.steps.evaluate_alerts",
    "resource_report": "hostkeeper.steps.resource_report",
    "verify_backups": "hostkeeper.steps.verify_backups",
    "backup": "hostkeeper.steps.backup",
    "restore_test": "hostkeeper.steps.restore_test",
    "report": "hostkeeper.steps.report",
    "analyze_trends": "hostkeeper.steps.analyze_trends",
    "baseline": "hostkeeper.steps.baseline",
    "alert_test": "hostkeeper.steps.alert_test",
    "security_audit": "hostkeeper.steps.security_audit",
    "dependency_audit": "hostkeeper.steps.dependency_audit",
    "refresh_advisories": "hostkeeper.steps.refresh_advisories",
    "suggest_thresholds": "hostkeeper.steps.suggest_thresholds",
    "db": "hostkeeper.steps.db",
}

if MODULES.keys() != SIGNATURES.keys():
    raise ImportError(
        "hostkeeper.steps.MODULES and config.steps.SIGNATURES name different steps: "
        f"{sorted(MODULES.keys() ^ SIGNATURES.keys())}"
    )

STEPS: dict[str, StepDefinition] = {
    name: StepDefinition(MODULES[name], signature.argument, signature.summary)
    for name, signature in SIGNATURES.items()
}


def load_module(name: str) -> StepModule:
    """The module of step `name`, checked against the StepModule contract.

    Raises KeyError for an unknown step, LookupError for a step without a module in this
    version, PluginContractError for a module that lacks part of the contract.
    """
    from hostkeeper.steps.contract import StepModule

    definition = STEPS[name]
    if definition.module is None:
        raise LookupError(f"step {name!r} has no implementation in this version")
    module = importlib.import_module(definition.module)
    check_member("step", name, module, StepModule)
    check_declared_name("step", name, module, "NAME")
    return cast("StepModule", module)
