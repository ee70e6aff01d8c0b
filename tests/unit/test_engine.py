"""The procedure engine against a real SQLite store, real commands and real locks."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.schema import alerts
from hostkeeper.config import Config
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
from hostkeeper.procedures.engine import Engine, RunReport, UnknownProcedure, lock_path
from hostkeeper.steps import STEPS

from .support import process_gone

MakeEngine = Callable[..., Engine]


@pytest.fixture
def make_engine(make_config: Callable[..., Config], store: Store) -> MakeEngine:
    """An engine over the shared store for procedures given as config dicts."""

    def build(procedures: dict[str, Any], listener: Any = None, **sections: Any) -> Engine:
        config = make_config(procedures, **sections)
        return Engine(lambda: config, store, listener)

    return build


def _procedure(*steps: Any, **options: Any) -> dict[str, Any]:
    return {"p": {"schedule": {"hour": 2}, "steps": list(steps), **options}}


def _touch(path: Path) -> dict[str, Any]:
    return {"run": ["touch", str(path)]}


def _stored(store: Store, run_id: int | None) -> run_store.RunRecord:
    (record,) = [r for r in run_store.list_runs(store, limit=1000) if r.id == run_id]
    return record


def _statuses(record: run_store.RunRecord) -> list[tuple[str, str, StepStatus]]:
    return [(step.phase, step.label, step.status) for step in record.steps]


def test_successful_run_records_the_run_and_each_step(
    make_engine: MakeEngine, store: Store
) -> None:
    engine = make_engine(_procedure({"run": ["echo", "hello"]}, {"run": ["true"]}))
    before = datetime.now(UTC)

    report = engine.run("p", Trigger.SCHEDULED, scheduled_for=before)

    assert report.status is RunStatus.SUCCEEDED
    assert report.error is None
    record = _stored(store, report.run_id)
    assert record.status == "succeeded"
    assert record.trigger == "scheduled"
    assert record.scheduled_for == before
    assert record.started_at >= before - timedelta(seconds=1)
    assert record.finished_at is not None and record.finished_at >= record.started_at
    assert record.duration_seconds is not None and record.duration_seconds >= 0
    assert record.dry_run is False
    assert _statuses(record) == [
        ("steps", "run: echo", StepStatus.SUCCEEDED),
        ("steps", "run: true", StepStatus.SUCCEEDED),
    ]
    assert record.steps[0].output == "hello\n"
    assert record.steps[0].summary == "echo exited 0"
    assert record.steps[0].details == {
        "argv": ["echo", "hello"],
        "returncode": 0,
        "seconds": record.steps[0].details["seconds"],  # type: ignore[index]
    }


def test_failing_step_with_abort_skips_the_rest_but_after_steps_run(
    make_engine: MakeEngine, store: Store, tmp_path: Path
) -> None:
    engine = make_engine(
        _procedure(
            {"run": ["sh", "-c", "exit 3"]},
            _touch(tmp_path / "second"),
            _touch(tmp_path / "third"),
            after=[_touch(tmp_path / "after")],
        )
    )

    report = engine.run("p")

    assert report.status is RunStatus.FAILED
    assert report.error == "run: sh: sh exited with status 3"
    record = _stored(store, report.run_id)
    assert record.status == "failed"
    assert _statuses(record) == [
        ("steps", "run: sh", StepStatus.FAILED),
        ("steps", "run: touch", StepStatus.SKIPPED),
        ("steps", "run: touch", StepStatus.SKIPPED),
        ("after", "run: touch", StepStatus.SUCCEEDED),
    ]
    assert record.steps[1].summary == "not run: run: sh failed"
    assert [step.position for step in record.steps] == [0, 1, 2, 3]
    assert not (tmp_path / "second").exists()
    assert not (tmp_path / "third").exists()
    assert (tmp_path / "after").exists()


def test_failing_step_with_continue_goes_on(
    make_engine: MakeEngine, store: Store, tmp_path: Path
) -> None:
    engine = make_engine(
        _procedure(
            {"run": ["sh", "-c", "exit 3"], "on_failure": "continue"},
            _touch(tmp_path / "second"),
        )
    )

    report = engine.run("p")

    assert _statuses(_stored(store, report.run_id)) == [
        ("steps", "run: sh", StepStatus.FAILED),
        ("steps", "run: touch", StepStatus.SUCCEEDED),
    ]
    assert (tmp_path / "second").exists()
    # The run still failed: a step did, even though the procedure carried on.
    assert report.status is RunStatus.FAILED


def test_missing_executable_fails_the_step_with_a_clear_error(
    make_engine: MakeEngine, store: Store
) -> None:
    report = make_engine(_procedure({"run": ["/nonexistent/bin/tool"]})).run("p")
    assert report.status is RunStatus.FAILED
    (step,) = _stored(store, report.run_id).steps
    assert step.status is StepStatus.FAILED
    assert step.error == (
        "/nonexistent/bin/tool cannot start /nonexistent/bin/tool: No such file or directory"
    )


def test_step_timeout_fails_the_step_and_kills_its_process_group(
    make_engine: MakeEngine, store: Store, tmp_path: Path
) -> None:
    pid_file = tmp_path / "child.pid"
    engine = make_engine(
        _procedure(
            {"run": ["sleep", "10"], "timeout": "1s", "on_failure": "continue"},
            {"run": ["sh", "-c", f"sleep 30 & echo $! > {pid_file}; wait"], "timeout": "1s"},
        )
    )
    started = time.monotonic()

    report = engine.run("p")

    assert time.monotonic() - started < 9
    record = _stored(store, report.run_id)
    assert [step.status for step in record.steps] == [StepStatus.FAILED, StepStatus.FAILED]
    assert all("timed out after" in (step.error or "") for step in record.steps)
    assert all(step.duration_seconds < 4 for step in record.steps)
    assert process_gone(int(pid_file.read_text()))


def test_large_output_is_stored_truncated_with_head_and_tail(
    make_engine: MakeEngine, store: Store
) -> None:
    script = "import sys; sys.stdout.write('FIRST-LINE\\n' + 'x' * 200_000 + '\\nLAST-LINE\\n')"
    report = make_engine(_procedure({"run": [sys.executable, "-c", script]})).run("p")
    (step,) = _stored(store, report.run_id).steps
    assert step.status is StepStatus.SUCCEEDED
    assert step.output is not None
    assert len(step.output) <= 64 * 1024
    assert step.output.startswith("FIRST-LINE\n")
    assert step.output.endswith("\nLAST-LINE\n")
    assert "omitted" in step.output


def test_env_and_cwd_of_a_command_step_are_honoured(
    make_engine: MakeEngine, store: Store, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    step = {
        "run": ["sh", "-c", 'echo "$GREETING"; pwd'],
        "env": {"GREETING": "hello from env"},
        "cwd": str(workdir),
    }
    report = make_engine(_procedure(step)).run("p")
    (recorded,) = _stored(store, report.run_id).steps
    assert recorded.output == f"hello from env\n{workdir}\n"


def test_disk_free_precondition_met_lets_the_run_go_on(
    make_engine: MakeEngine, store: Store, tmp_path: Path
) -> None:
    engine = make_engine(
        _procedure(
            _touch(tmp_path / "ran"),
            before=[{"require": "disk_free", "path": str(tmp_path), "min": "0%"}],
        )
    )
    report = engine.run("p")
    assert report.status is RunStatus.SUCCEEDED
    record = _stored(store, report.run_id)
    assert [(step.phase, step.status) for step in record.steps] == [
        ("before", StepStatus.SUCCEEDED),
        ("steps", StepStatus.SUCCEEDED),
    ]
    assert record.steps[0].label == f"disk_free {tmp_path} >= 0%"
    assert (tmp_path / "ran").exists()


def test_disk_free_precondition_unmet_skips_the_run_and_records_why(
    make_engine: MakeEngine, store: Store, tmp_path: Path
) -> None:
    engine = make_engine(
        _procedure(
            _touch(tmp_path / "ran"),
            before=[{"require": "disk_free", "path": str(tmp_path), "min": "100%"}],
            after=[_touch(tmp_path / "after")],
        )
    )
    report = engine.run("p")
    assert report.status is RunStatus.SKIPPED
    assert report.error is not None
    assert report.error.startswith("precondition unmet: ")
    assert "need 100%" in report.error
    record = _stored(store, report.run_id)
    assert record.status == "skipped"
    assert record.error == report.error
    assert [(step.phase, step.status) for step in record.steps] == [("before", StepStatus.FAILED)]
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / "after").exists()


def test_disk_free_precondition_on_a_missing_path_is_unmet(
    make_engine: MakeEngine, tmp_path: Path
) -> None:
    engine = make_engine(
        _procedure(
            {"run": ["true"]},
            before=[{"require": "disk_free", "path": str(tmp_path / "absent"), "min": "0%"}],
        )
    )
    report = engine.run("p")
    assert report.status is RunStatus.SKIPPED
    assert "cannot read" in (report.error or "")


def _add_alert(store: Store, rule: str, severity: str, state: str, host: str | None = None) -> None:
    with store.write() as connection:
        connection.execute(
            insert(alerts).values(
                host=host or store.host,
                rule=rule,
                severity=severity,
                state=state,
                pending_since=datetime.now(UTC),
                notifications=0,
                false_positive=False,
            )
        )


def test_no_critical_alerts_unmet_while_a_critical_alert_is_firing(
    make_engine: MakeEngine, store: Store, tmp_path: Path
) -> None:
    engine = make_engine(
        _procedure(_touch(tmp_path / "ran"), before=[{"require": "no_critical_alerts"}])
    )
    _add_alert(store, "disk_full", "critical", "firing")

    report = engine.run("p")

    assert report.status is RunStatus.SKIPPED
    assert report.error == "precondition unmet: critical alerts firing: disk_full"
    record = _stored(store, report.run_id)
    assert record.status == "skipped"
    assert _statuses(record) == [("before", "no_critical_alerts", StepStatus.FAILED)]
    assert not (tmp_path / "ran").exists()


def test_no_critical_alerts_ignores_other_states_severities_and_hosts(
    make_engine: MakeEngine, store: Store
) -> None:
    engine = make_engine(_procedure({"run": ["true"]}, before=[{"require": "no_critical_alerts"}]))
    _add_alert(store, "resolved_one", "critical", "resolved")
    _add_alert(store, "pending_one", "critical", "pending")
    _add_alert(store, "warning_one", "warning", "firing")
    _add_alert(store, "elsewhere", "critical", "firing", host="another-host")

    report = engine.run("p")

    assert report.status is RunStatus.SUCCEEDED
    assert _stored(store, report.run_id).steps[0].summary == "no critical alert is firing"


def _unbuilt_step() -> str:
    for name, definition in STEPS.items():
        if definition.module is None and not definition.argument.required:
            return name
    pytest.skip("every built-in step is implemented")


def test_documented_but_unbuilt_step_fails_clearly_and_never_succeeds(
    make_engine: MakeEngine, store: Store
) -> None:
    name = _unbuilt_step()
    report = make_engine(_procedure(name)).run("p")
    assert report.status is RunStatus.FAILED
    (step,) = _stored(store, report.run_id).steps
    assert step.status is StepStatus.FAILED
    assert step.error is not None
    assert f"step {name!r}" in step.error
    assert "not available in this version" in step.error


def test_run_is_skipped_while_another_process_holds_the_procedure_lock(
    make_engine: MakeEngine,
    make_config: Callable[..., Config],
    store: Store,
    tmp_path: Path,
    hold_lock: Callable[[Path], subprocess.Popen[str]],
) -> None:
    engine = make_engine(_procedure(_touch(tmp_path / "ran")))
    holder = hold_lock(lock_path(make_config(), "p"))

    report = engine.run("p", Trigger.SCHEDULED)

    assert report.status is RunStatus.SKIPPED
    assert report.error == f"already running (pid {holder.pid})"
    record = _stored(store, report.run_id)
    assert record.status == "skipped"
    assert record.error == report.error
    assert record.steps == []
    assert not (tmp_path / "ran").exists()


def test_lock_is_free_again_after_a_run(make_engine: MakeEngine, store: Store) -> None:
    engine = make_engine(_procedure({"run": ["true"]}))
    assert engine.run("p").status is RunStatus.SUCCEEDED
    assert engine.run("p").status is RunStatus.SUCCEEDED


def test_dry_run_is_recorded_and_skips_command_steps(
    make_engine: MakeEngine, store: Store, tmp_path: Path
) -> None:
    engine = make_engine(_procedure(_touch(tmp_path / "ran")))

    report = engine.run("p", dry_run=True)

    assert report.status is RunStatus.SUCCEEDED
    record = _stored(store, report.run_id)
    assert record.dry_run is True
    (step,) = record.steps
    assert step.status is StepStatus.SKIPPED
    assert step.summary == f"dry run: would run touch {tmp_path / 'ran'}"
    assert not (tmp_path / "ran").exists()


def test_listener_hears_start_and_success(make_engine: MakeEngine) -> None:
    events: list[tuple[str, str, RunStatus]] = []

    def listener(name: str, event: str, report: RunReport) -> None:
        events.append((name, event, report.status))

    make_engine(_procedure({"run": ["true"]}), listener).run("p")

    assert events == [("p", "start", RunStatus.RUNNING), ("p", "success", RunStatus.SUCCEEDED)]


def test_listener_hears_start_and_failure(make_engine: MakeEngine) -> None:
    events: list[tuple[str, RunStatus]] = []
    engine = make_engine(
        _procedure({"run": ["false"]}),
        lambda _n, event, report: events.append((event, report.status)),
    )
    engine.run("p")
    assert events == [("start", RunStatus.RUNNING), ("failure", RunStatus.FAILED)]


def test_listener_hears_failure_for_a_run_skipped_by_a_precondition(
    make_engine: MakeEngine, tmp_path: Path
) -> None:
    events: list[str] = []
    engine = make_engine(
        _procedure(
            {"run": ["true"]},
            before=[{"require": "disk_free", "path": str(tmp_path), "min": "100%"}],
        ),
        lambda _n, event, _r: events.append(event),
    )
    engine.run("p")
    assert events == ["start", "failure"]


def test_broken_listener_never_fails_a_run(make_engine: MakeEngine) -> None:
    def listener(_name: str, _event: str, _report: RunReport) -> None:
        raise RuntimeError("mail server on fire")

    report = make_engine(_procedure({"run": ["true"]}), listener).run("p")
    assert report.status is RunStatus.SUCCEEDED


def test_shutdown_during_a_command_step_aborts_it(
    make_engine: MakeEngine, store: Store, tmp_path: Path
) -> None:
    pid_file = tmp_path / "step.pid"
    engine = make_engine(
        _procedure(
            {"run": ["sh", "-c", f"echo $$ > {pid_file}; exec sleep 30"]},
            _touch(tmp_path / "second"),
            after=[_touch(tmp_path / "after")],
        )
    )
    reports: list[RunReport] = []
    runner = threading.Thread(target=lambda: reports.append(engine.run("p")))
    started = time.monotonic()
    runner.start()
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.05)
    assert engine.active == {"p"}

    engine.shutdown.set()
    runner.join(timeout=20)

    assert not runner.is_alive()
    assert time.monotonic() - started < 15
    (report,) = reports
    assert report.status is RunStatus.ABORTED
    record = _stored(store, report.run_id)
    assert record.status == "aborted"
    assert _statuses(record) == [
        ("steps", "run: sh", StepStatus.ABORTED),
        ("steps", "run: touch", StepStatus.SKIPPED),
        ("after", "run: touch", StepStatus.SKIPPED),
    ]
    assert "shutting down" in (record.steps[0].error or "")
    assert record.steps[2].summary == "not run: hostkeeper is stopping"
    assert process_gone(int(pid_file.read_text()))
    assert not (tmp_path / "second").exists()
    assert not (tmp_path / "after").exists()
    assert engine.active == set()
    assert engine.wait_idle(0.1)


def test_run_after_shutdown_is_recorded_as_skipped(make_engine: MakeEngine, store: Store) -> None:
    engine = make_engine(_procedure({"run": ["true"]}))
    engine.shutdown.set()
    report = engine.run("p")
    assert report.status is RunStatus.SKIPPED
    assert report.error == "hostkeeper is stopping"
    assert _stored(store, report.run_id).status == "skipped"


def test_unknown_procedure_raises(make_engine: MakeEngine) -> None:
    with pytest.raises(UnknownProcedure):
        make_engine(_procedure({"run": ["true"]})).run("nope")


def test_config_is_read_once_per_run(store: Store, make_config: Callable[..., Config]) -> None:
    first = make_config(_procedure({"run": ["true"]}))
    second = make_config(_procedure({"run": ["false"]}))
    configs = iter([first, second])
    engine = Engine(lambda: next(configs), store)
    assert engine.run("p").status is RunStatus.SUCCEEDED
    assert engine.run("p").status is RunStatus.FAILED


def test_wait_idle_times_out_while_a_run_is_active(make_engine: MakeEngine) -> None:
    engine = make_engine(_procedure({"run": ["sleep", "1"]}))
    runner = threading.Thread(target=engine.run, args=("p",))
    runner.start()
    deadline = time.monotonic() + 10
    while not engine.active:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert engine.wait_idle(0.05) is False
    assert engine.wait_idle(15) is True
    runner.join(timeout=15)
