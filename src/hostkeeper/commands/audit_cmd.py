"""`hostkeeper audit`: the security audit now; exit 1 when there are findings."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from hostkeeper.commands import audit_deps_cmd
from hostkeeper.commands.common import VerbContext, with_config
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, table


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "audit",
        **page(
            "security audit: permissions, certificates, secrets",
            """
            Audit this host's security basics now, as the security_audit step does:
            modes and owners of private files and logs, secrets left in readable files
            (named by file and line, never shown), certificates near expiry, and the
            exposure score of the systemd unit. Prints each finding with its severity
            and the fix, and writes a JSON report under report_dir/security/.

            `audit deps` audits installed software instead (`audit deps --help`).
            """,
            [(0, "no findings"), (1, f"there are findings, or {CONFIG_ERROR}")],
        ),
    )
    parser.add_argument(
        "--no-report", action="store_true", help="do not write the JSON report file"
    )
    parser.set_defaults(handler=audit)
    # `audit deps`: the dependency audit; plain `audit` stays the security audit.
    audit_verbs = parser.add_subparsers(dest="audit_verb", metavar="AUDIT", required=False)
    audit_deps_cmd.register(audit_verbs)


@with_config
def audit(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.services.audit import run_audit, write_report

    now = datetime.now(UTC)
    report = run_audit(ctx.config, args.config, now)
    path = None if args.no_report else write_report(ctx.config, report, now)
    data = report.as_dict()
    if args.json:
        emit_json({**data, "report": str(path) if path else None})
        return 1 if report.findings else 0
    if not report.findings:
        print("no findings")
    else:
        print(
            table(
                ["severity", "kind", "where", "problem", "fix"],
                [
                    [f.severity.value, f.kind, f.location(), f.message, f.fix]
                    for f in report.findings
                ],
            )
        )
    counts = ", ".join(f"{count} {severity}" for severity, count in data["summary"].items())
    print(f"{len(report.findings)} finding(s): {counts}" + (f"; report {path}" if path else ""))
    return 1 if report.findings else 0
