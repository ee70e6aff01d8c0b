"""Configuration problems, each pinned to a file, a line and a key path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Location = tuple[str | int, ...]


def format_location(location: Location) -> str:
    """`("checks", 0, "warning")` -> `checks[0].warning`."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    line: int | None
    location: Location
    message: str
    warning: bool = False

    def __str__(self) -> str:
        line = self.line if self.line is not None else 1
        kind = "warning: " if self.warning else ""
        return f"{self.file}:{line}: {format_location(self.location)}: {kind}{self.message}"


class ConfigError(Exception):
    """An invalid configuration; `issues` holds every problem found, not only the first."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    @property
    def first_line(self) -> str:
        more = len(self.issues) - 1
        return str(self.issues[0]) + (f" (and {more} more)" if more > 0 else "")
