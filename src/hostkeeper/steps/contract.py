"""What a step module provides: the contract every entry of the registry (tasks.STEPS)
is checked against when its module is loaded.

A step is one module, `hostkeeper.steps.<name>`, plus one line in STEPS giving its
argument spec (so configuration validation can check `{backup: config}` without
importing the step) and a one-line summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hostkeeper.steps.context import StepContext, StepOutcome


class StepModule(Protocol):
    NAME: str
    """The step's name, as written in a procedure and listed in STEPS."""

    def run(self, ctx: StepContext, argument: Any) -> StepOutcome:
        """Do the step's work with `argument` as parsed by the step's ArgumentSpec; return
        its outcome (a raised exception becomes a failed step, StepCancelled an aborted
        one)."""
        ...
