"""Value types of the configuration: durations, sizes and percentages.

Each is a pydantic annotated type that accepts the human spelling used in the YAML
(`30s`, `100M`, `"20%"`) and serializes back to it, so `config show` round-trips.
"""

from __future__ import annotations

import math
import re
import typing
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)
_PERCENT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")

# Sane ranges: past these a value is a typo or an attack, and would overflow a timer, a
# timestamp or an SQLite integer somewhere downstream. Ten years covers every retention,
# expiry warning and schedule interval that makes sense on one host.
MAX_DURATION = timedelta(days=3650)
MAX_SIZE = 1024**5  # 1 PiB
MAX_NUMBER = 1_000_000_000  # counts, ports, limits: any plain number in the file


def parse_duration(value: Any) -> timedelta:
    """Turn `30s`, `10m`, `2h`, `7d`, `2w`, `200ms` or a number of seconds into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 10m, 2h, 7d or 2w")
    if isinstance(value, int | float):
        # min(): an int such as 10**400 does not fit a float; inf and nan pass through.
        seconds = float(min(value, MAX_DURATION.days * 86400 + 1))
    elif isinstance(value, str) and (match := _DURATION_RE.match(value)):
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration; use 30s, 10m, 2h, 7d or 2w")
    if not math.isfinite(seconds):  # .inf, .nan
        raise ValueError(f"{value!r} is not a usable duration")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{value!r} is not a usable duration: longer than 3650d (ten years)")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling of a duration: 7d, 90m, 200ms."""
    total_ms = round(value.total_seconds() * 1000)
    if total_ms % 1000:
        return f"{total_ms}ms"
    seconds = total_ms // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_size(value: Any) -> int:
    """Turn `512K`, `100M`, `2G` or a number of bytes into bytes (binary multiples)."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 512K, 100M or 2G")
    if isinstance(value, int):
        size = float(value) if abs(value) <= MAX_SIZE else float("inf")
    elif isinstance(value, str) and (match := _SIZE_RE.match(value)):
        size = float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()]
    else:
        raise ValueError(f"{value!r} is not a size; use 512K, 100M or 2G")
    if size < 0:
        raise ValueError("a size cannot be negative")
    if size > MAX_SIZE:
        raise ValueError(f"{value!r} is too large a size; at most 1024T")
    return int(size)


def format_size(value: int) -> str:
    for unit in ("T", "G", "M", "K"):
        factor = _SIZE_UNITS[unit]
        if value and value % factor == 0:
            return f"{value // factor}{unit}"
    return str(value)


def parse_percent(value: Any) -> float:
    """Turn `"20%"` into 20.0; bare numbers are read as percentages too."""
    if isinstance(value, bool):
        raise ValueError('expected a percentage such as "20%"')
    if isinstance(value, int | float):
        percent = float(value)
    elif isinstance(value, str) and (match := _PERCENT_RE.match(value)):
        percent = float(match.group(1))
    else:
        raise ValueError(f'{value!r} is not a percentage; use "20%"')
    if not 0 <= percent <= 100:
        raise ValueError("a percentage must be between 0% and 100%")
    return percent


def format_percent(value: float) -> str:
    return f"{value:g}%"


def number_problem(value: Any) -> str | None:
    """Why a plain number (or one inside a list or mapping) is out of any sane range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a usable number"
    if isinstance(value, int | float) and abs(value) > MAX_NUMBER:
        return f"{value!r} is out of range; at most {MAX_NUMBER}"
    children = value.values() if isinstance(value, dict) else value
    if isinstance(value, list | tuple | dict):
        for child in children:
            if problem := number_problem(child):
                return problem
    return None


def is_size(annotation: Any) -> bool:
    """Whether a field's annotation is Size (or Size | None): sizes have their own range."""
    if any(
        getattr(part, "func", None) is parse_size
        for part in getattr(annotation, "__metadata__", ())
    ):
        return True
    return any(is_size(arg) for arg in typing.get_args(annotation))


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
Size = Annotated[int, BeforeValidator(parse_size), PlainSerializer(format_size, return_type=str)]
Percent = Annotated[
    float,
    BeforeValidator(parse_percent),
    PlainSerializer(format_percent, return_type=str),
]
