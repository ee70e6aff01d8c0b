"""Query parameters of the JSON API, parsed strictly: a malformed one is a 400 with the
reason, never a 500, a traceback or a silently different answer."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,9}")
MAX_TEXT = 200


class BadParameter(ValueError):
    """A query parameter the API refuses; the message is the reason shown to the client."""


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadParameter(f"{name} is given {len(values)} times; give it once")
    return values[0]


def int_parameter(
    query: dict[str, list[str]], name: str, default: int, minimum: int, maximum: int
) -> int:
    """A whole number in [minimum, maximum]; `default` when the parameter is absent."""
    text = _single(query, name)
    if text is None:
        return default
    if not _DIGITS.fullmatch(text):
        raise BadParameter(
            f"{name} must be a whole number from {minimum} to {maximum}, got {_shown(text)}"
        )
    value = int(text)
    if not minimum <= value <= maximum:
        raise BadParameter(f"{name} must be from {minimum} to {maximum}, got {value}")
    return value


def name_parameter(query: dict[str, list[str]], name: str) -> str | None:
    """A name (a procedure, a check): printable, no control characters, bounded."""
    text = _single(query, name)
    if text is None:
        return None
    if not text or len(text) > MAX_TEXT or not text.isprintable():
        raise BadParameter(f"{name} must be a printable name of at most {MAX_TEXT} characters")
    return text


def _shown(text: str) -> str:
    return repr(text[:40] + ("..." if len(text) > 40 else ""))
