"""What every benchmark shares: results with their floor and target, and the run context."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"


@dataclass(frozen=True)
class Target:
    """A figure the project promises, e.g. `Target("<=", 1.2, "s")`."""

    op: str  # "<", "<=", ">", ">="
    value: float
    unit: str

    def met(self, figure: float) -> bool:
        compare: dict[str, Callable[[float, float], bool]] = {
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }
        return compare[self.op](figure, self.value)

    def __str__(self) -> str:
        return f"{self.op} {self.value:g} {self.unit}"


@dataclass(frozen=True)
class Floor:
    """What a figure is compared with: a peer doing the same work, or a lower bound."""

    value: float
    unit: str
    label: str


@dataclass(frozen=True)
class Result:
    benchmark: str
    figure: str  # what was measured, e.g. "READY, empty database"
    value: float
    unit: str
    floor: Floor | None = None
    target: Target | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.floor is None or self.floor.value <= 0:
            return None
        return self.value / self.floor.value

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)

    def as_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "figure": self.figure,
            "value": round(self.value, 6),
            "unit": self.unit,
            "floor": None
            if self.floor is None
            else {"value": self.floor.value, "unit": self.floor.unit, "label": self.floor.label},
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "target": None
            if self.target is None
            else {"op": self.target.op, "value": self.target.value, "unit": self.target.unit},
            "met": self.met,
            "detail": self.detail,
        }


def format_value(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.2f} %"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    if unit == "":
        return f"{value:g}"
    return f"{value:g} {unit}"


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> dict[str, Any]:
    """Raw samples and their range, for the JSON record."""
    return {
        "n": len(values),
        "min": round(min(values), 6),
        "max": round(max(values), 6),
        "median": round(statistics.median(values), 6),
        "samples": [round(v, 6) for v in values],
    }


@dataclass
class Context:
    """Options of this invocation plus figures shared between benchmarks (the floors)."""

    quick: bool
    runs: int | None
    work_dir: Path
    cache_dir: Path
    reference_config: Path
    idle_seconds: float | None
    database_mb: int
    profile: bool
    soak_minutes: float | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def repeat(self, full: int, quick: int) -> int:
        if self.runs is not None:
            return max(self.runs, 1)
        return quick if self.quick else full

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]

    def note(self, text: str) -> None:
        """A finding printed under the table (and kept in the JSON)."""
        self.notes.append(text)


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


@contextmanager
def stage(message: str) -> Iterator[None]:
    started = time.monotonic()
    progress(message)
    yield
    progress(f"{message}: done in {time.monotonic() - started:.1f} s")
