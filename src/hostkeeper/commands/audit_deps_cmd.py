"""`hostkeeper audit deps`: the dependency audit now, or (`--stored`) the open findings
the last audits stored; exit 1 on a finding at or above `fail_on`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from hostkeeper.commands.common import load, store_for
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, table
from hostkeeper.core.dependencies import Finding, Severity, at_least, severity_counts


def register(audit_verbs: Any) -> None:
    parser = audit_verbs.add_parser(
        "deps",
        **page(
            "vulnerable and outdated Python distributions, pending OS upgrades",
            """
            Audit this host's software now, as the dependency_audit step does: the
            Python environments of security.dependencies.python against the OSV
            advisories (or pip-audit), newer releases on the package index, and on
            Debian and Ubuntu the upgrades apt would make (split into security and
            other), held packages and a pending reboot. Nothing is installed or
            upgraded. Prints each finding with its severity and the version that fixes
            it, stores the findings (first seen, resolved) and writes a JSON report
            under report_dir/security/.

            --stored prints the open findings the last audits stored instead, at once.
            """,
            [
                (0, "no finding at or above the fail_on severity"),
                (1, f"a finding at or above fail_on, or {CONFIG_ERROR}"),
            ],
        ),
    )
    parser.add_argument(
        "--stored",
        action="store_true",
        help="show the stored open findings and counts; do not audit",
    )
    parser.add_argument(
        "--fail-on",
        choices=[severity.value for severity in Severity],
        default=None,
        help="exit 1 on a finding at or above this (default: security.dependencies.fail_on)",
    )
    parser.add_argument(
        "--no-report", action="store_true", help="neither write the JSON report nor store"
    )
    # Also accepted after the verb; SUPPRESS keeps `hostkeeper --json audit deps` working.
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="machine-readable output (the same as `hostkeeper --json audit deps`)",
    )
    parser.set_defaults(handler=audit_deps)


def audit_deps(args: argparse.Namespace) -> int:
    loaded = load(args)
    if loaded is None:
        return 1
    config = loaded.config
    threshold = Severity(args.fail_on or config.security.dependencies.fail_on)
    if args.stored:
        return _stored(args, config, threshold)
    from hostkeeper.services.dependency_audit import audit_dependencies, record, write_report

    now = datetime.now(UTC)
    report = audit_dependencies(config.security.dependencies, config.paths.state_dir, now)
    path = None
    if not args.no_report:
        path = write_report(config, report, now)
        store = store_for(config)
        try:
            record(config, store, report, now, path)
        finally:
            store.dispose()
    failing = report.at_or_above(threshold)
    if args.json:
        emit_json(
            {**report.as_dict(), "report": str(path) if path else None, "fail_on": threshold.value}
        )
        return 1 if failing else 0
    _print_findings(report.findings)
    for warning in report.warnings:
        print(f"warning: {warning}")
    print(
        _summary_line(report.counts(), threshold, len(failing))
        + (f"; report {path}" if path else "")
    )
    return 1 if failing else 0


def _stored(args: argparse.Namespace, config: Any, threshold: Severity) -> int:
    from hostkeeper.adapters.store.dependencies import latest_audit, open_findings

    store = store_for(config)
    try:
        stored = open_findings(store)
        latest = latest_audit(store)
    finally:
        store.dispose()
    failing = [s for s in stored if at_least(s.finding.severity, threshold)]
    counts = severity_counts(s.finding.severity for s in stored)
    if args.json:
        emit_json(
            {
                "audited_at": latest.audited_at if latest else None,
                "warnings": latest.warnings if latest else [],
                "summary": counts,
                "fail_on": threshold.value,
                "findings": [s.as_dict() for s in stored],
            }
        )
        return 1 if failing else 0
    if latest is None:
        print("no dependency audit stored yet (run `hostkeeper audit deps`)")
        return 0
    _print_findings([s.finding for s in stored], [s.first_seen for s in stored])
    for warning in latest.warnings:
        print(f"warning: {warning}")
    print(
        f"last audit {latest.audited_at.isoformat(timespec='seconds')}; "
        + _summary_line(counts, threshold, len(failing))
    )
    return 1 if failing else 0


def _print_findings(findings: list[Finding], first_seen: list[datetime] | None = None) -> None:
    if not findings:
        print("no findings")
        return
    headers = [
        "severity",
        "kind",
        "environment",
        "package",
        "installed",
        "fixed",
        "advisory",
        "summary",
    ]
    rows = []
    for index, finding in enumerate(findings):
        advisory = " ".join([finding.advisory, *finding.aliases]) if finding.advisory else ""
        if finding.score is not None:
            advisory += f" ({finding.score:.1f})"
        row = [
            finding.severity.value,
            finding.kind.value,
            finding.environment,
            finding.package,
            finding.installed or "",
            finding.fixed or "",
            advisory,
            finding.summary,
        ]
        if first_seen is not None:
            row.insert(0, first_seen[index].date().isoformat())
        rows.append(row)
    print(table((["since"] if first_seen is not None else []) + headers, rows))


def _summary_line(counts: dict[str, int], threshold: Severity, failing: int) -> str:
    described = ", ".join(f"{count} {severity}" for severity, count in counts.items())
    return (
        f"{sum(counts.values())} finding(s): {described}; {failing} at or above {threshold.value}"
    )
