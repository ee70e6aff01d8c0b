"""The whole configuration file (/etc/hostkeeper/hostkeeper.yaml) as pydantic models.

Kept whole: the top-level sections and the cross-field rules that tie them together.
"""

from __future__ import annotations

import ipaddress
import typing
from datetime import timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from hostkeeper.config.alerts import Alerts
from hostkeeper.config.base import Section, sample
from hostkeeper.config.checks import Check
from hostkeeper.config.dependencies import Dependencies
from hostkeeper.config.files import BackupSet, CleanupPolicy, LogPolicy
from hostkeeper.config.fleet import Fleet
from hostkeeper.config.maintenance import Maintenance
from hostkeeper.config.procedures import Procedure
from hostkeeper.config.units import Duration, Percent
from hostkeeper.core.names import path_name_problem


class Paths(Section):
    state_dir: str = Field(
        "/var/lib/hostkeeper",
        description="database, baselines, locks, the daemon's state file; created if missing",
    )
    report_dir: str = Field(
        "/var/lib/hostkeeper/reports",
        description="reports are written under it, one folder per report (daily/, security/...)",
    )
    backup_dir: str = Field(
        "/var/backups/hostkeeper",
        description="archives of the backup sets (one folder per set) and of `db backup`",
    )
    log_dir: str = Field(
        "/var/log/hostkeeper",
        description="hostkeeper's own log files, if any (the journal is the primary log)",
    )
    credentials_file: str = Field(
        "/etc/hostkeeper/credentials.env",
        description="NAME=value lines (mode 0600) for the `secret_env` of `run:` steps",
    )


class HistoryRetention(Section):
    runs: Duration = Field(
        timedelta(days=400),
        description="runs and their step results are deleted after this (the newest run of "
        "each procedure always stays, for catch-up); 400d keeps a year of reports",
        examples=["400d"],
    )
    alerts: Duration = Field(
        timedelta(days=400),
        description="resolved alerts and their events are deleted this long after they "
        "resolved (pending and firing ones stay); effectiveness statistics read them",
        examples=["400d"],
    )
    notifications: Duration = Field(
        timedelta(days=400),
        description="the delivery log: sent and failed notifications older than this are "
        "deleted (queued ones stay until delivered or given up)",
        examples=["400d"],
    )
    file_actions: Duration = Field(
        timedelta(days=400),
        description="records of rotation and cleanup batches are deleted after this",
        examples=["400d"],
    )
    backups: Duration = Field(
        timedelta(days=400),
        description="records of pruned or missing archives, and restore tests, are deleted "
        "after this (archives still present and each set's newest restore test stay)",
        examples=["400d"],
    )
    silences: Duration = Field(
        timedelta(days=400),
        description="silences are deleted this long after they ended",
        examples=["400d"],
    )
    dependency_audits: Duration = Field(
        timedelta(days=400),
        description="dependency audits, and findings resolved, are deleted after this "
        "(open findings and the newest audit stay)",
        examples=["400d"],
    )
    slow_queries: Duration = Field(
        timedelta(days=90),
        description="statement shapes not seen slow for this long are forgotten",
        examples=["90d"],
    )


