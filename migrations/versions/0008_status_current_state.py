"""Current state and running totals for the status model, and the indexes its reads use.

`procedure_results` holds, per host and procedure, the newest real run, the newest one
that ran to an end and when one last succeeded; `status_totals` the counters (runs by
how they ended, failed steps, notifications by how their delivery ended, file
maintenance). Both are filled here from the history once, in one pass per table; from
then on the writers keep them, so a status render or a `/metrics` scrape no longer
groups the whole history.

New indexes, each for one read of the status model:
- alerts (host, pending_since, state): the alerts of the recent window;
- notifications (host, id): the newest deliveries; (host, state, channel), replacing
  (host, state): those in flight;
- runs (host, status, procedure, dry_run): those running; (host, procedure,
  scheduled_for): the newest fire of an `every:` schedule;
- backup_archives (host, backup_set, state, created_at): the newest present archive;
- silences (host, until): those in force.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hostkeeper.adapters.store.schema import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COMPLETED = ("succeeded", "warning", "failed", "aborted")
SUCCEEDED = ("succeeded", "warning")
ENDED_DELIVERIES = ("sent", "failed", "dropped")

runs = sa.table(
    "runs",
    sa.column("id", sa.Integer),
    sa.column("host", sa.String),
    sa.column("procedure", sa.String),
    sa.column("status", sa.String),
    sa.column("finished_at", UTCDateTime),
    sa.column("dry_run", sa.Boolean),
)
step_results = sa.table("step_results", sa.column("run_id"), sa.column("status"))
notifications = sa.table(
    "notifications", sa.column("host"), sa.column("channel"), sa.column("state")
)
file_actions = sa.table(
    "file_actions",
    *(
        sa.column(name)
        for name in (
            "host",
            "kind",
            "bytes_freed",
            "files_deleted",
            "files_compressed",
            "files_rotated",
        )
    ),
)


def upgrade() -> None:
    procedure_results = op.create_table(
        "procedure_results",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("procedure", sa.String(length=100), nullable=False),
        sa.Column("newest_run_id", sa.Integer(), nullable=True),
        sa.Column("completed_run_id", sa.Integer(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("host", "procedure", name=op.f("pk_procedure_results")),
    )
    status_totals = op.create_table(
        "status_totals",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "host", "counter", "subject", "label", name=op.f("pk_status_totals")
        ),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_runs_host_procedure_scheduled_for"),
            ["host", "procedure", "scheduled_for"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_runs_host_status_procedure_dry_run"),
            ["host", "status", "procedure", "dry_run"],
            unique=False,
        )
    with op.batch_alter_table("backup_archives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_backup_archives_host_backup_set_state_created_at"),
            ["host", "backup_set", "state", "created_at"],
            unique=False,
        )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alerts_host_pending_since_state"),
            ["host", "pending_since", "state"],
            unique=False,
        )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_host_id"), ["host", "id"], unique=False)
        batch_op.drop_index(batch_op.f("ix_notifications_host_state"))
        batch_op.create_index(
            batch_op.f("ix_notifications_host_state_channel"),
            ["host", "state", "channel"],
            unique=False,
        )
    with op.batch_alter_table("silences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_silences_host_until"), ["host", "until"], unique=False)
    _fill_procedure_results(procedure_results)
    _fill_totals(status_totals)


def _fill_procedure_results(procedure_results: sa.Table) -> None:
    real = runs.c.dry_run.is_(False)
    op.execute(
        procedure_results.insert().from_select(
            ["host", "procedure", "newest_run_id", "completed_run_id", "last_success_at"],
            sa.select(
                runs.c.host,
                runs.c.procedure,
                sa.func.max(runs.c.id),
                sa.func.max(sa.case((runs.c.status.in_(COMPLETED), runs.c.id))),
                sa.func.max(sa.case((runs.c.status.in_(SUCCEEDED), runs.c.finished_at))),
            )
            .where(real)
            .group_by(runs.c.host, runs.c.procedure),
        )
    )


def _fill_totals(status_totals: sa.Table) -> None:
    columns = ["host", "counter", "subject", "label", "value"]
    real = runs.c.dry_run.is_(False)
    selects = [
        sa.select(
            runs.c.host,
            sa.literal("runs", sa.String),
            runs.c.procedure,
            runs.c.status,
            sa.func.count(),
        )
        .where(real, runs.c.status != "running")
        .group_by(runs.c.host, runs.c.procedure, runs.c.status),
        sa.select(
            runs.c.host,
            sa.literal("step_failures", sa.String),
            runs.c.procedure,
            sa.literal("", sa.String),
            sa.func.count(),
        )
        .select_from(step_results.join(runs, step_results.c.run_id == runs.c.id))
        .where(real, step_results.c.status.in_(("failed", "aborted")))
        .group_by(runs.c.host, runs.c.procedure),
        sa.select(
            notifications.c.host,
            sa.literal("notifications", sa.String),
            notifications.c.channel,
            notifications.c.state,
            sa.func.count(),
        )
        .where(notifications.c.state.in_(ENDED_DELIVERIES))
        .group_by(notifications.c.host, notifications.c.channel, notifications.c.state),
    ]
    # Rows from before freed bytes were clamped may hold a negative figure: they count 0.
    freed = sa.case((file_actions.c.bytes_freed > 0, file_actions.c.bytes_freed), else_=0)
    figures = {
        "bytes_freed": freed,
        "files_deleted": file_actions.c.files_deleted,
        "files_compressed": file_actions.c.files_compressed,
        "files_rotated": file_actions.c.files_rotated,
    }
    for label, column in figures.items():
        selects.append(
            sa.select(
                file_actions.c.host,
                sa.literal("files", sa.String),
                file_actions.c.kind,
                sa.literal(label, sa.String),
                sa.func.coalesce(sa.func.sum(column), 0),
            ).group_by(file_actions.c.host, file_actions.c.kind)
        )
    for select in selects:
        op.execute(status_totals.insert().from_select(columns, select))


def downgrade() -> None:
    with op.batch_alter_table("silences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_silences_host_until"))
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_host_state_channel"))
        batch_op.create_index(
            batch_op.f("ix_notifications_host_state"), ["host", "state"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_notifications_host_id"))
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_host_pending_since_state"))
    with op.batch_alter_table("backup_archives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backup_archives_host_backup_set_state_created_at"))
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_host_status_procedure_dry_run"))
        batch_op.drop_index(batch_op.f("ix_runs_host_procedure_scheduled_for"))
    op.drop_table("status_totals")
    op.drop_table("procedure_results")
