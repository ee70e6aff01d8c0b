"""The dependency audit (`dependency_audit` step, `audit deps` verb): which installed
software has known vulnerabilities or pending updates, how bad, and what fixes it.

`audit_dependencies` gathers the facts through the adapters (Python environments, OSV
advisories or pip-audit, the package index, apt) and turns them into findings. The
daemon runs it in a child process (`run_in_child`, this module's `main`), so that
reading tens of thousands of advisories never grows the daemon's resident memory;
`record` then stores the findings and `write_report` writes the JSON report.

Kept whole: the Python, OS-package and index parts fill one DependencyReport, and the
child process entry point (`main`) must import exactly what `audit_dependencies` needs.
"""

from __future__ import annotations

import json
import resource
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hostkeeper.adapters.apt_packages import (
    AptUnavailable,
    apt_available,
    read_apt_state,
    read_reboot_required,
)
from hostkeeper.adapters.commands import run_command
from hostkeeper.adapters.fs import atomic_write
from hostkeeper.adapters.osv_archive import ArchiveUnreadable, read_advisories, scan_archive
from hostkeeper.adapters.package_index import IndexUnreachable, available_versions
from hostkeeper.adapters.pip_audit import PipAuditUnavailable, pip_audit_path, run_pip_audit
from hostkeeper.adapters.python_env import (
    EnvironmentUnavailable,
    PythonEnvironment,
    read_environment,
)
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.dependencies import (
    prune_dependency_history,
    record_dependency_audit,
)
from hostkeeper.config import Config
from hostkeeper.config.dependencies import Dependencies
from hostkeeper.core.dependencies import (
    OS_ENVIRONMENT,
    Finding,
    Kind,
    Severity,
    at_least,
    severity_counts,
    sort_findings,
)
from hostkeeper.core.osv import Advisory
from hostkeeper.core.package_index import newest_release

PYTHON_ENVIRONMENT = "python"  # the `environment` of findings about all Python environments
_MARKER = "HOSTKEEPER-DEPENDENCY-REPORT "
_CHILD_OUTPUT_LIMIT = 32 * 1024 * 1024


class AuditChildFailed(Exception):
    """The child process that runs the audit failed or gave no report."""


