"""The watch for silent hosts: the built-in rule `host_silent`, over every host of the store.

Every daemon with `fleet.watch: true` runs this loop, and all of them read the
heartbeats; only the one holding the store's advisory lock (`adapters/store/lease.py`)
evaluates the rule, records the alerts and notifies. The alert of a silent host is that
host's alert (its `alerts list`, the fleet view's firing alerts), and lives through the
same state machine as any other: firing once when the host falls silent, repeating per
`alerts.repeat` unless acknowledged or silenced on that host, resolved when it is heard
again. Since the state is in the store, a watcher that takes over from one that died
carries on where it stopped instead of notifying again.

A database outage silences every host at once, through no fault of theirs: a host is
only judged on heartbeats it could have written while this watcher saw the store answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import fleet as fleet_store
from hostkeeper.adapters.store.lease import AdvisoryLease
from hostkeeper.alerting.evaluator import Sender
from hostkeeper.alerting.messages import alert_message
from hostkeeper.config import Config
from hostkeeper.core import alerts as machine
from hostkeeper.core.alerts import EventKind, Observation
from hostkeeper.core.fleet import HOST_SILENT_RULE, describe_silence

log = structlog.get_logger("hostkeeper.fleet")

LEASE_NAME = "hostkeeper.fleet.watch"


@dataclass
class WatchRound:
    hosts: int = 0
    silent: list[str] = field(default_factory=list)
    notified: list[tuple[str, str]] = field(default_factory=list)  # (host, kind)


def evaluate_silent_hosts(
    config: Config,
    store: Store,
    sender: Sender,
    now: datetime,
    heard: dict[str, datetime],
    watched_since: datetime,
) -> WatchRound:
    """One round of `host_silent` over the hosts in `heard` (host -> newest heartbeat).

    A heartbeat older than `watched_since` counts as given then: before that moment this
    watcher could not tell a silent host from an unreachable store.
    """
    fleet = config.fleet
    timing = machine.RuleTiming(HOST_SILENT_RULE, fleet.severity.value, repeat=config.alerts.repeat)
    result = WatchRound(hosts=len(heard))
    for host, heartbeat_at in sorted(heard.items()):
        view = store.for_host(host)
        judged_from = max(heartbeat_at, watched_since)
        silent = now - judged_from > fleet.silent_after
        previous = alert_store.active_alerts(view).get(HOST_SILENT_RULE)
        if previous is None and not silent:
            continue  # the usual case: nothing to read or write for this host
        observation = Observation(
            holds=silent,
            value=round((now - heartbeat_at).total_seconds()),
            summary=describe_silence(host, heartbeat_at, now) if silent else None,
        )
        silences = alert_store.current_silences(view, now)
        evaluation = machine.evaluate(timing, previous, observation, now, silences)
        record = previous
        if evaluation.alert is not None and evaluation.changed_from(previous):
            record = alert_store.save_evaluation(view, evaluation)
        if silent:
            result.silent.append(host)
        for event in evaluation.events:
            if event.kind in (EventKind.FIRING, EventKind.RESOLVED):
                getattr(log, "warning" if event.kind is EventKind.FIRING else "info")(
                    f"host {'silent' if event.kind is EventKind.FIRING else 'heard again'}",
                    host=host,
                    last_heartbeat=heartbeat_at.isoformat(),
                )
        if evaluation.notify is not None and record is not None:
            message = alert_message(record, evaluation.notify.value, host, now)
            for channel in fleet.channels:
                sender.submit(channel, message)
            result.notified.append((host, evaluation.notify.value))
    return result


class SilentHostWatch:
    """The daemon's loop of `host_silent` rounds, every `fleet.heartbeat_every`."""

    def __init__(self, config: Callable[[], Config], store: Store, sender: Sender) -> None:
        self._config = config
        self.store = store
        self.sender = sender
        self.lease = AdvisoryLease(store, LEASE_NAME)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watched_since: datetime | None = None
        self.last_round: WatchRound | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="fleet-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.lease.release()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.round(datetime.now(UTC))
            self._stop.wait(self._config().fleet.heartbeat_every.total_seconds())

    def round(self, now: datetime) -> WatchRound | None:
        """Read the heartbeats; evaluate them if this daemon holds the lease. None when it
        does not watch, does not hold the lease, or the store did not answer."""
        config = self._config()
        if not config.fleet.watch:
            if self.lease.held:
                self.lease.release()
                log.info("stopped watching for silent hosts")
            self._watched_since = None
            return None
        try:
            heard = fleet_store.heartbeats(self.store)
        except Exception as error:
            if self._watched_since is not None:
                log.error("cannot read the fleet's heartbeats", error=str(error))
            self._watched_since = None
            return None
        if self._watched_since is None:
            self._watched_since = now
        was_holder = self.lease.held
        if not self.lease.hold():
            return None
        if not was_holder:
            log.info("watching the fleet for silent hosts", hosts=len(heard))
        try:
            self.last_round = evaluate_silent_hosts(
                config, self.store, self.sender, now, heard, self._watched_since
            )
        except Exception:  # a broken store or channel must not stop the loop
            log.exception("the silent host round failed")
            return None
        return self.last_round
