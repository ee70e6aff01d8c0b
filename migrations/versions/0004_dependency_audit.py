"""Dependency audit: audits and their findings, first seen to resolved.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hostkeeper.adapters.store.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dependency_audits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("audited_at", UTCDateTime(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("warnings", sa.Text(), nullable=False),
        sa.Column("report", sa.String(length=1024), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependency_audits")),
    )
    with op.batch_alter_table("dependency_audits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dependency_audits_host_audited_at"),
            ["host", "audited_at"],
            unique=False,
        )
    op.create_table(
        "dependency_findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("environment", sa.String(length=1024), nullable=False),
        sa.Column("package", sa.String(length=255), nullable=False),
        sa.Column("advisory", sa.String(length=255), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("installed", sa.String(length=255), nullable=True),
        sa.Column("fixed", sa.String(length=255), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dependency_findings")),
    )
    with op.batch_alter_table("dependency_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dependency_findings_host_resolved_at"),
            ["host", "resolved_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("dependency_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dependency_findings_host_resolved_at"))
    op.drop_table("dependency_findings")
    with op.batch_alter_table("dependency_audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dependency_audits_host_audited_at"))
    op.drop_table("dependency_audits")
