"""Health checks: each yields ok | warning | critical | unknown and a value."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, model_validator

from hostkeeper.config.base import Section
from hostkeeper.config.units import Duration, Percent

_DEFAULT_TIMEOUT = timedelta(seconds=10)


class CheckBase(Section):
    name: str = Field(description="unique name, used by rules and health_score.weights")
    timeout: Duration = Field(_DEFAULT_TIMEOUT, description="the check is unknown past this")


class DiskFreeCheck(CheckBase):
    type: Literal["disk_free"]
    path: str = Field(description="any path on the filesystem to watch")
    warning: Percent = Field(description="free space below this")
    critical: Percent

    @model_validator(mode="after")
    def _ordered(self) -> DiskFreeCheck:
        if self.critical > self.warning:
            raise ValueError("critical must not be above warning (both are free space)")
        return self


class MemoryAvailableCheck(CheckBase):
    type: Literal["memory_available"]
    warning: Percent = Field(description="available memory below this")
    critical: Percent

    @model_validator(mode="after")
    def _ordered(self) -> MemoryAvailableCheck:
        if self.critical > self.warning:
            raise ValueError("critical must not be above warning (both are available memory)")
        return self


class LoadCheck(CheckBase):
    type: Literal["load"]
    warning: float = Field(gt=0, description="5-minute load average per core above this")
    critical: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> LoadCheck:
        if self.critical < self.warning:
            raise ValueError("critical must not be below warning")
        return self


class SystemdUnitCheck(CheckBase):
    type: Literal["systemd_unit"]
    unit: str = Field(description="critical unless the unit is active")


class HttpCheck(CheckBase):
    type: Literal["http"]
    url: str = Field(pattern=r"^https?://", description="http:// or https:// URL to GET")
    expect_status: int = Field(200, ge=100, le=599)


class TcpCheck(CheckBase):
    type: Literal["tcp"]
    host: str
    port: int = Field(ge=1, le=65535)


class CertificateCheck(CheckBase):
    type: Literal["certificate"]
    path: str = Field(description="PEM file; the value is days until notAfter")
    warning: Duration = Field(description="expires within this")
    critical: Duration

    @model_validator(mode="after")
    def _ordered(self) -> CertificateCheck:
        if self.critical > self.warning:
            raise ValueError("critical must not be above warning (both are time left)")
        return self


class FileAgeCheck(CheckBase):
    type: Literal["file_age"]
    path: str = Field(description="file, or directory whose newest file is looked at")
    warning: Duration = Field(description="newest file older than this")
    critical: Duration

    @model_validator(mode="after")
    def _ordered(self) -> FileAgeCheck:
        if self.critical < self.warning:
            raise ValueError("critical must not be below warning (both are ages)")
        return self


class ProcessCheck(CheckBase):
    type: Literal["process"]
    match: str = Field(min_length=1, description="substring of the command line")
    min: int = Field(1, ge=0, description="critical when fewer processes match")
    max: int | None = Field(None, ge=0, description="critical when more processes match")


Check = Annotated[
    DiskFreeCheck
    | MemoryAvailableCheck
    | LoadCheck
    | SystemdUnitCheck
    | HttpCheck
    | TcpCheck
    | CertificateCheck
    | FileAgeCheck
    | ProcessCheck,
    Field(discriminator="type"),
]
