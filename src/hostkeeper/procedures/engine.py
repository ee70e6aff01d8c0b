"""The procedure engine: runs one procedure's preconditions, steps and verification.

Shared by the daemon (scheduled and catch-up runs) and the CLI (`run`), with the same
per-procedure lock, so the two never run one procedure at the same time. Each run is
recorded in the store, logged to the journal and to its per-day log (runlog.py), may
wait for checklist items before a step (waiting.py), and is told to the listener.

Kept whole: one run's lifecycle (lock, preconditions, steps and their waits, records,
notifications) reads top to bottom here; what stands on its own lives beside it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    describe_origin,
    run_status,
    stops_run,
)
from hostkeeper.procedures import preconditions
from hostkeeper.procedures.run_window import WindowListener, close_for_run, open_for_run
from hostkeeper.procedures.runlog import RunLog, finish_run_log
from hostkeeper.procedures.waiting import POLL_SECONDS, hold_step
from hostkeeper.services.checklists import plan_json
from hostkeeper.services.run_records import DirectRuns, RunRecorder
from hostkeeper.steps import STEPS, load_module
from hostkeeper.steps.context import StepCancelled, StepContext, StepOutcome

log = structlog.get_logger("hostkeeper.engine")

# Called with (procedure, event, report): event is start | success | failure, or wait
# (the run waits for checklist items) | wait_timeout (it waited in vain); report.notice
# says what a wait event is about.
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
    started_by: str | None = None  # manual runs: who started it
    reason: str | None = None  # manual runs: why (`run --reason`)
    notice: str | None = None  # what the newest wait or wait_timeout event is about
    log_path: str | None = None  # its per-day log, when one could be written
    # labels of the steps skipped because a wait for checklist items timed out
    waits_timed_out: list[str] = field(default_factory=list)
    window_id: int | None = None  # the maintenance window the run opened


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
        on_window: WindowListener | None = None,
        runs: RunRecorder | None = None,
    ) -> None:
        self._config = config
        self.reload_self = reload_self  # given by the daemon the engine runs in
        self.config_path = config_path
        self.store = store
        # The daemon on a remote database records through its spooler (services/spooler.py).
        self.runs: RunRecorder = runs or DirectRuns(store)
        self.listener = listener
        self.on_window = on_window
        self.shutdown = threading.Event()
        self.wait_poll_seconds = POLL_SECONDS
        self._logs: dict[int, RunLog] = {}  # per-day logs of the runs going on, by run id
        self._active: set[str] = set()
        self._active_lock = threading.Condition()

    # -- running ---------------------------------------------------------------------------

    def run(
        self,
        name: str,
        trigger: Trigger = Trigger.MANUAL,
        scheduled_for: datetime | None = None,
        dry_run: bool = False,
        started_by: str | None = None,
        reason: str | None = None,
    ) -> RunReport:
        """Run procedure `name` now; `started_by` and `reason` say who started a manual
        run and why (recorded, logged and notified)."""
        config = self._config()  # one config for the whole run, even across a reload
        procedure = config.procedures.get(name)
        if procedure is None:
            raise UnknownProcedure(name)
        origin = RunReport(name, None, RunStatus.RUNNING, trigger, started_by=started_by)
        origin.reason = redact_text(reason) if reason else None
        if self.shutdown.is_set():
            return self._record_unstarted(config, origin, scheduled_for, "hostkeeper is stopping")
        try:
            with FileLock(lock_path(config, name)):
                return self._run_locked(config, procedure, origin, scheduled_for, dry_run)
        except LockHeld as held:
            return self._record_unstarted(
                config, origin, scheduled_for, f"already running ({held.holder})"
            )

    def _record_unstarted(
        self, config: Config, report: RunReport, scheduled_for: datetime | None, reason: str
    ) -> RunReport:
        name = report.procedure
        report.run_id = self.runs.record_finished_run(
            name,
            report.trigger,
            RunStatus.SKIPPED,
            _now(),
            reason,
            scheduled_for,
            started_by=report.started_by,
            reason=report.reason,
        )
        report.status, report.error = RunStatus.SKIPPED, reason
        log.warning("run skipped", procedure=name, run_id=report.run_id, reason=reason)
        run_log = RunLog(config.paths.log_dir, config.timezone, name, report.run_id)
        run_log.line(f"run {_origin(report)} skipped: {reason}")
        run_log.close()
        return report

    def _run_locked(
        self,
        config: Config,
        procedure: Procedure,
        report: RunReport,
        scheduled_for: datetime | None,
        dry_run: bool,
    ) -> RunReport:
        name, trigger = report.procedure, report.trigger
        run_id = self.runs.start_run(
            name,
            trigger,
            _now(),
            scheduled_for,
            dry_run,
            started_by=report.started_by,
            reason=report.reason,
            checklist=plan_json(procedure),
        )
        report.run_id = run_id
        with (
            self._tracking(name),
            self._run_log(config, name, run_id) as run_log,
            structlog.contextvars.bound_contextvars(procedure=name, run_id=run_id),
        ):
            report.log_path = str(run_log.path) if run_log.active else None
            log.info(
                "run started",
                trigger=trigger.value,
                dry_run=dry_run,
                started_by=report.started_by,
                reason=report.reason,
            )
            run_log.line(f"run started ({_origin(report)}{', dry run' if dry_run else ''})")
            self._notify(name, "start", report)
            try:
                self._execute(config, name, procedure, run_id, dry_run, report)
            except Exception as error:  # the engine itself must never leave a run open
                log.exception("run crashed")
                report.status = RunStatus.FAILED
                report.error = redact_text(f"internal error: {error}")
            self.runs.finish_run(run_id, report.status, _now(), report.error)
            finish_run_log(run_log, config, self.store, run_id, len(report.steps))
            close_for_run(self.store, report.window_id)  # the maintenance window
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
        position = self._check_preconditions(run_id, procedure, report)
        if position is None:
            return
        if not dry_run:  # its maintenance window holds the alerts its steps cause
            report.window_id = open_for_run(config, self.store, name, run_id, self.on_window)
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
            elif (held := self._wait(name, run_id, step, dry_run, report)) is not None:
                self._record(run_id, position, "steps", step.name, step.label(), *held, report)
                if stops_run(held[0].status, step.on_failure):
                    stopped_by = f"{step.label()} {held[0].status.value}"
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
            elif (held := self._wait(name, run_id, step, dry_run, report)) is not None:
                self._record(run_id, position, "after", step.name, step.label(), *held, report)
            else:
                self._run_step(config, name, run_id, position, "after", step, dry_run, report)
            position += 1
        _conclude(report, stopping=self.shutdown.is_set())

    def _check_preconditions(
        self, run_id: int, procedure: Procedure, report: RunReport
    ) -> int | None:
        """Evaluate and record the `before` preconditions; the position of the first step,
        or None when one is unmet (the run is then skipped)."""
        position = 0
        run_log = self._logs[run_id]
        for precondition in procedure.before:
            started = _now()
            result = preconditions.evaluate(precondition, self.store)
            status = StepStatus.SUCCEEDED if result.met else StepStatus.FAILED
            run_log.line(
                f"precondition {result.label}: {'met' if result.met else 'unmet'} ({result.detail})"
            )
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
                return None
        return position

    def _wait(
        self, name: str, run_id: int, step: Step, dry_run: bool, report: RunReport
    ) -> tuple[StepOutcome, datetime] | None:
        """Before a step with `wait_for`: None when the step may run, else the outcome to
        record instead and when the wait began (procedures/waiting.py)."""
        if not step.wait_for:
            return None
        began = _now()

        def notify(event: str, notice: str) -> None:
            report.notice = notice
            self._notify(name, event, report)

        outcome = hold_step(
            self.store,
            self._logs[run_id],
            name,
            run_id,
            step,
            dry_run,
            self.shutdown,
            notify,
            self.wait_poll_seconds,
        )
        if outcome is None:
            return None
        if outcome.status is StepStatus.SKIPPED:
            report.waits_timed_out.append(step.label())
        return outcome, began

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
        run_log = self._logs[run_id]
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
                output_line=lambda line: run_log.output_line(step.label(), line),
            )
            run_log.step_started(step.label(), phase)
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
        if phase != "before":  # preconditions wrote their own line
            self._logs[run_id].step_finished(
                label,
                phase,
                outcome.status.value,
                record.duration_seconds,
                outcome.error or outcome.summary,
                record.output,
            )
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

    @contextmanager
    def _run_log(self, config: Config, name: str, run_id: int) -> Iterator[RunLog]:
        """The run's per-day log, known to the steps' helpers by run id while it goes."""
        run_log = self._logs[run_id] = RunLog(config.paths.log_dir, config.timezone, name, run_id)
        try:
            yield run_log
        finally:
            self._logs.pop(run_id, None)
            run_log.close()

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


def _conclude(report: RunReport, stopping: bool) -> None:
    """The run's status and error from its steps (and its waits that timed out)."""
    aborted = stopping and any(s.status is StepStatus.ABORTED for s in report.steps)
    report.status = run_status((s.status for s in report.steps), aborted=aborted)
    failed = [s for s in report.steps if s.status in (StepStatus.FAILED, StepStatus.ABORTED)]
    if failed:
        report.error = "; ".join(f"{s.label}: {s.error}" for s in failed)
    elif report.waits_timed_out:
        # A step nobody cleared did not run: the run did not do all it should.
        if report.status is RunStatus.SUCCEEDED:
            report.status = RunStatus.WARNING
        report.error = "; ".join(
            f"{label}: skipped, checklist items not confirmed in time"
            for label in report.waits_timed_out
        )


def _origin(report: RunReport) -> str:
    return describe_origin(report.trigger.value, report.started_by, report.reason)


def _now() -> datetime:
    return datetime.now(UTC)
