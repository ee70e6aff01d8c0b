"""The Prometheus exposition rendered from a real store: counters never go negative."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.files import FileActionCounts, record_file_action
from hostkeeper.config import Config
from hostkeeper.services.status import build_status
from hostkeeper.services.status_model import HostStatus
from hostkeeper.steps.rotate_logs import rotate
from hostkeeper.web.prometheus import render

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)
_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?P<labels>\{[^}]*\})? (?P<value>\S+)$")


def _status(store: Store, config: Config) -> HostStatus:
    return build_status(store, config, now=NOW, next_runs={})


def _counters(exposition: str) -> dict[str, float]:
    """Every sample of every counter family, by name and labels."""
    counters = {line.split()[2] for line in exposition.splitlines() if line.endswith(" counter")}
    samples = {}
    for line in exposition.splitlines():
        match = _SAMPLE.match(line)
        if match and match["name"] in counters:
            samples[match["name"] + (match["labels"] or "")] = float(match["value"])
    return samples


def test_compressing_a_tiny_log_never_makes_freed_bytes_negative(
    make_config: Callable[..., Config], store: Store, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "app.log").write_text("x\n")  # its .gz is ~25 bytes: larger than the log
    config = make_config(
        logs=[{"name": "app", "paths": [f"{logs}/*.log"], "keep": 3, "compress": True}]
    )

    [outcome] = rotate(config, store, now=NOW)

    assert outcome.all_errors == []
    [log] = outcome.logs
    assert log.compressed == ["app.log.1"]
    assert log.bytes_freed == 0
    assert log.bytes_grown > 0  # recorded honestly, apart from what was freed
    counters = _counters(render(_status(store, config)))
    assert counters['hostkeeper_files_freed_bytes_total{kind="rotate"}'] == 0
    assert counters['hostkeeper_files_compressed_total{kind="rotate"}'] == 1
    assert all(value >= 0 for value in counters.values()), counters


def test_negative_freed_bytes_recorded_by_an_older_version_do_not_lower_the_counter(
    make_config: Callable[..., Config], store: Store
) -> None:
    config = make_config()
    for freed in (1000, -37):
        record_file_action(
            store,
            kind="rotate",
            policy="app",
            at=NOW,
            counts=FileActionCounts(compressed=1, bytes_freed=freed),
        )
    counters = _counters(render(_status(store, config)))
    assert counters['hostkeeper_files_freed_bytes_total{kind="rotate"}'] == 1000
