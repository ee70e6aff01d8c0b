"""A small builder of escaped markup, for the inline SVG charts.

Every text node and every attribute value given to `element` is escaped; tag and
attribute names are checked against a strict pattern (they come from our code, never
from data). The result is a `Fragment`, which the templates print as it is through the
`__html__` protocol that Jinja's autoescape honours: the one kind of pre-built markup
the pages accept, and it can only be made here. The module is stdlib only, so charts
cost the daemon no template engine until a page renders.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9:-]*")
_SPECIAL = re.compile(r"[&<>\"']")

AttributeValue = str | int | float


@dataclass(frozen=True)
class Fragment:
    """Markup made by `element`, safe to print into a page as it is."""

    markup: str

    def __html__(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup

    def __add__(self, other: Fragment) -> Fragment:
        return Fragment(self.markup + other.markup)


Child = Fragment | str | None


def element(
    tag: str,
    attributes: Mapping[str, AttributeValue | None] | None = None,
    children: Iterable[Child] = (),
) -> Fragment:
    """`<tag a="v">children</tag>`, or `<tag a="v"/>` without children; text children
    and attribute values are escaped, None attributes and children left out."""
    _check_name(tag)
    parts = [tag]
    for name, value in (attributes or {}).items():
        _check_name(name)
        if value is not None:
            parts.append(f'{name}="{_attribute(value)}"')
    opening = " ".join(parts)
    inner = "".join(
        child.markup if isinstance(child, Fragment) else html.escape(child, quote=False)
        for child in children
        if child is not None
    )
    if not inner:
        return Fragment(f"<{opening}/>")
    return Fragment(f"<{opening}>{inner}</{tag}>")


def join(fragments: Iterable[Fragment]) -> Fragment:
    return Fragment("".join(fragment.markup for fragment in fragments))


def _attribute(value: AttributeValue) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"  # coordinates: a tenth of a pixel is enough
    if isinstance(value, int):
        return str(value)
    # most values (coordinates, colours) have nothing to escape: skip the copying then
    return html.escape(value, quote=True) if _SPECIAL.search(value) else value


@functools.cache  # a chart repeats the same few names thousands of times
def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a markup name: {name!r}")
