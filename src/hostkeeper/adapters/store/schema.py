"""Tables of the store. Alembic migrations under migrations/ create and evolve them.

Kept whole: one MetaData, compared table by table with the migrations (a test checks
that they agree), whose tables refer to each other by foreign keys; one list to read
when writing a migration.
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
SCHEMA_REVISION = "0004"

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
    Index(None, "host", "procedure", "started_at"),
    Index(None, "status"),
    # The newest fire an `every:` schedule handled (migration 0004): a backward step
    # through this index instead of a pass over the procedure's runs.
    Index(None, "host", "procedure", "scheduled_for"),
    # A host's running runs by procedure (migration 0004): few whatever the history, and
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

# Current state of each procedure's runs (migration 0004), kept by the run writers in
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

# Running totals behind the status model's counters (migration 0004): real runs by the
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
    Index(None, "host", "state", "severity"),
    Index(None, "host", "rule", "state"),
    # Alerts that became pending in a recent window, by state (migration 0004).
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
    # The silences in force, whatever the rule (migration 0004).
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
    # Covers the deliveries in flight by channel (migration 0004 added `channel`).
    Index(None, "host", "state", "channel"),
    Index(None, "channel", "created_at"),
    # The newest deliveries of a host, newest first (migration 0004).
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
    # The newest present archive of a set, past any number of pruned ones (migration 0004).
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
