"""Log rotation, cleanup policies and backup sets."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from hostkeeper.config.base import Section
from hostkeeper.config.units import Duration, Size
from hostkeeper.core.names import safe_path_name
from hostkeeper.core.rotation import RotateEvery as RotateEvery  # the value type lives in core


class RotateMode(StrEnum):
    CREATE = "create"
    COPYTRUNCATE = "copytruncate"


class LogPolicy(Section):
    name: str = Field(description="unique name (`rotate NAME`, `rotate_logs: NAME`)")
    paths: list[str] = Field(
        min_length=1, description="files or globs", examples=[["/var/log/app/*.log"]]
    )
    rotate: RotateEvery = Field(
        RotateEvery.DAILY,
        description="daily | weekly | monthly (calendar periods in `timezone`) | size "
        "(on max_size alone)",
    )
    max_size: Size | None = Field(
        None, description="also rotate when larger than this", examples=["100M"]
    )
    keep: int = Field(7, ge=0, description="rotated generations kept (0: deleted at once)")
    compress: bool = Field(True, description="gzip rotated generations")
    delay_compress: bool = Field(False, description="leave the newest rotated file uncompressed")
    mode: RotateMode = Field(
        RotateMode.CREATE, description="create (rename) | copytruncate (lossy window, opt-in)"
    )
    naming: str = Field(
        "numbered", pattern="^(numbered|dated)$", description="app.log.1 or app.log-YYYYmmdd"
    )
    after_rotate: str | list[str] = Field(
        "none",
        description="reload (hostkeeper itself) | none | [argv...]",
        examples=["reload", ["/usr/bin/systemctl", "reload", "nginx"]],
    )
    missing_ok: bool = Field(True, description="a path or glob matching nothing is not an error")

    @field_validator("after_rotate")
    @classmethod
    def _after_rotate(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str) and value not in ("reload", "none"):
            raise ValueError("after_rotate is `reload`, `none` or an argv list")
        if isinstance(value, list) and not value:
            raise ValueError("after_rotate argv must not be empty")
        return value

    @model_validator(mode="after")
    def _size_needs_limit(self) -> LogPolicy:
        if self.rotate is RotateEvery.SIZE and self.max_size is None:
            raise ValueError("rotate: size needs max_size")
        return self


class CleanupPolicy(Section):
    """A policy needs compress_after, delete_after or both (compress_after shorter)."""

    name: str = Field(description="unique name (`cleanup NAME`, `cleanup: NAME`)")
    path: str = Field(
        description="root of the policy; nothing outside it is touched", examples=["/var/log/app"]
    )
    match: str | list[str] = Field(
        "*", description="glob(s) on file names", examples=["*.log", ["*.html", "*.json"]]
    )
    compress_after: Duration | None = Field(
        None,
        description="gzip files modified longer ago than this; unset: never compressed",
        examples=["7d"],
    )
    delete_after: Duration | None = Field(
        None,
        description="delete files modified longer ago than this; unset: never deleted",
        examples=["30d"],
    )
    recursive: bool = Field(True, description="also look in subdirectories (same filesystem)")

    @model_validator(mode="after")
    def _has_action(self) -> CleanupPolicy:
        if self.compress_after is None and self.delete_after is None:
            raise ValueError("a cleanup policy needs compress_after, delete_after or both")
        if (
            self.compress_after is not None
            and self.delete_after is not None
            and self.compress_after >= self.delete_after
        ):
            raise ValueError("compress_after must be shorter than delete_after")
        return self


class Keep(Section):
    daily: int = Field(
        0, ge=0, description="keep the newest archive of each of the N most recent days with one"
    )
    weekly: int = Field(
        0,
        ge=0,
        description="keep the newest archive of each of the N most recent ISO weeks with one",
    )
    monthly: int = Field(
        0, ge=0, description="keep the newest archive of each of the N most recent months with one"
    )


class BackupSet(Section):
    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="unique name (`backup: NAME`); letters, digits, . _ -, not first . or -",
    )
    sources: list[str] = Field(
        min_length=1,
        description="absolute paths: directories or files",
        examples=[["/etc/hostkeeper", "/etc/nginx"]],
    )
    exclude: list[str] = Field(
        default_factory=list,
        description="globs on names or absolute paths left out",
        examples=[["*.swp", "/etc/nginx/cache"]],
    )
    keep: Keep = Field(
        default_factory=lambda: Keep(daily=7),
        description="retention tiers; an archive any tier keeps stays (default: daily 7)",
    )

    @field_validator("name")
    @classmethod
    def _one_path_element(cls, value: str) -> str:
        return safe_path_name(value)
