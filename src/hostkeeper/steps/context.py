"""What a step is given (StepContext) and what it gives back (StepOutcome)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.config import Config
from hostkeeper.config.procedures import Step
from hostkeeper.core.runs import StepStatus


class StepCancelled(Exception):
    """Raised by `StepContext.check_cancelled` when the step must stop now."""


@dataclass
class StepContext:
    config: Config
    store: Store
    procedure: str
    run_id: int | None
    step: Step
    log: Any  # a structlog logger with procedure, run_id and step bound
    dry_run: bool = False
    config_path: str | None = None  # the file the configuration was loaded from
    cancel: threading.Event = field(default_factory=threading.Event)
    deadline: float | None = None  # time.monotonic() value
    # Inside the daemon: asks it to reload itself (after rotating its own log); a description.
    reload_daemon: Callable[[], str] | None = None
    # Given each line of output as the step produces it (the run's per-day log); the
    # step redacts before handing a line over.
    output_line: Callable[[str], None] | None = None

    def emit_output(self, line: str) -> None:
        if self.output_line is not None:
            self.output_line(line)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def remaining(self) -> float | None:
        """Seconds left before the step's timeout, or None without one."""
        if self.deadline is None:
            return None
        return max(self.deadline - time.monotonic(), 0.0)

    def check_cancelled(self) -> None:
        """Long built-in steps call this between units of work."""
        if self.cancel.is_set():
            raise StepCancelled("hostkeeper is shutting down")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise StepCancelled("the step's timeout passed")


@dataclass(frozen=True)
class StepOutcome:
    status: StepStatus
    summary: str | None = None
    error: str | None = None
    output: str | None = None
    details: dict[str, Any] | None = None

    @classmethod
    def ok(cls, summary: str, **details: Any) -> StepOutcome:
        return cls(StepStatus.SUCCEEDED, summary, details=details or None)

    @classmethod
    def failed(cls, error: str, **details: Any) -> StepOutcome:
        return cls(StepStatus.FAILED, error=error, details=details or None)
