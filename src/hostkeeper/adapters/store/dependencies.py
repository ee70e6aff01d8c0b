"""Dependency audits and their findings in the store, per host.

Writer: `record_dependency_audit` reconciles one audit's findings with the open ones
(core.dependencies.reconcile) and stores the result and the audit in one transaction.
Readers: `open_findings`, `latest_audit`, `open_counts` (status, /metrics),
`findings_between` (the monthly assessment). `prune_dependency_history` keeps the tables
bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from hostkeeper.adapters.store.database import Store
from hostkeeper.adapters.store.schema import dependency_audits, dependency_findings
from hostkeeper.core.dependencies import (
    SEVERITY_RANK,
    Finding,
    Kind,
    OpenFinding,
    Reconciliation,
    Severity,
    reconcile,
    scope_of,
    severity_counts,
)


@dataclass(frozen=True)
class StoredFinding:
    id: int
    finding: Finding
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.finding.as_dict(),
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
        }


@dataclass(frozen=True)
class AuditRecord:
    audited_at: datetime
    counts: dict[str, int]
    warnings: list[str]
    report: str | None


def record_dependency_audit(
    store: Store,
    findings: Sequence[Finding],
    covered: Iterable[str],
    audited_at: datetime,
    *,
    warnings: Sequence[str] = (),
    report: str | None = None,
) -> Reconciliation:
    """Store one audit: new findings first seen now, open ones seen again refreshed, open
    ones of a covered scope that were not found again resolved now."""
    with store.write() as connection:
        rows = connection.execute(
            select(
                dependency_findings.c.id,
                dependency_findings.c.kind,
                dependency_findings.c.environment,
                dependency_findings.c.package,
                dependency_findings.c.advisory,
            ).where(
                dependency_findings.c.host == store.host,
                dependency_findings.c.resolved_at.is_(None),
            )
        ).all()
        open_findings = [
            OpenFinding(
                row.id,
                (row.kind, row.environment, row.package, row.advisory),
                scope_of(Kind(row.kind), row.environment),
            )
            for row in rows
        ]
        plan = reconcile(open_findings, findings, covered)
        if plan.new:
            connection.execute(
                insert(dependency_findings),
                [
                    {
                        "host": store.host,
                        **_columns(finding),
                        "first_seen": audited_at,
                        "last_seen": audited_at,
                        "resolved_at": None,
                    }
                    for finding in plan.new
                ],
            )
        for row_id, finding in plan.seen_again:
            connection.execute(
                update(dependency_findings)
                .where(dependency_findings.c.id == row_id)
                .values(**_columns(finding), last_seen=audited_at)
            )
        if plan.resolved:
            connection.execute(
                update(dependency_findings)
                .where(dependency_findings.c.id.in_(plan.resolved))
                .values(resolved_at=audited_at)
            )
        connection.execute(
            insert(dependency_audits).values(
                host=store.host,
                audited_at=audited_at,
                counts=json.dumps(severity_counts(f.severity for f in findings)),
                warnings=json.dumps(list(warnings)),
                report=report,
            )
        )
    return plan


def open_findings(store: Store) -> list[StoredFinding]:
    """This host's findings not resolved, most severe first."""
    with store.read() as connection:
        rows = connection.execute(
            select(dependency_findings).where(
                dependency_findings.c.host == store.host,
                dependency_findings.c.resolved_at.is_(None),
            )
        ).all()
    stored = [_stored(row) for row in rows]
    return sorted(stored, key=lambda s: (-SEVERITY_RANK[s.finding.severity], *s.finding.key))


def findings_between(store: Store, start: datetime, end: datetime) -> list[StoredFinding]:
    """Findings open at some time in [start, end]: first seen before the end and not
    resolved before the start."""
    with store.read() as connection:
        rows = connection.execute(
            select(dependency_findings)
            .where(
                dependency_findings.c.host == store.host,
                dependency_findings.c.first_seen <= end,
                or_(
                    dependency_findings.c.resolved_at.is_(None),
                    dependency_findings.c.resolved_at >= start,
                ),
            )
            .order_by(dependency_findings.c.first_seen, dependency_findings.c.id)
        ).all()
    return [_stored(row) for row in rows]


def open_counts(store: Store, host: str | None = None) -> dict[str, int]:
    """Open findings of `host` (default: this one) by severity, every severity present."""
    with store.read() as connection:
        rows = connection.execute(
            select(dependency_findings.c.severity, func.count())
            .where(
                dependency_findings.c.host == (host or store.host),
                dependency_findings.c.resolved_at.is_(None),
            )
            .group_by(dependency_findings.c.severity)
        ).all()
    counts = severity_counts([])
    for severity, count in rows:
        counts[severity] = counts.get(severity, 0) + count
    return counts


def latest_audit(store: Store, host: str | None = None) -> AuditRecord | None:
    with store.read() as connection:
        row = connection.execute(
            select(dependency_audits)
            .where(dependency_audits.c.host == (host or store.host))
            .order_by(dependency_audits.c.audited_at.desc(), dependency_audits.c.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return AuditRecord(row.audited_at, json.loads(row.counts), json.loads(row.warnings), row.report)


def prune_dependency_history(store: Store, before: datetime) -> int:
    """Delete this host's findings resolved before `before` and audits older than it
    (the newest audit always stays); the number of rows deleted. A role that may not
    delete them (a host's in a least-privilege fleet) leaves them to the owner."""
    if not store.may_delete(dependency_audits.name):
        return 0
    with store.write() as connection:
        newest = connection.execute(
            select(func.max(dependency_audits.c.id)).where(dependency_audits.c.host == store.host)
        ).scalar()
        findings = connection.execute(
            delete(dependency_findings).where(
                dependency_findings.c.host == store.host,
                dependency_findings.c.resolved_at < before,
            )
        ).rowcount
        audits = connection.execute(
            delete(dependency_audits).where(
                and_(
                    dependency_audits.c.host == store.host,
                    dependency_audits.c.audited_at < before,
                    dependency_audits.c.id != (newest or 0),
                )
            )
        ).rowcount
    return int(findings or 0) + int(audits or 0)


def _columns(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind.value,
        "environment": finding.environment,
        "package": finding.package,
        "advisory": finding.advisory,
        "aliases": json.dumps(list(finding.aliases)),
        "severity": finding.severity.value,
        "score": finding.score,
        "installed": finding.installed,
        "fixed": finding.fixed,
        "summary": finding.summary,
    }


def _stored(row: Any) -> StoredFinding:
    finding = Finding(
        kind=Kind(row.kind),
        severity=Severity(row.severity),
        environment=row.environment,
        package=row.package,
        summary=row.summary,
        installed=row.installed,
        advisory=row.advisory,
        aliases=tuple(json.loads(row.aliases)),
        fixed=row.fixed,
        score=row.score,
    )
    return StoredFinding(row.id, finding, row.first_seen, row.last_seen, row.resolved_at)
