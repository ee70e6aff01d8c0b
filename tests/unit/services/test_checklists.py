"""Checklists of runs, built from a real SQLite store: items ticked, crossed or left open
from what the run recorded, confirmations, and the text rendering."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.checks import record_check_run
from hostkeeper.adapters.store.runs import StepRecord
from hostkeeper.config import Config
from hostkeeper.core.health import CheckResult, CheckState
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
from hostkeeper.procedures.engine import Engine
from hostkeeper.services.checklists import (
    ChecklistError,
    checklist_lines,
    confirm_item,
    newest_checklists,
    plan_json,
    recent_checklists,
    run_checklist,
)

T0 = datetime(2026, 1, 4, 3, 0, tzinfo=UTC)
MakeConfig = Callable[..., Config]

PROCEDURE: dict[str, Any] = {
    "schedule": {"every": "1h"},
    "before": [{"require": "no_critical_alerts"}],
    "steps": [
        {"run": ["/usr/bin/python3", "tools/migrate.py"]},
        {"run": ["/usr/bin/python3", "tools/docs.py"]},
        "health_check",
    ],
    "checklist": {
        "planning": [{"review": "Review change requests"}],
        "pre": [{"calm": "No critical alert", "precondition": "no_critical_alerts"}],
        "post": [
            {"migrated": "Schema migrated", "step": "run: /usr/bin/python3 tools/migrate.py"},
            {"docs": "Docs generated", "step": "run: /usr/bin/python3 tools/docs.py"},
            {"disk": "Disk has room", "check": "disk"},
            {"documented": "Document changes made"},
        ],
    },
}


@pytest.fixture
def config(make_config: MakeConfig) -> Config:
    return make_config(
        {"weekly": PROCEDURE, "plain": {"schedule": {"every": "1h"}, "steps": ["cleanup"]}},
        checks=[
            {"name": "disk", "type": "disk_free", "path": "/", "warning": "1%", "critical": "0%"}
        ],
    )


def _step(
    position: int, phase: str, name: str, label: str, status: StepStatus, **kw: Any
) -> StepRecord:
    at = T0 + timedelta(seconds=position)
    return StepRecord(position, phase, name, label, status, at, at + timedelta(seconds=1), **kw)


def _run(
    store: Store, steps: list[StepRecord], status: RunStatus | None, at: datetime = T0, **kw: Any
) -> int:
    run_id = run_store.start_run(store, "weekly", Trigger.SCHEDULED, at, **kw)
    for step in steps:
        run_store.record_step(store, run_id, step)
    if status is not None:
        run_store.finish_run(store, run_id, status, at + timedelta(minutes=5), "it failed")
    return run_id


def _items(config: Config, store: Store, run_id: int, now: datetime = T0) -> dict[str, Any]:
    run = run_store.get_run(store, run_id)
    assert run is not None
    checklist = run_checklist(config, store, run, now + timedelta(minutes=1))
    assert checklist is not None
    return {item.name: item for item in checklist.items}


CALM = _step(
    0,
    "before",
    "no_critical_alerts",
    "no_critical_alerts",
    StepStatus.SUCCEEDED,
    summary="no critical alert is firing",
)
# As the command step records them: the label names the program, details the argv.
MIGRATED = _step(
    1,
    "steps",
    "run",
    "run: /usr/bin/python3",
    StepStatus.SUCCEEDED,
    summary="/usr/bin/python3 exited 0",
    details={"argv": ["/usr/bin/python3", "tools/migrate.py"], "returncode": 0},
)
DOCS_FAILED = _step(
    2,
    "steps",
    "run",
    "run: /usr/bin/python3",
    StepStatus.FAILED,
    error="/usr/bin/python3 exited with status 2",
    details={"argv": ["/usr/bin/python3", "tools/docs.py"], "returncode": 2},
)


def test_while_a_run_goes_on_unproved_items_are_open(config: Config, store: Store) -> None:
    run_id = _run(store, [CALM, MIGRATED], status=None)
    items = _items(config, store, run_id)
    assert {n: i.state for n, i in items.items()} == {
        "review": "open",
        "calm": "done",
        "migrated": "done",
        "docs": "open",
        "disk": "open",
        "documented": "open",
    }
    assert items["docs"].evidence is None


def test_two_commands_of_one_program_prove_their_own_items(config: Config, store: Store) -> None:
    run_id = _run(store, [CALM, MIGRATED, DOCS_FAILED], RunStatus.FAILED)
    items = _items(config, store, run_id)
    assert items["migrated"].state == "done"
    assert items["docs"].state == "crossed"
    assert items["docs"].evidence == (
        "step run: /usr/bin/python3 tools/docs.py failed: /usr/bin/python3 exited with status 2"
    )
    assert items["disk"].state == "crossed"
    assert items["disk"].evidence == "check disk not measured during the run"


def test_a_check_counts_only_when_measured_during_the_run(config: Config, store: Store) -> None:
    def disk(state: CheckState, at: datetime) -> CheckResult:
        return CheckResult("disk", "disk_free", state, 50.0, "%", f"disk {state}", 0.1, at)

    record_check_run(store, [disk(CheckState.CRITICAL, T0 - timedelta(hours=1))])
    run_id = _run(store, [CALM], RunStatus.SUCCEEDED)
    assert _items(config, store, run_id)["disk"].state == "crossed"
    record_check_run(store, [disk(CheckState.WARNING, T0 + timedelta(minutes=2))])
    item = _items(config, store, run_id)["disk"]
    assert item.state == "warning"
    assert item.evidence == "check disk warning at 2026-01-04 03:02 UTC: disk warning"


def test_an_unmet_precondition_crosses_its_item_and_every_later_one(
    config: Config, store: Store
) -> None:
    unmet = _step(
        0,
        "before",
        "no_critical_alerts",
        "no_critical_alerts",
        StepStatus.FAILED,
        error="critical alerts firing: disk_full",
    )
    run_id = _run(store, [unmet], RunStatus.SKIPPED)
    items = _items(config, store, run_id)
    assert items["calm"].state == "crossed"
    assert items["calm"].evidence == (
        "precondition no_critical_alerts unmet: critical alerts firing: disk_full"
    )
    assert items["migrated"].state == "crossed"
    assert items["migrated"].evidence.startswith(
        "step run: /usr/bin/python3 tools/migrate.py not run"
    )
    assert items["review"].state == "open"


def test_after_a_step_is_inserted_the_old_run_still_finds_its_steps(
    make_config: MakeConfig, store: Store
) -> None:
    changed = dict(PROCEDURE, steps=["cleanup", *PROCEDURE["steps"]])
    config = make_config(
        {"weekly": changed},
        checks=[
            {"name": "disk", "type": "disk_free", "path": "/", "warning": "1%", "critical": "0%"}
        ],
    )
    run_id = _run(store, [CALM, MIGRATED, DOCS_FAILED], RunStatus.FAILED)
    items = _items(config, store, run_id)
    # Positions moved: each command is still found by its argv.
    assert items["calm"].state == "done"
    assert items["migrated"].state == "done"
    assert items["docs"].state == "crossed"


def test_confirmations_tick_manual_items_with_who_when_and_note(
    config: Config, store: Store
) -> None:
    run_id = _run(store, [CALM], RunStatus.SUCCEEDED)
    done = confirm_item(config, store, run_id, "review", "alice", "CR-7", T0 + timedelta(minutes=9))
    assert (done.confirmed_by, done.note) == ("alice", "CR-7")
    item = _items(config, store, run_id)["review"]
    assert (item.state, item.confirmed_by, item.note) == ("done", "alice", "CR-7")
    assert item.evidence == "confirmed by alice at 2026-01-04 03:09 UTC: CR-7"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("calm", "calm is proved by the run itself (precondition no_critical_alerts)"),
        ("nope", "no checklist item 'nope' in procedure weekly; manual items: review, documented"),
    ],
)
def test_confirm_refuses_what_is_not_a_manual_item(
    config: Config, store: Store, item: str, message: str
) -> None:
    run_id = _run(store, [CALM], RunStatus.SUCCEEDED)
    with pytest.raises(ChecklistError) as refused:
        confirm_item(config, store, run_id, item, "alice", None, T0)
    assert message in str(refused.value)


def test_confirm_refuses_a_second_confirmation_and_a_run_without_checklist(
    config: Config, store: Store
) -> None:
    run_id = _run(store, [CALM], RunStatus.SUCCEEDED)
    confirm_item(config, store, run_id, "review", "alice", None, T0)
    with pytest.raises(ChecklistError, match="already confirmed by alice"):
        confirm_item(config, store, run_id, "review", "bob", None, T0)
    plain = run_store.start_run(store, "plain", Trigger.MANUAL, T0)
    with pytest.raises(ChecklistError, match="has no checklist"):
        confirm_item(config, store, plain, "review", "bob", None, T0)
    with pytest.raises(ChecklistError, match="no run 999"):
        confirm_item(config, store, 999, "review", "bob", None, T0)


def test_newest_and_recent_checklists_leave_dry_runs_and_other_periods_out(
    config: Config, store: Store
) -> None:
    old = _run(store, [CALM], RunStatus.SUCCEEDED, at=T0 - timedelta(days=30))
    real = _run(store, [CALM], RunStatus.SUCCEEDED)
    _run(store, [CALM], RunStatus.SUCCEEDED, at=T0 + timedelta(hours=1), dry_run=True)
    run_store.start_run(store, "plain", Trigger.MANUAL, T0 + timedelta(hours=2))
    now = T0 + timedelta(days=1)
    assert [c.run_id for c in newest_checklists(config, store, now)] == [real]
    assert [c.run_id for c in recent_checklists(config, store, T0 - timedelta(days=7), now)] == [
        real
    ]
    assert [c.run_id for c in recent_checklists(config, store, T0 - timedelta(days=60), now)] == [
        real,
        old,
    ]


def test_the_text_shows_marks_evidence_and_how_to_confirm(config: Config, store: Store) -> None:
    run_id = _run(
        store, [CALM, MIGRATED, DOCS_FAILED], RunStatus.FAILED, started_by="alice", reason="hotfix"
    )
    run = run_store.get_run(store, run_id)
    assert run is not None
    checklist = run_checklist(config, store, run, T0 + timedelta(hours=1))
    assert checklist is not None
    lines = checklist_lines(checklist)
    assert lines[0] == (
        f"weekly run {run_id}: failed (scheduled by alice: hotfix), started 2026-01-04 03:00 UTC"
    )
    assert lines[1] == "checklist: 2 done, 2 crossed, 2 open"
    assert [line for line in lines if not line.startswith("  ")][2:] == ["planning", "pre", "post"]
    review = next(line for line in lines if " review " in line)
    assert review.startswith("  [ ] review")
    assert review.endswith(f"to confirm: hostkeeper confirm {run_id} review")
    docs = next(line for line in lines if " docs " in line)
    assert docs.startswith("  [-] docs")
    assert docs.endswith("exited with status 2")


# -- the checklist a run started with ------------------------------------------------------


def test_a_run_keeps_its_checklist_when_the_procedure_changes_or_goes(
    config: Config, store: Store, make_config: MakeConfig
) -> None:
    planned = plan_json(config.procedures["weekly"])
    run_id = _run(store, [CALM, MIGRATED, DOCS_FAILED], RunStatus.FAILED, checklist=planned)
    before = _items(config, store, run_id)

    changed = dict(PROCEDURE, checklist={"post": [{"other": "Something else entirely"}]})
    for later in (make_config({"weekly": changed}), make_config({"plain": PROCEDURE})):
        after = _items(later, store, run_id)
        assert list(after) == ["review", "calm", "migrated", "docs", "disk", "documented"]
        assert after == before
    # Its manual items are still confirmed against it, with the procedure gone.
    gone = make_config({"plain": PROCEDURE})
    confirm_item(gone, store, run_id, "review", "alice", None, T0 + timedelta(hours=1))
    assert _items(gone, store, run_id)["review"].confirmed_by == "alice"
    with pytest.raises(ChecklistError, match="proved by the run itself"):
        confirm_item(gone, store, run_id, "docs", "alice", None, T0)


def test_a_run_recorded_without_its_checklist_is_shown_against_todays(
    config: Config, store: Store
) -> None:
    run_id = _run(store, [CALM, MIGRATED], RunStatus.SUCCEEDED)  # as before migration 0009
    assert "review" in _items(config, store, run_id)


def test_the_kept_checklist_holds_no_secret_of_a_commands_argv(
    make_config: MakeConfig, store: Store
) -> None:
    argv = ["/usr/bin/curl", "--password=hunter2", "https://backup.example/ping"]
    procedure = {
        "schedule": {"every": "1h"},
        "steps": [{"run": argv}],
        "checklist": {"post": [{"pinged": "Backup pinged", "step": "run: " + " ".join(argv)}]},
    }
    config = make_config({"weekly": procedure})
    planned = plan_json(config.procedures["weekly"])
    assert planned is not None and "hunter2" not in planned
    recorded = ["/usr/bin/curl", "--password=***", "https://backup.example/ping"]
    step = _step(
        0, "steps", "run", "run: /usr/bin/curl", StepStatus.SUCCEEDED, details={"argv": recorded}
    )
    run_id = _run(store, [step], RunStatus.SUCCEEDED, checklist=planned)
    item = _items(config, store, run_id)["pinged"]
    assert item.state == "done"
    assert "hunter2" not in item.reference


def test_the_engine_records_the_checklist_each_run_starts_with(
    make_config: MakeConfig, store: Store
) -> None:
    procedure = {
        "schedule": {"every": "1h"},
        "steps": [{"run": ["true"]}],
        "checklist": {"post": [{"ran": "It ran", "step": "run: true"}, {"ok": "Looked at it"}]},
    }
    config = make_config({"weekly": procedure})
    report = Engine(lambda: config, store).run("weekly")
    assert report.run_id is not None
    run = run_store.get_run(store, report.run_id)
    assert run is not None and run.checklist == plan_json(config.procedures["weekly"])
    plain = make_config({"plain": {"schedule": {"every": "1h"}, "steps": [{"run": ["true"]}]}})
    report = Engine(lambda: plain, store).run("plain")
    assert report.run_id is not None
    run = run_store.get_run(store, report.run_id)
    assert run is not None and run.checklist is None
