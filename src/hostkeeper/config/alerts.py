"""Alert rules and the channels that deliver them."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from hostkeeper.config.base import Section, sample
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
    """A rule has exactly one of `when:`, `check:` or `metric:` (with `above_baseline:`)."""

    name: str = Field(description="unique name; alerts, silences and `alert_test` name the rule")
    when: str | None = Field(
        None,
        description="health_score or a metric name, < <= > >=, a number",
        examples=["health_score < 50", "load.5m > 4"],
    )
    check: str | None = Field(None, description="fires while the check is in one of `states`")
    states: list[CheckState] = Field(
        default_factory=lambda: [CheckState.WARNING, CheckState.CRITICAL],
        description="check states that make a `check:` rule fire: ok | warning | critical "
        "| unknown",
    )
    metric: str | None = Field(
        None, description="metric compared with its baseline", examples=["cpu.percent"]
    )
    above_baseline: float | None = Field(
        None,
        gt=0,
        description="z-score above the current baseline mean (with `metric:`)",
        examples=[3.0],
    )
    for_: Duration = Field(
        timedelta(0),
        alias="for",
        description="must hold this long before firing (0: at once)",
        examples=["5m"],
    )
    clear_for: Duration = Field(
        timedelta(0),
        description="must be clear this long before resolving (hysteresis; 0: at once)",
        examples=["5m"],
    )
    severity: Severity = Field(Severity.WARNING, description="info | warning | critical")
    channels: list[str] = Field(
        default_factory=list,
        description="names of alerts.channels notified; none: the alert is only recorded",
    )
    summary: str | None = Field(
        None,
        description="text of the notification, {value} substituted; unset: one is built",
        examples=["CPU far above normal ({value}%)"],
    )
    maintenance: Literal["hold", "ignore"] = Field(
        "hold",
        description="hold: an alert starting during a maintenance window that covers the rule "
        "is held until it ends | ignore: maintenance windows never hold it",
    )

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
    name: str = Field(description="unique name, used in a rule's and notify's `channels`")
    timeout: Duration = Field(
        timedelta(seconds=10),
        description="one delivery attempt gives up after this (a transient failure, retried)",
        examples=["10s"],
    )


class LogChannel(ChannelBase):
    """The notification as a structured event in hostkeeper's log (the journal)."""

    type: Literal["log"] = Field(description="log: selects this kind of channel")


class EmailChannel(ChannelBase):
    """One plain-text mail per notification."""

    type: Literal["email"] = Field(description="email: selects this kind of channel")
    smtp_host: str = Field("localhost", description="SMTP server")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port (587 with starttls)")
    sender: str = Field(
        alias="from", description="From: address", examples=["hostkeeper@example.net"]
    )
    to: list[str] = Field(min_length=1, description="recipients", examples=[["ops@example.net"]])
    starttls: bool = Field(False, description="upgrade the connection with STARTTLS first")
    username: str | None = Field(None, description="SMTP login; unset: no login")
    password_file: str | None = Field(
        None,
        description="file holding the SMTP password (with username)",
        examples=["/etc/hostkeeper/smtp.password"],
    )


def secret_path_field() -> Any:
    """The `secret_path` field of the channels that post to a URL."""
    return Field(
        False,
        description="the URL's path is a credential (Slack, Discord, Teams webhooks): "
        "shown as /*** in errors, logs and status",
    )


class WebhookChannel(ChannelBase):
    """The notification as a JSON POST; 5xx and timeouts are retried."""

    type: Literal["webhook"] = Field(description="webhook: selects this kind of channel")
    url: str = Field(
        pattern=r"^https?://",
        description="http:// or https:// URL the JSON is POSTed to; user:password@ in it is "
        "sent as basic auth",
        examples=["https://hooks.example.net/hostkeeper"],
    )
    secret_path: bool = secret_path_field()
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="extra HTTP headers sent with each POST",
        examples=[{"Authorization": "Bearer ..."}],
    )


class AlertmanagerChannel(ChannelBase):
    """Alerts posted to Prometheus Alertmanager (v2 API)."""

    type: Literal["alertmanager"] = Field(description="alertmanager: selects this kind of channel")
    url: str = Field(
        pattern=r"^https?://",
        description="base URL; /api/v2/alerts is added; user:password@ in it is sent as basic auth",
        examples=["http://alertmanager.example.net:9093"],
    )
    secret_path: bool = secret_path_field()
    resend: Duration = Field(
        timedelta(minutes=5),
        examples=["5m"],
        description="re-post firing alerts this often; each post stays valid for 3x this, "
        "so Alertmanager resolves them by itself if hostkeeper stops",
    )

    silence: bool = Field(
        True,
        description="while a maintenance window holds alerts, keep a silence for this host "
        "here (POST /api/v2/silences, deleted when the window ends)",
    )
    silence_label: str = Field(
        "instance",
        pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$",
        description="the label naming this host in Alertmanager; the silence matches its "
        "name with or without a :port",
        examples=["instance", "host"],
    )

    @field_validator("resend")
    @classmethod
    def _resend_positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("resend must be at least 1s")
        return value


class CommandChannel(ChannelBase):
    """A program run per notification; exit status 75 (EX_TEMPFAIL) is retried."""

    type: Literal["command"] = Field(description="command: selects this kind of channel")
    argv: list[str] = Field(
        min_length=1,
        description="no shell; {rule} {severity} {state} {summary} substituted",
        examples=[["/usr/local/bin/page", "{severity}", "{rule}", "{summary}"]],
    )


Channel = Annotated[
    LogChannel | EmailChannel | WebhookChannel | AlertmanagerChannel | CommandChannel,
    Field(discriminator="type"),
]


class Alerts(Section):
    repeat: Duration = Field(
        timedelta(hours=4),
        description="re-notify a still-firing, unacknowledged alert this often; 0: never",
        examples=["4h"],
    )
    evaluate_every: Duration = Field(
        timedelta(seconds=30),
        description="the daemon evaluates every rule this often, besides the evaluate_alerts step",
        examples=["30s"],
    )
    rules: list[Rule] = Field(
        default_factory=list,
        description="alert rules: a condition on the health score, a check or a metric",
        json_schema_extra=sample(
            [
                {
                    "name": "critical_health_score",
                    "when": "health_score < 50",
                    "for": "5m",
                    "severity": "critical",
                    "channels": ["journal"],
                },
                {
                    "name": "disk_low",
                    "check": "root_disk",
                    "states": ["warning", "critical"],
                    "severity": "warning",
                    "channels": ["journal"],
                },
            ]
        ),
    )
    channels: list[Channel] = Field(
        default_factory=list,
        description="where notifications go: log, email, webhook, alertmanager, command",
        json_schema_extra=sample([{"name": "journal", "type": "log"}]),
    )

    @field_validator("evaluate_every")
    @classmethod
    def _evaluate_every_positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("evaluate_every must be at least 1s")
        return value
