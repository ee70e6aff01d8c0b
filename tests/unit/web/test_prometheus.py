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


def test_dependency_findings_are_counted_by_severity(
    make_config: Callable[..., Config], store: Store
) -> None:
    from hostkeeper.adapters.store.dependencies import record_dependency_audit
    from hostkeeper.core.dependencies import Finding, Kind, Severity

    config = make_config()
    before = render(_status(store, config))
    assert "hostkeeper_dependency_findings{" not in before  # no audit yet: no samples
    findings = [
        Finding(Kind.VULNERABILITY, Severity.CRITICAL, "self", "a", "s", "1", "A-1"),
        Finding(Kind.VULNERABILITY, Severity.CRITICAL, "self", "b", "s", "1", "B-1"),
        Finding(Kind.OS_SECURITY_UPDATE, Severity.HIGH, "os", "libssl3", "s"),
    ]
    record_dependency_audit(store, findings, {"vulnerabilities:self", "os:packages"}, NOW)
    samples = {
        match["name"] + (match["labels"] or ""): float(match["value"])
        for line in render(_status(store, config)).splitlines()
        if (match := _SAMPLE.match(line))
    }
    assert samples['hostkeeper_dependency_findings{severity="critical"}'] == 2
    assert samples['hostkeeper_dependency_findings{severity="high"}'] == 1
    assert samples['hostkeeper_dependency_findings{severity="low"}'] == 0
    assert samples["hostkeeper_dependency_audit_timestamp_seconds"] == NOW.timestamp()
