"""The dependency audit against real peers made here: a venv with known versions, an
OSV archive, a package index, a `file:` apt repository, a planted reboot-required."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.dependency_peers import (
    CRITICAL_VECTOR,
    advisory,
    build_wheel,
    make_apt_host,
    make_venv,
    write_osv_archive,
)

from hostkeeper.config.dependencies import Dependencies
from hostkeeper.core.dependencies import Kind, Severity
from hostkeeper.services.dependency_audit import DependencyReport, audit_dependencies, run_in_child

NOW = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
ADVISORIES = [
    # fixed above the installed 1.0: a finding, critical by its vector
    advisory(
        "PYSEC-2099-1",
        "demo-lib",
        [{"introduced": "0"}, {"fixed": "1.4.2"}],
        aliases=["CVE-2099-0001"],
        summary="Remote code execution in demo-lib",
        severity=[{"type": "CVSS_V3", "score": CRITICAL_VECTOR}],
    ),
    # already fixed below the installed version: nothing
    advisory(
        "PYSEC-2099-2",
        "demo-lib",
        [{"introduced": "0"}, {"fixed": "0.9"}],
        severity=[{"type": "CVSS_V3", "score": CRITICAL_VECTOR}],
    ),
    # withdrawn: nothing, though the range covers 1.0
    advisory(
        "PYSEC-2099-3",
        "demo-lib",
        [{"introduced": "0"}],
        withdrawn="2099-02-01T00:00:00Z",
    ),
    # listed version, GitHub's own severity word, no fix yet
    advisory(
        "GHSA-2099-aaaa-bbbb",
        "Other_Lib",
        versions=["2.0"],
        aliases=["CVE-2099-0004"],
        details="Denial of service.\nLonger text.",
        database_specific={"severity": "MODERATE"},
    ),
]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    wheels = root / "wheels"
    for name, version in (("demo-lib", "1.0"), ("demo-lib", "1.5"), ("other-lib", "2.0")):
        build_wheel(wheels, name, version)
    return make_venv(root / "app", wheels, ["demo-lib==1.0", "other-lib==2.0"])


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return write_osv_archive(tmp_path / "osv" / "PyPI-all.zip", ADVISORIES)


def _settings(venv: Path, archive: Path, **overrides: Any) -> Dependencies:
    values: dict[str, Any] = {
        "python": [str(venv)],
        "advisories": "osv_archive",
        "osv_archive": str(archive),
        "index_url": None,
        "os_packages": "off",
    }
    return Dependencies.model_validate({**values, **overrides})


def _vulnerabilities(report: DependencyReport) -> list[tuple[Any, ...]]:
    return [
        (f.package, f.installed, f.advisory, f.aliases, f.severity, f.score, f.fixed, f.environment)
        for f in report.findings
        if f.kind is Kind.VULNERABILITY
    ]


def test_archive_gives_exactly_the_affected_advisories(venv: Path, archive: Path) -> None:
    report = audit_dependencies(_settings(venv, archive), str(venv.parent), NOW)
    assert _vulnerabilities(report) == [
        (
            "demo-lib",
            "1.0",
            "PYSEC-2099-1",
            ("CVE-2099-0001",),
            Severity.CRITICAL,
            9.8,
            "1.4.2",
            str(venv),
        ),
        (
            "other-lib",
            "2.0",
            "GHSA-2099-aaaa-bbbb",
            ("CVE-2099-0004",),
            Severity.MEDIUM,
            None,
            None,
            str(venv),
        ),
    ]
    assert report.findings[0].summary == "Remote code execution in demo-lib"
    assert report.warnings == []
    assert f"vulnerabilities:{venv}" in report.covered
    assert report.advisories["read"] == len(ADVISORIES)
    [environment] = report.environments
    assert environment["distributions"] == 2


PIP_AUDIT_FIXTURE = {
    "dependencies": [
        {
            "name": "demo-lib",
            "version": "1.0",
            "vulns": [
                {
                    "id": "PYSEC-2099-1",
                    "fix_versions": ["1.4.2"],
                    "aliases": ["CVE-2099-0001"],
                    "description": "Remote code execution in demo-lib",
                }
            ],
        },
        {
            "name": "other-lib",
            "version": "2.0",
            "vulns": [
                {
                    "id": "GHSA-2099-aaaa-bbbb",
                    "fix_versions": [],
                    "aliases": ["CVE-2099-0004"],
                    "description": "Denial of service.",
                }
            ],
        },
    ],
    "fixes": [],
}


@pytest.fixture
def pip_audit_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip-audit asks an online service, which cannot run here: a stand-in executable
    writes the fixture report where pip-audit's --output would, and records its argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fixture = tmp_path / "pip-audit.json"
    fixture.write_text(json.dumps(PIP_AUDIT_FIXTURE))
    script = bin_dir / "pip-audit"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {tmp_path / "argv"}\n'
        'for a in "$@"; do case "$a" in --output=*) out="${a#--output=}";; esac; done\n'
        f'cp {fixture} "$out"\n'
        "exit 1\n"  # pip-audit's status when it found vulnerabilities
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return tmp_path / "argv"


def test_pip_audit_json_gives_the_same_findings(
    venv: Path, archive: Path, pip_audit_on_path: Path
) -> None:
    from_archive = audit_dependencies(_settings(venv, archive), str(venv.parent), NOW)
    from_pip_audit = audit_dependencies(
        _settings(venv, archive, advisories="pip_audit"), str(venv.parent), NOW
    )
    assert _vulnerabilities(from_pip_audit) == _vulnerabilities(from_archive)
    argv = pip_audit_on_path.read_text().splitlines()
    assert "--format=json" in argv
    assert any(a.startswith("--path=") and a.endswith("site-packages") for a in argv)


def test_pip_audit_without_an_archive_is_unscored(
    venv: Path, tmp_path: Path, pip_audit_on_path: Path
) -> None:
    report = audit_dependencies(
        _settings(venv, tmp_path / "none.zip", advisories="auto"), str(tmp_path), NOW
    )
    assert report.advisories["source"] == "pip_audit"
    assert {(f.advisory, f.severity, f.score) for f in report.findings} == {
        ("PYSEC-2099-1", Severity.MEDIUM, None),
        ("GHSA-2099-aaaa-bbbb", Severity.MEDIUM, None),
    }


def test_a_missing_venv_is_a_finding_and_the_others_are_audited(
    venv: Path, archive: Path, tmp_path: Path
) -> None:
    gone = str(tmp_path / "no-such-venv")
    report = audit_dependencies(
        _settings(venv, archive, python=[gone, str(venv)]), str(tmp_path), NOW
    )
    [missing] = [f for f in report.findings if f.kind is Kind.ENVIRONMENT_MISSING]
    assert missing.environment == gone
    assert "no such environment" in missing.summary
    assert len(_vulnerabilities(report)) == 2
    assert f"vulnerabilities:{gone}" not in report.covered


def test_a_corrupt_archive_is_a_finding_not_a_traceback(venv: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "all.zip"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip file" * 10)
    report = audit_dependencies(_settings(venv, corrupt), str(tmp_path), NOW)
    [finding] = report.findings
    assert finding.kind is Kind.ADVISORIES_UNAVAILABLE
    assert finding.severity is Severity.HIGH
    assert str(corrupt) in finding.summary and "not a readable zip" in finding.summary
    assert not any(scope.startswith("vulnerabilities:") for scope in report.covered)


def test_a_missing_archive_without_pip_audit_says_how_to_get_one(
    venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    report = audit_dependencies(
        _settings(venv, tmp_path / "none.zip", advisories="auto"), str(tmp_path), NOW
    )
    [finding] = report.findings
    assert finding.kind is Kind.ADVISORIES_UNAVAILABLE
    assert "refresh_advisories" in finding.summary


def test_unreadable_members_are_one_warning(venv: Path, tmp_path: Path) -> None:
    archive = write_osv_archive(
        tmp_path / "all.zip",
        ADVISORIES,
        extra={
            "BROKEN-1.json": b'{"id": "BROKEN-1", "affected": [{"package": {"name": "demo-lib"',
            "BROKEN-2.json": b'[{"name": "demo-lib"}]',
        },
    )
    report = audit_dependencies(_settings(venv, archive), str(tmp_path), NOW)
    assert len(_vulnerabilities(report)) == 2
    [warning] = report.warnings
    assert "2 of the 6 advisories" in warning and "BROKEN-" in warning


def test_damaged_compressed_data_is_a_warning_per_archive(venv: Path, tmp_path: Path) -> None:
    archive = write_osv_archive(tmp_path / "all.zip", ADVISORIES)
    data = bytearray(archive.read_bytes())
    start = data.index(b"PYSEC-2099-1.json") + len("PYSEC-2099-1.json")
    data[start + 10 : start + 40] = bytes(30)  # inside the first member's deflated data
    archive.write_bytes(bytes(data))
    report = audit_dependencies(_settings(venv, archive), str(tmp_path), NOW)
    [warning] = report.warnings
    assert "1 of the 4 advisories" in warning and "PYSEC-2099-1.json" in warning
    assert [f.advisory for f in report.findings] == ["GHSA-2099-aaaa-bbbb"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def index_url(tmp_path: Path) -> Iterator[str]:
    """A PEP 503 index: demo-lib 1.0, 1.5 and a yanked 9.0; other-lib 2.0 only."""
    root = tmp_path / "index"
    pages = {
        "demo-lib": ["demo_lib-1.0-py3-none-any.whl", "demo_lib-1.5-py3-none-any.whl"],
        "other-lib": ["other_lib-2.0-py3-none-any.whl"],
    }
    for name, files in pages.items():
        page = root / "simple" / name
        page.mkdir(parents=True)
        links = "".join(f'<a href="/f/{f}">{f}</a>\n' for f in files)
        if name == "demo-lib":
            links += '<a href="/f/x" data-yanked="">demo_lib-9.0-py3-none-any.whl</a>\n'
        page.joinpath("index.html").write_text(f"<html><body>{links}</body></html>")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


def test_outdated_distributions_from_the_index(venv: Path, archive: Path, index_url: str) -> None:
    report = audit_dependencies(_settings(venv, archive, index_url=index_url), "/nonexistent", NOW)
    outdated = [
        (f.package, f.installed, f.fixed, f.severity)
        for f in report.findings
        if f.kind is Kind.OUTDATED
    ]
    assert outdated == [("demo-lib", "1.0", "1.5", Severity.INFO)]
    assert report.warnings == []


def test_an_unreachable_index_is_one_warning(venv: Path, archive: Path) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    report = audit_dependencies(
        _settings(venv, archive, index_url="http://127.0.0.1:9/simple/"), "/nonexistent", NOW
    )
    [warning] = report.warnings
    assert warning.startswith("package index unreachable") and "127.0.0.1:9" in warning
    assert not [f for f in report.findings if f.kind is Kind.OUTDATED]
    assert len(_vulnerabilities(report)) == 2


def test_os_upgrades_split_by_origin_held_and_reboot(tmp_path: Path) -> None:
    apt_config = make_apt_host(
        tmp_path / "apt",
        installed={
            "hk-sec": ("1.0", "install"),
            "hk-other": ("1.0", "install"),
            "hk-held": ("1.0", "hold"),
        },
        repos={
            "repo-security": ("test-security", "HK-Security", {"hk-sec": "1.1"}),
            "repo-main": ("test-main", "HK", {"hk-other": "2.0", "hk-held": "1.1"}),
        },
    )
    reboot = tmp_path / "reboot-required"
    reboot.write_text("*** System restart required ***\n")
    reboot.with_name("reboot-required.pkgs").write_text("linux-image-test\nhk-sec\nhk-sec\n")
    settings = Dependencies.model_validate(
        {
            "python": [],
            "advisories": "osv_archive",
            "osv_archive": str(tmp_path / "none.zip"),
            "index_url": None,
            "os_packages": "apt",
            "apt_config": str(apt_config),
            "reboot_required_file": str(reboot),
        }
    )
    report = audit_dependencies(settings, str(tmp_path), NOW)
    os_findings = {
        (f.kind, f.package, f.installed, f.fixed, f.severity)
        for f in report.findings
        if f.environment == "os" and f.kind is not Kind.REBOOT_REQUIRED
    }
    assert os_findings == {
        (Kind.OS_SECURITY_UPDATE, "hk-sec", "1.0", "1.1", Severity.HIGH),
        (Kind.OS_UPDATE, "hk-other", "1.0", "2.0", Severity.INFO),
        (Kind.HELD_PACKAGE, "hk-held", None, None, Severity.LOW),
    }
    [security] = [f for f in report.findings if f.kind is Kind.OS_SECURITY_UPDATE]
    assert "HK-Security:test-security" in security.summary
    [reboot_finding] = [f for f in report.findings if f.kind is Kind.REBOOT_REQUIRED]
    assert reboot_finding.severity is Severity.MEDIUM
    assert "linux-image-test, hk-sec" in reboot_finding.summary
    assert report.os == {
        "security_upgrades": 1,
        "other_upgrades": 1,
        "kept_back": 0,
        "held": 1,
        "reboot_required": True,
        "reboot_packages": ["linux-image-test", "hk-sec"],
    }
    assert {"os:packages", "os:reboot"} <= set(report.covered)


def test_a_broken_apt_configuration_is_a_warning(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text("this is not a sources line\n")
    config = tmp_path / "apt.conf"
    config.write_text(f'Dir::Etc::sourcelist "{sources}";\n')
    settings = Dependencies.model_validate(
        {
            "python": [],
            "osv_archive": str(tmp_path / "none.zip"),
            "advisories": "osv_archive",
            "index_url": None,
            "os_packages": "apt",
            "apt_config": str(config),
            "reboot_required_file": str(tmp_path / "no-reboot"),
        }
    )
    report = audit_dependencies(settings, str(tmp_path), NOW)
    [warning] = report.warnings
    assert warning.startswith("OS packages not audited: apt-get -s upgrade exited")
    assert f"is not known on line 1 in source list {sources}" in warning
    assert "os:packages" not in report.covered
    assert report.os == {"reboot_required": False}


def test_the_child_process_gives_the_same_report(venv: Path, archive: Path) -> None:
    settings = _settings(venv, archive)
    child = run_in_child(settings, str(venv.parent), timeout=120)
    assert _vulnerabilities(child) == _vulnerabilities(
        audit_dependencies(settings, str(venv.parent), NOW)
    )
    assert child.resources["seconds"] > 0 and child.resources["peak_rss_mib"] > 0
