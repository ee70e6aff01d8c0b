"""The reference configuration validates, and each key means what its comment says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hostkeeper.config import Config, load_config
from hostkeeper.config.alerts import (
    AlertmanagerChannel,
    CheckState,
    CommandChannel,
    EmailChannel,
    Severity,
    WebhookChannel,
)
from hostkeeper.config.checks import (
    CertificateCheck,
    DiskFreeCheck,
    FileAgeCheck,
    HttpCheck,
    LoadCheck,
    MemoryAvailableCheck,
    ProcessCheck,
    SystemdUnitCheck,
    TcpCheck,
)
from hostkeeper.config.files import RotateEvery, RotateMode
from hostkeeper.config.models import LogFormat, NotifyEvent
from hostkeeper.config.procedures import (
    DiskFreePrecondition,
    NoCriticalAlertsPrecondition,
    Procedure,
)
from hostkeeper.core.runs import OnFailure
from hostkeeper.core.triggers import build_trigger, next_fire_time

MIB = 1024**2


@pytest.fixture
def reference(reference_config_path: Path) -> Config:
    return load_config(reference_config_path).config


def _fires(
    procedure: Procedure, after: datetime, count: int, timezone: str = "UTC"
) -> list[datetime]:
    trigger = build_trigger(procedure.schedule.trigger_spec(), timezone)
    times: list[datetime] = []
    for _ in range(count):
        following = next_fire_time(trigger, after)
        assert following is not None, f"{procedure.schedule} stops firing after {after}"
        times.append(following)
        after = following
    return times


def test_reference_configuration_validates(reference_config_path: Path) -> None:
    loaded = load_config(reference_config_path)
    assert loaded.path == reference_config_path


def test_reference_top_level_and_paths(reference: Config) -> None:
    assert reference.version == 1
    assert reference.timezone == "UTC"
    assert reference.paths.state_dir == "/var/lib/hostkeeper"
    assert reference.paths.report_dir == "/var/lib/hostkeeper/reports"
    assert reference.paths.backup_dir == "/var/backups/hostkeeper"
    assert reference.paths.log_dir == "/var/log/hostkeeper"


def test_reference_database_and_daemon(reference: Config) -> None:
    assert reference.database.url == "sqlite:////var/lib/hostkeeper/hostkeeper.db"
    assert reference.database.slow_query == timedelta(milliseconds=200)
    assert reference.daemon.watchdog is True
    assert reference.daemon.shutdown_timeout == timedelta(seconds=60)
    assert reference.daemon.log_format is LogFormat.AUTO
    assert reference.daemon.log_level == "info"


def test_reference_metrics_retention_aliases_5m_and_1h(reference: Config) -> None:
    metrics = reference.metrics
    assert metrics.interval == timedelta(seconds=10)
    assert metrics.collect == [
        "cpu",
        "memory",
        "swap",
        "load",
        "disk",
        "disk_io",
        "net_io",
        "processes",
    ]
    assert metrics.disks == ["/"]
    assert metrics.retention.raw == timedelta(days=7)
    assert metrics.retention.five_minute == timedelta(days=90)
    assert metrics.retention.hourly == timedelta(days=730)


def test_reference_checks_carry_percentages_durations_and_numbers(reference: Config) -> None:
    checks = {check.name: check for check in reference.checks}
    assert list(checks) == [
        "root_disk",
        "memory",
        "load",
        "database",
        "api",
        "broker",
        "site_certificate",
        "backups_fresh",
        "worker",
    ]
    root = checks["root_disk"]
    assert isinstance(root, DiskFreeCheck)
    assert (root.path, root.warning, root.critical) == ("/", 20.0, 10.0)
    memory = checks["memory"]
    assert isinstance(memory, MemoryAvailableCheck)
    assert (memory.warning, memory.critical) == (15.0, 5.0)
    load = checks["load"]
    assert isinstance(load, LoadCheck)
    assert (load.warning, load.critical) == (2.0, 4.0)
    unit = checks["database"]
    assert isinstance(unit, SystemdUnitCheck)
    assert unit.unit == "postgresql.service"
    http = checks["api"]
    assert isinstance(http, HttpCheck)
    assert http.url == "http://127.0.0.1:8080/health"
    assert http.expect_status == 200
    assert http.timeout == timedelta(seconds=5)
    tcp = checks["broker"]
    assert isinstance(tcp, TcpCheck)
    assert (tcp.host, tcp.port, tcp.timeout) == ("127.0.0.1", 5672, timedelta(seconds=3))
    certificate = checks["site_certificate"]
    assert isinstance(certificate, CertificateCheck)
    assert certificate.path == "/etc/ssl/certs/site.pem"
    assert (certificate.warning, certificate.critical) == (timedelta(days=30), timedelta(days=7))
    age = checks["backups_fresh"]
    assert isinstance(age, FileAgeCheck)
    assert age.path == "/var/backups/hostkeeper"
    assert (age.warning, age.critical) == (timedelta(days=2), timedelta(days=8))
    process = checks["worker"]
    assert isinstance(process, ProcessCheck)
    assert (process.match, process.min) == ("celery worker", 1)


def test_reference_health_score_and_baselines(reference: Config) -> None:
    assert reference.health_score.weights == {"root_disk": 3, "memory": 2}
    baselines = reference.baselines
    assert baselines.window == timedelta(days=7)
    assert baselines.min_samples == 1000
    assert baselines.metrics == ["cpu.percent", "memory.percent", "load.5m", "disk./.used_percent"]
    assert baselines.drift_threshold == 25.0
    assert baselines.keep_versions == 10


def test_reference_alert_rules_with_for_alias(reference: Config) -> None:
    alerts = reference.alerts
    assert alerts.repeat == timedelta(hours=4)
    score, disk, cpu = alerts.rules
    assert score.name == "critical_health_score"
    assert score.when == "health_score < 50"
    assert score.for_ == timedelta(minutes=5)
    assert score.severity is Severity.CRITICAL
    assert score.channels == ["ops", "am"]
    assert disk.check == "root_disk"
    assert disk.states == [CheckState.WARNING, CheckState.CRITICAL]
    assert disk.severity is Severity.WARNING
    assert disk.channels == ["ops"]
    assert disk.for_ == timedelta(0)
    assert cpu.metric == "cpu.percent"
    assert cpu.above_baseline == 3.0
    assert cpu.for_ == timedelta(minutes=10)
    assert cpu.clear_for == timedelta(minutes=5)
    assert cpu.channels == ["hook"]


def test_reference_channels_with_from_alias(reference: Config) -> None:
    ops, hook, am, pager = reference.alerts.channels
    assert isinstance(ops, EmailChannel)
    assert ops.sender == "hostkeeper@localhost"
    assert (ops.smtp_host, ops.smtp_port) == ("localhost", 25)
    assert ops.to == ["ops-team@company.com"]
    assert isinstance(hook, WebhookChannel)
    assert hook.url == "http://127.0.0.1:9000/alerts"
    assert hook.timeout == timedelta(seconds=5)
    assert isinstance(am, AlertmanagerChannel)
    assert am.url == "http://127.0.0.1:9093"
    assert isinstance(pager, CommandChannel)
    assert pager.argv == ["/usr/local/bin/page", "{severity}", "{rule}"]


def test_reference_log_rotation_cleanup_and_backups(reference: Config) -> None:
    (policy,) = reference.logs
    assert policy.name == "health-monitoring"
    assert policy.paths == ["/var/log/hostkeeper/*.log"]
    assert policy.rotate is RotateEvery.DAILY
    assert policy.max_size == 100 * MIB
    assert policy.keep == 30
    assert policy.compress is True
    assert policy.delay_compress is True
    assert policy.mode is RotateMode.CREATE
    assert policy.after_rotate == "reload"
    logs, reports, temp = reference.cleanup
    assert (logs.path, logs.match) == ("/var/log/app", "*.log")
    assert logs.compress_after == timedelta(days=7)
    assert logs.delete_after == timedelta(days=30)
    assert (reports.match, reports.delete_after, reports.compress_after) == (
        "*.html",
        timedelta(days=90),
        None,
    )
    assert (temp.path, temp.match, temp.delete_after) == ("/tmp", "health_*", timedelta(days=1))
    config_set, logs_set = reference.backups
    assert config_set.sources == ["/etc/hostkeeper"]
    assert config_set.exclude == ["*.swp"]
    assert (config_set.keep.daily, config_set.keep.weekly, config_set.keep.monthly) == (30, 8, 12)
    assert logs_set.sources == ["/var/log/hostkeeper"]
    assert (logs_set.keep.daily, logs_set.keep.weekly, logs_set.keep.monthly) == (0, 4, 0)


def test_reference_procedure_steps_and_arguments(reference: Config) -> None:
    procedures = reference.procedures
    assert list(procedures) == ["daily", "weekly", "monthly", "quarterly", "docs"]
    assert [step.label() for step in procedures["daily"].steps] == [
        "rotate_logs",
        "collect_metrics",
        "health_check",
        "evaluate_alerts",
        "resource_report",
        "verify_backups",
        "backup: config",
    ]
    weekly = procedures["weekly"]
    disk, alerts = weekly.before
    assert isinstance(disk, DiskFreePrecondition)
    assert (disk.path, disk.min) == ("/", 20.0)
    assert isinstance(alerts, NoCriticalAlertsPrecondition)
    assert [(step.name, step.argument) for step in weekly.steps] == [
        ("backup", "config"),
        ("report", "performance"),
        ("analyze_trends", timedelta(days=7)),
        ("baseline", "update"),
        ("baseline", "validate"),
        ("report", "alert_effectiveness"),
        ("cleanup", None),
    ]
    assert [(step.name, step.argument) for step in weekly.after] == [
        ("health_check", None),
        ("alert_test", "critical_health_score"),
    ]
    monthly = procedures["monthly"]
    assert monthly.steps[-1].argument == ["optimize", "analyze", "integrity_check", "vacuum"]
    quarterly = procedures["quarterly"]
    assert [(step.name, step.argument) for step in quarterly.steps] == [
        ("report", "capacity"),
        ("db", ["backup", "migrate"]),
        ("restore_test", "config"),
    ]
    (command,) = procedures["docs"].steps
    assert command.name == "run"
    assert command.argument == [
        "/usr/bin/python3",
        "tools/doc-generator/generate_docs.py",
        "--update-all",
    ]
    assert command.cwd == "/srv/app"
    assert command.timeout == timedelta(minutes=10)
    assert command.on_failure is OnFailure.CONTINUE
    assert all(step.on_failure is OnFailure.ABORT for step in procedures["daily"].steps)


def test_reference_schedules_fire_when_their_comments_say(reference: Config) -> None:
    procedures = reference.procedures
    start = datetime(2025, 1, 1, tzinfo=UTC)  # a Wednesday
    assert _fires(procedures["daily"], start, 2) == [
        datetime(2025, 1, 1, 2, 0, tzinfo=UTC),
        datetime(2025, 1, 2, 2, 0, tzinfo=UTC),
    ]
    assert _fires(procedures["weekly"], start, 2) == [
        datetime(2025, 1, 5, 3, 0, tzinfo=UTC),
        datetime(2025, 1, 12, 3, 0, tzinfo=UTC),
    ]
    assert _fires(procedures["monthly"], start, 3) == [
        datetime(2025, 1, 4, 1, 0, tzinfo=UTC),
        datetime(2025, 2, 1, 1, 0, tzinfo=UTC),
        datetime(2025, 3, 1, 1, 0, tzinfo=UTC),
    ]
    assert _fires(procedures["quarterly"], start, 5) == [
        datetime(2025, 1, 4, 1, 0, tzinfo=UTC),
        datetime(2025, 4, 5, 1, 0, tzinfo=UTC),
        datetime(2025, 7, 5, 1, 0, tzinfo=UTC),
        datetime(2025, 10, 4, 1, 0, tzinfo=UTC),
        datetime(2026, 1, 3, 1, 0, tzinfo=UTC),
    ]
    # `{day: 1, hour: 4}`: smaller fields default to zero, so 04:00:00 on the 1st.
    assert _fires(procedures["docs"], start, 2) == [
        datetime(2025, 1, 1, 4, 0, tzinfo=UTC),
        datetime(2025, 2, 1, 4, 0, tzinfo=UTC),
    ]


def test_reference_security_notify_and_dashboard(reference: Config) -> None:
    security = reference.security
    assert security.scan_paths == ["/etc/hostkeeper"]
    assert security.private_paths == ["/etc/hostkeeper", "/var/backups/hostkeeper"]
    assert security.certificates == ["/etc/ssl/certs/site.pem"]
    assert security.warn_days == 30
    # `on:` is a key here, not YAML 1.1's boolean true.
    assert reference.notify.on == [NotifyEvent.FAILURE]
    assert reference.notify.channels == ["ops"]
    assert reference.dashboard.listen == "127.0.0.1:8081"
    assert (reference.dashboard.host, reference.dashboard.port) == ("127.0.0.1", 8081)
    assert reference.dashboard.token_file is None


def test_defaults_fill_in_what_a_minimal_file_leaves_out() -> None:
    config = Config.model_validate({})
    assert config.timezone == "UTC"
    assert config.daemon.shutdown_timeout == timedelta(seconds=60)
    assert config.notify.on == [NotifyEvent.FAILURE]
    assert config.dashboard.listen == "127.0.0.1:8081"
    assert config.procedures == {}


def test_run_step_without_timeout_gets_the_default_command_timeout() -> None:
    config = Config.model_validate(
        {"procedures": {"p": {"schedule": {"every": "1h"}, "steps": [{"run": ["true"]}]}}}
    )
    step = config.procedures["p"].steps[0]
    assert step.timeout is None
    assert step.effective_timeout == timedelta(hours=1)


def test_public_dashboard_with_token_file_is_accepted() -> None:
    config = Config.model_validate(
        {"dashboard": {"listen": "0.0.0.0:8081", "token_file": "/etc/hostkeeper/token"}}
    )
    assert config.dashboard.host == "0.0.0.0"


@pytest.mark.parametrize("listen", ["127.0.0.1:8081", "localhost:8081", "[::1]:8081"])
def test_loopback_dashboard_needs_no_token(listen: str) -> None:
    assert Config.model_validate({"dashboard": {"listen": listen}}).dashboard.listen == listen
