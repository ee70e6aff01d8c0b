"""OSV advisories (https://ossf.github.io/osv-schema/) for the PyPI ecosystem: parsing
one advisory, and whether an installed version of a distribution is affected.

Pure. Matching follows the schema: a version is affected when it is listed in an
`affected[].versions` list, or when it falls in one of the `affected[].ranges` of type
ECOSYSTEM, evaluated by walking the range's events in version order (`introduced`
opens, `fixed` and `last_affected` close, `limit` bounds). Versions compare by PEP 440
(`packaging`); an event whose version PEP 440 cannot read is left out of its range.
A withdrawn advisory affects nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from hostkeeper.core.cvss import CvssError, base_score, rating
from hostkeeper.core.dependencies import Severity, severity_of_rating

ECOSYSTEM = "PyPI"
_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
_SUMMARY_LENGTH = 200


class AdvisoryError(ValueError):
    """The document is not an OSV advisory (missing id, wrong types)."""


@dataclass(frozen=True)
class Event:
    kind: str  # introduced | fixed | last_affected | limit
    version: Version | None  # None: introduced "0", before every version


@dataclass(frozen=True)
class AffectedPackage:
    name: str  # canonical (PEP 503) distribution name
    ranges: tuple[tuple[Event, ...], ...]  # each range's events in version order
    versions: frozenset[str]


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    withdrawn: bool
    affected: tuple[AffectedPackage, ...]
    cvss_vector: str | None  # the CVSS v3 vector, where the advisory has one
    stated_severity: str | None  # the advisory's own word (database_specific.severity)

    def package_names(self) -> set[str]:
        return {package.name for package in self.affected}

    def score(self) -> float | None:
        """The CVSS v3 base score, or None without a (valid) v3 vector."""
        if self.cvss_vector is None:
            return None
        try:
            return base_score(self.cvss_vector)
        except CvssError:
            return None

    def severity(self) -> Severity | None:
        """From the CVSS v3 vector where there is one, else the advisory's own word;
        None when the advisory says nothing usable about its severity."""
        score = self.score()
        if score is not None:
            return severity_of_rating(rating(score)) or Severity.LOW
        if self.stated_severity:
            return severity_of_rating(self.stated_severity)
        return None


@lru_cache(maxsize=4096)
def parse_version(text: str) -> Version | None:
    """The PEP 440 version of `text`, or None when it is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def parse_advisory(document: Mapping[str, Any], ecosystem: str = ECOSYSTEM) -> Advisory:
    """The parts of an OSV document that matching needs, for the packages of `ecosystem`.

    Raises AdvisoryError when it has no string `id` or a field has the wrong type.
    """
    if not isinstance(document, Mapping):
        raise AdvisoryError("an advisory is a JSON object")
    advisory_id = document.get("id")
    if not isinstance(advisory_id, str) or not advisory_id:
        raise AdvisoryError("advisory without an id")
    try:
        affected = tuple(
            _affected_package(entry)
            for entry in _list(document, "affected")
            if isinstance(entry, Mapping)
            and isinstance(entry.get("package"), Mapping)
            and entry["package"].get("ecosystem") == ecosystem
            and isinstance(entry["package"].get("name"), str)
        )
        return Advisory(
            id=advisory_id,
            aliases=tuple(str(alias) for alias in _list(document, "aliases")),
            summary=_summary(document),
            withdrawn=bool(document.get("withdrawn")),
            affected=affected,
            cvss_vector=_cvss_vector(document),
            stated_severity=_stated_severity(document),
        )
    except (TypeError, AttributeError) as error:
        raise AdvisoryError(f"advisory {advisory_id}: {error}") from None


def affected_fix(advisory: Advisory, name: str, installed: str) -> tuple[bool, str | None]:
    """(whether `installed` of distribution `name` is affected, the first fixed version
    above it, or None when no range names one)."""
    if advisory.withdrawn:
        return False, None
    canonical = canonicalize_name(name)
    version = parse_version(installed)
    hit = False
    fixes: list[Version] = []
    for package in advisory.affected:
        if package.name != canonical:
            continue
        listed = installed in package.versions or (
            version is not None and any(parse_version(v) == version for v in package.versions)
        )
        hit = hit or listed
        if version is None:
            continue
        for events in package.ranges:
            if _in_range(events, version):
                hit = True
                fixes += [
                    event.version
                    for event in events
                    if event.kind == "fixed"
                    and event.version is not None
                    and event.version > version
                ]
    if not hit:
        return False, None
    return True, str(min(fixes)) if fixes else None


def _in_range(events: Iterable[Event], version: Version) -> bool:
    affected = False
    for event in events:  # in version order; the last event at or below decides
        if event.kind == "introduced":
            if event.version is None or version >= event.version:
                affected = True
        elif event.kind == "fixed":
            if event.version is not None and version >= event.version:
                affected = False
        elif event.kind == "last_affected":
            if event.version is not None and version > event.version:
                affected = False
        elif event.kind == "limit" and event.version is not None and version >= event.version:
            return False
    return affected


def _affected_package(entry: Mapping[str, Any]) -> AffectedPackage:
    ranges = []
    for range_ in _list(entry, "ranges"):
        if not isinstance(range_, Mapping) or range_.get("type") != "ECOSYSTEM":
            continue  # GIT ranges name commits, not releases
        events = [event for item in _list(range_, "events") for event in _events(item)]
        if events:
            ranges.append(tuple(sorted(events, key=_event_order)))
    versions = frozenset(str(v) for v in _list(entry, "versions"))
    return AffectedPackage(canonicalize_name(entry["package"]["name"]), tuple(ranges), versions)


def _events(item: Any) -> list[Event]:
    if not isinstance(item, Mapping):
        return []
    events = []
    for kind in _EVENT_KINDS:
        text = item.get(kind)
        if not isinstance(text, str):
            continue
        if kind == "introduced" and text == "0":
            events.append(Event(kind, None))
            continue
        version = parse_version(text)
        if version is not None:
            events.append(Event(kind, version))
    return events


def _event_order(event: Event) -> tuple[int, Version | int, int]:
    # "0" first; at an equal version, `introduced` before the events that close a range.
    if event.version is None:
        return (0, 0, 0)
    return (1, event.version, 0 if event.kind == "introduced" else 1)


def _list(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{key} is not a list")
    return value


def _summary(document: Mapping[str, Any]) -> str:
    for key in ("summary", "details"):
        text = document.get(key)
        if isinstance(text, str) and text.strip():
            line = text.strip().splitlines()[0]
            return line if len(line) <= _SUMMARY_LENGTH else line[: _SUMMARY_LENGTH - 1] + "…"
    return ""


def _cvss_vector(document: Mapping[str, Any]) -> str | None:
    entries = list(_list(document, "severity"))
    for entry in _list(document, "affected"):  # per-package severities (schema 1.4)
        if isinstance(entry, Mapping):
            entries += _list(entry, "severity")
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("type") == "CVSS_V3":
            score = entry.get("score")
            if isinstance(score, str):
                return score
    return None


def _stated_severity(document: Mapping[str, Any]) -> str | None:
    specific = document.get("database_specific")
    if isinstance(specific, Mapping) and isinstance(specific.get("severity"), str):
        text: str = specific["severity"]
        return text
    return None
