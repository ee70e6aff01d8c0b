"""The checklist a run was started with, so it renders as it was even after the
procedure's configuration changed or the procedure was removed.

`runs.checklist` holds JSON: each item's section, name, text and what proves it, with a
step item's position and label resolved at the start (a command's argv as the step
records it, secrets already redacted). NULL for a procedure without a checklist and for
runs recorded before this migration, which are shown against the configuration of the
day.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checklist", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_column("checklist")
