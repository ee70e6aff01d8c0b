"""The schedule: APScheduler 3 jobs rebuilt from the configuration, plus catch-up.

Jobs live in a memory job store: the configuration is the source of truth and our own
tables keep the history. Every procedure job coalesces, runs one instance at a time and
has a misfire grace time; a fire that misses it is recorded as a `missed` run. At start,
a procedure whose fire time passed while the daemon was down runs once as `catch-up`;
`every:` schedules keep counting from their last fire, across restarts.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from hostkeeper.adapters.store import runs as run_store
from hostkeeper.config import Config
from hostkeeper.core.runs import RunStatus, Trigger
from hostkeeper.core.triggers import next_fire_time, previous_fire_time
from hostkeeper.procedures.engine import Engine
from hostkeeper.services.schedules import procedure_trigger, schedule_key

log = structlog.get_logger("hostkeeper.scheduler")

_JOB_PREFIX = "procedure:"
MAX_MISSED_RECORDS = 100  # after a long outage, record this many missed fires at most


def _job_id(name: str) -> str:
    return _JOB_PREFIX + name


class ProcedureScheduler:
    def __init__(self, engine: Engine, heartbeat_every: float = 10.0, workers: int = 8) -> None:
        self.engine = engine
        self.heartbeat_every = heartbeat_every
        self.last_heartbeat = time.monotonic()
        self._keys: dict[str, str] = {}
        self._triggers: dict[str, BaseTrigger] = {}
        self._grace = 3600.0
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={
                "default": ThreadPoolExecutor(max_workers=workers),
                # Its own thread, so long procedures never starve the watchdog heartbeat.
                "heartbeat": ThreadPoolExecutor(max_workers=1),
            },
        )
        self._scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, config: Config) -> None:
        self.apply(config)
        self._scheduler.add_job(
            self._beat,
            "interval",
            seconds=self.heartbeat_every,
            id="heartbeat",
            executor="heartbeat",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def pause(self) -> None:
        """No new runs start; running ones go on."""
        if self._scheduler.running:
            self._scheduler.pause()

    def alive(self) -> bool:
        thread = getattr(self._scheduler, "_thread", None)
        return bool(self._scheduler.running and thread is not None and thread.is_alive())

    def heartbeat_age(self) -> float:
        return time.monotonic() - self.last_heartbeat

    def _beat(self) -> None:
        self.last_heartbeat = time.monotonic()

    # -- jobs ------------------------------------------------------------------------------

    def apply(self, config: Config) -> list[str]:
        """Make the jobs match `config`; return what changed, for the log."""
        self._grace = config.daemon.misfire_grace_time.total_seconds()
        wanted = {
            name: procedure for name, procedure in config.procedures.items() if procedure.enabled
        }
        changes = []
        for name in list(self._keys):
            if name not in wanted:
                self._scheduler.remove_job(_job_id(name))
                del self._keys[name], self._triggers[name]
                changes.append(f"removed {name}")
        for name, procedure in wanted.items():
            key = schedule_key(config, procedure, self.engine.store.host)
            if self._keys.get(name) == key:
                continue
            if name in self._keys:  # a reload changed it: the new schedule's history starts
                run_store.known_since(self.engine.store, name, key, datetime.now(UTC))
            trigger = procedure_trigger(config, name, procedure, self.engine.store)
            self._scheduler.add_job(
                self._run_scheduled,
                trigger,
                args=[name],
                id=_job_id(name),
                name=name,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(self._grace),
            )
            changes.append(f"{'rescheduled' if name in self._keys else 'scheduled'} {name}")
            self._keys[name], self._triggers[name] = key, trigger
        return changes

    def next_run_times(self) -> dict[str, datetime | None]:
        times: dict[str, datetime | None] = {}
        for name in self._keys:
            job = self._scheduler.get_job(_job_id(name))
            times[name] = job.next_run_time if job is not None else None
        return times

    def _run_scheduled(self, name: str) -> None:
        now = datetime.now(UTC)
        trigger = self._triggers.get(name)
        scheduled_for = None
        if trigger is not None:
            since = now - timedelta(seconds=self._grace + 1)
            scheduled_for = previous_fire_time(trigger, now, since)
        self.engine.run(name, Trigger.SCHEDULED, scheduled_for=scheduled_for)

    def _on_missed(self, event: JobExecutionEvent) -> None:
        if not event.job_id.startswith(_JOB_PREFIX):
            return
        name = event.job_id.removeprefix(_JOB_PREFIX)
        reason = (
            "missed: the scheduler could not start it within the misfire grace time"
            if event.code == EVENT_JOB_MISSED
            else "skipped: the previous run was still going"
        )
        status = RunStatus.MISSED if event.code == EVENT_JOB_MISSED else RunStatus.SKIPPED
        scheduled: Any = event.scheduled_run_time
        self.engine.runs.record_finished_run(
            name, Trigger.SCHEDULED, status, datetime.now(UTC), reason, scheduled_for=scheduled
        )
        log.warning("scheduled run not started", procedure=name, reason=reason)

    # -- catch-up --------------------------------------------------------------------------

    def catch_up(self, config: Config, now: datetime) -> list[str]:
        """Start once, as catch-up, each procedure that was due while hostkeeper was down.

        Fires before the newest one (all of them without catch-up) are recorded as
        missed, so history shows the outage.
        """
        started = []
        for name, procedure in config.procedures.items():
            if not procedure.enabled:
                continue
            trigger = self._triggers.get(name) or procedure_trigger(
                config, name, procedure, self.engine.store
            )
            key = schedule_key(config, procedure, self.engine.store.host)
            since = run_store.known_since(self.engine.store, name, key, now)
            last = run_store.last_scheduled_time(self.engine.store, name)
            reference = max(since, last) if last else since
            missed = _fire_times(trigger, reference, now)
            if not missed:
                continue
            # The newest fire is the catch-up run; without catch-up it was missed too.
            unrun = missed[:-1] if config.daemon.catch_up else missed
            for fire_time in unrun[-MAX_MISSED_RECORDS:]:
                run_store.record_finished_run(
                    self.engine.store,
                    name,
                    Trigger.SCHEDULED,
                    RunStatus.MISSED,
                    now,
                    "missed: hostkeeper was not running",
                    scheduled_for=fire_time,
                )
            if config.daemon.catch_up:
                log.info(
                    "catching up", procedure=name, due=missed[-1].isoformat(), missed=len(missed)
                )
                self._scheduler.add_job(
                    self.engine.run,
                    "date",
                    run_date=now,
                    args=[name, Trigger.CATCH_UP, missed[-1]],
                    id=f"catch-up:{name}",
                    replace_existing=True,
                    misfire_grace_time=None,
                )
                started.append(name)
        return started


def _fire_times(trigger: BaseTrigger, since: datetime, now: datetime) -> list[datetime]:
    """Fire times in (since, now], oldest first; at most MAX_MISSED_RECORDS + 1.

    A long outage under a short interval would mean millions of fire times: when the
    walk gets long, it starts again from a later point, since only the newest matter.
    """
    while True:
        times: list[datetime] = []
        steps = 0
        moment = next_fire_time(trigger, since)
        while moment is not None and moment <= now and steps < 10_000:
            times.append(moment)
            moment = next_fire_time(trigger, moment)
            steps += 1
        if moment is None or moment > now:
            return times[-(MAX_MISSED_RECORDS + 1) :]
        since = now - (now - since) / 10
