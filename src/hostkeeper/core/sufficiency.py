"""Whether there is enough history to advise from: a long enough span, enough values.

Twenty minutes of ten-second samples are many numbers, but a level or a slope drawn from
them has not seen a night, a backup window or a weekly job; below the minimums the
answer is "not enough data", with how much there is and how much is needed.
"""

from __future__ import annotations

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


def shortfall(span: float, count: int, min_span: float, min_count: int) -> str | None:
    """Why `count` values over `span` seconds are not enough, or None when they are."""
    if span >= min_span and count >= min_count:
        return None
    return (
        f"not enough data: {span_text(span)} of the {span_text(min_span)} needed, "
        f"{count} values of the {min_count} needed"
    )


def span_text(seconds: float) -> str:
    """A span as people say it: `45 s`, `20 min`, `5.5 h`, `3.2 days`."""
    if seconds < 2 * MINUTE:
        return f"{max(seconds, 0.0):.0f} s"
    if seconds < 2 * HOUR:
        return f"{seconds / MINUTE:.0f} min"
    if seconds < 2 * DAY:
        return f"{seconds / HOUR:.3g} h"
    return f"{seconds / DAY:.3g} days"
