"""Log rotation, cleanup policies and backup sets."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from hostkeeper.config.base import Section
from hostkeeper.config.units import Duration, Size
from hostkeeper.core.names import safe_path_name


class RotateEvery(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    SIZE = "size"


class RotateMode(StrEnum):
    CREATE = "create"
    COPYTRUNCATE = "copytruncate"


class LogPolicy(Section):
    name: str
    paths: list[str] = Field(min_length=1, description="files or globs")
    rotate: RotateEvery = RotateEvery.DAILY
    max_size: Size | None = Field(None, description="also rotate when larger than this")
    keep: int = Field(7, ge=0, description="rotated generations kept")
    compress: bool = True
    delay_compress: bool = Field(False, description="leave the newest rotated file uncompressed")
    mode: RotateMode = Field(
        RotateMode.CREATE, description="create (rename) | copytruncate (lossy window, opt-in)"
    )
    naming: str = Field(
        "numbered", pattern="^(numbered|dated)$", description="app.log.1 or app.log-YYYYmmdd"
    )
    after_rotate: str | list[str] = Field(
        "none", description="reload (hostkeeper itself) | none | [argv...]"
    )
    missing_ok: bool = True

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
    name: str
    path: str = Field(description="root of the policy; nothing outside it is touched")
    match: str | list[str] = Field("*", description="glob(s) on file names")
    compress_after: Duration | None = Field(None, description="gzip files older than this")
    delete_after: Duration | None = Field(None, description="delete files older than this")
    recursive: bool = True

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
    daily: int = Field(0, ge=0)
    weekly: int = Field(0, ge=0)
    monthly: int = Field(0, ge=0)


class BackupSet(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    sources: list[str] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list, description="globs")
    keep: Keep = Field(default_factory=lambda: Keep(daily=7))

    @field_validator("name")
    @classmethod
    def _one_path_element(cls, value: str) -> str:
        return safe_path_name(value)
