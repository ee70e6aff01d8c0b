"""Alembic environment: run migrations on the connection hostkeeper passes in.

SQLite cannot ALTER most things in place, so every migration runs in batch mode.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from hostkeeper.adapters.store.schema import metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Developer use: `alembic -c migrations/alembic.ini ...` with HOSTKEEPER_DATABASE_URL.
    url = os.environ.get("HOSTKEEPER_DATABASE_URL", "sqlite:///var/hostkeeper.db")
    with create_engine(url).begin() as own_connection:
        _run(own_connection)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