@dataclass
class DependencyReport:
    host: str
    generated_at: str
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    covered: list[str] = field(default_factory=list)  # scopes the audit ran completely
    environments: list[dict[str, Any]] = field(default_factory=list)
    advisories: dict[str, Any] = field(default_factory=dict)
    os: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, float] = field(default_factory=dict)  # the audit's time and memory

    def counts(self) -> dict[str, int]:
        return severity_counts(finding.severity for finding in self.findings)

    def at_or_above(self, threshold: Severity) -> list[Finding]:
        return [f for f in self.findings if at_least(f.severity, threshold)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "generated_at": self.generated_at,
            "summary": self.counts(),
            "warnings": self.warnings,
            "covered": self.covered,
            "environments": self.environments,
            "advisories": self.advisories,
            "os": self.os,
            "resources": self.resources,
            "findings": [finding.as_dict() for finding in self.findings],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DependencyReport:
        return cls(
            host=data["host"],
            generated_at=data["generated_at"],
            findings=[Finding.from_dict(item) for item in data["findings"]],
            warnings=list(data["warnings"]),
            covered=list(data["covered"]),
            environments=list(data["environments"]),
            advisories=dict(data["advisories"]),
            os=dict(data["os"]),
            resources=dict(data.get("resources") or {}),
        )


def archive_path(settings: Dependencies, state_dir: str) -> str:
    return settings.osv_archive or str(Path(state_dir) / "osv" / "PyPI-all.zip")


def audit_dependencies(
    settings: Dependencies,
    state_dir: str,
    now: datetime,
    check_cancelled: Callable[[], None] = lambda: None,
) -> DependencyReport:
    """Audit this host as `settings` says; never raises for what it audits (a missing
    environment or archive, an unreachable index are findings or warnings)."""
    report = DependencyReport(socket.gethostname(), now.isoformat(timespec="seconds"))
    environments = _environments(settings, report)
    check_cancelled()
    _vulnerabilities(settings, state_dir, environments, report)
    check_cancelled()
    _outdated(settings, environments, report)
    check_cancelled()
    _os_packages(settings, report)
    report.findings = sort_findings(report.findings)
    return report


def _environments(settings: Dependencies, report: DependencyReport) -> list[PythonEnvironment]:
    found = []
    for name in settings.python:
        try:
            environment = read_environment(name, settings.timeout.total_seconds())
        except EnvironmentUnavailable as error:
            report.findings.append(
                Finding(
                    Kind.ENVIRONMENT_MISSING,
                    settings.severities.environment_missing,
                    name,
                    "",
                    f"not audited: {error}",
                )
            )
            report.environments.append({"name": name, "error": str(error)})
            continue
        found.append(environment)
        report.environments.append(
            {
                "name": name,
                "interpreter": environment.interpreter,
                "python": environment.python_version,
                "prefix": environment.prefix,
                "distributions": len(environment.distributions),
            }
        )
    report.covered.append("environments")
    return found


def _vulnerabilities(
    settings: Dependencies,
    state_dir: str,
    environments: list[PythonEnvironment],
    report: DependencyReport,
) -> None:
    archive = archive_path(settings, state_dir)
    source = settings.advisories
    if source == "auto":
        if Path(archive).exists():
            source = "osv_archive"
        elif pip_audit_path() is not None:
            source = "pip_audit"
        else:
            _unavailable(
                settings,
                report,
                PYTHON_ENVIRONMENT,
                f"no OSV archive at {archive} (run the refresh_advisories step) and "
                "pip-audit is not installed",
            )
            report.advisories = {"source": None, "archive": archive}
            return
    report.advisories = {"source": source, "archive": archive}
    report.covered.append("advisories")
    if source == "osv_archive":
        _from_archive(settings, archive, environments, report)
    else:
        _from_pip_audit(settings, archive, environments, report)


def _from_archive(
    settings: Dependencies,
    archive: str,
    environments: list[PythonEnvironment],
    report: DependencyReport,
) -> None:
    installed = {environment.name: environment.installed() for environment in environments}
    try:
        scans = scan_archive(archive, installed)
    except ArchiveUnreadable as error:
        _unavailable(settings, report, PYTHON_ENVIRONMENT, str(error))
        return
    first = next(iter(scans.values()), None)
    if first is not None:  # every environment saw the same members
        report.advisories.update(read=first.advisories, unreadable=len(first.skipped))
        if first.skipped:
            report.warnings.append(
                f"{len(first.skipped)} of the {first.advisories} advisories in {archive} "
                f"could not be read, e.g. {first.skipped[0]}"
            )
            if len(first.skipped) == first.advisories:
                _unavailable(
                    settings, report, PYTHON_ENVIRONMENT, f"{archive}: no readable advisory"
                )
                return
    for name, scan in scans.items():
        for match in scan.matches:
            report.findings.append(
                _vulnerability(
                    settings, name, match.package, match.installed, match.advisory, match.fixed
                )
            )
        report.covered.append(f"vulnerabilities:{name}")


def _from_pip_audit(
    settings: Dependencies,
    archive: str,
    environments: list[PythonEnvironment],
    report: DependencyReport,
) -> None:
    for environment in environments:
        try:
            reported = run_pip_audit(environment.paths, settings.timeout.total_seconds())
        except PipAuditUnavailable as error:
            _unavailable(settings, report, environment.name, str(error))
            continue
        known = _archive_advisories(archive, {r.id for r in reported}, report)
        for item in reported:
            advisory = known.get(item.id)
            severity = advisory.severity() if advisory else None
            report.findings.append(
                Finding(
                    Kind.VULNERABILITY,
                    severity or settings.severities.unscored_advisory,
                    environment.name,
                    item.package,
                    item.summary or (advisory.summary if advisory else "") or item.id,
                    item.installed,
                    item.id,
                    item.aliases,
                    item.fixed,
                    advisory.score() if advisory else None,
                )
            )
        report.covered.append(f"vulnerabilities:{environment.name}")


def _archive_advisories(
    archive: str, ids: set[str], report: DependencyReport
) -> dict[str, Advisory]:
    """Advisories of the archive, where there is one, to score pip-audit's findings."""
    if not ids or not Path(archive).exists():
        return {}
    try:
        return read_advisories(archive, ids)
    except ArchiveUnreadable as error:
        report.warnings.append(f"pip-audit's findings are unscored: {error}")
        return {}


def _vulnerability(
    settings: Dependencies,
    environment: str,
    package: str,
    installed: str,
    advisory: Advisory,
    fixed: str | None,
) -> Finding:
    return Finding(
        Kind.VULNERABILITY,
        advisory.severity() or settings.severities.unscored_advisory,
        environment,
        package,
        advisory.summary or advisory.id,
        installed,
        advisory.id,
        advisory.aliases,
        fixed,
        advisory.score(),
    )


def _unavailable(
    settings: Dependencies, report: DependencyReport, environment: str, why: str
) -> None:
    report.findings.append(
        Finding(
            Kind.ADVISORIES_UNAVAILABLE,
            settings.severities.advisories_unavailable,
            environment,
            "",
            f"vulnerabilities not checked: {why}",
        )
    )


def _outdated(
    settings: Dependencies, environments: list[PythonEnvironment], report: DependencyReport
) -> None:
    if settings.index_url is None or not environments:
        return
    names = {dist.name for environment in environments for dist in environment.distributions}
    try:
        offered = available_versions(
            settings.index_url, names, settings.index_timeout.total_seconds()
        )
    except IndexUnreachable as error:
        report.warnings.append(
            f"package index unreachable, outdated distributions not looked up: {error}"
        )
        return
    for environment in environments:
        for dist in environment.distributions:
            newest = newest_release(offered.get(dist.name, ()), dist.version)
            if newest is not None:
                report.findings.append(
                    Finding(
                        Kind.OUTDATED,
                        settings.severities.outdated,
                        environment.name,
                        dist.name,
                        f"{newest} is available",
                        dist.version,
                        fixed=str(newest),
                    )
                )
        report.covered.append(f"outdated:{environment.name}")


def _os_packages(settings: Dependencies, report: DependencyReport) -> None:
    if settings.os_packages == "off" or (settings.os_packages == "auto" and not apt_available()):
        return
    severities = settings.severities
    try:
        state = read_apt_state(
            settings.security_origins, settings.apt_config, settings.timeout.total_seconds()
        )
    except AptUnavailable as error:
        report.warnings.append(f"OS packages not audited: {error}")
    else:
        simulation = state.simulation
        for upgrade in simulation.upgrades:
            report.findings.append(
                Finding(
                    Kind.OS_SECURITY_UPDATE if upgrade.security else Kind.OS_UPDATE,
                    severities.os_security_update if upgrade.security else severities.os_update,
                    OS_ENVIRONMENT,
                    upgrade.package,
                    ("security upgrade from " if upgrade.security else "upgrade from ")
                    + (", ".join(dict.fromkeys(upgrade.origins)) or "an unnamed archive"),
                    upgrade.installed,
                    fixed=upgrade.candidate,
                )
            )
        held = set(state.held)  # apt lists held packages as kept back too
        kept_back = [package for package in simulation.kept_back if package not in held]
        for package in kept_back:
            report.findings.append(
                Finding(
                    Kind.OS_UPDATE,
                    severities.os_update,
                    OS_ENVIRONMENT,
                    package,
                    "kept back: the upgrade needs new or removed packages (apt full-upgrade)",
                )
            )
        for package in state.held:
            report.findings.append(
                Finding(
                    Kind.HELD_PACKAGE,
                    severities.held_package,
                    OS_ENVIRONMENT,
                    package,
                    "held: never upgraded until `apt-mark unhold`",
                )
            )
        report.os = {
            "security_upgrades": len(simulation.security),
            "other_upgrades": len(simulation.other),
            "kept_back": len(kept_back),
            "held": len(state.held),
        }
        report.covered.append("os:packages")
    packages = read_reboot_required(settings.reboot_required_file)
    report.os["reboot_required"] = packages is not None
    if packages is not None:
        report.os["reboot_packages"] = packages
        report.findings.append(
            Finding(
                Kind.REBOOT_REQUIRED,
                severities.reboot_required,
                OS_ENVIRONMENT,
                "",
                f"{settings.reboot_required_file} asks for a reboot"
                + (f" ({', '.join(packages)})" if packages else ""),
            )
        )
    report.covered.append("os:reboot")


def run_in_child(
    settings: Dependencies,
    state_dir: str,
    *,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
) -> DependencyReport:
    """`audit_dependencies` in a child process of this interpreter; raises
    AuditChildFailed when it fails, times out or is cancelled."""
    result = run_command(
        [
            sys.executable,
            "-m",
            "hostkeeper.services.dependency_audit",
            settings.model_dump_json(),
            state_dir,
        ],
        timeout=timeout,
        cancel=cancel,
        output_limit=_CHILD_OUTPUT_LIMIT,
    )
    line = next((ln for ln in reversed(result.output.splitlines()) if ln.startswith(_MARKER)), None)
    if not result.ok or line is None:
        last = [ln for ln in result.output.strip().splitlines() if not ln.startswith(_MARKER)]
        raise AuditChildFailed(
            f"the audit {result.describe_failure() if not result.ok else 'gave no report'}"
            + (f": {last[-1]}" if last else "")
        )
    return DependencyReport.from_dict(json.loads(line.removeprefix(_MARKER)))


def write_report(config: Config, report: DependencyReport, now: datetime) -> Path:
    target = Path(config.paths.report_dir) / "security" / f"dependencies_{now:%Y%m%d}.json"
    atomic_write(target, json.dumps(report.as_dict(), indent=2).encode(), 0o640)
    return target


def record(
    config: Config, store: Store, report: DependencyReport, now: datetime, path: Path | None
) -> None:
    """Store the report's findings (first seen, resolved) and keep the history bounded."""
    record_dependency_audit(
        store,
        report.findings,
        report.covered,
        now,
        warnings=report.warnings,
        report=None if path is None else str(path),
    )
    prune_dependency_history(store, now - config.security.dependencies.keep_resolved)


def main(argv: list[str]) -> int:
    started = time.monotonic()
    settings = Dependencies.model_validate_json(argv[0])
    report = audit_dependencies(settings, argv[1], datetime.now(UTC))
    # ru_maxrss is in KiB on Linux.
    report.resources = {
        "seconds": round(time.monotonic() - started, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    sys.stdout.write(_MARKER + json.dumps(report.as_dict()) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
