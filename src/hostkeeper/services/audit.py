"""The security audit (`audit` verb, `security_audit` step): gather facts, apply the
rules of core.audit, write the JSON report under report_dir/security/."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import socket
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hostkeeper.adapters.certificates import CertificateError, not_after
from hostkeeper.adapters.commands import run_command
from hostkeeper.adapters.fs import atomic_write
from hostkeeper.config import Config
from hostkeeper.core.audit import (
    FileFacts,
    Finding,
    Severity,
    certificate_findings,
    exposure_findings,
    log_findings,
    private_file_findings,
    secret_findings,
    sort_findings,
)

MAX_SCANNED_FILE = 1024 * 1024  # secrets hide in configs, not in large data files
MAX_WALKED_FILES = 200_000
_EXPOSURE_RE = re.compile(r"Overall exposure level for \S+:\s*([0-9.]+)")


@dataclass
class AuditReport:
    host: str
    generated_at: str
    findings: list[Finding] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        counts = Counter(finding.severity.value for finding in self.findings)
        return {
            "host": self.host,
            "generated_at": self.generated_at,
            "summary": {severity.value: counts.get(severity.value, 0) for severity in Severity},
            "scanned": self.scanned,
            "findings": [
                {
                    **asdict(finding),
                    "severity": finding.severity.value,
                    "location": finding.location(),
                }
                for finding in self.findings
            ],
        }


def run_audit(config: Config, config_file: str, now: datetime) -> AuditReport:
    report = AuditReport(socket.gethostname(), now.isoformat(timespec="seconds"))
    expected = frozenset({0, os.getuid()})
    findings: list[Finding] = []
    private = 0
    for root in config.security.private_paths:
        for facts in _walk(root):
            private += 1
            findings += private_file_findings(facts, expected)
    own = [config_file, config.paths.state_dir, config.paths.backup_dir]
    if config.database.url.startswith("sqlite:///"):
        own.append(config.database.url.removeprefix("sqlite:///"))
    for path in own:
        own_facts = _facts(path)
        if own_facts is not None:
            findings += private_file_findings(own_facts, expected)
    logs = 0
    for path in _log_files(config):
        log_facts = _facts(path)
        if log_facts is not None:
            logs += 1
            findings += log_findings(log_facts)
    certificates = _certificate_paths(config)
    for path in certificates:
        findings += _certificate(path, now, config.security.warn_days)
    secrets = 0
    for path in _text_files(config.security.scan_paths):
        secrets += 1
        try:
            lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        world_readable = bool(os.lstat(path).st_mode & stat.S_IROTH)
        findings += secret_findings(path, lines, world_readable)
    findings += _unit_exposure()
    report.findings = sort_findings(_unique(findings))
    report.scanned = {
        "private_entries": private,
        "log_files": logs,
        "certificates": len(certificates),
        "scanned_files": secrets,
    }
    return report


def write_report(config: Config, report: AuditReport, now: datetime) -> Path:
    target = Path(config.paths.report_dir) / "security" / f"monthly_{now:%Y%m%d}.json"
    atomic_write(target, json.dumps(report.as_dict(), indent=2).encode(), 0o640)
    return target


def _facts(path: str) -> FileFacts | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return FileFacts(path, info.st_mode, info.st_uid)


def _walk(root: str) -> Iterator[FileFacts]:
    """Every entry under root, without following symlinks; the root itself first."""
    first = _facts(root)
    if first is None:
        return
    yield first
    if not stat.S_ISDIR(first.mode):
        return
    count = 0
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            facts = _facts(os.path.join(directory, name))
            if facts is not None and not stat.S_ISLNK(facts.mode):
                count += 1
                yield facts
            if count >= MAX_WALKED_FILES:
                return


def _log_files(config: Config) -> list[str]:
    paths = set()
    for policy in config.logs:
        for pattern in policy.paths:
            paths.update(glob.glob(pattern))
    log_dir = Path(config.paths.log_dir)
    if log_dir.is_dir():
        paths.update(str(p) for p in log_dir.iterdir() if p.is_file() and not p.is_symlink())
    return sorted(paths)


def _certificate_paths(config: Config) -> list[str]:
    paths = list(config.security.certificates)
    paths += [check.path for check in config.checks if check.type == "certificate"]
    return list(dict.fromkeys(paths))


def _certificate(path: str, now: datetime, warn_days: int) -> list[Finding]:
    if not Path(path).is_file():
        return [
            Finding(
                Severity.MEDIUM,
                "certificate missing",
                path,
                "configured certificate file does not exist",
                "fix the path in the configuration or install the certificate",
            )
        ]
    if shutil.which("openssl") is None:
        return [
            Finding(
                Severity.LOW,
                "certificate unchecked",
                path,
                "openssl is not installed, expiry cannot be read",
                "install openssl",
            )
        ]
    try:
        return certificate_findings(path, not_after(path), now, warn_days)
    except CertificateError as error:
        return [
            Finding(
                Severity.MEDIUM,
                "certificate unreadable",
                path,
                str(error),
                "check that the file is a PEM certificate",
            )
        ]


def _text_files(roots: list[str]) -> Iterator[str]:
    for root in roots:
        for facts in _walk(root):
            if not stat.S_ISREG(facts.mode):
                continue
            try:
                if os.path.getsize(facts.path) > MAX_SCANNED_FILE:
                    continue
                with open(facts.path, "rb") as handle:
                    if b"\0" in handle.read(8192):
                        continue  # binary
            except OSError:
                continue
            yield facts.path


def _unit_exposure() -> list[Finding]:
    """`systemd-analyze security` of the running hostkeeper unit, where systemd runs it."""
    if not Path("/run/systemd/system").is_dir() or shutil.which("systemd-analyze") is None:
        return []
    active = run_command(["systemctl", "is-active", "hostkeeper.service"], timeout=10)
    if active.output.strip() != "active":
        return []
    result = run_command(
        ["systemd-analyze", "security", "--no-pager", "hostkeeper.service"], timeout=30
    )
    match = _EXPOSURE_RE.search(result.output)
    return exposure_findings("hostkeeper.service", float(match.group(1))) if match else []


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))
