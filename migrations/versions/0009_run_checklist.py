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


# In place on both backends (SQLite has ADD and DROP COLUMN since 3.35; Debian 12 ships
# 3.40): batch mode would rebuild `runs`, and dropping the old table with foreign keys on
# deletes every row that cascades from it (step results, confirmations).


def upgrade() -> None:
    op.add_column("runs", sa.Column("checklist", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("runs", "checklist")
