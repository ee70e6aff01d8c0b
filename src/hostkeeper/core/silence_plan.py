"""What to do about one window's silence in one Alertmanager, decided from values alone.

While a window holds alerts, each configured Alertmanager carries a silence for this
host. Its `endsAt` never lies more than HORIZON ahead and is pushed forward while the
window lasts, so a silence hostkeeper can no longer look after (the daemon stopped, the
host died) ends by itself within the hour instead of muting the host for good. When the
window stops holding, the silence is deleted. A failed attempt is retried with a growing
delay, and stays visible (its error) until one succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hostkeeper.core.windows import Window

HORIZON = timedelta(hours=1)
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=5)


class SilenceState(StrEnum):
    PENDING = "pending"  # to be created (never was, or the last attempt failed)
    ACTIVE = "active"  # exists in Alertmanager until `ends_at`
    ENDING = "ending"  # to be deleted (the last attempt failed)
    DELETED = "deleted"  # deleted, or never needed any more


class SilenceAction(StrEnum):
    CREATE = "create"
    EXTEND = "extend"
    DELETE = "delete"
    ABANDON = "abandon"  # never created and no longer needed: nothing to call


@dataclass(frozen=True)
class SilenceRecord:
    """One window's silence in one Alertmanager, as the store keeps it."""

    state: SilenceState
    silence_id: str | None = None
    ends_at: datetime | None = None
    attempts: int = 0  # failed attempts in a row
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class SilenceStep:
    action: SilenceAction
    ends_at: datetime | None = None  # the endsAt to send (create, extend)


def desired_end(window: Window, now: datetime, horizon: timedelta = HORIZON) -> datetime:
    until = window.hold_until
    limit = now + horizon
    return limit if until is None else min(until, limit)


def plan_silence(
    window: Window,
    record: SilenceRecord | None,
    now: datetime,
    horizon: timedelta = HORIZON,
    in_force: bool = True,
) -> SilenceStep | None:
    """The one call to make now for `window`'s silence, or None (nothing, or not yet).

    `in_force` False: the window no longer counts (its procedure left the configuration)
    and its silence goes, whatever its times say."""
    if record is not None and record.next_attempt_at is not None and now < record.next_attempt_at:
        return None
    if in_force and window.holding_at(now):
        return _while_holding(window, record, now, horizon)
    if record is None or record.state is SilenceState.DELETED:
        return None
    if record.state is SilenceState.PENDING:
        return SilenceStep(SilenceAction.ABANDON)
    if record.ends_at is not None and record.ends_at <= now:
        return SilenceStep(SilenceAction.ABANDON)  # expired in Alertmanager by itself
    return SilenceStep(SilenceAction.DELETE)


def _while_holding(
    window: Window, record: SilenceRecord | None, now: datetime, horizon: timedelta
) -> SilenceStep | None:
    wanted = desired_end(window, now, horizon)
    expired = record is not None and record.ends_at is not None and record.ends_at <= now
    if record is None or record.state is SilenceState.PENDING or expired:
        return SilenceStep(SilenceAction.CREATE, wanted)
    if record.state is not SilenceState.ACTIVE or record.ends_at is None:
        return None  # ending or deleted: a window does not come back
    if record.ends_at >= wanted:
        return None
    running_out = record.ends_at - now <= horizon / 2
    if running_out or wanted == window.hold_until:
        return SilenceStep(SilenceAction.EXTEND, wanted)
    return None


def retry_at(attempts: int, now: datetime) -> datetime:
    """When to try again after `attempts` failed attempts in a row (1 or more)."""
    delay: timedelta = FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 16)
    return now + min(delay, LONGEST_RETRY)
