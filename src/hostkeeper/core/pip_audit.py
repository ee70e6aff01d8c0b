"""pip-audit's JSON report (`pip-audit --format=json`), read into the vulnerabilities
it lists per distribution.

Pure. pip-audit 2.x writes `{"dependencies": [{"name", "version", "vulns": [{"id",
"fix_versions", "aliases", "description"}]}], "fixes": [...]}`; 1.x wrote the list of
dependencies alone. Distributions pip-audit skipped (`skip_reason`) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from hostkeeper.core.osv import parse_version


class PipAuditError(ValueError):
    """The document is not a pip-audit JSON report."""


@dataclass(frozen=True)
class ReportedVulnerability:
    package: str  # canonical name
    installed: str
    id: str
    aliases: tuple[str, ...]
    fixed: str | None  # the lowest fix version above the installed one
    summary: str


def parse_report(document: Any) -> list[ReportedVulnerability]:
    """Every (distribution, vulnerability) pair in a pip-audit JSON report; raises
    PipAuditError for a document of another shape."""
    dependencies = document.get("dependencies") if isinstance(document, Mapping) else document
    if not isinstance(dependencies, list):
        raise PipAuditError("not a pip-audit JSON report: no list of dependencies")
    found = []
    for dependency in dependencies:
        if not isinstance(dependency, Mapping) or dependency.get("skip_reason"):
            continue
        name, version = dependency.get("name"), dependency.get("version")
        vulns = dependency.get("vulns") or []
        if not isinstance(name, str) or not isinstance(version, str) or not isinstance(vulns, list):
            raise PipAuditError(f"not a pip-audit JSON report: malformed entry {dependency!r}")
        for vuln in vulns:
            if not isinstance(vuln, Mapping) or not isinstance(vuln.get("id"), str):
                raise PipAuditError(
                    f"not a pip-audit JSON report: malformed vulnerability of {name}"
                )
            found.append(
                ReportedVulnerability(
                    package=canonicalize_name(name),
                    installed=version,
                    id=vuln["id"],
                    aliases=tuple(str(a) for a in vuln.get("aliases") or ()),
                    fixed=_first_fix(version, vuln.get("fix_versions") or ()),
                    summary=_first_line(vuln.get("description")),
                )
            )
    return found


def _first_fix(installed: str, fixes: Any) -> str | None:
    current = parse_version(installed)
    candidates = [
        (version, text)
        for text in fixes
        if isinstance(text, str)
        and (version := parse_version(text)) is not None
        and (current is None or version > current)
    ]
    return min(candidates)[1] if candidates else None


def _first_line(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        return ""
    line = text.strip().splitlines()[0]
    return line if len(line) <= 200 else line[:199] + "…"
