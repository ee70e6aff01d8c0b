"""The delivery worker: notifications leave on its own threads, never the caller's.

`submit` records the notification as `queued` in the store's delivery log and returns at
once; each channel has its own queue and thread, so a channel that hangs (a webhook
that never answers, a sleeping command) delays only its own notifications, and its
queue is bounded (MAX_QUEUED_PER_CHANNEL; the overflow is recorded as `dropped`). The
lane's thread sends each notification, retrying transient failures with exponential backoff
within a budget (attempts and seconds). Every attempt updates the log (attempts,
last_error, state). A notification is claimed in the store before each attempt, so the
daemon and a CLI command never deliver the same one twice, and notifications left
queued by a process that stopped are picked up by the daemon (`adopt_orphans`).

Nothing here raises into the caller: a broken channel or store is logged, and procedures
and the scheduler go on.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.channels import deliver, wants
from hostkeeper.channels.base import DeliveryError, Message, utc_now
from hostkeeper.core.redact import redact_text

log = structlog.get_logger("hostkeeper.delivery")

ORPHAN_MAX_AGE = timedelta(days=1)  # queued notifications older than this are not adopted
# A channel that cannot keep up gets at most this many notifications waiting; more are
# recorded as dropped (status and /metrics count them) instead of piling up in memory.
MAX_QUEUED_PER_CHANNEL = 1000


@dataclass(frozen=True)
class Backoff:
    """Retry policy: `first` seconds, multiplied by `factor` per attempt, at most `ceiling`;
    give up after `attempts` attempts or when the next try would pass `budget` seconds."""

    first: float = 1.0
    factor: float = 2.0
    ceiling: float = 60.0
    attempts: int = 8
    budget: float = 600.0

    def delay(self, attempts_done: int) -> float:
        return float(min(self.first * self.factor ** (attempts_done - 1), self.ceiling))


@dataclass(order=True)
class _Job:
    due: float
    sequence: int
    notification_id: int = field(compare=False)
    channel: str = field(compare=False)
    message: Message = field(compare=False)
    started: float = field(compare=False)
    attempts: int = field(compare=False, default=0)


@dataclass
class _Lane:
    """One channel's queue and threads: a hung channel holds up only its own lane."""

    channel: str
    queue: list[_Job] = field(default_factory=list)
    in_flight: int = 0
    dropped: int = 0
    threads: list[threading.Thread] = field(default_factory=list)


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        channels: Callable[[], Mapping[str, Any]],
        backoff: Backoff | None = None,
        threads: int = 1,
        max_queued: int = MAX_QUEUED_PER_CHANNEL,
    ) -> None:
        self.store = store
        self.channels = channels  # name -> channel config; read at each attempt (reloads)
        self.backoff = backoff or Backoff()
        self.max_queued = max_queued
        self._threads_per_lane = threads
        self._lanes: dict[str, _Lane] = {}
        self._known: set[int] = set()
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._started = False
        self._stopping = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> DeliveryWorker:
        with self._condition:
            self._started = True
            for lane in self._lanes.values():
                self._start_threads(lane)
        return self

    def stop(self, timeout: float = 5.0) -> int:
        """Stop after the attempts in progress; what is still queued stays queued in the
        store for the next start. Returns how many notifications were left queued."""
        with self._condition:
            self._stopping = True
            left = sum(len(lane.queue) for lane in self._lanes.values())
            threads = [thread for lane in self._lanes.values() for thread in lane.threads]
            self._condition.notify_all()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        return left

    def drain(self, timeout: float) -> bool:
        """Wait until every submitted notification is sent or failed; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while any(lane.queue or lane.in_flight for lane in self._lanes.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(left)
        return True

    @property
    def dropped(self) -> dict[str, int]:
        """Notifications dropped by this worker because their channel's queue was full."""
        with self._condition:
            return {name: lane.dropped for name, lane in self._lanes.items() if lane.dropped}

    def __enter__(self) -> DeliveryWorker:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- submitting ------------------------------------------------------------------------

    def submit(self, channel: str, message: Message) -> int | None:
        """Queue `message` for `channel`; return the delivery log id (None when skipped).

        When the channel already has `max_queued` notifications waiting, this one is
        recorded as `dropped` (counted in status and /metrics) instead of queued.
        """
        config = self.channels().get(channel)
        if config is not None and not wants(config, message):
            return None
        overflow = self._overflow(channel)
        try:
            notification_id = alert_store.queue_notification(
                self.store,
                channel,
                message.kind,
                message.subject,
                message.to_json(),
                utc_now(),
                alert_id=message.alert_id,
                state="queued" if overflow is None else "dropped",
                error=overflow,
            )
        except Exception:
            log.exception("could not record a notification; it is not sent", channel=channel)
            return None
        if overflow is None and not self._push(notification_id, channel, message):
            overflow = self._overflow(channel) or "the channel's queue is full"
            alert_store.finish_attempt(self.store, notification_id, "dropped", utc_now(), overflow)
        if overflow is not None:
            self._count_drop(channel, notification_id, overflow)
        return notification_id

    def adopt_orphans(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Take over notifications another (stopped) process left queued.

        Only those created more than `older_than` ago (their creator would have finished
        with them) and less than a day ago.
        """
        now = now or utc_now()
        try:
            rows = alert_store.queued_notifications(
                self.store, now - ORPHAN_MAX_AGE, now - older_than
            )
        except Exception:
            log.exception("could not read queued notifications")
            return 0
        adopted = 0
        for row in rows:
            with self._condition:
                if row.id in self._known:
                    continue
            try:
                message = Message.from_json(row.payload)
            except (TypeError, ValueError, KeyError):
                alert_store.finish_attempt(
                    self.store, row.id, "failed", now, "unreadable payload; not sent"
                )
                continue
            if not self._push(row.id, row.channel, message, attempts=row.attempts):
                reason = self._overflow(row.channel) or "the channel's queue is full"
                alert_store.finish_attempt(self.store, row.id, "dropped", now, reason)
                self._count_drop(row.channel, row.id, reason)
                continue
            adopted += 1
        if adopted:
            log.info("resuming notifications left queued", count=adopted)
        return adopted

    def _overflow(self, channel: str) -> str | None:
        """Why `channel` takes no more notifications now, or None when it has room."""
        with self._condition:
            lane = self._lanes.get(channel)
            waiting = len(lane.queue) if lane is not None else 0
        if waiting < self.max_queued:
            return None
        return f"dropped: {waiting} notifications already wait for channel {channel!r}"

    def _count_drop(self, channel: str, notification_id: int, reason: str) -> None:
        with self._condition:
            self._lane(channel).dropped += 1
        log.warning(
            "notification dropped", channel=channel, notification_id=notification_id, error=reason
        )

    def _push(
        self, notification_id: int, channel: str, message: Message, attempts: int = 0
    ) -> bool:
        now = time.monotonic()
        job = _Job(now, next(self._sequence), notification_id, channel, message, now, attempts)
        with self._condition:
            lane = self._lane(channel)
            if len(lane.queue) >= self.max_queued:
                return False
            self._known.add(notification_id)
            heapq.heappush(lane.queue, job)
            self._condition.notify_all()
        return True

    def _lane(self, channel: str) -> _Lane:
        """The lane of `channel`, made (and started) on first use; holds the condition."""
        lane = self._lanes.get(channel)
        if lane is None:
            lane = self._lanes[channel] = _Lane(channel)
            if self._started:
                self._start_threads(lane)
        return lane

    def _start_threads(self, lane: _Lane) -> None:
        while len(lane.threads) < self._threads_per_lane:
            number = len(lane.threads)
            thread = threading.Thread(
                target=self._work,
                args=(lane,),
                name=f"delivery-{lane.channel}-{number}",
                daemon=True,
            )
            thread.start()
            lane.threads.append(thread)

    # -- working ---------------------------------------------------------------------------

    def _work(self, lane: _Lane) -> None:
        while True:
            with self._condition:
                job = self._next_job(lane)
                if job is None:
                    return
                lane.in_flight += 1
            try:
                self._attempt(job)
            except Exception:  # the store failed while recording: log, keep the thread alive
                log.exception("delivery bookkeeping failed", notification_id=job.notification_id)
            finally:
                with self._condition:
                    lane.in_flight -= 1
                    self._condition.notify_all()

    def _next_job(self, lane: _Lane) -> _Job | None:
        """Wait (holding the condition) for the lane's next due job; None when stopping."""
        while not self._stopping:
            if lane.queue:
                wait = lane.queue[0].due - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(lane.queue)
                self._condition.wait(wait)
            else:
                self._condition.wait()
        return None

    def _attempt(self, job: _Job) -> None:
        if not alert_store.claim_notification(self.store, job.notification_id):
            log.debug("notification taken by another process", notification_id=job.notification_id)
            self._forget(job)
            return
        job.attempts += 1
        fields = {
            "notification_id": job.notification_id,
            "channel": job.channel,
            "notification": job.message.kind,
            "rule": job.message.rule,
            "attempt": job.attempts,
        }
        channel = self.channels().get(job.channel)
        if channel is None:
            error = f"no channel named {job.channel!r} is configured any more"
            alert_store.finish_attempt(self.store, job.notification_id, "failed", utc_now(), error)
            log.error("notification not delivered", error=error, **fields)
            self._forget(job)
            return
        try:
            result = deliver(channel, job.message)
        except DeliveryError as failure:
            self._failed(job, failure, fields)
            return
        alert_store.finish_attempt(self.store, job.notification_id, "sent", utc_now())
        log.info("notification delivered", result=result, **fields)
        self._forget(job)

    def _failed(self, job: _Job, failure: DeliveryError, fields: dict[str, Any]) -> None:
        delay = self.backoff.delay(job.attempts)
        elapsed = time.monotonic() - job.started
        retry = (
            failure.transient
            and job.attempts < self.backoff.attempts
            and elapsed + delay <= self.backoff.budget
        )
        # Channels redact their own errors; this is the last net before the store and log.
        error = redact_text(f"{'transient' if failure.transient else 'permanent'}: {failure}")
        if not retry:
            alert_store.finish_attempt(self.store, job.notification_id, "failed", utc_now(), error)
            log.error("notification not delivered", error=error, **fields)
            self._forget(job)
            return
        alert_store.finish_attempt(self.store, job.notification_id, "queued", utc_now(), error)
        log.warning("notification delivery failed, retrying", error=error, retry_in=delay, **fields)
        with self._condition:
            job.due = time.monotonic() + delay
            job.sequence = next(self._sequence)
            # A retry always goes back into its lane, even past max_queued: it was
            # accepted once, and dropping it now would lose it silently.
            heapq.heappush(self._lane(job.channel).queue, job)
            self._condition.notify_all()

    def _forget(self, job: _Job) -> None:
        with self._condition:
            self._known.discard(job.notification_id)
