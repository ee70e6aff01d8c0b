"""A run's human-readable lines in its per-day log, beside the journal.

    log_dir/maintenance/PROCEDURE_maintenance_YYYYMMDD.log

(the day the run started, in the configured time zone; a run past midnight stays in
its file). One line per event, written as it happens, so `tail -f` or
`hostkeeper logs PROCEDURE --follow` shows the run as it goes:

    2026-01-04 03:00:00 weekly[42] run started (scheduled)
    2026-01-04 03:00:00 weekly[42] precondition disk_free / >= 20%: met (63.2% free on /)
    2026-01-04 03:00:00 weekly[42] step backup: config started
    2026-01-04 03:00:01 weekly[42]   backup: config | a line of output
    2026-01-04 03:00:02 weekly[42] step backup: config succeeded in 1.2s: archive ...
    2026-01-04 03:00:09 weekly[42] run succeeded in 9.8s (7 steps)
    2026-01-04 03:00:09 weekly[42] checklist: 4 done, 2 open

A log file that cannot be opened or written (a read-only log_dir, a full disk) costs
the run its per-day log, never the run: one warning goes to the journal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog

from hostkeeper.adapters.daylog import LineLog, maintenance_log_path
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.runs import get_run
from hostkeeper.config import Config
from hostkeeper.core.numbers import format_seconds
from hostkeeper.services.checklists import checklist_lines, run_checklist

log = structlog.get_logger("hostkeeper.engine")

MAX_LINE = 4096  # characters of one output line kept in the log
MAX_STEP_OUTPUT = 1024 * 1024  # bytes of one step's output in the log (its bound)


class RunLog:
    def __init__(self, log_dir: str, timezone: str, procedure: str, run_id: int | None) -> None:
        self.zone = ZoneInfo(timezone)
        self.prefix = f"{procedure}[{run_id}]" if run_id is not None else procedure
        self.path: Path = maintenance_log_path(log_dir, procedure, self._local(_now()).date())
        self._file: LineLog | None = None
        self._step_bytes = 0
        self._streamed = False
        try:
            self._file = LineLog(self.path)
        except OSError as error:
            self._give_up(error)

    @property
    def active(self) -> bool:
        return self._file is not None

    def line(self, text: str) -> None:
        """One event line, stamped with the local time and the run."""
        if self._file is None:
            return
        stamp = self._local(_now()).strftime("%Y-%m-%d %H:%M:%S")
        try:
            self._file.write(f"{stamp} {self.prefix} {_flat(text)}")
        except OSError as error:
            self._give_up(error)

    def lines(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.line(text)

    # -- steps -----------------------------------------------------------------------------

    def step_started(self, label: str, phase: str) -> None:
        self._step_bytes, self._streamed = 0, False
        self.line(f"{_kind(phase)} {label} started")

    def output_line(self, label: str, text: str) -> None:
        """One line of a step's output as it comes, within the step's bound."""
        self._streamed = True
        if self._step_bytes > MAX_STEP_OUTPUT:
            return
        self._step_bytes += len(text) + 1
        if self._step_bytes > MAX_STEP_OUTPUT:
            self.line(
                f"  {label} | ... more output not logged here (the step keeps its first and "
                "last 32 KiB: hostkeeper runs --json)"
            )
            return
        shown = text if len(text) <= MAX_LINE else text[:MAX_LINE] + " ..."
        self.line(f"  {label} | {shown}")

    def step_finished(
        self,
        label: str,
        phase: str,
        status: str,
        seconds: float,
        said: str | None,
        output: str | None,
    ) -> None:
        """The step's end; its stored output too when it was not streamed line by line."""
        if output and not self._streamed:
            for text in output.splitlines():
                self.output_line(label, text)
        self.line(
            f"{_kind(phase)} {label} {status} in {format_seconds(seconds)}"
            + (f": {said}" if said else "")
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- internals -----------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def _give_up(self, error: OSError) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        log.warning("per-day maintenance log unavailable", path=str(self.path), error=str(error))


def finish_run_log(run_log: RunLog, config: Config, store: Store, run_id: int, steps: int) -> None:
    """The run's last lines, from its record: the result, then its checklist; then the
    file is closed. A failure here is logged, never raised: the run is over."""
    try:
        record = get_run(store, run_id)
        if record is None:
            return
        said = f": {record.error}" if record.error else ""
        seconds = format_seconds(record.duration_seconds or 0.0)
        run_log.line(f"run {record.status} in {seconds} ({steps} steps){said}")
        checklist = run_checklist(config, store, record, _now())
        if checklist is not None:
            run_log.lines(checklist_lines(checklist)[1:])  # the first line repeats the run
    except Exception:
        log.exception("cannot write the end of the per-day log")
    finally:
        run_log.close()


def _kind(phase: str) -> str:
    return {"before": "precondition", "after": "verification"}.get(phase, "step")


def _flat(text: str) -> str:
    """One line: a newline inside an event would forge the next line."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _now() -> datetime:
    return datetime.now(UTC)
