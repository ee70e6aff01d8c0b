"""Health checks: each yields ok | warning | critical | unknown and a value."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from hostkeeper.config.base import Section
from hostkeeper.config.units import Duration, Percent
from hostkeeper.core.dependencies import Severity

_DEFAULT_TIMEOUT = timedelta(seconds=10)


class CheckBase(Section):
    name: str = Field(description="unique name, used by rules and health_score.weights")
    timeout: Duration = Field(
        _DEFAULT_TIMEOUT, description="the check is unknown past this", examples=["10s"]
    )

    def with_defaults_from(self, config: Any) -> CheckBase:
        """This check with what it leaves unset taken from the rest of `config` (a
        folder under paths.report_dir, say); most checks need nothing of it."""
        return self


class DiskFreeCheck(CheckBase):
    type: Literal["disk_free"] = Field(description="disk_free: selects this kind of check")
    path: str = Field(description="any path on the filesystem to watch")
    warning: Percent = Field(
        description="warning when free space (as df counts it) is below this",
        examples=["20%"],
    )
    critical: Percent = Field(
        description="critical when free space is below this (at most warning)", examples=["10%"]
    )

    @model_validator(mode="after")
    def _ordered(self) -> DiskFreeCheck:
        if self.critical > self.warning:
            raise ValueError("critical must not be above warning (both are free space)")
        return self


class MemoryAvailableCheck(CheckBase):
    type: Literal["memory_available"] = Field(
        description="memory_available: selects this kind of check"
    )
    warning: Percent = Field(
        description="warning when available memory is below this share of the total",
        examples=["15%"],
    )
    critical: Percent = Field(
        description="critical when available memory is below this (at most warning)",
        examples=["5%"],
    )

    @model_validator(mode="after")
    def _ordered(self) -> MemoryAvailableCheck:
        if self.critical > self.warning:
            raise ValueError("critical must not be above warning (both are available memory)")
        return self


class LoadCheck(CheckBase):
    type: Literal["load"] = Field(description="load: selects this kind of check")
    warning: float = Field(
        gt=0, description="warning when the 5-minute load average per core is above this"
    )
    critical: float = Field(
        gt=0, description="critical when the load per core is above this (at least warning)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> LoadCheck:
        if self.critical < self.warning:
            raise ValueError("critical must not be below warning")
        return self


class SystemdUnitCheck(CheckBase):
    type: Literal["systemd_unit"] = Field(description="systemd_unit: selects this kind of check")
    unit: str = Field(
        description="critical unless the unit is active", examples=["postgresql.service"]
    )


class HttpCheck(CheckBase):
    type: Literal["http"] = Field(description="http: selects this kind of check")
    url: str = Field(
        pattern=r"^https?://",
        description="http:// or https:// URL to GET",
        examples=["http://127.0.0.1:8080/health"],
    )
    expect_status: int = Field(
        200, ge=100, le=599, description="critical when the response has another status"
    )


class TcpCheck(CheckBase):
    type: Literal["tcp"] = Field(description="tcp: selects this kind of check")
    host: str = Field(description="name or address to connect to", examples=["127.0.0.1"])
    port: int = Field(
        ge=1, le=65535, description="critical unless a TCP connection to it opens in time"
    )


class CertificateCheck(CheckBase):
    type: Literal["certificate"] = Field(description="certificate: selects this kind of check")
    path: str = Field(
        description="PEM file; the value is days until notAfter",
        examples=["/etc/ssl/certs/example.pem"],
    )
    warning: Duration = Field(description="warning when it expires within this", examples=["30d"])
    critical: Duration = Field(
        description="critical when it expires within this (at most warning)", examples=["7d"]
    )

    @model_validator(mode="after")
    def _ordered(self) -> CertificateCheck:
        if self.critical > self.warning:
            raise ValueError("critical must not be above warning (both are time left)")
        return self


class FileAgeCheck(CheckBase):
    type: Literal["file_age"] = Field(description="file_age: selects this kind of check")
    path: str = Field(description="file, or directory whose newest file is looked at")
    warning: Duration = Field(
        description="warning when the newest file is older than this", examples=["2d"]
    )
    critical: Duration = Field(
        description="critical when it is older than this (at least warning)", examples=["8d"]
    )

    @model_validator(mode="after")
    def _ordered(self) -> FileAgeCheck:
        if self.critical < self.warning:
            raise ValueError("critical must not be below warning (both are ages)")
        return self


class ProcessCheck(CheckBase):
    type: Literal["process"] = Field(description="process: selects this kind of check")
    match: str = Field(
        min_length=1, description="substring of the command line", examples=["nginx: master"]
    )
    min: int = Field(1, ge=0, description="critical when fewer processes match")
    max: int | None = Field(None, ge=0, description="critical when more processes match")


class VulnerabilitiesCheck(CheckBase):
    type: Literal["vulnerabilities"] = Field(
        description="vulnerabilities: selects this kind of check"
    )
    reports: str | None = Field(
        None,
        description="folder whose newest dependencies_YYYYMMDD.json (the dependency "
        "audit's report) is read; unset: paths.report_dir/security",
        examples=["/var/lib/hostkeeper/reports/security"],
    )
    warning: dict[Severity, int] = Field(
        default_factory=lambda: {Severity.HIGH: 1},
        description="warning when, for any `severity: n`, the newest audit found at least "
        "n findings at or above that severity",
        examples=[{"high": 1}, {"medium": 5, "high": 1}],
    )
    critical: dict[Severity, int] = Field(
        default_factory=lambda: {Severity.CRITICAL: 1},
        description="critical on the same terms",
        examples=[{"critical": 1}],
    )
    max_age: Duration = Field(
        timedelta(days=40),
        description="unknown when the newest report is older than this (the audit stopped)",
        examples=["40d"],
    )

    @field_validator("warning", "critical")
    @classmethod
    def _positive(cls, value: dict[Severity, int]) -> dict[Severity, int]:
        if any(n < 1 for n in value.values()):
            raise ValueError("each count must be at least 1")
        return value

    def with_defaults_from(self, config: Any) -> VulnerabilitiesCheck:
        if self.reports is not None:
            return self
        return self.model_copy(update={"reports": f"{config.paths.report_dir}/security"})


Check = Annotated[
    DiskFreeCheck
    | MemoryAvailableCheck
    | LoadCheck
    | SystemdUnitCheck
    | HttpCheck
    | TcpCheck
    | CertificateCheck
    | FileAgeCheck
    | ProcessCheck
    | VulnerabilitiesCheck,
    Field(discriminator="type"),
]
