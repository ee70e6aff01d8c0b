"""What a checklist item's `step:` names: a step of its procedure, found by its label,
a command's whole command line, or a name only one step has.

Shared by config validation (an item naming no step, or several, is an error with its
line) and by the checklists of runs (services/checklists.py), which look the step up in
a run's record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hostkeeper.config.procedures import Procedure, Step


@dataclass(frozen=True)
class StepReference:
    """Where a checklist item's `step:` points: the step's phase (`steps` or `after`),
    its position in the run (preconditions first, as the engine records them), its
    label, and for a command its argv (two commands of one program share a label)."""

    phase: str
    position: int
    label: str
    argv: tuple[str, ...] | None = None

    @property
    def shown(self) -> str:
        """The label, or a command's whole command line."""
        return "run: " + " ".join(self.argv) if self.argv is not None else self.label


def resolve_step(procedure: Procedure, reference: str) -> StepReference | str:
    """The step of `procedure` that `reference` names: its label (`backup: config`), for
    a command its whole command line (`run: /usr/bin/python3 tools/docs.py`), or its
    name when one step has that name. A message saying why when none or several match."""
    steps = [("steps", step) for step in procedure.steps] + [
        ("after", step) for step in procedure.after
    ]
    numbered = [
        (len(procedure.before) + index, phase, step) for index, (phase, step) in enumerate(steps)
    ]
    # Tried in turn: the label, a command's whole command line, the name.
    keys: list[Callable[[Step], str]] = [Step.label, command_line, _step_name]
    for key in keys:
        matches = [entry for entry in numbered if key(entry[2]) == reference]
        if len(matches) == 1:
            position, phase, step = matches[0]
            argv = tuple(map(str, step.argument)) if step.name == "run" else None
            return StepReference(phase, position, step.label(), argv)
        if matches:
            return (
                f"{len(matches)} steps match {reference!r}; name one by its label or, for a "
                "command, its whole command line: "
                + ", ".join(repr(command_line(step)) for _, _, step in matches)
            )
    labels = ", ".join(repr(step.label()) for _, step in steps)
    return f"no step {reference!r} in this procedure; its steps: {labels}"


def _step_name(step: Step) -> str:
    return step.name


def command_line(step: Step) -> str:
    """`run: ARGV...` for a command step (its label names the program only), else the
    label."""
    if step.name == "run":
        return "run: " + " ".join(map(str, step.argument))
    return step.label()
