"""The whole configuration file (/etc/hostkeeper/hostkeeper.yaml) as pydantic models."""

from __future__ import annotations

import ipaddress
import typing
from datetime import timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from hostkeeper.config.alerts import Alerts
from hostkeeper.config.base import Section
from hostkeeper.config.checks import Check
from hostkeeper.config.files import BackupSet, CleanupPolicy, LogPolicy
from hostkeeper.config.procedures import Procedure
from hostkeeper.config.units import Duration, Percent
from hostkeeper.core.names import path_name_problem


class Paths(Section):
    state_dir: str = Field("/var/lib/hostkeeper", description="database, baselines, locks")
    report_dir: str = "/var/lib/hostkeeper/reports"
    backup_dir: str = "/var/backups/hostkeeper"
    log_dir: str = Field("/var/log/hostkeeper", description="hostkeeper's own log files, if any")
    credentials_file: str = Field(
        "/etc/hostkeeper/credentials.env",
        description="NAME=value lines (mode 0600) for the `secret_env` of `run:` steps",
    )


class Database(Section):
    url: str = Field(
        "sqlite:////var/lib/hostkeeper/hostkeeper.db",
        description="sqlite:///relative.db, sqlite:////absolute.db or postgresql+psycopg://...",
    )
    slow_query: Duration = Field(
        timedelta(milliseconds=200), description="statements slower than this are recorded"
    )
    backup_keep: int = Field(
        7,
        ge=1,
        description="newest SQLite copies kept of `db backup` (backup_dir/database/) and, "
        "apart, of those made before a migration (state_dir/db-backups/)",
    )

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("database.url must be a sqlite:// or postgresql+psycopg:// URL")
        return value


class LogFormat(StrEnum):
    AUTO = "auto"
    JSON = "json"
    CONSOLE = "console"


class Daemon(Section):
    watchdog: bool = Field(True, description="ping WATCHDOG=1 only while scheduler and store live")
    shutdown_timeout: Duration = Field(
        timedelta(seconds=60), description="a stop waits this long for running steps"
    )
    log_format: LogFormat = LogFormat.AUTO
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    misfire_grace_time: Duration = Field(
        timedelta(hours=1), description="a run starting later than this after its time is missed"
    )
    catch_up: bool = Field(True, description="run once at start what was due while stopped")


class Retention(Section):
    raw: Duration = timedelta(days=7)
    five_minute: Duration = Field(timedelta(days=90), alias="5m")
    hourly: Duration = Field(timedelta(days=730), alias="1h")


MetricGroup = Literal["cpu", "memory", "swap", "load", "disk", "disk_io", "net_io", "processes"]
ALL_METRIC_GROUPS: tuple[MetricGroup, ...] = typing.get_args(MetricGroup)


class Metrics(Section):
    interval: Duration = Field(timedelta(seconds=10), description="continuous collection")
    collect: list[MetricGroup] = Field(default_factory=lambda: list(ALL_METRIC_GROUPS))
    disks: list[str] = Field(default_factory=lambda: ["/"])
    retention: Retention = Field(default_factory=Retention)


class HealthScore(Section):
    weights: dict[str, float] = Field(
        default_factory=dict, description="per check; unlisted checks weigh 1"
    )


class Baselines(Section):
    window: Duration = timedelta(days=7)
    min_samples: int = Field(1000, ge=1)
    metrics: list[str] = Field(default_factory=lambda: ["cpu.percent", "memory.percent", "load.5m"])
    drift_threshold: Percent = 25.0
    keep_versions: int = Field(10, ge=1)


class Security(Section):
    scan_paths: list[str] = Field(default_factory=list)
    private_paths: list[str] = Field(default_factory=list)
    certificates: list[str] = Field(default_factory=list)
    warn_days: int = Field(30, ge=0)


class NotifyEvent(StrEnum):
    START = "start"
    SUCCESS = "success"
    FAILURE = "failure"


class Notify(Section):
    on: list[NotifyEvent] = Field(default_factory=lambda: [NotifyEvent.FAILURE])
    channels: list[str] = Field(default_factory=list)


class Dashboard(Section):
    enabled: bool = True
    listen: str = Field("127.0.0.1:8081", description="host:port (port 0: any free port)")
    token_file: str | None = Field(None, description="required when listen is not loopback")
    auth: Literal["token", "none"] = Field(
        "token",
        description="token: every request shows the token (token_file, else "
        "state_dir/dashboard.token, made 0600 on first start); none: loopback only",
    )

    @model_validator(mode="after")
    def _public_needs_token(self) -> Dashboard:
        host, _, port = self.listen.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"listen must be host:port, got {self.listen!r}")
        if self.auth == "none" and not is_loopback(host):
            raise ValueError(
                f"auth: none is allowed on a loopback listen address only, not {self.listen!r}"
            )
        if not is_loopback(host) and self.token_file is None:
            raise ValueError(
                f"listen {self.listen!r} is not loopback: set token_file so the dashboard "
                "requires a bearer token"
            )
        return self

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Config(Section):
    version: Literal[1] = 1
    timezone: str = Field("UTC", description="zone in which schedules are evaluated")
    paths: Paths = Field(default_factory=Paths)
    database: Database = Field(default_factory=Database)
    daemon: Daemon = Field(default_factory=Daemon)
    metrics: Metrics = Field(default_factory=Metrics)
    checks: list[Check] = Field(default_factory=list)
    health_score: HealthScore = Field(default_factory=HealthScore)
    baselines: Baselines = Field(default_factory=Baselines)
    alerts: Alerts = Field(default_factory=Alerts)
    logs: list[LogPolicy] = Field(default_factory=list)
    cleanup: list[CleanupPolicy] = Field(default_factory=list)
    backups: list[BackupSet] = Field(default_factory=list)
    procedures: dict[str, Procedure] = Field(default_factory=dict)
    security: Security = Field(default_factory=Security)
    notify: Notify = Field(default_factory=Notify)
    dashboard: Dashboard = Field(default_factory=Dashboard)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as UTC or Europe/Berlin"
            ) from None
        return value

    @field_validator("procedures")
    @classmethod
    def _procedure_names(cls, value: dict[str, Procedure]) -> dict[str, Procedure]:
        for name in value:
            if not name.replace("-", "").replace("_", "").isalnum():
                raise ValueError(f"procedure name {name!r} may use letters, digits, - and _ only")
            problem = path_name_problem(name)  # it names the procedure's lock file
            if problem is not None:
                raise ValueError(f"procedure name: {problem}")
        return value
