"""The trigger a procedure is scheduled with, from its configuration and its history.

Shared by the daemon's scheduler and the status model (next runs, missed fires).
"""

from __future__ import annotations

from apscheduler.triggers.base import BaseTrigger

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.config import Config
from hostkeeper.config.procedures import Procedure
from hostkeeper.core.schedules import IntervalSpec
from hostkeeper.core.triggers import build_trigger


def schedule_key(config: Config, procedure: Procedure) -> str:
    """What identifies a schedule: a reload that keeps it keeps the job (and its timing)."""
    return f"{config.timezone}|{procedure.schedule.model_dump_json()}"


def procedure_trigger(config: Config, name: str, procedure: Procedure, store: Store) -> BaseTrigger:
    """The trigger the daemon schedules `procedure` with.

    An `every:` schedule counts from its last fire time handled under the same schedule,
    so a restart neither resets it nor skips a due run (catch-up sees what fell due
    meanwhile); a new one counts from now.
    """
    spec = procedure.schedule.trigger_spec()
    anchor = None
    key = schedule_key(config, procedure)
    if isinstance(spec, IntervalSpec) and run_store.recorded_schedule(store, name) == key:
        anchor = run_store.last_scheduled_time(store, name)
    return build_trigger(spec, config.timezone, anchor)
