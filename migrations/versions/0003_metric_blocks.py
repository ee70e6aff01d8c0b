"""Sealed metric blocks: raw samples and rollups stored compactly, one row per window.

Only the table is created here. The rows already in `samples` and `rollups` stay
readable where they are and are sealed into blocks by the daemon's housekeeping (or
`hostkeeper db compact`) in bounded transactions, oldest first, so the upgrade of a
large store is quick, online and resumable.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_blocks",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("resolution", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("first_ts", sa.Float(), nullable=False),
        sa.Column("last_ts", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_metric_blocks_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "series_id", "resolution", "window_start", name=op.f("pk_metric_blocks")
        ),
    )


def downgrade() -> None:
    # Blocks are not expanded back into rows: a downgrade loses the sealed samples.
    op.drop_table("metric_blocks")
