"""Health (metrics, checks, baselines, alerts) and files (rotation, backups) tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 05:26:07.614882
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hostkeeper.adapters.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backup_archives",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("backup_set", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("verified_at", UTCDateTime(), nullable=True),
        sa.Column("verify_ok", sa.Boolean(), nullable=True),
        sa.Column("verify_detail", sa.Text(), nullable=True),
        sa.Column("unreadable", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backup_archives")),
        sa.UniqueConstraint("host", "path", name=op.f("uq_backup_archives_host_path")),
    )
    with op.batch_alter_table("backup_archives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_backup_archives_host_backup_set_created_at"),
            ["host", "backup_set", "created_at"],
            unique=False,
        )

    op.create_table(
        "baseline_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_baseline_versions")),
        sa.UniqueConstraint("host", "version", name=op.f("uq_baseline_versions_host_version")),
    )
    op.create_table(
        "check_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("check_name", sa.String(length=100), nullable=False),
        sa.Column("check_type", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_results")),
    )
    with op.batch_alter_table("check_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_check_results_host_check_name_checked_at"),
            ["host", "check_name", "checked_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_check_results_host_checked_at"), ["host", "checked_at"], unique=False
        )

    op.create_table(
        "disk_usage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("measured_at", UTCDateTime(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disk_usage")),
    )
    with op.batch_alter_table("disk_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_disk_usage_host_path_measured_at"),
            ["host", "path", "measured_at"],
            unique=False,
        )

    op.create_table(
        "health_scores",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_scores")),
    )
    with op.batch_alter_table("health_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_health_scores_host_computed_at"), ["host", "computed_at"], unique=False
        )

    op.create_table(
        "restore_tests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("backup_set", sa.String(length=100), nullable=False),
        sa.Column("archive", sa.String(length=1024), nullable=False),
        sa.Column("tested_at", UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("files_checked", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restore_tests")),
    )
    with op.batch_alter_table("restore_tests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_restore_tests_host_backup_set_tested_at"),
            ["host", "backup_set", "tested_at"],
            unique=False,
        )

    op.create_table(
        "rotation_state",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("policy", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=1024), nullable=False),
        sa.Column("rotated_at", UTCDateTime(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("host", "policy", "path", name=op.f("pk_rotation_state")),
    )
    op.create_table(
        "series",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("host", "name", name=op.f("uq_series_host_name")),
    )
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silences")),
    )
    with op.batch_alter_table("silences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_silences_host_rule_until"), ["host", "rule", "until"], unique=False
        )

    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_events_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_events_alert_id_at"), ["alert_id", "at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alert_events_kind_at"), ["kind", "at"], unique=False)

    op.create_table(
        "baseline_stats",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=200), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("stddev", sa.Float(), nullable=True),
        sa.Column("min", sa.Float(), nullable=True),
        sa.Column("max", sa.Float(), nullable=True),
        sa.Column("p50", sa.Float(), nullable=True),
        sa.Column("p95", sa.Float(), nullable=True),
        sa.Column("p99", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["baseline_versions.id"],
            name=op.f("fk_baseline_stats_version_id_baseline_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "metric", name=op.f("pk_baseline_stats")),
    )
    op.create_table(
        "file_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("policy", sa.String(length=100), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("files_rotated", sa.Integer(), nullable=False),
        sa.Column("files_compressed", sa.Integer(), nullable=False),
        sa.Column("files_deleted", sa.Integer(), nullable=False),
        sa.Column("bytes_freed", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_file_actions_run_id_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_actions")),
    )
    with op.batch_alter_table("file_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_file_actions_host_kind_at"), ["host", "kind", "at"], unique=False
        )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_notifications_alert_id_alerts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_channel_created_at"),
            ["channel", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_notifications_host_state"), ["host", "state"], unique=False
        )

    op.create_table(
        "rollups",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_rollups_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("series_id", "resolution", "ts", name=op.f("pk_rollups")),
    )
    op.create_table(
        "samples",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_samples_series_id_series"),
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("samples", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_samples_series_id_ts_value"), ["series_id", "ts", "value"], unique=False
        )
    op.create_table(
        "slow_queries",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("shape_hash", sa.String(length=64), nullable=False),
        sa.Column("shape", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total_seconds", sa.Float(), nullable=False),
        sa.Column("max_seconds", sa.Float(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("host", "shape_hash", name=op.f("pk_slow_queries")),
    )


def downgrade() -> None:
    op.drop_table("slow_queries")
    with op.batch_alter_table("samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_samples_series_id_ts_value"))

    op.drop_table("samples")
    op.drop_table("rollups")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_host_state"))
        batch_op.drop_index(batch_op.f("ix_notifications_channel_created_at"))

    op.drop_table("notifications")
    with op.batch_alter_table("file_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_actions_host_kind_at"))

    op.drop_table("file_actions")
    op.drop_table("baseline_stats")
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_events_kind_at"))
        batch_op.drop_index(batch_op.f("ix_alert_events_alert_id_at"))

    op.drop_table("alert_events")
    with op.batch_alter_table("silences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_silences_host_rule_until"))

    op.drop_table("silences")
    op.drop_table("series")
    op.drop_table("rotation_state")
    with op.batch_alter_table("restore_tests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_restore_tests_host_backup_set_tested_at"))

    op.drop_table("restore_tests")
    with op.batch_alter_table("health_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_scores_host_computed_at"))

    op.drop_table("health_scores")
    with op.batch_alter_table("disk_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disk_usage_host_path_measured_at"))

    op.drop_table("disk_usage")
    with op.batch_alter_table("check_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_results_host_checked_at"))
        batch_op.drop_index(batch_op.f("ix_check_results_host_check_name_checked_at"))

    op.drop_table("check_results")
    op.drop_table("baseline_versions")
    with op.batch_alter_table("backup_archives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backup_archives_host_backup_set_created_at"))

    op.drop_table("backup_archives")
