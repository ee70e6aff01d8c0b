"""Self-contained HTML pages (inline CSS, no scripts, printable), rendered from the Jinja2
templates shipped in `templates/` folders inside the package.

Every value a template prints is escaped (autoescape, no `|safe` anywhere); the only
markup that passes through as it is comes from `markup.element` (the charts), which
escapes what it is given. An undefined name in a template is an error, not an empty
string. Jinja2 is imported when the first page renders, not when this module is
imported: the daemon serves no page until someone asks, and keeps the memory till then.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hostkeeper.core.numbers import (
    format_bytes,
    format_change,
    format_number,
    format_percent,
    format_quantity,
    format_seconds,
    format_share,
)

if TYPE_CHECKING:
    import jinja2

SHARED = "hostkeeper.reports"  # the package whose templates/ holds the layout and macros


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def state_of_score(score: float | None) -> str | None:
    """The state a health score is shown in: ok from 80, warning from 50."""
    if score is None:
        return None
    return "ok" if score >= 80 else "warning" if score >= 50 else "critical"


def verified(ok: bool | None) -> str:
    """A verification or test result: `never`, `ok` or `FAILED`."""
    return {None: "never", True: "ok", False: "FAILED"}[ok]


FILTERS = {
    "when": when,
    "verified": verified,
    "seconds": format_seconds,
    "bytes": format_bytes,
    "percent": format_percent,
    "share": format_share,
    "number": format_number,
    "change": format_change,
    "quantity": format_quantity,
}


def render(template: str, context: Mapping[str, Any], package: str = SHARED) -> str:
    """Template `template` of `package` (whose templates may extend the shared layout)
    filled from `context`."""
    return environment(package).get_template(template).render(context)


@functools.cache
def environment(package: str) -> jinja2.Environment:
    """One environment per package, its own templates first, then the shared ones."""
    import jinja2

    packages = dict.fromkeys([package, SHARED])
    loader = jinja2.ChoiceLoader([jinja2.PackageLoader(name, "templates") for name in packages])
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env
