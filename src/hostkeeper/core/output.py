"""Bounding captured command output before it is stored."""

from __future__ import annotations

DEFAULT_OUTPUT_LIMIT = 64 * 1024


def truncate_output(text: str, limit: int = DEFAULT_OUTPUT_LIMIT) -> str:
    """Keep the head and the tail of `text` within `limit` characters.

    Both ends matter: the head says what started, the tail usually holds the error.
    """
    if len(text) <= limit:
        return text
    marker = f"\n... [{len(text) - limit} characters omitted] ...\n"
    keep = max(limit - len(marker), 0)
    head = keep // 2
    return text[:head] + marker + text[len(text) - (keep - head) :]
