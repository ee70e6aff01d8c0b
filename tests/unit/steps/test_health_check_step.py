"""The `health_check` step run by the real engine against a real SQLite store."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import checks as check_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.config import Config
from hostkeeper.core.health import CheckState
from hostkeeper.core.runs import RunStatus, StepStatus
from hostkeeper.procedures.engine import Engine

RunProcedure = Callable[..., tuple[Any, run_store.StepRecord]]


@pytest.fixture
def run_procedure(make_config: Callable[..., Config], store: Store) -> RunProcedure:
    """Run procedure `p` with `steps` and config `sections`; the report and first step."""

    def run(steps: list[Any], dry_run: bool = False, **sections: Any) -> Any:
        config = make_config({"p": {"schedule": {"hour": 2}, "steps": steps}}, **sections)
        report = Engine(lambda: config, store).run("p", dry_run=dry_run)
        (record,) = run_store.list_runs(store, "p", limit=1)
        return report, record.steps[0]

    return run


@pytest.fixture
def listener() -> Iterator[int]:
    """A port that accepts connections (the kernel does) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port() -> int:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


def _disk(tmp_path: Path, name: str = "disk") -> dict[str, Any]:
    return {
        "name": name,
        "type": "disk_free",
        "path": str(tmp_path),
        "warning": "0%",
        "critical": "0%",
    }


def _tcp(name: str, port: int) -> dict[str, Any]:
    return {"name": name, "type": "tcp", "host": "127.0.0.1", "port": port, "timeout": "2s"}


def test_all_checks_ok_succeeds_and_stores_results_and_score(
    run_procedure: RunProcedure, store: Store, tmp_path: Path, listener: int
) -> None:
    report, step = run_procedure(
        ["health_check"], checks=[_disk(tmp_path), _tcp("broker", listener)]
    )
    assert report.status is RunStatus.SUCCEEDED
    assert step.status is StepStatus.SUCCEEDED
    assert step.summary == "health score 100: 2 ok"
    latest = check_store.latest_results(store)
    assert {name: r.state for name, r in latest.items()} == {
        "disk": CheckState.OK,
        "broker": CheckState.OK,
    }
    score = check_store.latest_score(store)
    assert score is not None and score.score == 100.0
    assert step.details is not None and step.details["state"] == "ok"


def test_a_critical_check_is_a_warning_step_and_the_procedure_goes_on(
    run_procedure: RunProcedure, store: Store, tmp_path: Path, listener: int, closed_port: int
) -> None:
    marker = tmp_path / "after-health-check"
    report, step = run_procedure(
        ["health_check", {"run": ["touch", str(marker)]}],
        checks=[_disk(tmp_path), _tcp("broker", closed_port), _tcp("db", listener)],
        health_score={"weights": {"broker": 2}},
    )
    assert step.status is StepStatus.WARNING
    assert report.status is RunStatus.WARNING
    assert marker.exists()
    assert "not ok: broker" in (step.summary or "")
    score = check_store.latest_score(store)
    assert score is not None and score.score == pytest.approx(50.0)  # (100 + 0*2 + 100) / 4
    assert check_store.latest_results(store)["broker"].state is CheckState.CRITICAL


def test_only_unknown_checks_store_a_score_of_none_and_warn(
    run_procedure: RunProcedure, store: Store, tmp_path: Path
) -> None:
    unreadable = {**_disk(tmp_path / "absent"), "name": "gone"}
    _report, step = run_procedure(["health_check"], checks=[unreadable])
    assert step.status is StepStatus.WARNING
    assert "health score none" in (step.summary or "")
    score = check_store.latest_score(store)
    assert score is not None and score.score is None


def test_no_checks_configured_succeeds_and_stores_nothing(
    run_procedure: RunProcedure, store: Store
) -> None:
    _report, step = run_procedure(["health_check"])
    assert step.status is StepStatus.SUCCEEDED
    assert step.summary == "no checks configured"
    assert check_store.latest_score(store) is None


def test_a_dry_run_runs_the_checks_but_stores_nothing(
    run_procedure: RunProcedure, store: Store, tmp_path: Path
) -> None:
    _report, step = run_procedure(["health_check"], dry_run=True, checks=[_disk(tmp_path)])
    assert step.status is StepStatus.SUCCEEDED
    assert (step.summary or "").startswith("dry run, not stored: health score 100")
    assert check_store.latest_results(store) == {}
    assert check_store.latest_score(store) is None


def test_the_steps_timeout_caps_the_checks_and_the_step_still_reports(
    run_procedure: RunProcedure, store: Store, listener: int
) -> None:
    slow = {
        "name": "api",
        "type": "http",
        "url": f"http://127.0.0.1:{listener}/",
        "timeout": "60s",
    }
    _report, step = run_procedure([{"health_check": None, "timeout": "1s"}], checks=[slow])
    assert step.status is StepStatus.WARNING
    result = check_store.latest_results(store)["api"]
    assert result.state is CheckState.CRITICAL
    assert result.detail.startswith("no response within 0.")
