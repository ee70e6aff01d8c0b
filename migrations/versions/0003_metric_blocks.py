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
    # Sealed rows go back where 0002 keeps them, one block at a time.
    from hostkeeper.core.blockcodec import decode_columns

    connection = op.get_bind()
    blocks = sa.table(
        "metric_blocks",
        sa.column("series_id"),
        sa.column("resolution"),
        sa.column("window_start"),
        sa.column("data"),
    )
    samples = sa.table("samples", sa.column("series_id"), sa.column("ts"), sa.column("value"))
    rollups = sa.table(
        "rollups",
        *(sa.column(name) for name in ("series_id", "resolution", "ts", "min", "mean", "max")),
        sa.column("count"),
    )
    keys = connection.execute(
        sa.select(blocks.c.series_id, blocks.c.resolution, blocks.c.window_start)
    ).all()
    for series_id, resolution, window_start in keys:
        data = connection.execute(
            sa.select(blocks.c.data).where(
                blocks.c.series_id == series_id,
                blocks.c.resolution == resolution,
                blocks.c.window_start == window_start,
            )
        ).scalar_one()
        if resolution == 0:
            times, values = decode_columns(data, [0, 1])
            rows = [
                {"series_id": series_id, "ts": ts, "value": value}
                for ts, value in zip(times, values, strict=True)
            ]
            connection.execute(sa.insert(samples), rows)
            continue
        columns = decode_columns(data, [0, 1, 2, 3, 4])
        rows = [
            {
                "series_id": series_id,
                "resolution": resolution,
                "ts": ts,
                "min": low,
                "mean": mean,
                "max": high,
                "count": int(count),
            }
            for ts, low, mean, high, count in zip(*columns, strict=True)
        ]
        connection.execute(sa.insert(rollups), rows)
    op.drop_table("metric_blocks")
