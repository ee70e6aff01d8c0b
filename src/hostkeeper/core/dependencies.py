"""Findings of the dependency audit and how a new audit reconciles with the stored ones.

Pure. A finding is one thing an operator can act on: a vulnerable Python distribution,
an outdated one, a pending OS upgrade, a held package, a reboot asked for, or a part of
the audit that could not run (a missing environment, unreadable advisories). Each
belongs to a *scope*, the part of the audit that finds it; a stored finding is resolved
only when its scope ran this time and did not find it again, so an audit that could not
read its advisories never marks every vulnerability as fixed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


SEVERITY_RANK: Mapping[Severity, int] = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}
SEVERITIES_HIGH_FIRST: tuple[Severity, ...] = tuple(
    sorted(Severity, key=lambda s: -SEVERITY_RANK[s])
)


def at_least(severity: Severity, threshold: Severity) -> bool:
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold]


def severity_of_rating(rating: str) -> Severity | None:
    """The severity for a CVSS rating or an advisory's own word (`MODERATE` is GitHub's
    medium); None for `none` or a word it does not know."""
    word = rating.strip().lower()
    if word == "moderate":
        return Severity.MEDIUM
    try:
        severity = Severity(word)
    except ValueError:
        return None
    return None if severity is Severity.INFO else severity


class Kind(StrEnum):
    VULNERABILITY = "vulnerability"
    OUTDATED = "outdated"
    OS_SECURITY_UPDATE = "os_security_update"
    OS_UPDATE = "os_update"
    HELD_PACKAGE = "held_package"
    REBOOT_REQUIRED = "reboot_required"
    ENVIRONMENT_MISSING = "environment_missing"
    ADVISORIES_UNAVAILABLE = "advisories_unavailable"


OS_ENVIRONMENT = "os"  # the `environment` of OS package findings


def scope_of(kind: Kind, environment: str) -> str:
    """The part of the audit that finds findings of `kind` in `environment`."""
    if kind is Kind.VULNERABILITY:
        return f"vulnerabilities:{environment}"
    if kind is Kind.OUTDATED:
        return f"outdated:{environment}"
    if kind is Kind.REBOOT_REQUIRED:
        return "os:reboot"
    if kind in (Kind.OS_SECURITY_UPDATE, Kind.OS_UPDATE, Kind.HELD_PACKAGE):
        return "os:packages"
    if kind is Kind.ENVIRONMENT_MISSING:
        return "environments"
    return "advisories"


@dataclass(frozen=True)
class Finding:
    kind: Kind
    severity: Severity
    environment: str  # a Python environment as configured, or "os"
    package: str  # "" for a finding about the host or the audit itself
    summary: str
    installed: str | None = None
    advisory: str = ""  # OSV id; "" when the finding is not an advisory
    aliases: tuple[str, ...] = ()
    fixed: str | None = None  # first fixed version, or the version an upgrade brings
    score: float | None = None  # CVSS v3 base score, where the advisory has a vector

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What makes two audits' findings the same finding."""
        return (self.kind.value, self.environment, self.package, self.advisory)

    @property
    def scope(self) -> str:
        return scope_of(self.kind, self.environment)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "severity": self.severity.value,
            "environment": self.environment,
            "package": self.package,
            "installed": self.installed,
            "advisory": self.advisory or None,
            "aliases": list(self.aliases),
            "fixed": self.fixed,
            "score": self.score,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            kind=Kind(data["kind"]),
            severity=Severity(data["severity"]),
            environment=data["environment"],
            package=data["package"],
            summary=data["summary"],
            installed=data.get("installed"),
            advisory=data.get("advisory") or "",
            aliases=tuple(data.get("aliases") or ()),
            fixed=data.get("fixed"),
            score=data.get("score"),
        )


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by kind, environment, package and advisory."""
    return sorted(findings, key=lambda f: (-SEVERITY_RANK[f.severity], *f.key))


def severity_counts(severities: Iterable[Severity]) -> dict[str, int]:
    """Count per severity, every severity present, most severe first."""
    counted = Counter(severities)
    return {severity.value: counted.get(severity, 0) for severity in SEVERITIES_HIGH_FIRST}


def worst(findings: Iterable[Finding]) -> Severity | None:
    severities = [finding.severity for finding in findings]
    return max(severities, key=SEVERITY_RANK.__getitem__, default=None)


@dataclass(frozen=True)
class OpenFinding:
    """A stored finding not yet resolved: its row id and identity."""

    id: int
    key: tuple[str, str, str, str]
    scope: str


@dataclass(frozen=True)
class Reconciliation:
    new: list[Finding] = field(default_factory=list)  # first seen now
    seen_again: list[tuple[int, Finding]] = field(default_factory=list)  # (row id, finding)
    resolved: list[int] = field(default_factory=list)  # row ids resolved now


def reconcile(
    open_findings: Sequence[OpenFinding], current: Sequence[Finding], covered: Iterable[str]
) -> Reconciliation:
    """What to store after an audit: findings seen for the first time, stored findings
    seen again (their details refreshed), and stored findings resolved, which are those
    of a `covered` scope (one the audit ran completely) that it did not find again."""
    covered_scopes = frozenset(covered)
    stored = {finding.key: finding for finding in open_findings}
    result = Reconciliation()
    found: set[tuple[str, str, str, str]] = set()
    for finding in current:
        if finding.key in found:
            continue  # the same advisory listed twice by a source
        found.add(finding.key)
        previous = stored.get(finding.key)
        if previous is None:
            result.new.append(finding)
        else:
            result.seen_again.append((previous.id, finding))
    for previous in open_findings:
        if previous.key not in found and previous.scope in covered_scopes:
            result.resolved.append(previous.id)
    return result


def count_at_or_above(counts: Mapping[str, int], threshold: Severity) -> int:
    """Findings at or above `threshold`, from counts by severity."""
    return sum(
        count
        for severity, count in counts.items()
        if severity in Severity.__members__.values() and at_least(Severity(severity), threshold)
    )


def breached(counts: Mapping[str, int], limits: Mapping[Severity, int]) -> bool:
    """Whether any `{severity: n}` limit is met: at least n findings at or above it."""
    return any(count_at_or_above(counts, severity) >= n for severity, n in limits.items())
