"""The trigger a procedure is scheduled with, from its configuration, its history and
the host's splay.

Shared by the daemon's scheduler and the status model (next runs, missed fires). With
`fleet.splay`, every fire of the host is shifted by the same offset derived from its host
id (`core.fleet.splay_offset`): cron and `every:` schedules, and so the catch-up and
missed fires computed from them.
"""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.config import Config
from hostkeeper.config.procedures import Procedure
from hostkeeper.core.fleet import splay_offset
from hostkeeper.core.schedules import IntervalSpec
from hostkeeper.core.triggers import build_trigger, shifted


def host_splay(config: Config, host: str) -> timedelta:
    """The offset `host`'s scheduled runs are shifted by (0 without fleet.splay)."""
    return splay_offset(host, config.fleet.splay)


def schedule_key(config: Config, procedure: Procedure, host: str) -> str:
    """What identifies a schedule: a reload that keeps it keeps the job (and its timing).
    A splay is part of it (no splay adds nothing, so keys from before splay stay)."""
    key = f"{config.timezone}|{procedure.schedule.model_dump_json()}"
    offset = host_splay(config, host)
    return f"{key}|splay={offset.total_seconds():g}s" if offset else key


def procedure_trigger(config: Config, name: str, procedure: Procedure, store: Store) -> BaseTrigger:
    """The trigger the daemon schedules `procedure` with on `store.host`.

    An `every:` schedule counts from its last fire time handled under the same schedule,
    so a restart neither resets it nor skips a due run (catch-up sees what fell due
    meanwhile); a new one counts from now.
    """
    spec = procedure.schedule.trigger_spec()
    offset = host_splay(config, store.host)
    anchor = None
    key = schedule_key(config, procedure, store.host)
    if isinstance(spec, IntervalSpec) and run_store.recorded_schedule(store, name) == key:
        anchor = run_store.last_scheduled_time(store, name)
    # The anchor is a fire time, shift included; the interval counts from the unshifted one.
    inner_anchor = anchor - offset if anchor is not None else None
    return shifted(build_trigger(spec, config.timezone, inner_anchor), offset)