class Database(Section):
    url: str = Field(
        "sqlite:////var/lib/hostkeeper/hostkeeper.db",
        description="sqlite:///relative.db, sqlite:////absolute.db or postgresql+psycopg://...",
        examples=[
            "sqlite:////var/lib/hostkeeper/hostkeeper.db",
            "postgresql+psycopg://hostkeeper@db.example.net/hostkeeper",
        ],
    )
    slow_query: Duration = Field(
        timedelta(milliseconds=200),
        description="statements slower than this are recorded for `db slow-queries`",
        examples=["200ms", "1s"],
    )
    backup_keep: int = Field(
        7,
        ge=1,
        description="newest SQLite copies kept of `db backup` (backup_dir/database/) and, "
        "apart, of those made before a migration (state_dir/db-backups/)",
    )
    retention: HistoryRetention = Field(
        default_factory=HistoryRetention,
        description="how long the history tables keep rows; the daemon deletes older ones "
        "every hour (every quarter of the shortest retention when that is sooner) in small "
        "transactions (metrics.retention covers samples, check results and health scores)",
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
    watchdog: bool = Field(
        True,
        description="ping WATCHDOG=1 only while scheduler and store live (with the unit's "
        "WatchdogSec=); false never pings",
    )
    shutdown_timeout: Duration = Field(
        timedelta(seconds=60),
        description="a stop waits this long for running steps, then aborts them",
        examples=["60s", "5m"],
    )
    log_format: LogFormat = Field(
        LogFormat.AUTO,
        description="auto: json under journald, console on a terminal | json | console",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="least severe event logged: debug | info | warning | error"
    )
    misfire_grace_time: Duration = Field(
        timedelta(hours=1),
        description="a run starting later than this after its time is missed",
        examples=["1h", "10m"],
    )
    catch_up: bool = Field(True, description="run once at start what was due while stopped")


class Retention(Section):
    raw: Duration = Field(
        timedelta(days=7), description="raw samples are deleted after this", examples=["7d"]
    )
    five_minute: Duration = Field(
        timedelta(days=90),
        alias="5m",
        description="5-minute rollups (mean, min, max) are deleted after this",
        examples=["90d"],
    )
    hourly: Duration = Field(
        timedelta(days=730),
        alias="1h",
        description="hourly rollups are deleted after this",
        examples=["730d"],
    )


MetricGroup = Literal["cpu", "memory", "swap", "load", "disk", "disk_io", "net_io", "processes"]
ALL_METRIC_GROUPS: tuple[MetricGroup, ...] = typing.get_args(MetricGroup)


class Metrics(Section):
    interval: Duration = Field(
        timedelta(seconds=10),
        description="the daemon samples the host this often, independent of procedures",
        examples=["10s", "1m"],
    )
    collect: list[MetricGroup] = Field(
        default_factory=lambda: list(ALL_METRIC_GROUPS),
        description="metric groups collected; every group by default",
    )
    disks: list[str] = Field(
        default_factory=lambda: ["/"],
        description="mount points whose usage is collected (disk./.used_percent, ...)",
        examples=[["/", "/var"]],
    )
    retention: Retention = Field(
        default_factory=Retention,
        description="how long raw samples and their 5-minute and hourly rollups are kept",
    )


class HealthScore(Section):
    weights: dict[str, float] = Field(
        default_factory=dict,
        description="weight of a check (by name) in the 0-100 health score; unlisted checks "
        "weigh 1",
        examples=[{"root_disk": 3, "memory": 2}],
        json_schema_extra=sample({"root_disk": 3, "memory": 2}),
    )


class Baselines(Section):
    window: Duration = Field(
        timedelta(days=7),
        description="`baseline: update` computes each metric's statistics over this past span",
        examples=["7d", "14d"],
    )
    min_samples: int = Field(
        1000, ge=1, description="a metric with fewer samples in the window keeps its old baseline"
    )
    metrics: list[str] = Field(
        default_factory=lambda: ["cpu.percent", "memory.percent", "load.5m"],
        description="metric names given a baseline (see `hostkeeper metrics list`)",
        examples=[["cpu.percent", "disk./.used_percent"]],
        json_schema_extra=sample(
            ["cpu.percent", "memory.percent", "load.5m", "disk./.used_percent"]
        ),
    )
    drift_threshold: Percent = Field(
        25.0,
        description="`baseline: validate` rejects a new baseline whose mean moved more than this",
        examples=["25%"],
    )
    keep_versions: int = Field(
        10, ge=1, description="baseline versions kept for `baseline rollback`"
    )


class Security(Section):
    scan_paths: list[str] = Field(
        default_factory=list,
        description="files and directories whose text files the audit scans for secrets",
        json_schema_extra=sample(["/etc/hostkeeper"]),
    )
    private_paths: list[str] = Field(
        default_factory=list,
        description="trees that must be owned by root (or hostkeeper) and not readable by "
        "others; the audit reports every entry that is",
        json_schema_extra=sample(["/etc/hostkeeper", "/var/backups/hostkeeper"]),
    )
    certificates: list[str] = Field(
        default_factory=list,
        description="PEM certificates whose expiry the audit reports, besides those of "
        "`certificate` checks",
        examples=[["/etc/ssl/certs/example.pem"]],
    )
    warn_days: int = Field(
        30, ge=0, description="the audit reports a certificate expiring within this many days"
    )
    dependencies: Dependencies = Field(
        default_factory=Dependencies,
        description="the dependency audit (`dependency_audit` step, `audit deps`): "
        "vulnerable and outdated Python distributions, pending OS upgrades",
    )


class NotifyEvent(StrEnum):
    START = "start"
    SUCCESS = "success"
    FAILURE = "failure"
    WAIT = "wait"
    WINDOW = "window"


class Notify(Section):
    on: list[NotifyEvent] = Field(
        default_factory=lambda: [NotifyEvent.FAILURE],
        description="procedure events notified, for scheduled and manual runs alike: start | "
        "success | failure (also a `wait_for` that timed out) | wait (a run waits for "
        "checklist items, or waited in vain) | window (planned and ad hoc maintenance "
        "windows starting and ending)",
    )
    channels: list[str] = Field(
        default_factory=list,
        description="names of alerts.channels that carry them; none: not notified",
        json_schema_extra=sample(["journal"]),
    )


class Dashboard(Section):
    enabled: bool = Field(True, description="false: no dashboard, /api or /metrics")
    listen: str = Field(
        "127.0.0.1:8081",
        description="host:port (port 0: any free port)",
        examples=["127.0.0.1:8081", "[::1]:8081", "0.0.0.0:8081"],
    )
    token_file: str | None = Field(
        None,
        description="file holding the bearer token every request must carry; required when "
        "listen is not loopback; unset: state_dir/dashboard.token, made 0600 on first start",
        examples=["/etc/hostkeeper/dashboard.token"],
    )
    auth: Literal["token", "none"] = Field(
        "token",
        description="`token` (default), every request shows the token (token_file, else "
        "state_dir/dashboard.token, made 0600 on first start), or `none`, loopback only",
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
    version: Literal[1] = Field(1, description="format of this file; 1 is the only one so far")
    timezone: str = Field(
        "UTC",
        description="zone in which schedules are evaluated (an IANA name), and report dates",
        examples=["UTC", "Europe/Berlin"],
    )
    paths: Paths = Field(default_factory=Paths, description="where hostkeeper keeps its files")
    database: Database = Field(
        default_factory=Database, description="the store of runs, metrics, alerts and baselines"
    )
    daemon: Daemon = Field(default_factory=Daemon, description="the long-running service")
    metrics: Metrics = Field(
        default_factory=Metrics, description="continuous collection of host metrics"
    )
    checks: list[Check] = Field(
        default_factory=list,
        description="health checks, run by the health_check step; each yields ok, warning, "
        "critical or unknown and a value",
        # Only checks that make sense on any host; units, URLs and certificates are the
        # operator's to add (the reference configuration shows them).
        json_schema_extra=sample(
            [
                {
                    "name": "root_disk",
                    "type": "disk_free",
                    "path": "/",
                    "warning": "20%",
                    "critical": "10%",
                },
                {"name": "memory", "type": "memory_available", "warning": "15%", "critical": "5%"},
                {"name": "load", "type": "load", "warning": 2.0, "critical": 4.0},
                {
                    "name": "backups_fresh",
                    "type": "file_age",
                    "path": "/var/backups/hostkeeper",
                    "warning": "2d",
                    "critical": "8d",
                },
            ]
        ),
    )
    health_score: HealthScore = Field(
        default_factory=HealthScore, description="how the checks add up to a 0-100 score"
    )
    baselines: Baselines = Field(
        default_factory=Baselines, description="per-metric statistics of normal behaviour"
    )
    alerts: Alerts = Field(
        default_factory=Alerts, description="rules that raise alerts, and the channels"
    )
    logs: list[LogPolicy] = Field(
        default_factory=list,
        description="log files rotated by the rotate_logs step; hostkeeper's own logs belong "
        "to the packaged logrotate snippet (one rotator per file set)",
        examples=[
            [
                {
                    "name": "app",
                    "paths": ["/var/log/app/*.log"],
                    "rotate": "daily",
                    "keep": 14,
                    "after_rotate": ["/usr/bin/systemctl", "reload", "app.service"],
                }
            ]
        ],
        json_schema_extra=sample([]),
    )
    cleanup: list[CleanupPolicy] = Field(
        default_factory=list,
        description="old files compressed or deleted by the cleanup step",
        json_schema_extra=sample(
            [
                {
                    "name": "old-reports",
                    "path": "/var/lib/hostkeeper/reports",
                    "match": ["*.html", "*.json"],
                    "delete_after": "400d",
                },
                # The per-day logs under log_dir/maintenance/ and log_dir/validation/:
                # this policy is their one rotator (the logrotate snippet takes only
                # log_dir/*.log, and they are never written there).
                {
                    "name": "maintenance-logs",
                    "path": "/var/log/hostkeeper",
                    "match": ["*_maintenance_????????.log", "validation_????????_??????.log"],
                    "compress_after": "2d",
                    "delete_after": "400d",
                },
            ]
        ),
    )
    backups: list[BackupSet] = Field(
        default_factory=list,
        description="backup sets archived by `backup: SET` into backup_dir/SET/",
        json_schema_extra=sample(
            [
                {
                    "name": "config",
                    "sources": ["/etc/hostkeeper"],
                    "exclude": ["*.swp"],
                    "keep": {"daily": 30, "weekly": 8, "monthly": 12},
                }
            ]
        ),
    )
    procedures: dict[str, Procedure] = Field(
        default_factory=dict,
        description="maintenance procedures by name (letters, digits, - and _)",
        # The seed schedule, all UTC: daily 02:00, weekly Sunday 03:00, monthly first
        # Saturday 01:00, quarterly first Saturday of Jan/Apr/Jul/Oct 01:00.
        json_schema_extra=sample(
            {
                "daily": {
                    "schedule": {"hour": 2, "minute": 0},
                    # back up, then verify what was just made; the report comes last so
                    # that it shows this run's checks, alerts and backups
                    "steps": [
                        "rotate_logs",
                        "cleanup",
                        {"backup": "config"},
                        "verify_backups",
                        "collect_metrics",
                        "health_check",
                        "evaluate_alerts",
                        "resource_report",
                        {"report": "daily"},
                    ],
                },
                "weekly": {
                    "schedule": {"cron": "0 3 * * sun"},
                    "before": [
                        {"require": "disk_free", "path": "/", "min": "20%"},
                        {"require": "no_critical_alerts"},
                    ],
                    "steps": [
                        {"backup": "config"},
                        {"report": "performance"},
                        {"analyze_trends": "7d"},
                        {"baseline": "update"},
                        # a rejected baseline is reported, and the reports and cleanup
                        # still run
                        {"baseline": "validate", "on_failure": "continue"},
                        {"report": "alert_effectiveness"},
                        "cleanup",
                    ],
                    "after": ["health_check", {"alert_test": "critical_health_score"}],
                    # Semi-automated: the run proves its items; people read what it wrote.
                    "checklist": {
                        "pre": [
                            {"config_backup": "Back up the configuration", "step": "backup: config"}
                        ],
                        "post": [
                            {
                                "performance_report": "Weekly performance report written",
                                "step": "report: performance",
                            },
                            {
                                "baselines": "Baselines updated and validated",
                                "step": "baseline: validate",
                            },
                            {
                                "alert_review": "Alert effectiveness report written",
                                "step": "report: alert_effectiveness",
                            },
                            {"cleanup": "Old files cleaned up", "step": "cleanup"},
                            {"health": "System health verified", "step": "health_check"},
                            {"disk_space": "Root filesystem has room", "check": "root_disk"},
                            {
                                "alert_path": "Alert path tested",
                                "step": "alert_test: critical_health_score",
                            },
                            {"reports_read": "Read the weekly reports and act on them"},
                        ],
                    },
                },
                "monthly": {
                    "schedule": {"day": "1st sat", "hour": 1, "minute": 0},
                    # the audits come first: the assessment summarises them; without a
                    # network the refresh warns and the audit uses the archive it has
                    "steps": [
                        "security_audit",
                        "refresh_advisories",
                        "dependency_audit",
                        {"report": "health_assessment"},
                        "suggest_thresholds",
                        {"db": ["integrity_check", "reindex", "vacuum", "analyze", "optimize"]},
                    ],
                    # Manual with automated components.
                    "checklist": {
                        "planning": [
                            {"window": "Schedule maintenance window"},
                            {"stakeholders": "Notify stakeholders"},
                        ],
                        "pre": [{"security_audit": "Security audit run", "step": "security_audit"}],
                        "post": [
                            {
                                "assessment": "Monthly health assessment written",
                                "step": "report: health_assessment",
                            },
                            {
                                "thresholds": "Alert thresholds reviewed",
                                "step": "suggest_thresholds",
                            },
                            {"database": "Database checked, reindexed and vacuumed", "step": "db"},
                            {"documented": "Document changes made"},
                        ],
                    },
                },
                "quarterly": {
                    "schedule": {"month": "1,4,7,10", "day": "1st sat", "hour": 1, "minute": 0},
                    "steps": [
                        {"report": "capacity"},
                        {"db": ["backup", "migrate"]},
                        {"restore_test": "config"},
                    ],
                    # Primarily manual: planning is people's, the run proves the rest.
                    "checklist": {
                        "planning": [
                            {"window": "Schedule maintenance window"},
                            {"stakeholders": "Notify stakeholders"},
                            {"change_requests": "Review change requests"},
                            {"rollback_plan": "Prepare rollback plan"},
                        ],
                        "pre": [
                            {"database_backup": "Database backed up, then migrated", "step": "db"}
                        ],
                        "post": [
                            {"capacity": "Capacity plan written", "step": "report: capacity"},
                            {
                                "restore_test": "Disaster recovery: newest config archive restored",
                                "step": "restore_test: config",
                            },
                            {"documented": "Document changes made"},
                        ],
                    },
                },
            }
        ),
    )
    security: Security = Field(
        default_factory=Security,
        description="what the security_audit and dependency_audit steps look at",
    )
    notify: Notify = Field(
        default_factory=Notify,
        description="notifications about procedure runs, maintenance windows and incidents",
    )
    maintenance: Maintenance = Field(
        default_factory=Maintenance,
        description="maintenance windows: alerts that start in one are held, not notified "
        "(docs/maintenance.md)",
    )
    dashboard: Dashboard = Field(
        default_factory=Dashboard, description="the web dashboard, JSON API and /metrics"
    )
    fleet: Fleet = Field(
        default_factory=Fleet,
        description="hosts sharing one PostgreSQL store: host id, heartbeats, the watch for "
        "silent hosts, schedule splay, and the spool for database outages",
    )

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
