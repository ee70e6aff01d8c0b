"""The procedure engine: runs one procedure's preconditions, steps and verification.

Shared by the daemon (scheduled and catch-up runs) and the CLI (`run`), with the same
per-procedure lock, so the two never run one procedure at the same time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import structlog

from hostkeeper.adapters.locks import FileLock, LockHeld
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.config import Config
from hostkeeper.config.procedures import Procedure, Step
from hostkeeper.core.names import safe_path_name
from hostkeeper.core.output import truncate_output
from hostkeeper.core.redact import redact_text, redact_value
from hostkeeper.core.runs import (
    OnFailure,
    RunStatus,
    StepStatus,
    Trigger,
    run_status,
    stops_run,
)
from hostkeeper.procedures import preconditions
from hostkeeper.services.run_records import DirectRuns, RunRecorder
from hostkeeper.steps import STEPS, load_module
from hostkeeper.steps.context import StepCancelled, StepContext, StepOutcome

log = structlog.get_logger("hostkeeper.engine")

# Called with (procedure, event, report): event is start | success | failure.
RunListener = Callable[[str, str, "RunReport"], None]


class UnknownProcedure(KeyError):
    pass


@dataclass
class StepReport:
    phase: str
    label: str
    status: StepStatus
    seconds: float
    summary: str | None = None
    error: str | None = None


@dataclass
class RunReport:
    procedure: str
    run_id: int | None
    status: RunStatus
    trigger: Trigger
    error: str | None = None
    steps: list[StepReport] = field(default_factory=list)


def redact_outcome(outcome: StepOutcome) -> StepOutcome:
    """The outcome as it may be stored, logged and served: no secret-looking argument,
    URL credential or token in it (core.redact)."""
    details = redact_value(outcome.details) if outcome.details else outcome.details
    return replace(
        outcome,
        summary=redact_text(outcome.summary) if outcome.summary else outcome.summary,
        error=redact_text(outcome.error) if outcome.error else outcome.error,
        output=redact_text(outcome.output) if outcome.output else outcome.output,
        details=details if isinstance(details, dict) or details is None else outcome.details,
    )


def lock_path(config: Config, procedure: str) -> Path:
    return Path(config.paths.state_dir) / "locks" / f"procedure-{safe_path_name(procedure)}.lock"


class Engine:
    def __init__(
        self,
        config: Callable[[], Config],
        store: Store,
        listener: RunListener | None = None,
        config_path: str | None = None,
        reload_self: Callable[[], str] | None = None,
        runs: RunRecorder | None = None,
    ) -> None:
        self._config = config
        self.reload_self = reload_self  # given by the daemon the engine runs in
        self.config_path = config_path
        self.store = store
        # The daemon on a remote database records through its spooler (services/spooler.py).
        self.runs: RunRecorder = runs or DirectRuns(store)
        self.listener = listener
        self.shutdown = threading.Event()
        self._active: set[str] = set()
        self._active_lock = threading.Condition()

    # -- running ---------------------------------------------------------------------------

    def run(
        self,
        name: str,
        trigger: Trigger = Trigger.MANUAL,
        scheduled_for: datetime | None = None,
        dry_run: bool = False,
    ) -> RunReport:
        config = self._config()  # one config for the whole run, even across a reload
        procedure = config.procedures.get(name)
        if procedure is None:
            raise UnknownProcedure(name)
        if self.shutdown.is_set():
            return self._record_unstarted(name, trigger, scheduled_for, "hostkeeper is stopping")
        try:
            with FileLock(lock_path(config, name)):
                return self._run_locked(config, name, procedure, trigger, scheduled_for, dry_run)
        except LockHeld as held:
            return self._record_unstarted(
                name, trigger, scheduled_for, f"already running ({held.holder})"
            )

    def _record_unstarted(
        self, name: str, trigger: Trigger, scheduled_for: datetime | None, reason: str
    ) -> RunReport:
        run_id = self.runs.record_finished_run(
            name, trigger, RunStatus.SKIPPED, _now(), reason, scheduled_for
        )
        log.warning("run skipped", procedure=name, run_id=run_id, reason=reason)
        return RunReport(name, run_id, RunStatus.SKIPPED, trigger, reason)

    def _run_locked(
        self,
        config: Config,
        name: str,
        procedure: Procedure,
        trigger: Trigger,
        scheduled_for: datetime | None,
        dry_run: bool,
    ) -> RunReport:
        run_id = self.runs.start_run(name, trigger, _now(), scheduled_for, dry_run)
        report = RunReport(name, run_id, RunStatus.RUNNING, trigger)
        with (
            self._tracking(name),
            structlog.contextvars.bound_contextvars(procedure=name, run_id=run_id),
        ):
            log.info("run started", trigger=trigger.value, dry_run=dry_run)
            self._notify(name, "start", report)
            try:
                self._execute(config, name, procedure, run_id, dry_run, report)
            except Exception as error:  # the engine itself must never leave a run open
                log.exception("run crashed")
                report.status = RunStatus.FAILED
                report.error = redact_text(f"internal error: {error}")
            self.runs.finish_run(run_id, report.status, _now(), report.error)
            level = "info" if report.status in (RunStatus.SUCCEEDED, RunStatus.SKIPPED) else "error"
            if report.status is RunStatus.WARNING:
                level = "warning"
            getattr(log, level)(
                "run finished",
                status=report.status.value,
                error=report.error,
                steps=len(report.steps),
            )
            if report.status in (RunStatus.SUCCEEDED, RunStatus.WARNING):
                self._notify(name, "success", report)
            else:  # failed, aborted, or skipped by an unmet precondition
                self._notify(name, "failure", report)
        return report

    def _execute(
        self,
        config: Config,
        name: str,
        procedure: Procedure,
        run_id: int,
        dry_run: bool,
        report: RunReport,
    ) -> None:
        position = 0
        for precondition in procedure.before:
            started = _now()
            result = preconditions.evaluate(precondition, self.store)
            status = StepStatus.SUCCEEDED if result.met else StepStatus.FAILED
            self._record(
                run_id,
                position,
                "before",
                precondition.require,
                result.label,
                StepOutcome(status, result.detail, None if result.met else result.detail),
                started,
                report,
            )
            position += 1
            if not result.met:
                report.status = RunStatus.SKIPPED
                report.error = f"precondition unmet: {result.detail}"
                log.warning(
                    "precondition unmet, run skipped",
                    precondition=result.label,
                    detail=result.detail,
                )
                return
        stopped_by: str | None = None
        for step in procedure.steps:
            if stopped_by is not None:
                self._record(
                    run_id,
                    position,
                    "steps",
                    step.name,
                    step.label(),
                    StepOutcome(StepStatus.SKIPPED, f"not run: {stopped_by}"),
                    _now(),
                    report,
                )
            else:
                outcome = self._run_step(
                    config, name, run_id, position, "steps", step, dry_run, report
                )
                if stops_run(outcome.status, step.on_failure):
                    stopped_by = f"{step.label()} {outcome.status.value}"
            position += 1
        for step in procedure.after:
            if self.shutdown.is_set():
                self._record(
                    run_id,
                    position,
                    "after",
                    step.name,
                    step.label(),
                    StepOutcome(StepStatus.SKIPPED, "not run: hostkeeper is stopping"),
                    _now(),
                    report,
                )
            else:
                self._run_step(config, name, run_id, position, "after", step, dry_run, report)
            position += 1
        aborted = self.shutdown.is_set() and any(
            s.status is StepStatus.ABORTED for s in report.steps
        )
        report.status = run_status((s.status for s in report.steps), aborted=aborted)
        failed = [s for s in report.steps if s.status in (StepStatus.FAILED, StepStatus.ABORTED)]
        if failed:
            report.error = "; ".join(f"{s.label}: {s.error}" for s in failed)

    def _run_step(
        self,
        config: Config,
        name: str,
        run_id: int,
        position: int,
        phase: str,
        step: Step,
        dry_run: bool,
        report: RunReport,
    ) -> StepOutcome:
        started = _now()
        timeout = step.effective_timeout
        with structlog.contextvars.bound_contextvars(step=step.label()):
            ctx = StepContext(
                config=config,
                store=self.store,
                procedure=name,
                run_id=run_id if run_id > 0 else None,  # negative: kept in the spool
                step=step,
                log=log,
                dry_run=dry_run,
                config_path=self.config_path,
                cancel=self.shutdown,
                reload_daemon=self.reload_self,
                deadline=time.monotonic() + timeout.total_seconds() if timeout else None,
            )
            log.info("step started")
            outcome = redact_outcome(execute_step(ctx))
            self._record(run_id, position, phase, step.name, step.label(), outcome, started, report)
            fields = {"status": outcome.status.value, "seconds": report.steps[-1].seconds}
            if outcome.status in (StepStatus.FAILED, StepStatus.ABORTED):
                action = "continuing" if step.on_failure is OnFailure.CONTINUE else "aborting"
                log.error("step failed", error=outcome.error, then=action, **fields)
            else:
                log.info("step finished", summary=outcome.summary, **fields)
        return outcome

    def _record(
        self,
        run_id: int,
        position: int,
        phase: str,
        name: str,
        label: str,
        outcome: StepOutcome,
        started: datetime,
        report: RunReport,
    ) -> None:
        finished = _now()
        record = run_store.StepRecord(
            position=position,
            phase=phase,
            name=name,
            label=label,
            status=outcome.status,
            started_at=started,
            finished_at=finished,
            summary=outcome.summary,
            error=outcome.error,
            output=truncate_output(outcome.output) if outcome.output else None,
            details=outcome.details,
        )
        self.runs.record_step(run_id, record)
        report.steps.append(
            StepReport(
                phase,
                label,
                outcome.status,
                record.duration_seconds,
                outcome.summary,
                outcome.error,
            )
        )

    # -- bookkeeping -------------------------------------------------------------------------

    def _notify(self, name: str, event: str, report: RunReport) -> None:
        if self.listener is None:
            return
        try:
            self.listener(name, event, report)
        except Exception:  # a broken notification never fails a run
            log.exception("run listener failed", notify_event=event)

    def _tracking(self, name: str) -> _Tracking:
        return _Tracking(self, name)

    @property
    def active(self) -> set[str]:
        with self._active_lock:
            return set(self._active)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no run is active; False when `timeout` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self._active_lock:
            while self._active:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._active_lock.wait(left)
        return True


class _Tracking:
    def __init__(self, engine: Engine, name: str) -> None:
        self.engine, self.name = engine, name

    def __enter__(self) -> None:
        with self.engine._active_lock:
            self.engine._active.add(self.name)

    def __exit__(self, *_exc: object) -> None:
        with self.engine._active_lock:
            self.engine._active.discard(self.name)
            self.engine._active_lock.notify_all()


def execute_step(ctx: StepContext) -> StepOutcome:
    """Run one step's task; turn every exception into a failed or aborted outcome."""
    definition = STEPS[ctx.step.name]
    if definition.module is None:
        return StepOutcome.failed(
            f"step {ctx.step.name!r} ({definition.summary}) is not available in this version "
            "of hostkeeper; it is accepted in the configuration but cannot run yet"
        )
    try:
        ctx.check_cancelled()
        outcome: StepOutcome = load_module(ctx.step.name).run(ctx, ctx.step.argument)
    except StepCancelled as cancelled:
        status = StepStatus.ABORTED if ctx.cancel.is_set() else StepStatus.FAILED
        return StepOutcome(status, error=str(cancelled))
    except Exception as error:
        ctx.log.exception("step raised")
        return StepOutcome.failed(f"{type(error).__name__}: {error}")
    return outcome


def _now() -> datetime:
    return datetime.now(UTC)
