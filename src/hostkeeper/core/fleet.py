"""Pure rules of a fleet sharing one store: the schedule splay of a host and when a host
counts as silent."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

# The built-in rule a watching daemon evaluates for every host of the store.
HOST_SILENT_RULE = "host_silent"


def splay_offset(host_id: str, splay: timedelta) -> timedelta:
    """How far `host_id`'s scheduled runs are shifted: whole seconds in [0, splay),
    derived from a hash of the host id, so the same host gets the same offset on every
    start and every version (Python's own hash() is salted per process)."""
    seconds = int(splay.total_seconds())
    if seconds <= 0:
        return timedelta(0)
    digest = hashlib.sha256(host_id.encode("utf-8")).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % seconds)


def silent_for(heartbeat_at: datetime, now: datetime) -> timedelta:
    """How long a host has not been heard from (never negative: clocks may differ)."""
    return max(now - heartbeat_at, timedelta(0))


def is_silent(heartbeat_at: datetime, now: datetime, silent_after: timedelta) -> bool:
    return silent_for(heartbeat_at, now) > silent_after


def describe_silence(host: str, heartbeat_at: datetime, now: datetime) -> str:
    """The alert's summary: which host, and since when nothing was heard from it."""
    minutes = int(silent_for(heartbeat_at, now).total_seconds() // 60)
    return (
        f"host {host} has not sent a heartbeat for {minutes} min "
        f"(last {heartbeat_at.isoformat(timespec='seconds')})"
    )
