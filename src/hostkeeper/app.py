"""Composition root: from a configuration file to a store and an engine."""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from pathlib import Path

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store.migrate import migrate
from hostkeeper.config import Config

DEFAULT_CONFIG = "/etc/hostkeeper/hostkeeper.yaml"


def default_config_path() -> str:
    return os.environ.get("HOSTKEEPER_CONFIG") or DEFAULT_CONFIG


def prepare_store(config: Config, on_progress: Callable[[str], None] | None = None) -> Store:
    """Open the configured database and bring its schema up to date."""
    state_dir = Path(config.paths.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(config.database.url, slow_query=config.database.slow_query.total_seconds())
    atexit.register(store.flush_slow_queries)
    migrate(
        store,
        lock_path=state_dir / "locks" / "migrate.lock",
        backup_dir=state_dir / "db-backups",
        on_progress=on_progress,
    )
    return store
