"""`python -m hostkeeper.daemon.migrate_child URL STATE_DIR [BACKUP_KEEP]`: migrate the store in a
child process.

The daemon migrates through this so Alembic (and what it imports) never stays resident
in the long-running process: it is needed once per upgrade, not for years after.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hostkeeper.adapters.store import open_store
from hostkeeper.adapters.store.dbbackup import DEFAULT_KEEP
from hostkeeper.adapters.store.migrate import migrate


def main(argv: list[str]) -> int:
    url, state_dir = argv[0], Path(argv[1])
    backup_keep = int(argv[2]) if len(argv) > 2 else DEFAULT_KEEP
    store = open_store(url)
    try:
        migrate(
            store,
            lock_path=state_dir / "locks" / "migrate.lock",
            backup_dir=state_dir / "db-backups",
            on_progress=lambda message: print(message, flush=True),
            backup_keep=backup_keep,
        )
    finally:
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
