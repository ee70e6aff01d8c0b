"""Keeps one silence per maintenance window in every Alertmanager channel (with
`silence: true`) while the window holds alerts, and deletes it when the window ends.

`sync_silences` makes one pass: for each window that holds alerts now, or still has a
silence to remove, and each such channel, it makes the one call core.silence_plan asks
for and records the outcome in the store (`window_silences`): the silence's id and end,
or the error and when to try again. Failures are retried with a growing delay and stay
visible in `status`, the dashboard and /metrics until an attempt succeeds. The daemon
makes a pass every few seconds (`SilenceKeeper`); `maintenance start|stop` and `incident
open|close` make one at once. Passes take a lock file, so two processes never create the
same silence twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from hostkeeper.adapters.locks import FileLock
from hostkeeper.adapters.store import Store, window_silences
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.adapters.store.window_silences import SilenceRow
from hostkeeper.adapters.store.windows import WindowRow
from hostkeeper.channels import alertmanager
from hostkeeper.channels.base import DeliveryError
from hostkeeper.config import Config
from hostkeeper.config.alerts import AlertmanagerChannel
from hostkeeper.core.redact import redact_text
from hostkeeper.core.silence_plan import (
    SilenceAction,
    SilenceRecord,
    SilenceState,
    SilenceStep,
    plan_silence,
    retry_at,
)
from hostkeeper.services.maintenance import describe, in_force

log = structlog.get_logger("hostkeeper.maintenance")

KEEPER_EVERY = 5.0  # seconds between the daemon's passes
CREATED_BY = "hostkeeper"
DONE = {
    SilenceAction.CREATE: "created",
    SilenceAction.EXTEND: "extended",
    SilenceAction.DELETE: "deleted",
    SilenceAction.ABANDON: "let go",
}


@dataclass(frozen=True)
class SilenceOutcome:
    window_id: int
    channel: str
    action: SilenceAction
    silence_id: str | None
    error: str | None = None


def lock_path(config: Config) -> Path:
    return Path(config.paths.state_dir) / "locks" / "silences.lock"


def silence_channels(config: Config) -> list[AlertmanagerChannel]:
    return [
        channel
        for channel in config.alerts.channels
        if isinstance(channel, AlertmanagerChannel) and channel.silence
    ]


def sync_silences(
    config: Config, store: Store, now: datetime | None = None
) -> list[SilenceOutcome]:
    """One pass over every window and Alertmanager channel; what was done."""
    now = now or datetime.now(UTC)
    channels = silence_channels(config)
    with FileLock(lock_path(config), blocking=True):
        holding = in_force(config, window_store.holding_windows(store, now))
        counted = {row.id for row in holding}
        rows = {
            row.id: row for row in [*holding, *window_silences.windows_with_live_silences(store)]
        }
        existing = {
            (s.window_id, s.channel): s for s in window_silences.silences_of(store, sorted(rows))
        }
        outcomes = []
        for row in rows.values():
            for channel in channels:
                found = existing.get((row.id, channel.name))
                record = found.record if found is not None else None
                step = plan_silence(row.window, record, now, in_force=row.id in counted)
                if step is not None:
                    outcomes.append(_apply(config, store, row, channel, record, step, now))
        outcomes += _forget_removed_channels(store, list(existing.values()), channels, now)
    return outcomes


def _apply(
    config: Config,
    store: Store,
    row: WindowRow,
    channel: AlertmanagerChannel,
    record: SilenceRecord | None,
    step: SilenceStep,
    now: datetime,
) -> SilenceOutcome:
    silence_id = record.silence_id if record is not None else None
    try:
        result = _call(config, store, row, channel, silence_id, step, now)
    except DeliveryError as failure:
        return _failed(store, row, channel, record, step, now, failure)
    window_silences.save_silence(store, row.id, channel.name, result, now)
    if step.action is not SilenceAction.ABANDON:
        log.info(
            f"alertmanager silence {DONE[step.action]}",
            window=row.id,
            channel=channel.name,
            silence_id=result.silence_id,
            ends_at=result.ends_at.isoformat() if result.ends_at else None,
        )
    return SilenceOutcome(row.id, channel.name, step.action, result.silence_id)


def _call(
    config: Config,
    store: Store,
    row: WindowRow,
    channel: AlertmanagerChannel,
    silence_id: str | None,
    step: SilenceStep,
    now: datetime,
) -> SilenceRecord:
    """Make the call; the record to keep when it succeeded. Raises DeliveryError."""
    if step.action is SilenceAction.ABANDON:
        return SilenceRecord(SilenceState.DELETED, silence_id)
    if step.action is SilenceAction.DELETE:
        if silence_id is not None:
            alertmanager.delete_silence(channel, silence_id)
        return SilenceRecord(SilenceState.DELETED, silence_id)
    assert step.ends_at is not None  # create and extend say until when
    matchers = alertmanager.silence_matchers(
        channel, store.host, [rule.name for rule in config.alerts.rules]
    )
    comment = f"hostkeeper maintenance window #{row.id} on {store.host}: {describe(row)}"
    reuse = silence_id if step.action is SilenceAction.EXTEND else None
    # Extended in place with its own start; one someone ended meanwhile is made again.
    start = alertmanager.active_silence_start(channel, reuse) if reuse is not None else None
    if start is None:
        reuse = None
    try:
        new_id = alertmanager.put_silence(
            channel,
            matchers=matchers,
            starts_at=start or now,
            ends_at=step.ends_at,
            comment=comment,
            created_by=CREATED_BY,
            silence_id=reuse,
        )
    except DeliveryError as error:
        if reuse is None or not alertmanager.silence_gone(error):
            raise
        # Someone deleted it in Alertmanager meanwhile: make a new one.
        new_id = alertmanager.put_silence(
            channel,
            matchers=matchers,
            starts_at=now,
            ends_at=step.ends_at,
            comment=comment,
            created_by=CREATED_BY,
        )
    return SilenceRecord(SilenceState.ACTIVE, new_id, step.ends_at)


def _failed(
    store: Store,
    row: WindowRow,
    channel: AlertmanagerChannel,
    record: SilenceRecord | None,
    step: SilenceStep,
    now: datetime,
    failure: DeliveryError,
) -> SilenceOutcome:
    attempts = (record.attempts if record is not None else 0) + 1
    state = {
        SilenceAction.CREATE: SilenceState.PENDING,
        SilenceAction.EXTEND: SilenceState.ACTIVE,  # it still exists until its old end
        SilenceAction.DELETE: SilenceState.ENDING,
    }.get(step.action, SilenceState.PENDING)
    previous = record if step.action is not SilenceAction.CREATE else None
    kept = SilenceRecord(
        state,
        previous.silence_id if previous is not None else None,
        previous.ends_at if previous is not None else None,
        attempts,
        retry_at(attempts, now),
    )
    error = redact_text(f"{step.action.value}: {failure}")
    window_silences.save_silence(store, row.id, channel.name, kept, now, error)
    log.warning(
        "alertmanager silence failed, retrying",
        window=row.id,
        channel=channel.name,
        error=error,
        attempts=attempts,
        retry_at=kept.next_attempt_at.isoformat() if kept.next_attempt_at else None,
    )
    return SilenceOutcome(row.id, channel.name, step.action, kept.silence_id, error)


def _forget_removed_channels(
    store: Store, rows: list[SilenceRow], channels: list[AlertmanagerChannel], now: datetime
) -> list[SilenceOutcome]:
    """Silences in channels no longer configured cannot be deleted (no URL): they are
    let go, and end by themselves at their `endsAt` (an hour at most)."""
    configured = {channel.name for channel in channels}
    outcomes = []
    for found in rows:
        if found.channel in configured or found.record.state is SilenceState.DELETED:
            continue
        gone = SilenceRecord(SilenceState.DELETED, found.record.silence_id, found.record.ends_at)
        window_silences.save_silence(store, found.window_id, found.channel, gone, now)
        outcomes.append(SilenceOutcome(found.window_id, found.channel, SilenceAction.ABANDON, None))
    return outcomes


class SilenceKeeper:
    """The daemon's thread making a pass every KEEPER_EVERY seconds (and at `wake()`)."""

    def __init__(self, config: Callable[[], Config], store: Store) -> None:
        self._config = config
        self.store = store
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="silences", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sync_silences(self._config(), self.store)
            except Exception:  # a broken store or channel must not end the thread
                log.exception("keeping Alertmanager silences failed")
            self._wake.wait(KEEPER_EVERY)
            self._wake.clear()
