from __future__ import annotations

from typing import Any

import pytest

from hostkeeper.core.pip_audit import PipAuditError, parse_report

REPORT = {
    "dependencies": [
        {
            "name": "Demo_Lib",
            "version": "1.0",
            "vulns": [
                {
                    "id": "PYSEC-2024-1",
                    "fix_versions": ["2.0", "1.4.2", "0.9"],
                    "aliases": ["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc"],
                    "description": "Remote code execution in the parser.\nDetails.",
                }
            ],
        },
        {"name": "clean", "version": "3.0", "vulns": []},
        {"name": "local-thing", "skip_reason": "Dependency not found on PyPI"},
    ],
    "fixes": [],
}


def test_each_vulnerability_with_its_first_fix_above_the_installed_version() -> None:
    [vulnerability] = parse_report(REPORT)
    assert vulnerability.package == "demo-lib"
    assert vulnerability.installed == "1.0"
    assert vulnerability.id == "PYSEC-2024-1"
    assert vulnerability.aliases == ("CVE-2024-0001", "GHSA-aaaa-bbbb-cccc")
    assert vulnerability.fixed == "1.4.2"
    assert vulnerability.summary == "Remote code execution in the parser."


def test_the_old_list_form_is_read_too() -> None:
    assert parse_report(REPORT["dependencies"]) == parse_report(REPORT)


def test_no_fix_versions_means_no_fix() -> None:
    report = {"dependencies": [{"name": "x", "version": "1", "vulns": [{"id": "A"}]}]}
    assert parse_report(report)[0].fixed is None


@pytest.mark.parametrize(
    "document",
    [
        {"deps": []},
        "text",
        {"dependencies": [{"name": 1, "version": "1", "vulns": []}]},
        {"dependencies": [{"name": "x", "version": "1", "vulns": [{"fix": []}]}]},
    ],
)
def test_other_documents_are_refused(document: Any) -> None:
    with pytest.raises(PipAuditError):
        parse_report(document)
