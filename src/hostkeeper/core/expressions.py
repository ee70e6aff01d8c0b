"""The `when:` comparisons of alert rules: `health_score < 50`, `load.5m >= 4`."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

_COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_EXPRESSION_RE = re.compile(r"^\s*([A-Za-z_][\w./:-]*)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Comparison:
    subject: str  # `health_score` or a metric name
    comparator: str
    threshold: float

    def holds(self, value: float) -> bool:
        return _COMPARATORS[self.comparator](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.subject} {self.comparator} {self.threshold:g}"


def parse_comparison(text: str) -> Comparison:
    """Parse `SUBJECT OP NUMBER` with OP one of < <= > >=; raise ValueError otherwise."""
    match = _EXPRESSION_RE.match(text)
    if not match:
        raise ValueError(
            f"{text!r} is not a comparison; write `health_score < 50` or `load.5m >= 4` "
            "(a name, one of < <= > >=, a number)"
        )
    return Comparison(match.group(1), match.group(2), float(match.group(3)))
