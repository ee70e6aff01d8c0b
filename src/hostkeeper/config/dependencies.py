"""`security.dependencies`: the dependency audit (`dependency_audit` step, `audit deps`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from hostkeeper.config.base import Section
from hostkeeper.config.units import Duration
from hostkeeper.core.dependencies import Severity

OSV_PYPI_ARCHIVE = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"


class FindingSeverities(Section):
    os_security_update: Severity = Field(
        Severity.HIGH, description="a pending upgrade from a security archive"
    )
    os_update: Severity = Field(Severity.INFO, description="a pending upgrade from another archive")
    held_package: Severity = Field(
        Severity.LOW, description="a package held back (`apt-mark hold`)"
    )
    reboot_required: Severity = Field(
        Severity.MEDIUM, description="/run/reboot-required asks for a reboot"
    )
    outdated: Severity = Field(
        Severity.INFO, description="a Python distribution with a newer release on the index"
    )
    unscored_advisory: Severity = Field(
        Severity.MEDIUM,
        description="an advisory without a CVSS v3 vector or a severity of its own "
        "(every pip-audit advisory the archive does not have)",
    )
    environment_missing: Severity = Field(
        Severity.MEDIUM, description="a configured Python environment that cannot be read"
    )
    advisories_unavailable: Severity = Field(
        Severity.HIGH,
        description="no advisories could be read (archive missing or corrupt, pip-audit "
        "failing): the Python environments went unchecked",
    )


class Dependencies(Section):
    python: list[str] = Field(
        default_factory=lambda: ["self", "/usr/bin/python3"],
        description="Python environments audited: `self` (hostkeeper's own), a virtual "
        "environment's directory or an interpreter (`/usr/bin/python3`: the system's "
        "site-packages); each is read by its own interpreter",
        examples=[["self", "/usr/bin/python3", "/opt/app/venv"]],
    )
    advisories: Literal["auto", "osv_archive", "pip_audit"] = Field(
        "auto",
        description="where Python advisories come from: osv_archive (offline, the file "
        "below), pip_audit (needs pip-audit installed and its network), auto: the archive "
        "when it exists, else pip-audit when installed",
    )
    osv_archive: str | None = Field(
        None,
        description="OSV PyPI archive (all.zip as osv.dev publishes it); unset: "
        "state_dir/osv/PyPI-all.zip",
        examples=["/var/lib/hostkeeper/osv/PyPI-all.zip"],
    )
    osv_archive_url: str = Field(
        OSV_PYPI_ARCHIVE,
        pattern=r"^(https?|file)://",
        description="where the `refresh_advisories` step downloads the archive from",
    )
    index_url: str | None = Field(
        "https://pypi.org/simple/",
        pattern=r"^(https?|file)://",
        description="package index (simple API) asked for newer releases; null: outdated "
        "distributions are not looked up; unreachable: one warning",
        examples=["https://pypi.org/simple/", "http://mirror.internal/simple/"],
    )
    index_timeout: Duration = Field(
        timedelta(seconds=10),
        description="each request to the index gives up after this",
        examples=["10s"],
    )
    os_packages: Literal["auto", "apt", "off"] = Field(
        "auto",
        description="pending upgrades, held packages and reboot: apt, off, or auto (apt "
        "where apt-get is installed)",
    )
    apt_config: str | None = Field(
        None,
        description="apt configuration file given to apt-get as APT_CONFIG; unset: the system's",
        examples=["/etc/hostkeeper/apt.conf"],
    )
    security_origins: list[str] = Field(
        default_factory=lambda: ["security"],
        min_length=1,
        description="an upgrade is a security update when an archive it comes from "
        "contains one of these, in any case (Debian-Security:12/stable-security does)",
    )
    reboot_required_file: str = Field(
        "/run/reboot-required",
        description="file whose presence asks for a reboot; FILE.pkgs names the packages",
    )
    severities: FindingSeverities = Field(
        default_factory=FindingSeverities,
        description="severity of each kind of finding that is not a scored advisory",
    )
    fail_on: Severity = Field(
        Severity.HIGH,
        description="`audit deps` exits 1, and the step ends with a warning, on a finding "
        "at or above this: critical | high | medium | low | info",
    )
    timeout: Duration = Field(
        timedelta(minutes=2),
        description="each environment's interpreter, apt-get and pip-audit give up after this",
        examples=["2m"],
    )
    keep_resolved: Duration = Field(
        timedelta(days=400),
        description="resolved findings and old audits are deleted from the store after this",
        examples=["400d"],
    )

    @field_validator("python")
    @classmethod
    def _named_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("an environment is listed twice")
        if any(not name.strip() for name in value):
            raise ValueError("an environment name is empty")
        return value
