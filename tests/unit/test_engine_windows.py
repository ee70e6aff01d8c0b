"""The engine opens a maintenance window for each real run whose preconditions are met,
and closes it when the run ends, whatever the run's result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.config import Config
from hostkeeper.core.runs import RunStatus
from hostkeeper.core.windows import WindowKind
from hostkeeper.procedures.engine import Engine

Opened = list[tuple[str, int]]


@pytest.fixture
def engine_for(
    make_config: Callable[..., Config], store: Store
) -> Callable[..., tuple[Engine, Opened]]:
    def build(procedure: dict[str, Any]) -> tuple[Engine, Opened]:
        config = make_config({"p": {"schedule": {"hour": 2}, **procedure}})
        opened: Opened = []
        engine = Engine(
            lambda: config, store, on_window=lambda name, window: opened.append((name, window))
        )
        return engine, opened

    return build


def test_a_run_opens_a_window_for_its_steps_and_closes_it_at_its_end(
    engine_for: Callable[..., tuple[Engine, Opened]], store: Store
) -> None:
    engine, opened = engine_for({"steps": [{"run": ["true"]}, {"run": ["false"]}]})
    report = engine.run("p")
    assert report.status is RunStatus.FAILED
    [window] = window_store.recent_windows(store)
    assert opened == [("p", window.id)] and report.window_id == window.id
    assert window.kind is WindowKind.RUN and window.name == "p" and window.run_id == report.run_id
    assert window.closed_at is not None and window.starts_at <= window.closed_at
    assert window.hold_until == window.closed_at + window.grace


def test_dry_runs_unmet_preconditions_and_window_false_open_none(
    engine_for: Callable[..., tuple[Engine, Opened]], store: Store, tmp_path: Path
) -> None:
    dry, opened = engine_for({"steps": [{"run": ["true"]}]})
    assert dry.run("p", dry_run=True).status is RunStatus.SUCCEEDED
    unmet, _ = engine_for(
        {
            "before": [{"require": "disk_free", "path": str(tmp_path), "min": "100%"}],
            "steps": [{"run": ["true"]}],
        }
    )
    assert unmet.run("p").status is RunStatus.SKIPPED
    without, _ = engine_for({"steps": [{"run": ["true"]}], "maintenance": {"window": False}})
    assert without.run("p").status is RunStatus.SUCCEEDED
    assert window_store.recent_windows(store) == [] and opened == []
