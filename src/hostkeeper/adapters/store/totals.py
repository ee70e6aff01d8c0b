"""Running totals behind the status model's counters (`status_totals`) and the current
state of each procedure's runs (`procedure_results`).

Writers call these inside the transaction that records what they count, so a counter
is exact without a reader ever grouping the history, and stays when history retention
deletes old rows (a Prometheus counter must never go down). What is still in flight (a
running run, a queued notification) is not counted here: readers count those rows
themselves, through an index, since they are few and change state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Connection, case, or_, select, union_all

from hostkeeper.adapters.store.schema import procedure_results, status_totals

RUNS = "runs"  # subject: procedure, label: the status a real run ended with
STEP_FAILURES = "step_failures"  # subject: procedure, label: ''
NOTIFICATIONS = "notifications"  # subject: channel, label: sent | failed | dropped
FILES = "files"  # subject: kind (rotate, cleanup), label: one of FILE_FIGURES
FILE_FIGURES = ("bytes_freed", "files_deleted", "files_compressed", "files_rotated")


def _dialect_insert(connection: Connection) -> Any:
    """The dialect's INSERT with ON CONFLICT, imported on use (see slowlog.py: loading
    the PostgreSQL dialect costs a SQLite daemon RSS and start-up time)."""
    if connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert


def add(
    connection: Connection, host: str, counter: str, subject: str, label: str, amount: int
) -> None:
    """Add `amount` (which may be negative or 0) to one total, creating it at 0 first."""
    statement = _dialect_insert(connection)(status_totals).values(
        host=host, counter=counter, subject=subject, label=label, value=amount
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["host", "counter", "subject", "label"],
            set_={"value": status_totals.c.value + statement.excluded.value},
        )
    )


def read(connection: Connection, host: str, counter: str) -> list[tuple[str, str, int]]:
    """(subject, label, value) of every total of `counter` on `host`, sorted."""
    rows = connection.execute(
        select(status_totals.c.subject, status_totals.c.label, status_totals.c.value)
        .where(status_totals.c.host == host, status_totals.c.counter == counter)
        .order_by(status_totals.c.subject, status_totals.c.label)
    ).all()
    return [(subject, label, int(value)) for subject, label, value in rows]


def _greatest(column: Any, value: Any) -> ColumnElement[Any]:
    # Neither the stored nor the new value wins blindly: a run that started earlier may
    # end later, and two processes may record runs of one procedure at once.
    return case((or_(column.is_(None), column < value), value), else_=column)


def note_run(
    connection: Connection,
    host: str,
    procedure: str,
    *,
    newest_run_id: int | None = None,
    completed_run_id: int | None = None,
    succeeded_at: datetime | None = None,
) -> None:
    """Move the procedure's current state forward: each given value replaces the stored
    one only when it is newer (a larger run id, a later time)."""
    values = {
        "newest_run_id": newest_run_id,
        "completed_run_id": completed_run_id,
        "last_success_at": succeeded_at,
    }
    given = {name: value for name, value in values.items() if value is not None}
    if not given:
        return
    statement = _dialect_insert(connection)(procedure_results).values(
        host=host, procedure=procedure, **given
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["host", "procedure"],
            set_={
                name: _greatest(procedure_results.c[name], statement.excluded[name])
                for name in given
            },
        )
    )


def procedure_states(connection: Connection, host: str) -> list[Any]:
    """The current-state row of every procedure with real runs on `host`."""
    return list(
        connection.execute(
            select(procedure_results)
            .where(procedure_results.c.host == host)
            .order_by(procedure_results.c.procedure)
        ).mappings()
    )


def pointed_run_ids(host: str) -> CompoundSelect[Any]:
    """The run ids `host`'s current state points at (history retention keeps them)."""
    newest, completed = procedure_results.c.newest_run_id, procedure_results.c.completed_run_id
    return union_all(
        select(newest).where(procedure_results.c.host == host, newest.is_not(None)),
        select(completed).where(procedure_results.c.host == host, completed.is_not(None)),
    )
