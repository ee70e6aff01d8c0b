"""The registry of built-in steps: one line per step name.

Each entry names the module that implements the step (imported only when the step runs,
so start-up stays fast) and the argument it accepts. A module provides what
`tasks.contract.StepModule` states (`NAME`, `run(ctx, argument) -> StepOutcome`);
`load` checks it when the module is imported. An entry whose module is None is a
documented step that this version does not implement: configs that use it validate, and
running it fails with a clear message instead of pretending to succeed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from hostkeeper.core.contracts import check_declared_name, check_member
from hostkeeper.reports.registry import NAMES as REPORTS
from hostkeeper.tasks.arguments import (
    ArgumentSpec,
    ChoiceArgument,
    CommandArgument,
    DurationArgument,
    NameArgument,
)

if TYPE_CHECKING:
    from hostkeeper.tasks.contract import StepModule

DB_OPERATIONS = (
    "optimize",
    "analyze",
    "vacuum",
    "reindex",
    "check",
    "integrity_check",
    "stats",
    "backup",
    "migrate",
)


@dataclass(frozen=True)
class StepDefinition:
    module: str | None
    argument: ArgumentSpec
    summary: str


STEPS: dict[str, StepDefinition] = {
    "run": StepDefinition(
        "hostkeeper.tasks.command", CommandArgument(required=True), "run a command (argv)"
    ),
    "rotate_logs": StepDefinition(
        "hostkeeper.tasks.rotate_logs",
        NameArgument(reference="logs"),
        "rotate the configured logs",
    ),
    "cleanup": StepDefinition(
        "hostkeeper.tasks.cleanup", NameArgument(reference="cleanup"), "apply cleanup policies"
    ),
    "collect_metrics": StepDefinition(
        "hostkeeper.tasks.collect_metrics", ArgumentSpec(), "collect one round of metrics"
    ),
    "health_check": StepDefinition(
        "hostkeeper.tasks.health_check", ArgumentSpec(), "run the health checks"
    ),
    "evaluate_alerts": StepDefinition(
        "hostkeeper.tasks.evaluate_alerts", ArgumentSpec(), "evaluate the alert rules"
    ),
    "resource_report": StepDefinition(
        "hostkeeper.tasks.resource_report", ArgumentSpec(), "report resource and disk usage"
    ),
    "verify_backups": StepDefinition(
        "hostkeeper.tasks.verify_backups",
        NameArgument(reference="backups"),
        "re-hash the newest archive of each set",
    ),
    "backup": StepDefinition(
        "hostkeeper.tasks.backup",
        NameArgument(reference="backups", required=True),
        "archive a backup set",
    ),
    "restore_test": StepDefinition(
        "hostkeeper.tasks.restore_test",
        NameArgument(reference="backups", required=True),
        "restore the newest archive of a set into a scratch directory and check it",
    ),
    "report": StepDefinition(
        "hostkeeper.tasks.report", ChoiceArgument(choices=REPORTS, required=True), "write a report"
    ),
    "analyze_trends": StepDefinition(
        "hostkeeper.tasks.analyze_trends", DurationArgument(), "fit trends over a period"
    ),
    "baseline": StepDefinition(
        "hostkeeper.tasks.baseline",
        ChoiceArgument(choices=("update", "validate", "rollback"), required=True),
        "update, validate or roll back baselines",
    ),
    "alert_test": StepDefinition(
        "hostkeeper.tasks.alert_test",
        NameArgument(reference="alerts.rules", required=True),
        "send a test notification for a rule",
    ),
    "security_audit": StepDefinition(
        "hostkeeper.tasks.security_audit", ArgumentSpec(), "audit permissions, certs, secrets"
    ),
    "suggest_thresholds": StepDefinition(
        "hostkeeper.tasks.suggest_thresholds",
        DurationArgument(default="7d"),
        "suggest alert thresholds from history (optional period, default 7d)",
    ),
    "db": StepDefinition(
        "hostkeeper.tasks.db",
        ChoiceArgument(choices=DB_OPERATIONS, required=True, many=True),
        "database maintenance operations",
    ),
}


def load_module(name: str) -> StepModule:
    """The module of step `name`, checked against the StepModule contract.

    Raises KeyError for an unknown step, LookupError for a step without a module in this
    version, PluginContractError for a module that lacks part of the contract.
    """
    from hostkeeper.tasks.contract import StepModule

    definition = STEPS[name]
    if definition.module is None:
        raise LookupError(f"step {name!r} has no implementation in this version")
    module = importlib.import_module(definition.module)
    check_member("step", name, module, StepModule)
    check_declared_name("step", name, module, "NAME")
    return cast("StepModule", module)
