"""The maintenance window of a run: opened once its preconditions are met (never for a
dry run, nor for a procedure with `maintenance: {window: false}`), closed when it ends,
so the alerts its steps cause are held (services.maintenance)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from hostkeeper.adapters.store import Store
from hostkeeper.config import Config
from hostkeeper.services import maintenance

log = structlog.get_logger("hostkeeper.engine")

# Called with (procedure, window id) once a run's maintenance window is open.
WindowListener = Callable[[str, int], None]


def open_for_run(
    config: Config, store: Store, name: str, run_id: int, listener: WindowListener | None
) -> int | None:
    """Open the run's window; its id, or None (none wanted, or it could not be opened:
    alerts not held are better than a run not made)."""
    try:
        window_id = maintenance.open_run_window(config, store, name, run_id, datetime.now(UTC))
    except Exception:
        log.exception("could not open the run's maintenance window")
        return None
    if window_id is None:
        return None
    log.info("maintenance window opened", window=window_id)
    if listener is not None:
        try:
            listener(name, window_id)
        except Exception:  # a broken listener never fails a run
            log.exception("window listener failed", window=window_id)
    return window_id


def close_for_run(store: Store, window_id: int | None) -> None:
    if window_id is None:
        return
    try:
        maintenance.close_run_window(store, window_id, datetime.now(UTC))
    except Exception:  # the next alert round closes it from the run's end
        log.exception("could not close the run's maintenance window", window=window_id)
