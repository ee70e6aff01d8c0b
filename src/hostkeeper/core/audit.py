"""Security audit rules: what makes a file mode, owner, secret or certificate a finding.

Pure: given file facts and text lines, return findings. A secret finding names the file,
line and kind of secret, never the secret itself.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    kind: str
    path: str
    message: str
    fix: str
    line: int | None = None

    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


@dataclass(frozen=True)
class FileFacts:
    path: str
    mode: int  # st_mode from lstat
    uid: int


_SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "AWS secret access key",
        re.compile(r"(?i)aws_secret_access_key\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{40}"),
    ),
    ("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("password in URL", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]{3,}@")),
    (
        "token in URL",
        re.compile(
            r"(?i)\S[?&#](?:[a-z0-9_-]*(?:token|secret|key|sig|password)"
            r"[a-z0-9_-]*)=(?!\$|\{|<|\*)[^&\s\"'#]{6,}"
        ),
    ),
    (
        "authorization header",
        re.compile(
            r"(?i)\bauthorization\s*:\s*(?:bearer|basic|token)\s+(?!\$|\{|<|\*)[^\s\"']{8,}"
        ),
    ),
    (
        "secret command-line argument",
        re.compile(
            r"(?i)(?<![\w-])--?(?:[a-z0-9]+-)*(?:password|passwd|passphrase|token|secret"
            r"|api-?key|access-?key)(?:=|[\"']?\s*,\s*[\"']?|\s+)(?!\$|\{|<|\*|-)[^\s\"',\]]{4,}"
        ),
    ),
)
# `password: hunter2`, `api_token = "abc..."`; not `password_file: /path`, not `${VAR}`.
_ASSIGNED_SECRET = re.compile(
    r"(?i)(?:^|[\s{,\"'])(password|passwd|secret|token|api[_-]?key|access[_-]?key"
    r"|client[_-]?secret|auth[_-]?token)[\"']?\s*[:=]\s*[\"']?([^\s\"'#,}]+)"
)
# References and placeholders, not values: null, ${VAR}, $VAR, <set me>, ****.
_NOT_A_VALUE = re.compile(r"^(?:null|none|~|\$\{.*|\$\w+|<.*|\*+|changeme|true|false)$", re.I)


def secrets_in_line(line: str) -> list[str]:
    """Kinds of secret found in one line of text (never the values)."""
    kinds = [kind for kind, pattern in _SECRET_PATTERNS if pattern.search(line)]
    for match in _ASSIGNED_SECRET.finditer(line):
        value = match.group(2)
        if len(value) >= 4 and not _NOT_A_VALUE.match(value):
            kinds.append(f"{match.group(1).lower()} value")
    return kinds


def secret_findings(path: str, lines: list[str], world_readable: bool = False) -> list[Finding]:
    """Secrets in a file's lines; in a world-readable file each one is critical."""
    findings = []
    for number, line in enumerate(lines, start=1):
        for kind in dict.fromkeys(secrets_in_line(line)):
            findings.append(
                Finding(
                    Severity.CRITICAL if world_readable else Severity.HIGH,
                    "world-readable secret" if world_readable else "secret",
                    path,
                    f"{kind} in clear text"
                    + (", readable by every user" if world_readable else ""),
                    "move the secret into a file readable only by root (e.g. password_file) "
                    "or a credential store, and rotate it",
                    line=number,
                )
            )
    return findings


def private_file_findings(facts: FileFacts, expected_uids: frozenset[int]) -> list[Finding]:
    """A file under a private path must not be world-accessible nor owned by a stranger."""
    findings = []
    mode = facts.mode
    kind = "directory" if stat.S_ISDIR(mode) else "file"
    if mode & stat.S_IWOTH and not (stat.S_ISDIR(mode) and mode & stat.S_ISVTX):
        findings.append(
            Finding(
                Severity.CRITICAL,
                "world-writable",
                facts.path,
                f"{kind} is world-writable (mode {stat.S_IMODE(mode):04o})",
                f"chmod o-w {facts.path}",
            )
        )
    if mode & stat.S_IROTH and not stat.S_ISLNK(mode):
        findings.append(
            Finding(
                Severity.HIGH if kind == "file" else Severity.MEDIUM,
                "world-readable",
                facts.path,
                f"{kind} under a private path is world-readable (mode {stat.S_IMODE(mode):04o})",
                f"chmod o-rwx {facts.path}",
            )
        )
    if expected_uids and facts.uid not in expected_uids:
        findings.append(
            Finding(
                Severity.HIGH,
                "unexpected owner",
                facts.path,
                f"owned by uid {facts.uid}, expected {sorted(expected_uids)}",
                f"chown root {facts.path}",
            )
        )
    return findings


def log_findings(facts: FileFacts) -> list[Finding]:
    if stat.S_ISREG(facts.mode) and facts.mode & stat.S_IROTH:
        return [
            Finding(
                Severity.LOW,
                "world-readable log",
                facts.path,
                f"log file is world-readable (mode {stat.S_IMODE(facts.mode):04o})",
                f"chmod o-r {facts.path} (and `create 0640` in its rotation)",
            )
        ]
    return []


def certificate_findings(
    path: str, not_after: datetime, now: datetime, warn_days: int
) -> list[Finding]:
    days = (not_after - now).total_seconds() / 86400
    if days < 0:
        return [
            Finding(
                Severity.CRITICAL,
                "certificate expired",
                path,
                f"expired {-days:.0f} days ago ({not_after:%Y-%m-%d})",
                "renew the certificate and reload the service using it",
            )
        ]
    if days <= warn_days:
        return [
            Finding(
                Severity.HIGH if days <= 7 else Severity.MEDIUM,
                "certificate expiring",
                path,
                f"expires in {days:.0f} days ({not_after:%Y-%m-%d})",
                "renew the certificate before it expires",
            )
        ]
    return []


def exposure_findings(unit: str, exposure: float) -> list[Finding]:
    if exposure <= 3.0:
        return []
    severity = Severity.HIGH if exposure > 7.0 else Severity.MEDIUM
    return [
        Finding(
            severity,
            "service exposure",
            unit,
            f"systemd-analyze security rates {unit} {exposure:.1f} (above 3.0)",
            "install the shipped unit's hardening settings (packaging/systemd)",
        )
    ]


def sort_findings(findings: list[Finding]) -> list[Finding]:
    order = {severity: index for index, severity in enumerate(Severity)}
    return sorted(findings, key=lambda f: (order[f.severity], f.path, f.line or 0))
