"""The daemon's heartbeat in the store: its row of `fleet_hosts`, every
`fleet.heartbeat_every`, on a thread of its own.

The row says the daemon is alive, which version runs, when it started and last loaded
its configuration, and carries what the fleet view shows of this host: its status scope,
its scheduler's next fire times and the summary of its status now. A write that fails
(the database is away) is retried at the next beat; it never holds up the scheduler or
the watchdog.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime

import structlog

from hostkeeper.adapters.daemon_state import DaemonState
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import fleet as fleet_store
from hostkeeper.config import Config
from hostkeeper.services.fleet_status import heartbeat

log = structlog.get_logger("hostkeeper.fleet")


class Presence:
    def __init__(
        self,
        config: Callable[[], Config],
        store: Store,
        state: Callable[[], DaemonState | None],
        next_runs: Callable[[], Mapping[str, datetime | None]],
    ) -> None:
        self._config = config
        self.store = store
        self._state = state
        self._next_runs = next_runs
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self.beats = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="fleet-heartbeat", daemon=True)
        self._thread.start()

    def beat_soon(self) -> None:
        """Beat now rather than at the next interval (a reload changed the scope)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop beating and record a clean stop (the fleet shows `stopped`, not silent)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            fleet_store.record_stop(self.store, datetime.now(UTC))
        except Exception as error:
            log.warning("could not record the stop in the store", error=str(error))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._wake.wait(self._config().fleet.heartbeat_every.total_seconds())
            self._wake.clear()

    def beat(self) -> bool:
        """Write the heartbeat now; whether the store took it."""
        state = self._state()
        if state is None:
            return False
        try:
            beat = heartbeat(
                self.store, self._config(), datetime.now(UTC), asdict(state), self._next_runs()
            )
            fleet_store.record_heartbeat(self.store, beat)
        except Exception as error:
            if not self._failing:
                log.error("cannot record the heartbeat", error=str(error))
            self._failing = True
            return False
        if self._failing:
            log.info("heartbeat recorded again")
        self._failing = False
        self.beats += 1
        return True
