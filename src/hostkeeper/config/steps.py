"""The steps a procedure may name: each one's argument and a one-line summary.

This is what the configuration needs to know about steps to validate a procedure (a
misspelt backup set or report name is a config error, not a 02:00 failure). Which module
implements each step is the business of `hostkeeper.steps`, which checks at import that
it implements exactly these names. The report names live here for the same reason: the
`report:` step's argument is checked against them, and `reports.registry` loads them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hostkeeper.config.arguments import (
    ArgumentSpec,
    ChoiceArgument,
    CommandArgument,
    DurationArgument,
    NameArgument,
)

REPORT_NAMES = (
    "daily",
    "performance",
    "trends",
    "alert_effectiveness",
    "health_assessment",
    "capacity",
    "security",
    "incidents",
)

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
class StepSignature:
    argument: ArgumentSpec
    summary: str


SIGNATURES: dict[str, StepSignature] = {
    "run": StepSignature(CommandArgument(required=True), "run a command (argv)"),
    "rotate_logs": StepSignature(NameArgument(reference="logs"), "rotate the configured logs"),
    "cleanup": StepSignature(NameArgument(reference="cleanup"), "apply cleanup policies"),
    "collect_metrics": StepSignature(ArgumentSpec(), "collect one round of metrics"),
    "health_check": StepSignature(ArgumentSpec(), "run the health checks"),
    "evaluate_alerts": StepSignature(ArgumentSpec(), "evaluate the alert rules"),
    "resource_report": StepSignature(ArgumentSpec(), "report resource and disk usage"),
    "verify_backups": StepSignature(
        NameArgument(reference="backups"), "re-hash the newest archive of each set"
    ),
    "backup": StepSignature(
        NameArgument(reference="backups", required=True), "archive a backup set"
    ),
    "restore_test": StepSignature(
        NameArgument(reference="backups", required=True),
        "restore the newest archive of a set into a scratch directory and check it",
    ),
    "report": StepSignature(ChoiceArgument(choices=REPORT_NAMES, required=True), "write a report"),
    "analyze_trends": StepSignature(DurationArgument(), "fit trends over a period"),
    "baseline": StepSignature(
        ChoiceArgument(choices=("update", "validate", "rollback"), required=True),
        "update, validate or roll back baselines",
    ),
    "alert_test": StepSignature(
        NameArgument(reference="alerts.rules", required=True), "send a test notification for a rule"
    ),
    "security_audit": StepSignature(ArgumentSpec(), "audit permissions, certs, secrets"),
    "dependency_audit": StepSignature(
        ArgumentSpec(),
        "audit Python distributions and OS packages for vulnerabilities and updates",
    ),
    "refresh_advisories": StepSignature(
        ArgumentSpec(), "download the OSV advisories the dependency audit reads (needs a network)"
    ),
    "suggest_thresholds": StepSignature(
        DurationArgument(default="7d"),
        "suggest alert thresholds from history (optional period, default 7d)",
    ),
    "db": StepSignature(
        ChoiceArgument(choices=DB_OPERATIONS, required=True, many=True),
        "database maintenance operations",
    ),
}
