"""Tables of the store. Alembic migrations under migrations/ create and evolve them.

Kept whole: one metadata object is what Alembic compares the migrations with, and what
the contract tests create on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# Bumped with every migration; a test keeps it equal to Alembic's head, so start-up can
# tell whether to migrate without importing Alembic.
SCHEMA_REVISION = "0009"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the backend keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        result: datetime = value
        return result.replace(tzinfo=UTC)


runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("procedure", String(100), nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("scheduled_for", UTCDateTime, nullable=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("duration_seconds", Float, nullable=True),
    Column("error", Text, nullable=True),
    Column("dry_run", Boolean, nullable=False, default=False),
    # Who started a manual run (the invoking user, SUDO_USER through sudo) and why
    # (`run --reason`); both None for the daemon's runs (migration 0005).
    Column("started_by", String(255), nullable=True),
    Column("reason", Text, nullable=True),
    # The checklist the run was started with, as JSON (services/checklists.py; migration
    # 0009): NULL for a procedure without one.
    Column("checklist", Text, nullable=True),
    Index(None, "host", "procedure", "started_at"),
    Index(None, "status"),
    # The newest fire an `every:` schedule handled (migration 0008): a backward step
    # through this index instead of a pass over the procedure's runs.
    Index(None, "host", "procedure", "scheduled_for"),
    # A host's running runs by procedure (migration 0008): few whatever the history, and
    # covered, so SQLite keeps to this index even when ANALYZE's averages (one host, a
    # handful of statuses) make it look no better than a scan.
    Index(None, "host", "status", "procedure", "dry_run"),
)

step_results = Table(
    "step_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("phase", String(10), nullable=False),  # before | steps | after
    Column("name", String(100), nullable=False),
    Column("label", String(255), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("duration_seconds", Float, nullable=True),
    Column("summary", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("output", Text, nullable=True),
    Column("details", Text, nullable=True),  # JSON
    Index(None, "run_id", "position"),
)

procedure_state = Table(
    "procedure_state",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("procedure", String(100), primary_key=True),
    Column("known_since", UTCDateTime, nullable=False),
    Column("schedule", String(255), nullable=False),
)

# Current state of each procedure's runs (migration 0008), kept by the run writers in
# the transaction that records the run, so the status model reads one row per
# procedure instead of grouping its whole history. The runs it points at are kept by
# history retention whatever their age.
procedure_results = Table(
    "procedure_results",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("procedure", String(100), primary_key=True),
    Column("newest_run_id", Integer, nullable=True),  # newest real run, whatever its status
    Column("completed_run_id", Integer, nullable=True),  # newest real run that ran to an end
    Column("last_success_at", UTCDateTime, nullable=True),  # end of the newest success
)

# Running totals behind the status model's counters (migration 0008): real runs by the
# status they ended with, failed steps, notifications by how their delivery ended, file
# maintenance. Each is added to by the writer of the row it counts, in the same
# transaction, so a counter neither scans history nor goes down when retention deletes
# the rows it counted.
status_totals = Table(
    "status_totals",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("counter", String(40), primary_key=True),  # runs | step_failures | notifications | files
    Column("subject", String(255), primary_key=True),  # the procedure, channel or kind
    Column("label", String(40), primary_key=True),  # the status, state or figure; '' for none
    Column("value", BigInteger, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("rule", String(100), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("state", String(20), nullable=False),  # pending | firing | resolved
    Column("pending_since", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime, nullable=True),
    Column("clear_since", UTCDateTime, nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("last_notified_at", UTCDateTime, nullable=True),
    Column("notifications", Integer, nullable=False, default=0),
    Column("false_positive", Boolean, nullable=False, default=False),
    Column("value", Float, nullable=True),
    Column("summary", Text, nullable=True),
    # The maintenance window the alert began in (migration 0006): held
    # while a window lasts, counted apart in alert effectiveness.
    Column(
        "maintenance_window_id",
        Integer,
        ForeignKey("maintenance_windows.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Index(None, "host", "state", "severity"),
    Index(None, "host", "rule", "state"),
    # Alerts that became pending in a recent window, by state (migration 0008).
    Index(None, "host", "pending_since", "state"),
)


# -- health: metrics, checks, baselines, alerts (migration 0002) ------------------------------

# One row per (host, metric name); samples refer to it by id to stay small and fast.
series = Table(
    "series",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("name", String(200), nullable=False),
    UniqueConstraint("host", "name"),
)

# Raw samples not yet sealed into a block (the open block of each series, and rows of
# stores made before migration 0003 until housekeeping has sealed them); `ts` is Unix
# epoch seconds. The (series_id, ts, value) index covers reads without table lookups.
samples = Table(
    "samples",
    metadata,
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), nullable=False),
    Column("ts", Float, nullable=False),
    Column("value", Float, nullable=False),
    Index(None, "series_id", "ts", "value"),
)

# 5-minute (resolution 300) and hourly (3600) aggregates of samples not yet sealed into
# a block, like `samples`.
rollups = Table(
    "rollups",
    metadata,
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    Column("resolution", Integer, primary_key=True),
    Column("ts", Float, primary_key=True),  # bucket start, epoch seconds
    Column("min", Float, nullable=False),
    Column("mean", Float, nullable=False),
    Column("max", Float, nullable=False),
    Column("count", Integer, nullable=False),
)

# Sealed blocks (migration 0003): one row per series, resolution (0 = raw samples, 300,
# 3600) and aligned time window, holding that window's rows encoded column by column
# (core/blockcodec.py): a raw sample costs about two bytes instead of about fifty.
metric_blocks = Table(
    "metric_blocks",
    metadata,
    Column("series_id", Integer, ForeignKey("series.id", ondelete="CASCADE"), primary_key=True),
    Column("resolution", Integer, primary_key=True),
    Column("window_start", Float, primary_key=True),  # epoch seconds, aligned
    Column("first_ts", Float, nullable=False),
    Column("last_ts", Float, nullable=False),
    Column("count", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

check_results = Table(
    "check_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("check_name", String(100), nullable=False),
    Column("check_type", String(40), nullable=False),
    Column("state", String(20), nullable=False),  # ok | warning | critical | unknown
    Column("value", Float, nullable=True),
    Column("unit", String(20), nullable=True),
    Column("detail", Text, nullable=True),
    Column("checked_at", UTCDateTime, nullable=False),
    Column("duration_seconds", Float, nullable=True),
    Index(None, "host", "check_name", "checked_at"),
    Index(None, "host", "checked_at"),
)

health_scores = Table(
    "health_scores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("score", Float, nullable=True),  # None when every check was unknown
    Column("computed_at", UTCDateTime, nullable=False),
    Index(None, "host", "computed_at"),
)

baseline_versions = Table(
    "baseline_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("window_start", UTCDateTime, nullable=False),
    Column("window_end", UTCDateTime, nullable=False),
    # candidate (computed, not validated) | active | superseded | rejected | rolled_back
    Column("status", String(20), nullable=False),
    Column("note", Text, nullable=True),
    UniqueConstraint("host", "version"),
)

baseline_stats = Table(
    "baseline_stats",
    metadata,
    Column(
        "version_id",
        Integer,
        ForeignKey("baseline_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("metric", String(200), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("mean", Float, nullable=True),
    Column("stddev", Float, nullable=True),
    Column("min", Float, nullable=True),
    Column("max", Float, nullable=True),
    Column("p50", Float, nullable=True),
    Column("p95", Float, nullable=True),
    Column("p99", Float, nullable=True),
)

# Everything that happened to an alert: pending, firing, resolved, acknowledged,
# notified, silenced, marked false positive. Alert effectiveness is computed from it.
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("detail", Text, nullable=True),
    Index(None, "alert_id", "at"),
    Index(None, "kind", "at"),
)

silences = Table(
    "silences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("rule", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("until", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=True),
    Column("lifted_at", UTCDateTime, nullable=True),
    Index(None, "host", "rule", "until"),
    # The silences in force, whatever the rule (migration 0008).
    Index(None, "host", "until"),
)

# Delivery log of every notification (alerts, maintenance, tests), with retries.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("kind", String(20), nullable=False),  # alert | resolved | maintenance | test
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True),
    Column("subject", Text, nullable=False),
    Column("payload", Text, nullable=True),  # JSON
    Column("state", String(20), nullable=False),  # queued | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    # Covers the deliveries in flight by channel (migration 0008 added `channel`).
    Index(None, "host", "state", "channel"),
    Index(None, "channel", "created_at"),
    # The newest deliveries of a host, newest first (migration 0008).
    Index(None, "host", "id"),
)

# -- files: rotation, cleanup, backups (migration 0002) ---------------------------------------

# Written only after a rotation succeeded: when each log file was last rotated.
rotation_state = Table(
    "rotation_state",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("policy", String(100), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("rotated_at", UTCDateTime, nullable=False),
    Column("size_bytes", Integer, nullable=True),
)

# One row per applied file-maintenance action batch (rotation, cleanup) for reports.
file_actions = Table(
    "file_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    Column("kind", String(20), nullable=False),  # rotate | cleanup
    Column("policy", String(100), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("files_rotated", Integer, nullable=False, default=0),
    Column("files_compressed", Integer, nullable=False, default=0),
    Column("files_deleted", Integer, nullable=False, default=0),
    Column("bytes_freed", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("detail", Text, nullable=True),  # JSON
    Index(None, "host", "kind", "at"),
)

backup_archives = Table(
    "backup_archives",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("backup_set", String(100), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("files", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("state", String(20), nullable=False),  # present | pruned | missing
    Column("verified_at", UTCDateTime, nullable=True),
    Column("verify_ok", Boolean, nullable=True),
    Column("verify_detail", Text, nullable=True),
    Column("unreadable", Text, nullable=True),  # JSON list of files that could not be read
    UniqueConstraint("host", "path"),
    Index(None, "host", "backup_set", "created_at"),
    # The newest present archive of a set, past any number of pruned ones (migration 0008).
    Index(None, "host", "backup_set", "state", "created_at"),
)

restore_tests = Table(
    "restore_tests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("backup_set", String(100), nullable=False),
    Column("archive", String(1024), nullable=False),
    Column("tested_at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("files_checked", Integer, nullable=False),
    Column("duration_seconds", Float, nullable=True),
    Column("detail", Text, nullable=True),
    Index(None, "host", "backup_set", "tested_at"),
)

# Sizes per configured path, for growth since the last resource report.
disk_usage = Table(
    "disk_usage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("measured_at", UTCDateTime, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Index(None, "host", "path", "measured_at"),
)

# -- database maintenance (migration 0002) ----------------------------------------------------

# Statements slower than database.slow_query, aggregated by shape (`db slow-queries`).
slow_queries = Table(
    "slow_queries",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("shape_hash", String(64), primary_key=True),
    Column("shape", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("total_seconds", Float, nullable=False),
    Column("max_seconds", Float, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
)

# -- dependency audit (migration 0004) --------------------------------------------------------

# One row per dependency audit: when it ran, what it counted, what it could not check.
dependency_audits = Table(
    "dependency_audits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("audited_at", UTCDateTime, nullable=False),
    Column("counts", Text, nullable=False),  # JSON: findings by severity
    Column("warnings", Text, nullable=False),  # JSON list of strings
    Column("report", String(1024), nullable=True),
    Index(None, "host", "audited_at"),
)

# Vulnerable or outdated software and pending OS upgrades, from first seen to resolved.
dependency_findings = Table(
    "dependency_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("environment", String(1024), nullable=False),
    Column("package", String(255), nullable=False),
    Column("advisory", String(255), nullable=False),  # "" when not an advisory
    Column("aliases", Text, nullable=False),  # JSON list
    Column("severity", String(20), nullable=False),
    Column("score", Float, nullable=True),
    Column("installed", String(255), nullable=True),
    Column("fixed", String(255), nullable=True),
    Column("summary", Text, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Index(None, "host", "resolved_at"),
)

# -- checklists (migration 0005) --------------------------------------------------------------

# Manual checklist items confirmed by a person (`hostkeeper confirm RUN ITEM`): one row per
# item of a run, deleted with the run.
checklist_confirmations = Table(
    "checklist_confirmations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("item", String(100), nullable=False),
    Column("confirmed_by", String(255), nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=True),
    UniqueConstraint("run_id", "item"),
)

# -- maintenance windows and incidents (migration 0006) --------------------------

# A span in which alerts that start are held: one per procedure run, per occurrence of a
# planned window, per `maintenance start`, per incident. `hold_until` is the end (the
# earlier of `ends_at` and `closed_at`) plus the grace, NULL while the window has no end.
maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("kind", String(20), nullable=False),  # run | planned | adhoc | incident
    Column("name", String(100), nullable=True),  # the procedure, or the planned window
    Column("reason", Text, nullable=True),  # why; an incident's title
    Column("severity", String(20), nullable=True),  # incidents
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=True),  # planned end
    Column("closed_at", UTCDateTime, nullable=True),
    Column("grace_seconds", Float, nullable=False, default=0.0),
    Column("hold_until", UTCDateTime, nullable=True),
    Column("rules", Text, nullable=True),  # JSON list of rule names; NULL: every rule
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    # The incident open when this window (a run) opened: its timeline shows it.
    Column(
        "incident_id",
        Integer,
        ForeignKey("maintenance_windows.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("opened_by", String(100), nullable=True),
    Column("closed_by", String(100), nullable=True),
    Column("cause", Text, nullable=True),  # incidents: root cause
    Column("prevention", Text, nullable=True),  # incidents: what keeps it from recurring
    Column("announced_at", UTCDateTime, nullable=True),
    Column("start_notified_at", UTCDateTime, nullable=True),
    Column("end_notified_at", UTCDateTime, nullable=True),
    UniqueConstraint("host", "kind", "name", "starts_at"),
    Index(None, "host", "hold_until"),
    Index(None, "host", "starts_at"),
    Index(None, "incident_id"),
)

# The silence a window keeps in each Alertmanager channel while it holds alerts.
window_silences = Table(
    "window_silences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "window_id",
        Integer,
        ForeignKey("maintenance_windows.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("channel", String(100), nullable=False),
    Column("state", String(20), nullable=False),  # pending | active | ending | deleted
    Column("silence_id", String(100), nullable=True),  # Alertmanager's id
    Column("ends_at", UTCDateTime, nullable=True),  # the endsAt last sent
    Column("attempts", Integer, nullable=False, default=0),  # failed attempts in a row
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("window_id", "channel"),
    Index(None, "state"),
)

# What operators wrote down during a window, mostly an incident (`hostkeeper note`).
window_notes = Table(
    "window_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "window_id",
        Integer,
        ForeignKey("maintenance_windows.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("at", UTCDateTime, nullable=False),
    Column("author", String(100), nullable=False),
    Column("text", Text, nullable=False),
    Index(None, "window_id", "at"),
)

# -- fleet (migration 0007) --------------------------------------------------------------

# One row per host: written by its daemon at start, on every heartbeat, on reload and on
# stop; the fleet view and the watch for silent hosts read them all. `scope` is the part
# of the host's configuration its status is computed from (services/status_scope.py),
# `next_runs` its scheduler's next fire times, `summary` what the fleet view shows of its
# status (services/fleet_status.py), all JSON.
fleet_hosts = Table(
    "fleet_hosts",
    metadata,
    Column("host", String(255), primary_key=True),
    Column("version", String(50), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime, nullable=True),  # set by a clean stop
    Column("config_loaded_at", UTCDateTime, nullable=False),
    Column("last_reload", Text, nullable=False),
    Column("dashboard_url", Text, nullable=True),
    Column("scope", Text, nullable=False),
    Column("next_runs", Text, nullable=False),
    Column("summary", Text, nullable=True),  # the host's status summary, JSON
)
