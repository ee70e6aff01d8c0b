"""Maintenance windows and incidents: windows, their Alertmanager silences, notes, and
the window an alert began in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hostkeeper.adapters.store.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=20), nullable=True),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("grace_seconds", sa.Float(), nullable=False),
        sa.Column("hold_until", UTCDateTime(), nullable=True),
        sa.Column("rules", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("opened_by", sa.String(length=100), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("prevention", sa.Text(), nullable=True),
        sa.Column("announced_at", UTCDateTime(), nullable=True),
        sa.Column("start_notified_at", UTCDateTime(), nullable=True),
        sa.Column("end_notified_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["maintenance_windows.id"],
            name=op.f("fk_maintenance_windows_incident_id_maintenance_windows"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_maintenance_windows_run_id_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
        sa.UniqueConstraint(
            "host",
            "kind",
            "name",
            "starts_at",
            name=op.f("uq_maintenance_windows_host_kind_name_starts_at"),
        ),
    )
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maintenance_windows_host_hold_until"),
            ["host", "hold_until"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_maintenance_windows_host_starts_at"),
            ["host", "starts_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_maintenance_windows_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "window_silences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("silence_id", sa.String(length=100), nullable=True),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["maintenance_windows.id"],
            name=op.f("fk_window_silences_window_id_maintenance_windows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_window_silences")),
        sa.UniqueConstraint(
            "window_id", "channel", name=op.f("uq_window_silences_window_id_channel")
        ),
    )
    with op.batch_alter_table("window_silences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_window_silences_state"), ["state"], unique=False)

    op.create_table(
        "window_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["maintenance_windows.id"],
            name=op.f("fk_window_notes_window_id_maintenance_windows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_window_notes")),
    )
    with op.batch_alter_table("window_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_window_notes_window_id_at"), ["window_id", "at"], unique=False
        )

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("maintenance_window_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_maintenance_window_id_maintenance_windows"),
            "maintenance_windows",
            ["maintenance_window_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_alerts_maintenance_window_id_maintenance_windows"), type_="foreignkey"
        )
        batch_op.drop_column("maintenance_window_id")

    with op.batch_alter_table("window_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_window_notes_window_id_at"))
    op.drop_table("window_notes")

    with op.batch_alter_table("window_silences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_window_silences_state"))
    op.drop_table("window_silences")

    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_windows_incident_id"))
        batch_op.drop_index(batch_op.f("ix_maintenance_windows_host_starts_at"))
        batch_op.drop_index(batch_op.f("ix_maintenance_windows_host_hold_until"))
    op.drop_table("maintenance_windows")
