"""What each built-in step accepts as its argument (`{backup: config}` -> "config").

Argument specs are checked when the configuration is validated, so a misspelt backup set
or report name is a config error, not a 02:00 failure. A spec that names a configuration
section (`reference`) is also checked against the names defined there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hostkeeper.config.units import parse_duration


@dataclass(frozen=True)
class ArgumentSpec:
    """Base spec: the step takes no argument."""

    reference: str | None = None  # config section whose names the argument must be among
    required: bool = False

    def parse(self, value: Any) -> Any:
        if value is not None:
            raise ValueError("this step takes no argument; write it as a plain name")
        return None

    def names(self, value: Any) -> list[str]:
        """The names this (parsed) argument refers to in `reference`."""
        return []


@dataclass(frozen=True)
class NameArgument(ArgumentSpec):
    """One name from a config section, e.g. a backup set; optional unless `required`."""

    def parse(self, value: Any) -> Any:
        if value is None:
            if self.required:
                raise ValueError(f"this step needs the name of one of {self.reference}")
            return None
        if not isinstance(value, str) or not value:
            raise ValueError(f"expected the name of one of {self.reference}, got {value!r}")
        return value

    def names(self, value: Any) -> list[str]:
        return [value] if value else []


@dataclass(frozen=True)
class ChoiceArgument(ArgumentSpec):
    choices: Sequence[str] = ()
    many: bool = False  # a list of choices, run in order (`db: [optimize, vacuum]`)

    def parse(self, value: Any) -> Any:
        values = value if self.many and isinstance(value, list) else [value]
        if not values or (value is None and self.required):
            raise ValueError(f"expected one of: {', '.join(self.choices)}")
        for item in values:
            if item not in self.choices:
                raise ValueError(f"{item!r} is not one of: {', '.join(self.choices)}")
        return list(values) if self.many else value


@dataclass(frozen=True)
class DurationArgument(ArgumentSpec):
    default: str = "7d"

    def parse(self, value: Any) -> Any:
        return parse_duration(self.default if value is None else value)


@dataclass(frozen=True)
class CommandArgument(ArgumentSpec):
    """`run: [argv...]`: a non-empty list of strings, executed without a shell."""

    def parse(self, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(
                "`run:` takes an argv list such as [/usr/bin/systemctl, restart, app]; "
                "commands never go through a shell"
            )
        if not isinstance(value, list) or not value:
            raise ValueError("`run:` needs a non-empty argv list")
        for item in value:
            if isinstance(item, bool):
                # YAML reads true/false/yes/no/on/off as booleans: str(True) is "True".
                word = "true" if item else "false"
                raise ValueError(
                    f"argv element {item!r} is a YAML boolean, not a string; quote it: '{word}'"
                )
            if not isinstance(item, str | int | float):
                raise ValueError(f"every argv element must be a string, not {item!r}; quote it")
        return [str(item) for item in value]
