"""How measured values are spelled for people, alike on the dashboard, in reports, on
chart axes and in the CLI's tables: three significant digits and a unit.

`19.9 ms`, `2.09 s`, `1 min 5 s`, `3 h 20 min`; `512 B`, `1.23 MiB`; `12.3 %`; `0.52`.
Machine outputs (JSON, /metrics, data attributes) keep the raw numbers.
"""

from __future__ import annotations

import math

MISSING = "-"
DIGITS = 3
_MINUTE, _HOUR, _DAY = 60.0, 3600.0, 86400.0
_SIZE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def significant(value: float, digits: int = DIGITS) -> str:
    """`value` rounded to `digits` significant digits, without an exponent and without
    trailing zeros: 19.95 -> `19.9` or `20`, 2.094 -> `2.09`, 46.0 -> `46`, 12345 ->
    `12345` (a whole number is never shortened)."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    rounded = float(f"{value:.{digits - 1}e}")
    if abs(rounded) >= 10 ** (digits - 1):
        return f"{round(value):d}"
    decimals = digits - 1 - math.floor(math.log10(abs(rounded)))
    text = f"{rounded:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_seconds(value: float | None) -> str:
    """A duration: `19.9 ms` below a second, `2.09 s` below a minute, then two units
    (`1 min 5 s`, `3 h 20 min`, `2 d 4 h`)."""
    if value is None:
        return MISSING
    if value < 0:
        return "-" + format_seconds(-value)
    if value == 0:
        return "0 s"
    if float(significant(value)) < 1:
        return f"{significant(value * 1000)} ms"
    if float(significant(value)) < _MINUTE:
        return f"{significant(value)} s"
    whole = round(value)
    for large, large_name, small, small_name in (
        (_DAY, "d", _HOUR, "h"),
        (_HOUR, "h", _MINUTE, "min"),
        (_MINUTE, "min", 1.0, "s"),
    ):
        if whole >= large:
            high, rest = divmod(whole, int(large))
            low = round(rest / small)
            if low * small >= large:  # 59.6 min rounds up into the next hour
                high, low = high + 1, 0
            return f"{high} {large_name} {low} {small_name}"
    raise AssertionError("unreachable: every duration of a minute or more has a unit")


def format_bytes(size: float | None) -> str:
    """A size in binary units: `512 B`, `1.23 MiB`, `4 GiB`."""
    if size is None:
        return MISSING
    magnitude = abs(size)
    for unit in _SIZE_UNITS:
        text = f"{round(magnitude):d}" if unit == "B" else significant(magnitude)
        if float(text) < 1024 or unit == _SIZE_UNITS[-1]:  # 1023.9 KiB reads 1 MiB
            return f"{'-' if size < 0 else ''}{text} {unit}"
        magnitude /= 1024
    raise AssertionError("unreachable: the last unit takes every size")


def format_percent(value: float | None) -> str:
    """A value already in percent: `12.3 %`; below 100 never reads as `100 %`."""
    if value is None:
        return MISSING
    text = significant(value)
    if float(text) == 100 and value < 100:  # 99.97 % available is not 100 %
        text = f"{math.floor(value * 10) / 10:.1f}"
    return f"{text} %"


def format_share(share: float | None) -> str:
    """A fraction of one as a percentage: 0.123 -> `12.3 %`."""
    return MISSING if share is None else format_percent(share * 100)


def format_number(value: float | None) -> str:
    """A value without a unit of its own (a load average, a count): `0.52`, `1200`."""
    return MISSING if value is None else significant(value)


def format_change(value: float | None) -> str:
    """A signed change (a slope, a drift): `+1.23`, `-0.5`, `0`."""
    if value is None:
        return MISSING
    return ("+" if value > 0 else "") + significant(value)


def format_quantity(value: float | None, unit: str | None) -> str:
    """`value` in `unit` the way this module spells that unit: seconds and milliseconds
    as durations, bytes as sizes, `%` as a percentage, anything else as `NUMBER UNIT`."""
    if value is None:
        return MISSING
    if unit == "s":
        return format_seconds(value)
    if unit == "ms":
        return format_seconds(value / 1000)
    if unit in ("B", "bytes"):
        return format_bytes(value)
    if unit == "%":
        return format_percent(value)
    number = significant(value)
    return f"{number} {unit}" if unit else number
