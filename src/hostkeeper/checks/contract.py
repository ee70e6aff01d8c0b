"""What a check module provides: the contract every entry of checks.MODULES is checked
against when its module is loaded.

A check type is one module, `hostkeeper.checks.<type>`, its config model (a member of
`config.checks.Check`, whose `type` literal is the type's name) and one line in MODULES.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hostkeeper.core.health import Measurement


class CheckModule(Protocol):
    TYPE: str
    """The check type, as written in `type:` and listed in MODULES."""
    CONFIG: type[Any]
    """The config model of this type (a `config.checks.CheckBase` subclass)."""

    def measure(self, check: Any, timeout: float) -> Measurement:
        """Measure once, taking at most `timeout` seconds: the state (ok, warning,
        critical or unknown with the reason), value, unit and detail. Raise
        CheckUnavailable when the check cannot run here."""
        ...
