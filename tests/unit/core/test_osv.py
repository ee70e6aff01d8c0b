from __future__ import annotations

from typing import Any

import pytest

from hostkeeper.core.dependencies import Severity
from hostkeeper.core.osv import AdvisoryError, affected_fix, parse_advisory


def _advisory(*affected: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": "PYSEC-2024-1",
        "aliases": ["CVE-2024-0001"],
        "affected": list(affected),
        **fields,
    }


def _pypi(name: str, *events: dict[str, str], versions: list[str] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": name}}
    if events:
        entry["ranges"] = [{"type": "ECOSYSTEM", "events": list(events)}]
    if versions is not None:
        entry["versions"] = versions
    return entry


RANGE = _pypi("Demo_Lib", {"introduced": "0"}, {"fixed": "1.4.2"})


@pytest.mark.parametrize(
    ("installed", "expected"),
    [
        ("1.0", (True, "1.4.2")),
        ("1.4.1", (True, "1.4.2")),
        ("1.4.2", (False, None)),
        ("2.0", (False, None)),
        ("1.4.2rc1", (True, "1.4.2")),
    ],
)
def test_introduced_zero_to_fixed(installed: str, expected: tuple[bool, str | None]) -> None:
    advisory = parse_advisory(_advisory(RANGE))
    assert affected_fix(advisory, "demo-lib", installed) == expected


def test_names_compare_canonically() -> None:
    advisory = parse_advisory(_advisory(RANGE))
    assert affected_fix(advisory, "DEMO.lib", "1.0")[0]
    assert not affected_fix(advisory, "demo-library", "1.0")[0]


def test_events_are_ordered_by_pep440_not_as_written() -> None:
    entry = _pypi(
        "pkg",
        {"fixed": "1.10"},
        {"introduced": "1.9"},
        {"fixed": "2.0.1"},
        {"introduced": "2.0"},
    )
    advisory = parse_advisory(_advisory(entry))
    assert affected_fix(advisory, "pkg", "1.9.5") == (True, "1.10")
    assert affected_fix(advisory, "pkg", "1.10") == (False, None)  # 1.10 > 1.9 by PEP 440
    assert affected_fix(advisory, "pkg", "2.0") == (True, "2.0.1")
    assert affected_fix(advisory, "pkg", "1.2") == (False, None)


def test_last_affected_closes_a_range_without_a_fix() -> None:
    advisory = parse_advisory(
        _advisory(_pypi("pkg", {"introduced": "1.0"}, {"last_affected": "1.5"}))
    )
    assert affected_fix(advisory, "pkg", "1.5") == (True, None)
    assert affected_fix(advisory, "pkg", "1.5.1") == (False, None)


def test_limit_bounds_the_range() -> None:
    advisory = parse_advisory(_advisory(_pypi("pkg", {"introduced": "0"}, {"limit": "3.0"})))
    assert affected_fix(advisory, "pkg", "2.9")[0]
    assert not affected_fix(advisory, "pkg", "3.0")[0]


def test_listed_versions_match_without_ranges() -> None:
    advisory = parse_advisory(_advisory(_pypi("pkg", versions=["0.9", "1.0.0"])))
    assert affected_fix(advisory, "pkg", "1.0") == (True, None)  # 1.0 == 1.0.0
    assert affected_fix(advisory, "pkg", "legacy-1") == (False, None)
    assert not affected_fix(advisory, "pkg", "1.1")[0]


def test_a_non_pep440_installed_version_matches_only_by_listing() -> None:
    advisory = parse_advisory(_advisory(_pypi("pkg", {"introduced": "0"}, versions=["odd-1"])))
    assert affected_fix(advisory, "pkg", "odd-1") == (True, None)
    assert not affected_fix(advisory, "pkg", "odd-2")[0]


def test_withdrawn_advisories_affect_nothing() -> None:
    advisory = parse_advisory(_advisory(RANGE, withdrawn="2024-02-01T00:00:00Z"))
    assert affected_fix(advisory, "demo-lib", "1.0") == (False, None)


def test_other_ecosystems_and_git_ranges_are_ignored() -> None:
    npm = {"package": {"ecosystem": "npm", "name": "pkg"}, "versions": ["1.0"]}
    git = {
        "package": {"ecosystem": "PyPI", "name": "pkg"},
        "ranges": [{"type": "GIT", "repo": "x", "events": [{"introduced": "0"}]}],
    }
    advisory = parse_advisory(_advisory(npm, git))
    assert not affected_fix(advisory, "pkg", "1.0")[0]


def test_an_unparseable_event_is_left_out() -> None:
    entry = _pypi("pkg", {"introduced": "not a version"}, {"fixed": "2.0"})
    advisory = parse_advisory(_advisory(entry))
    assert not affected_fix(advisory, "pkg", "1.0")[0]  # nothing opens the range


def test_the_lowest_fix_above_the_installed_version_is_reported() -> None:
    entries = [
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]},
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.5"}]},
    ]
    advisory = parse_advisory(
        _advisory({"package": {"ecosystem": "PyPI", "name": "pkg"}, "ranges": entries})
    )
    assert affected_fix(advisory, "pkg", "1.1") == (True, "1.1.5")


def test_severity_from_cvss_vector_then_the_advisory_word() -> None:
    scored = parse_advisory(
        _advisory(
            RANGE,
            severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            database_specific={"severity": "LOW"},
        )
    )
    assert scored.score() == 9.8
    assert scored.severity() is Severity.CRITICAL
    worded = parse_advisory(_advisory(RANGE, database_specific={"severity": "MODERATE"}))
    assert worded.score() is None
    assert worded.severity() is Severity.MEDIUM
    v4_only = parse_advisory(
        _advisory(RANGE, severity=[{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L"}])
    )
    assert v4_only.severity() is None


def test_a_per_package_vector_is_used() -> None:
    entry = {
        **RANGE,
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    }
    advisory = parse_advisory(_advisory(entry))
    assert advisory.score() == 5.9
    assert advisory.severity() is Severity.MEDIUM


def test_a_broken_vector_gives_no_score() -> None:
    advisory = parse_advisory(_advisory(RANGE, severity=[{"type": "CVSS_V3", "score": "garbage"}]))
    assert advisory.score() is None and advisory.severity() is None


@pytest.mark.parametrize(
    "document",
    [[], {"affected": []}, {"id": ""}, {"id": "X", "affected": "pkg"}, {"id": "X", "aliases": 3}],
)
def test_documents_that_are_not_advisories_are_refused(document: Any) -> None:
    with pytest.raises(AdvisoryError):
        parse_advisory(document)


def test_summary_falls_back_to_the_first_line_of_details() -> None:
    advisory = parse_advisory(_advisory(RANGE, details="First line.\nMore."))
    assert advisory.summary == "First line."
    assert advisory.aliases == ("CVE-2024-0001",)
