from __future__ import annotations

from hostkeeper.core.dependencies import (
    Finding,
    Kind,
    OpenFinding,
    Severity,
    at_least,
    reconcile,
    severity_counts,
    severity_of_rating,
    sort_findings,
    worst,
)


def _vuln(
    package: str, advisory: str, severity: Severity = Severity.HIGH, env: str = "self"
) -> Finding:
    return Finding(Kind.VULNERABILITY, severity, env, package, "s", "1.0", advisory)


def _open(row: int, finding: Finding) -> OpenFinding:
    return OpenFinding(row, finding.key, finding.scope)


def test_reconcile_new_seen_again_and_resolved() -> None:
    kept, gone, other_env = _vuln("a", "A-1"), _vuln("b", "B-1"), _vuln("c", "C-1", env="/opt/app")
    fresh = _vuln("d", "D-1")
    plan = reconcile(
        [_open(1, kept), _open(2, gone), _open(3, other_env)],
        [kept, fresh, fresh],
        covered={"vulnerabilities:self"},
    )
    assert plan.new == [fresh]
    assert plan.seen_again == [(1, kept)]
    assert plan.resolved == [2]  # /opt/app was not audited this time: C-1 stays open


def test_nothing_is_resolved_when_no_scope_ran() -> None:
    plan = reconcile([_open(1, _vuln("a", "A-1"))], [], covered=set())
    assert plan.resolved == [] and plan.new == []


def test_os_findings_share_a_scope_and_reboot_has_its_own() -> None:
    update = Finding(Kind.OS_SECURITY_UPDATE, Severity.HIGH, "os", "libssl3", "s")
    held = Finding(Kind.HELD_PACKAGE, Severity.LOW, "os", "bash", "s")
    reboot = Finding(Kind.REBOOT_REQUIRED, Severity.MEDIUM, "os", "", "s")
    assert update.scope == held.scope != reboot.scope


def test_severity_order_and_counts() -> None:
    assert at_least(Severity.CRITICAL, Severity.HIGH)
    assert not at_least(Severity.MEDIUM, Severity.HIGH)
    findings = [_vuln("a", "1", Severity.LOW), _vuln("b", "2", Severity.CRITICAL)]
    assert [f.package for f in sort_findings(findings)] == ["b", "a"]
    assert worst(findings) is Severity.CRITICAL
    assert worst([]) is None
    assert severity_counts(f.severity for f in findings) == {
        "critical": 1,
        "high": 0,
        "medium": 0,
        "low": 1,
        "info": 0,
    }


def test_ratings_and_advisory_words() -> None:
    assert severity_of_rating("MODERATE") is Severity.MEDIUM
    assert severity_of_rating("High") is Severity.HIGH
    assert severity_of_rating("none") is None
    assert severity_of_rating("bogus") is None


def test_finding_round_trips_through_its_dict() -> None:
    finding = Finding(
        Kind.VULNERABILITY,
        Severity.HIGH,
        "self",
        "demo-lib",
        "bad",
        "1.0",
        "PYSEC-1",
        ("CVE-1",),
        "1.4.2",
        7.5,
    )
    assert Finding.from_dict(finding.as_dict()) == finding
