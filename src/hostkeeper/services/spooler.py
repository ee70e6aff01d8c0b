"""Riding out a database that goes away: run records and metric samples go to the local
spool (`adapters/store/spool.py`) while the store cannot take them, and are replayed into
it, in the order they happened, once it can.

The rule that keeps the order: while anything waits in the spool, everything new goes
behind it; only an empty spool lets a write go straight to the store. A write that fails
because the database does not answer (a transient error) is spooled, and marks the store
unreachable from then until the spool is empty again. An event the store refuses for
good (a constraint, a permission) is set aside in the spool file, so it cannot hold up
the rest.

Replay records each run once even when it runs twice (a crash between the store's commit
and the spool's): a run is found by host, procedure, trigger and start, a step by its
run, phase and position. A sample batch replayed twice is stored twice.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import exc

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.metrics import write_samples
from hostkeeper.adapters.store.runs import StepRecord
from hostkeeper.adapters.store.spool import (
    RUN_FINISH,
    RUN_START,
    SAMPLES,
    STEP,
    Entry,
    Spool,
    SpoolStats,
)
from hostkeeper.core.metrics import Sample
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger

log = structlog.get_logger("hostkeeper.spool")

TRANSIENT = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError)
ABANDONED = "hostkeeper stopped before the run finished"
REPLAY_EVERY = 2.0  # seconds between replay attempts while events wait


def is_transient(error: BaseException) -> bool:
    """Whether `error` says the database did not answer (worth a retry), rather than that
    it refused what it was given."""
    return isinstance(error, TRANSIENT)


class Spooler:
    """The daemon's run recorder and sample sink in front of a store that may go away."""

    def __init__(self, store: Store, spool: Spool) -> None:
        self.store = store
        self.spool = spool
        self.unreachable_since: datetime | None = None
        self._lock = threading.Lock()  # one replay at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Replay on a thread of its own, every REPLAY_EVERY seconds while events wait."""
        self._thread = threading.Thread(target=self._loop, name="spool-replay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop replaying; what waits stays in the spool file for the next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(REPLAY_EVERY):
            if not self.spool.empty:
                try:
                    self.replay()
                except Exception:  # a broken spool file must not end the thread
                    log.exception("replaying the spool failed")
            elif self.unreachable_since is not None and self.store.ping():
                # Noticed by a reader (the status line), with nothing written meanwhile.
                self._reachable()

    # -- runs (services.run_records.RunRecorder) --------------------------------------------

    def start_run(
        self,
        procedure: str,
        trigger: Trigger,
        started_at: datetime,
        scheduled_for: datetime | None = None,
        dry_run: bool = False,
        started_by: str | None = None,
        reason: str | None = None,
        checklist: str | None = None,
    ) -> int:
        if self.spool.empty:
            try:
                return run_store.start_run(
                    self.store,
                    procedure,
                    trigger,
                    started_at,
                    scheduled_for,
                    dry_run,
                    started_by=started_by,
                    reason=reason,
                    checklist=checklist,
                )
            except TRANSIENT as error:
                self._unreachable(error)
        event = _run_event(procedure, trigger, started_at, scheduled_for, dry_run)
        event.update(started_by=started_by, reason=reason, checklist=checklist)
        local = self.spool.append(RUN_START, event)
        log.warning("run kept in the local spool", procedure=procedure, local_id=local)
        return -local

    def record_step(self, run_id: int, step: StepRecord) -> None:
        self._run_write(STEP, {"run": run_id, "step": _step_json(step)})

    def finish_run(
        self, run_id: int, status: RunStatus, finished_at: datetime, error: str | None = None
    ) -> None:
        self._run_write(
            RUN_FINISH,
            {
                "run": run_id,
                "status": status.value,
                "finished_at": finished_at.isoformat(),
                "error": error,
            },
        )

    def record_finished_run(
        self,
        procedure: str,
        trigger: Trigger,
        status: RunStatus,
        at: datetime,
        error: str,
        scheduled_for: datetime | None = None,
        started_by: str | None = None,
        reason: str | None = None,
    ) -> int:
        if self.spool.empty:
            try:
                return run_store.record_finished_run(
                    self.store,
                    procedure,
                    trigger,
                    status,
                    at,
                    error,
                    scheduled_for,
                    started_by=started_by,
                    reason=reason,
                )
            except TRANSIENT as failure:
                self._unreachable(failure)
        event = _run_event(procedure, trigger, at, scheduled_for, False)
        event.update(started_by=started_by, reason=reason)
        event["finished"] = {"status": status.value, "error": error}
        return -self.spool.append(RUN_START, event)

    def _run_write(self, kind: str, event: dict[str, Any]) -> None:
        """A step or the end of run `event["run"]`: to the store when the spool is empty
        and the run is stored, else behind what waits."""
        run_id = int(event["run"])
        stored = run_id if run_id > 0 else self.spool.stored_id(-run_id)
        if self.spool.empty and stored is not None:
            try:
                _apply_run_event(self.store, kind, {**event, "run": stored})
                if run_id < 0 and kind == RUN_FINISH:
                    self.spool.forget_run(-run_id)
                return
            except TRANSIENT as error:
                self._unreachable(error)
        self.spool.append(kind, event)

    # -- samples ---------------------------------------------------------------------------

    def write_samples(self, batch: Sequence[Sample]) -> int:
        """Store `batch`, or spool it; never raises for a database that does not answer.
        Returns how many samples it took (all of them)."""
        if not batch:
            return 0
        if self.spool.empty:
            try:
                return write_samples(self.store, batch)
            except TRANSIENT as error:
                self._unreachable(error)
        rows = [[sample.metric, sample.ts, sample.value] for sample in batch]
        self.spool.append(SAMPLES, {"samples": rows}, count=len(rows))
        return len(rows)

    # -- replay ----------------------------------------------------------------------------

    def replay(self, limit: int = 200) -> int:
        """Replay the oldest spooled events, in order, until the spool is empty or the
        store stops answering; the number replayed."""
        replayed = 0
        with self._lock:
            while not self.spool.empty:
                entries = self.spool.head(limit)
                if not entries:
                    break
                for entry in entries:
                    try:
                        self._replay_one(entry)
                    except TRANSIENT as error:
                        self._unreachable(error)
                        return replayed
                    except Exception as error:  # refused for good: set aside, go on
                        log.error(
                            "the store refused a spooled event; set aside",
                            kind=entry.kind,
                            seq=entry.seq,
                            error=str(error).splitlines()[0] if str(error) else repr(error),
                        )
                        self.spool.reject(entry, str(error))
                    replayed += 1
        if replayed and self.spool.empty:
            log.info("spool replayed into the store", events=replayed)
        if self.spool.empty:
            self._reachable()
        return replayed

    def _replay_one(self, entry: Entry) -> None:
        event = entry.payload
        if entry.kind == SAMPLES:
            write_samples(
                self.store, [Sample(m, float(t), float(v)) for m, t, v in event["samples"]]
            )
            self.spool.done(entry.seq)
        elif entry.kind == RUN_START:
            stored = _replay_start(self.store, event)
            finished = "finished" in event
            self.spool.done(entry.seq, None if finished else entry.seq, stored)
        else:
            run_id = int(event["run"])
            target = run_id if run_id > 0 else self.spool.stored_id(-run_id)
            if target is None:
                raise LookupError(f"the start of spooled run {-run_id} was never stored")
            _apply_run_event(self.store, entry.kind, {**event, "run": target})
            self.spool.done(entry.seq)
            if run_id < 0 and entry.kind == RUN_FINISH:
                self.spool.forget_run(-run_id)

    def close_abandoned(self, at: datetime) -> list[int]:
        """At start: end the spooled runs a previous daemon left going, as the store's
        own abandoned runs are ended; their local ids."""
        abandoned = self.spool.unfinished_local_runs()
        for local in abandoned:
            self.spool.append(
                RUN_FINISH,
                {
                    "run": -local,
                    "status": RunStatus.ABORTED.value,
                    "finished_at": at.isoformat(),
                    "error": ABANDONED,
                },
            )
        return abandoned

    # -- reachability ----------------------------------------------------------------------

    def stats(self) -> SpoolStats:
        return self.spool.stats()

    def noticed_unreachable(self, error: BaseException) -> None:
        """A reader found the store not answering (`error` is transient): say so until
        the store answers again, as a failed write would."""
        self._unreachable(error)

    def _unreachable(self, error: BaseException) -> None:
        if self.unreachable_since is None:
            self.unreachable_since = datetime.now(UTC)
            log.error(
                "the store does not answer; spooling runs and samples locally",
                error=str(getattr(error, "orig", None) or error).splitlines()[0],
            )

    def _reachable(self) -> None:
        if self.unreachable_since is not None:
            log.info("the store answers again", since=self.unreachable_since.isoformat())
            self.unreachable_since = None


# -- events ----------------------------------------------------------------------------------


def _run_event(
    procedure: str,
    trigger: Trigger,
    started_at: datetime,
    scheduled_for: datetime | None,
    dry_run: bool,
) -> dict[str, Any]:
    return {
        "procedure": procedure,
        "trigger": trigger.value,
        "started_at": started_at.isoformat(),
        "scheduled_for": scheduled_for.isoformat() if scheduled_for else None,
        "dry_run": dry_run,
    }


def _replay_start(store: Store, event: dict[str, Any]) -> int:
    procedure, trigger = str(event["procedure"]), Trigger(event["trigger"])
    started_at = datetime.fromisoformat(event["started_at"])
    scheduled_for = (
        datetime.fromisoformat(event["scheduled_for"]) if event["scheduled_for"] else None
    )
    found = run_store.find_run(store, procedure, trigger.value, started_at)
    if found is not None:
        return found
    finished = event.get("finished")
    if finished is not None:
        return run_store.record_finished_run(
            store,
            procedure,
            trigger,
            RunStatus(finished["status"]),
            started_at,
            str(finished["error"]),
            scheduled_for,
            started_by=event.get("started_by"),
            reason=event.get("reason"),
        )
    return run_store.start_run(
        store,
        procedure,
        trigger,
        started_at,
        scheduled_for,
        bool(event["dry_run"]),
        started_by=event.get("started_by"),
        reason=event.get("reason"),
        checklist=event.get("checklist"),
    )


def _apply_run_event(store: Store, kind: str, event: dict[str, Any]) -> None:
    run_id = int(event["run"])
    if kind == STEP:
        step = _step_from_json(event["step"])
        if not run_store.has_step(store, run_id, step.phase, step.position):
            run_store.record_step(store, run_id, step)
    elif kind == RUN_FINISH:
        run_store.finish_run(
            store,
            run_id,
            RunStatus(event["status"]),
            datetime.fromisoformat(event["finished_at"]),
            event["error"],
        )
    else:
        raise ValueError(f"not a run event: {kind}")


def _step_json(step: StepRecord) -> dict[str, Any]:
    return {
        "position": step.position,
        "phase": step.phase,
        "name": step.name,
        "label": step.label,
        "status": step.status.value,
        "started_at": step.started_at.isoformat(),
        "finished_at": step.finished_at.isoformat(),
        "summary": step.summary,
        "error": step.error,
        "output": step.output,
        # as the store keeps them: JSON, anything else as its text
        "details": json.loads(json.dumps(step.details, default=str)) if step.details else None,
    }


def _step_from_json(data: dict[str, Any]) -> StepRecord:
    return StepRecord(
        position=int(data["position"]),
        phase=str(data["phase"]),
        name=str(data["name"]),
        label=str(data["label"]),
        status=StepStatus(data["status"]),
        started_at=datetime.fromisoformat(data["started_at"]),
        finished_at=datetime.fromisoformat(data["finished_at"]),
        summary=data["summary"],
        error=data["error"],
        output=data["output"],
        details=data["details"],
    )
