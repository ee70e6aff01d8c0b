"""Composition root: from a configuration file to a store and an engine."""

from __future__ import annotations

import atexit
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from hostkeeper.adapters.fs import make_private_directory
from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store.migrate import current_revision, migrate
from hostkeeper.adapters.store.schema import SCHEMA_REVISION
from hostkeeper.config import Config
from hostkeeper.config.location import DEFAULT_CONFIG as DEFAULT_CONFIG  # still importable here
from hostkeeper.config.location import default_config_path as default_config_path


def prepare_store(
    config: Config,
    on_progress: Callable[[str], None] | None = None,
    isolate_migration: bool = False,
) -> Store:
    """Open the configured database and bring its schema up to date.

    With `isolate_migration` (the daemon), a needed migration runs in a child process.
    """
    state_dir = Path(config.paths.state_dir)
    make_private_directory(state_dir)
    store = open_store(
        config.database.url,
        host=config.fleet.host_id,
        slow_query=config.database.slow_query.total_seconds(),
    )
    atexit.register(store.flush_slow_queries)
    if isolate_migration:
        if current_revision(store) != SCHEMA_REVISION:
            _migrate_in_child(
                config.database.url, state_dir, config.database.backup_keep, on_progress
            )
        return store
    migrate(
        store,
        lock_path=state_dir / "locks" / "migrate.lock",
        backup_dir=state_dir / "db-backups",
        on_progress=on_progress,
        backup_keep=config.database.backup_keep,
    )
    return store


def _migrate_in_child(
    url: str, state_dir: Path, backup_keep: int, on_progress: Callable[[str], None] | None
) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hostkeeper.daemon.migrate_child",
            url,
            str(state_dir),
            str(backup_keep),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = []
    for line in process.stdout:
        output.append(line)
        if on_progress is not None:
            on_progress(line.rstrip())
    if process.wait() != 0:
        raise RuntimeError("database migration failed:\n" + "".join(output[-40:]))
