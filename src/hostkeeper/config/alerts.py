"""Alert rules and the channels that deliver them."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from hostkeeper.config.base import Section
from hostkeeper.config.units import Duration
from hostkeeper.core.expressions import parse_comparison


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class CheckState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


class Rule(Section):
    name: str
    when: str | None = Field(None, description="health_score or a metric name, < <= > >=, a number")
    check: str | None = Field(None, description="fires while the check is in one of `states`")
    states: list[CheckState] = Field(
        default_factory=lambda: [CheckState.WARNING, CheckState.CRITICAL]
    )
    metric: str | None = Field(None, description="metric compared with its baseline")
    above_baseline: float | None = Field(
        None, gt=0, description="z-score above the current baseline mean"
    )
    for_: Duration = Field(
        timedelta(0), alias="for", description="must hold this long before firing"
    )
    clear_for: Duration = Field(
        timedelta(0), description="must be clear this long before resolving (hysteresis)"
    )
    severity: Severity = Severity.WARNING
    channels: list[str] = Field(default_factory=list)
    summary: str | None = Field(None, description="text of the notification; a default is built")

    @field_validator("when")
    @classmethod
    def _comparison(cls, value: str | None) -> str | None:
        if value is not None:
            parse_comparison(value)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Rule:
        kinds = [self.when is not None, self.check is not None, self.metric is not None]
        if sum(kinds) != 1:
            raise ValueError("a rule has exactly one of `when:`, `check:` or `metric:`")
        if self.metric is not None and self.above_baseline is None:
            raise ValueError("a `metric:` rule needs `above_baseline:` (a z-score)")
        if self.metric is None and self.above_baseline is not None:
            raise ValueError("`above_baseline:` goes with `metric:`")
        return self


class ChannelBase(Section):
    name: str
    timeout: Duration = timedelta(seconds=10)


class LogChannel(ChannelBase):
    type: Literal["log"]


class EmailChannel(ChannelBase):
    type: Literal["email"]
    smtp_host: str = "localhost"
    smtp_port: int = Field(25, ge=1, le=65535)
    sender: str = Field(alias="from", description="From: address")
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    username: str | None = None
    password_file: str | None = Field(None, description="file holding the SMTP password")


class SecretPath(Section):
    secret_path: bool = Field(
        False,
        description="the URL's path is a credential (Slack, Discord, Teams webhooks): "
        "shown as /*** in errors, logs and status",
    )


class WebhookChannel(ChannelBase, SecretPath):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)


class AlertmanagerChannel(ChannelBase, SecretPath):
    type: Literal["alertmanager"]
    url: str = Field(pattern=r"^https?://", description="base URL; /api/v2/alerts is added")
    resend: Duration = Field(
        timedelta(minutes=5),
        description="re-post firing alerts this often; each post stays valid for 3x this, "
        "so Alertmanager resolves them by itself if hostkeeper stops",
    )

    @field_validator("resend")
    @classmethod
    def _resend_positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("resend must be at least 1s")
        return value


class CommandChannel(ChannelBase):
    type: Literal["command"]
    argv: list[str] = Field(
        min_length=1, description="no shell; {rule} {severity} {state} {summary} substituted"
    )


Channel = Annotated[
    LogChannel | EmailChannel | WebhookChannel | AlertmanagerChannel | CommandChannel,
    Field(discriminator="type"),
]


class Alerts(Section):
    repeat: Duration = Field(timedelta(hours=4), description="re-notify a firing alert this often")
    evaluate_every: Duration = Field(
        timedelta(seconds=30),
        description="the daemon evaluates every rule this often, besides the evaluate_alerts step",
    )
    rules: list[Rule] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)

    @field_validator("evaluate_every")
    @classmethod
    def _evaluate_every_positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("evaluate_every must be at least 1s")
        return value
