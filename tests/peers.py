"""Missing real peers: a skip on a developer's machine, a failure in CI.

Tests that need a real peer (systemd, PostgreSQL, promtool, Chromium, Alertmanager,
logrotate, ...) call `missing_peer(reason)` instead of `pytest.skip`. Under `CI=true`
the test fails instead, so a broken install step in `.ci/run` turns CI red rather than
green with skips.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing_peer(reason: str, *, module_level: bool = False) -> NoReturn:
    """Skip the test (or the whole module) for a missing peer; fail under CI=true."""
    if in_ci():
        pytest.fail(f"{reason}; CI=true, so .ci/run must provide it", pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)
