"""Dependency audits and findings, first seen to resolved, on every store backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import dependencies as dependency_store
from hostkeeper.core.dependencies import Finding, Kind, Severity

T0 = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=30)
T2 = T1 + timedelta(days=30)


def _vuln(package: str, advisory: str, severity: Severity, installed: str = "1.0") -> Finding:
    return Finding(
        Kind.VULNERABILITY,
        severity,
        "/opt/app",
        package,
        f"{advisory} in {package}",
        installed,
        advisory,
        (f"CVE-{advisory}",),
        "2.0",
        9.8 if severity is Severity.CRITICAL else None,
    )


SECURITY = Finding(
    Kind.OS_SECURITY_UPDATE, Severity.HIGH, "os", "libssl3", "upgrade", "3.0.1", fixed="3.0.2"
)
COVERED = {"vulnerabilities:/opt/app", "os:packages"}


def _as_host(store: Store, host: str) -> Store:
    return Store(store.engine, host=host)


def test_a_finding_keeps_its_first_seen_and_is_resolved_when_gone(store: Store) -> None:
    first = _vuln("demo", "A-1", Severity.CRITICAL)
    other = _vuln("lib", "B-1", Severity.MEDIUM)
    dependency_store.record_dependency_audit(store, [first, other, SECURITY], COVERED, T0)
    upgraded = _vuln("demo", "A-1", Severity.CRITICAL, installed="1.1")
    plan = dependency_store.record_dependency_audit(store, [upgraded, SECURITY], COVERED, T1)
    assert len(plan.resolved) == 1 and not plan.new
    [os_update, still] = sorted(dependency_store.open_findings(store), key=lambda s: s.finding.kind)
    assert os_update.finding == SECURITY
    assert still.finding == upgraded  # details refreshed
    assert (still.first_seen, still.last_seen, still.resolved_at) == (T0, T1, None)
    [gone] = [s for s in dependency_store.findings_between(store, T0, T2) if s.resolved_at]
    assert gone.finding == other and gone.resolved_at == T1 and gone.first_seen == T0


def test_findings_of_a_scope_that_did_not_run_stay_open(store: Store) -> None:
    dependency_store.record_dependency_audit(
        store, [_vuln("demo", "A-1", Severity.HIGH)], COVERED, T0
    )
    # The advisories were unreadable this time: the vulnerability scope is not covered.
    dependency_store.record_dependency_audit(store, [], {"os:packages"}, T1)
    assert [s.finding.advisory for s in dependency_store.open_findings(store)] == ["A-1"]


def test_a_finding_seen_again_after_resolution_starts_anew(store: Store) -> None:
    finding = _vuln("demo", "A-1", Severity.HIGH)
    dependency_store.record_dependency_audit(store, [finding], COVERED, T0)
    dependency_store.record_dependency_audit(store, [], COVERED, T1)
    dependency_store.record_dependency_audit(store, [finding], COVERED, T2)
    [current] = dependency_store.open_findings(store)
    assert current.first_seen == T2
    assert len(dependency_store.findings_between(store, T0, T2)) == 2


def test_counts_latest_audit_and_hosts_apart(store: Store) -> None:
    findings = [
        _vuln("demo", "A-1", Severity.CRITICAL),
        _vuln("lib", "B-1", Severity.CRITICAL),
        SECURITY,
    ]
    dependency_store.record_dependency_audit(
        store, findings, COVERED, T0, warnings=["index unreachable"], report="/r/dependencies.json"
    )
    other = _as_host(store, "host-b")
    dependency_store.record_dependency_audit(other, [SECURITY], COVERED, T1)
    assert dependency_store.open_counts(store) == {
        "critical": 2,
        "high": 1,
        "medium": 0,
        "low": 0,
        "info": 0,
    }
    assert dependency_store.open_counts(other)["critical"] == 0
    latest = dependency_store.latest_audit(store)
    assert latest is not None
    assert latest.audited_at == T0
    assert latest.counts["critical"] == 2
    assert latest.warnings == ["index unreachable"]
    assert latest.report == "/r/dependencies.json"
    assert dependency_store.latest_audit(_as_host(store, "host-c")) is None


def test_prune_drops_old_resolved_findings_and_audits_but_the_newest(store: Store) -> None:
    dependency_store.record_dependency_audit(
        store, [_vuln("demo", "A-1", Severity.HIGH)], COVERED, T0
    )
    dependency_store.record_dependency_audit(store, [SECURITY], COVERED, T1)
    deleted = dependency_store.prune_dependency_history(store, T2 + timedelta(days=1))
    assert deleted == 2  # the resolved finding and the older audit
    assert [s.finding for s in dependency_store.open_findings(store)] == [SECURITY]
    latest = dependency_store.latest_audit(store)
    assert latest is not None and latest.audited_at == T1
