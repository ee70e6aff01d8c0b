"""Continuous metric collection inside the daemon, at `metrics.interval`.

One thread, independent of procedures and of the scheduler's executors: it collects a
round, writes it as one batch, and every few minutes rolls up what is due and seals
complete windows into blocks; every hour (or every quarter of the shortest retention,
when that is sooner) it also applies `metrics.retention` and `database.retention`. The
watchdog never waits on it. A store that is busy or down delays writes (rounds are
kept, up to a cap, and written together later); it never stops collection.
`apply(config)` on reload takes a new interval, groups or disks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.history_retention import BOUNDED_BY, prune_history
from hostkeeper.adapters.store.metrics import maintain, write_samples
from hostkeeper.adapters.system import SystemCollector
from hostkeeper.config import Config
from hostkeeper.core.metrics import Sample

log = structlog.get_logger("hostkeeper.metrics")

ROLLUP_EVERY = 300.0  # seconds between rollup passes
# Sealing plain rows into blocks takes at most this long a pass; a store migrated with
# many plain rows is sealed a slice a round, so collection goes on meanwhile.
SEAL_BUDGET = 2.0
EXPIRE_EVERY = 3600.0  # seconds between retention passes
# A retention shorter than a few hours (a test or a soak run) is applied more often, a
# quarter of it, so a table holds at most about 1.25 times what it keeps.
EXPIRE_FRACTION = 0.25
EXPIRE_AT_MOST_EVERY = 10.0
MAX_PENDING = 50_000  # samples kept while the store cannot be written


@dataclass(frozen=True)
class Settings:
    interval: float
    groups: tuple[str, ...]
    disks: tuple[str, ...]
    retention: tuple[float, float, float]  # raw, 5m, 1h in seconds
    history: tuple[tuple[str, float], ...] = ()  # database.retention: key, seconds

    @property
    def expire_every(self) -> float:
        """Seconds between retention passes: hourly, or a quarter of the shortest
        retention when that is sooner."""
        shortest = min((*self.retention, *(seconds for _, seconds in self.history)))
        return min(EXPIRE_EVERY, max(shortest * EXPIRE_FRACTION, EXPIRE_AT_MOST_EVERY))

    @classmethod
    def of(cls, config: Config) -> Settings:
        metrics = config.metrics
        return cls(
            interval=max(metrics.interval.total_seconds(), 0.1),
            groups=tuple(metrics.collect),
            disks=tuple(metrics.disks),
            retention=(
                metrics.retention.raw.total_seconds(),
                metrics.retention.five_minute.total_seconds(),
                metrics.retention.hourly.total_seconds(),
            ),
            history=tuple(
                (key, getattr(config.database.retention, key).total_seconds()) for key in BOUNDED_BY
            ),
        )


class MetricsCollector:
    def __init__(
        self,
        store: Store,
        config: Config,
        clock: Callable[[], float] = time.time,
        write: Callable[[Sequence[Sample]], object] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        # The daemon on a remote database writes through its spooler, which never fails.
        self._write = write or (lambda batch: write_samples(store, batch))
        self._settings = Settings.of(config)
        self._changed = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: list[Sample] = []
        self._failing = False
        self._refused_shown: tuple[str, ...] = ()
        self.rounds = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="metrics", daemon=True)
        self._thread.start()
        log.info("metrics collection started", interval=self._settings.interval)

    def apply(self, config: Config) -> bool:
        """Take new settings on reload; True when they changed."""
        settings = Settings.of(config)
        with self._lock:
            if settings == self._settings:
                return False
            self._settings, self._changed = settings, True
        self._wake.set()
        log.info("metrics collection reconfigured", interval=settings.interval)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return  # stuck in a write; the daemon exits without it
        self._flush()  # what rounds could not write before

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        settings = self._settings
        collector = self._collector(settings)
        next_round = time.monotonic() + settings.interval
        next_rollup = time.monotonic()  # at start: catch up what the downtime left
        next_expiry = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(max(next_round - time.monotonic(), 0.0))
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._lock:
                changed, self._changed = self._changed, False
                settings = self._settings
            if changed:
                collector = self._collector(settings)
                next_round = time.monotonic() + settings.interval
                continue
            if time.monotonic() < next_round:
                continue
            self._round(collector)
            next_round += settings.interval
            now = time.monotonic()
            if next_round <= now:  # late (suspend, a slow store): skip, do not burst
                next_round = now + settings.interval
            if now >= next_rollup or now >= next_expiry:
                expire = now >= next_expiry
                backlog = self._maintain(settings, expire)
                next_rollup = now if backlog else now + ROLLUP_EVERY
                if expire:
                    next_expiry = now + settings.expire_every

    def _collector(self, settings: Settings) -> SystemCollector:
        collector = SystemCollector(settings.groups, settings.disks)
        collector.prime()
        return collector

    def _round(self, collector: SystemCollector) -> None:
        try:
            batch = collector.collect(self.clock())
        except Exception:
            log.exception("metric collection failed")
            return
        self.rounds += 1
        self._pending.extend(batch)
        if len(self._pending) > MAX_PENDING:
            del self._pending[: len(self._pending) - MAX_PENDING]
        self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        try:
            self._write(self._pending)
        except Exception as error:
            if not self._failing:
                log.error("cannot store metric samples; keeping them", error=str(error))
            self._failing = True
            return
        if self._failing:
            log.info("storing metric samples again", samples=len(self._pending))
        self._failing = False
        self._pending = []

    def _maintain(self, settings: Settings, expire: bool) -> bool:
        """One rollup, retention and sealing pass; whether sealing has more to do."""
        try:
            result = maintain(
                self.store,
                self.clock(),
                *settings.retention,
                expire_rows=expire,
                seal_budget=SEAL_BUDGET,
            )
        except Exception as error:
            log.error("metric rollup or retention failed", error=str(error))
            return False
        if any(result.rolled_up.values()) or any(result.expired.values()) or result.sealed:
            log.debug("metrics maintained", **result.as_dict())
        if expire:
            self._prune_history(settings)
        return result.sealing_left

    def _prune_history(self, settings: Settings) -> None:
        """database.retention, with the hourly metrics retention pass."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        cutoffs = {key: now - timedelta(seconds=seconds) for key, seconds in settings.history}
        try:
            pruned = prune_history(self.store, cutoffs, stopping=self._stop.is_set)
        except Exception as error:
            log.error("history retention failed", error=str(error))
            return
        if any(pruned.deleted.values()):
            log.info("old history deleted", **pruned.deleted)
        if pruned.refused and pruned.refused != self._refused_shown:
            # Said once, not every pass: the fleet's roles are set up that way.
            log.warning(
                "history retention left to the database owner: this role may not delete",
                tables=list(pruned.refused),
            )
        self._refused_shown = pruned.refused
