"""Store contract tests: every test here runs on SQLite, and on a real PostgreSQL server
(`postgres_server`, tests/conftest.py) where Debian's binaries and psycopg are installed
(CI installs both)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store.migrate import migrate
from tests.postgres_server import PostgresServer


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'hostkeeper.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[Store]:
    opened = open_store(store_url, host="host-a", slow_query=0.2)
    migrate(opened, tmp_path / "migrate.lock", backup_dir=tmp_path / "db-backups")
    try:
        yield opened
    finally:
        opened.dispose()
