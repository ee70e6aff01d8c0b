"""Human spellings of measured values for check details."""

from __future__ import annotations


def format_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def format_age(seconds: float) -> str:
    """`45s`, `12m`, `3.5h`, `2.1d`: one unit, enough precision to compare with levels."""
    magnitude = abs(seconds)
    if magnitude < 120:
        text = f"{magnitude:.0f}s"
    elif magnitude < 2 * 3600:
        text = f"{magnitude / 60:.0f}m"
    elif magnitude < 2 * 86400:
        text = f"{magnitude / 3600:.1f}h"
    else:
        text = f"{magnitude / 86400:.1f}d"
    return f"-{text}" if seconds < 0 else text
