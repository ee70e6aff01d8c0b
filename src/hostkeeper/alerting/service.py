"""What the daemon runs for alerting: the evaluation loop, the delivery worker,
maintenance notifications (`notify.on`) and the keeper of Alertmanager silences during
maintenance windows.

Rules are evaluated every `alerts.evaluate_every` (30 s by default) on a thread of their
own, independent of procedures and of when metrics and checks are written: each round
reads the newest stored values, so it picks up whatever the collectors and checks wrote
since. Steps running inside the daemon (`evaluate_alerts`) hand their notifications to
the same worker through `current()`; outside the daemon they deliver with a worker of
their own (`sender_for`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from hostkeeper.adapters.store import Store
from hostkeeper.alerting.evaluator import RoundResult, evaluate_rules
from hostkeeper.alerting.run_events import notify_run_event
from hostkeeper.alerting.silences import SilenceKeeper
from hostkeeper.channels.delivery import Backoff, DeliveryWorker
from hostkeeper.config import Config

log = structlog.get_logger("hostkeeper.alerts")

_current: AlertService | None = None


def current() -> AlertService | None:
    """The daemon's alert service, when running inside the daemon."""
    return _current


def channel_map(config: Config) -> dict[str, Any]:
    return {channel.name: channel for channel in config.alerts.channels}


class AlertService:
    def __init__(
        self, config: Callable[[], Config], store: Store, backoff: Backoff | None = None
    ) -> None:
        self._config = config
        self.store = store
        self.worker = DeliveryWorker(store, lambda: channel_map(self._config()), backoff)
        self.silences = SilenceKeeper(config, store)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_round: RoundResult | None = None
        self.last_round_at: datetime | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        global _current
        self.worker.start()
        # Whatever a previous process left queued is delivered now.
        self.worker.adopt_orphans(older_than=timedelta(0))
        self._thread = threading.Thread(target=self._loop, name="alerts", daemon=True)
        self._thread.start()
        self.silences.start()
        _current = self

    def stop(self, timeout: float = 5.0) -> None:
        global _current
        if _current is self:
            _current = None
        self._stop.set()
        deadline = time.monotonic() + timeout
        self.silences.stop(timeout)
        if self._thread is not None:
            self._thread.join(max(deadline - time.monotonic(), 0.1))
        self.worker.drain(max(deadline - time.monotonic(), 0.0))
        left = self.worker.stop(max(deadline - time.monotonic(), 0.1))
        if left:
            log.info("notifications left queued for the next start", count=left)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.evaluate_now()
            budget = self.worker.backoff.budget
            self.worker.adopt_orphans(older_than=timedelta(seconds=budget))
            every = self._config().alerts.evaluate_every.total_seconds()
            self._stop.wait(max(every - (time.monotonic() - started), 0.1))

    def evaluate_now(self) -> RoundResult | None:
        try:
            result = evaluate_rules(self._config(), self.store, self.worker)
        except Exception:  # a broken store or rule must not stop the loop
            log.exception("alert evaluation failed")
            return None
        self.last_round, self.last_round_at = result, datetime.now(UTC)
        return result

    # -- maintenance notifications ---------------------------------------------------------

    def on_window_opened(self, procedure: str, window_id: int) -> None:
        """A run's maintenance window opened: make its silences now."""
        self.silences.wake()

    def on_run_event(self, procedure: str, event: str, report: Any) -> None:
        """The engine's run listener: start, success, failure or a wait of a run."""
        self.silences.wake()  # a run's window opened or closed
        notify_run_event(self._config(), self.worker, self.store.host, procedure, event, report)


@contextmanager
def sender_for(store: Store, config: Config, timeout: float | None) -> Iterator[Any]:
    """The daemon's delivery worker, or, outside the daemon, a worker of our own that is
    drained (for at most `timeout` seconds, default 60) before this returns. Whatever it
    could not deliver stays queued; the daemon delivers it later."""
    service = current()
    if service is not None:
        yield service.worker
        return
    worker = DeliveryWorker(store, lambda: channel_map(config)).start()
    try:
        yield worker
    finally:
        worker.drain(60.0 if timeout is None else timeout)
        worker.stop(1.0)
