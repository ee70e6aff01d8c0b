"""Notifications about maintenance windows and incidents, on notify.channels.

- A planned window with `announce:` is announced that long before it starts ("notify
  stakeholders", done by the tool), whatever `notify.on` says: `announce` asks for it.
- With `window` in `notify.on`, planned and ad hoc windows say when they start and end
  (a run's window is the run itself: `start`, `success`, `failure` cover it). A window
  whose start nobody was told about (it came and went while no hostkeeper ran) is not
  said to end either.
- An incident notifies when it opens and when it closes, always.

Each notice is claimed in the store before it is sent, so the daemon and a verb never
send one twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.adapters.store.windows import WindowRow
from hostkeeper.alerting.messages import incident_message, window_message
from hostkeeper.channels.base import Message
from hostkeeper.config import Config
from hostkeeper.config.models import NotifyEvent
from hostkeeper.core.windows import WindowKind
from hostkeeper.services.maintenance import describe, scope

log = structlog.get_logger("hostkeeper.maintenance")

NOTIFIED_KINDS = (WindowKind.PLANNED, WindowKind.ADHOC)
# Windows that started longer ago than this are not looked at for notices any more.
NOTICE_LOOKBACK = timedelta(days=30)


class Sender(Protocol):
    def submit(self, channel: str, message: Message) -> int | None: ...


def send_window_notices(config: Config, store: Store, sender: Sender, now: datetime) -> int:
    """Send the announcements, starts and ends that are due; how many went out."""
    if not config.notify.channels:
        return 0
    announce = {w.name: w.announce for w in config.maintenance.windows if w.announce}
    starts_and_ends = NotifyEvent.WINDOW in config.notify.on
    sent = 0
    for row in window_store.recent_windows(
        store, limit=500, kinds=NOTIFIED_KINDS, since=now - NOTICE_LOOKBACK
    ):
        lead = announce.get(row.name or "") if row.kind is WindowKind.PLANNED else None
        due = lead is not None and _announcement_due(row, lead, now)
        if due and _claim(store, row, "announced", now):
            sent += _send(config, store, sender, row, "announced", now)
        if starts_and_ends:
            event = _start_or_end_due(store, row, now)
            if event is not None:
                sent += _send(config, store, sender, row, event, now)
    return sent


def _announcement_due(row: WindowRow, lead: timedelta, now: datetime) -> bool:
    return row.announced_at is None and row.starts_at - lead <= now < row.starts_at


def _start_or_end_due(store: Store, row: WindowRow, now: datetime) -> str | None:
    """`started` or `ended` when that notice is due now and claimed by this process."""
    end = row.window.end
    ended = end is not None and end <= now
    if row.start_notified_at is None and row.starts_at <= now:
        if ended:  # it came and went unseen: nobody is told it ended either
            _claim(store, row, "start_notified", now)
            _claim(store, row, "end_notified", now)
            return None
        return "started" if _claim(store, row, "start_notified", now) else None
    if row.start_notified_at is not None and row.end_notified_at is None and ended:
        return "ended" if _claim(store, row, "end_notified", now) else None
    return None


def _claim(store: Store, row: WindowRow, notice: str, now: datetime) -> bool:
    return window_store.claim_notice(store, row.id, notice, now)


def _send(
    config: Config, store: Store, sender: Sender, row: WindowRow, event: str, now: datetime
) -> int:
    message = window_message(
        f"maintenance window #{row.id}",
        event,
        store.host,
        now,
        window_summary(row, event),
        window_details(row),
    )
    for channel in config.notify.channels:
        sender.submit(channel, message)
    log.info(f"maintenance window {event}", window=row.id, kind=row.kind.value, name=row.name)
    return 1


def window_summary(row: WindowRow, event: str) -> str:
    what = describe(row)
    if event == "announced":
        return f"{what} planned from {_when(row.starts_at)} to {_when(row.ends_at)}"
    if event == "started":
        until = f"until {_when(row.ends_at)}" if row.ends_at else "until stopped"
        return f"{what} started, {until}; alerts that start are held"
    grace = int(row.grace.total_seconds() // 60)
    return f"{what} ended" + (
        f"; alerts starting in the next {grace}m are still held" if grace else ""
    )


def window_details(row: WindowRow) -> dict[str, str]:
    details = {
        "window": str(row.id),
        "kind": row.kind.value,
        "from": _when(row.starts_at),
        "until": _when(row.ends_at) if row.ends_at else "until stopped",
        "holds": scope(list(row.rules) if row.rules is not None else None),
    }
    if row.reason:
        details["reason"] = row.reason
    if row.opened_by:
        details["opened by"] = row.opened_by
    return details


def send_incident_notice(
    config: Config, store: Store, sender: Sender, row: WindowRow, event: str, now: datetime
) -> int:
    """Tell notify.channels that incident `row` opened or closed; how many channels."""
    if event == "opened":
        summary = f"incident #{row.id} opened ({row.severity}): {row.reason}"
    else:
        summary = f"incident #{row.id} closed: {row.reason}; cause: {row.cause}"
    details = {"incident": str(row.id), "opened": _when(row.starts_at)}
    if row.opened_by:
        details["opened by"] = row.opened_by
    if row.closed_at is not None:
        details["closed"] = _when(row.closed_at)
        details["closed by"] = row.closed_by or "-"
        details["cause"] = row.cause or "-"
        details["prevention"] = row.prevention or "-"
    message = incident_message(
        f"incident #{row.id}", event, row.severity or "critical", store.host, now, summary, details
    )
    for channel in config.notify.channels:
        sender.submit(channel, message)
    log.warning(f"incident {event}", incident=row.id, severity=row.severity, title=row.reason)
    return len(config.notify.channels)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
