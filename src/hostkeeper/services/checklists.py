"""Checklists of runs: each item of a procedure's `checklist:` ticked, flagged, crossed or
left open from the run record (steps, preconditions, checks measured during the run)
and the confirmations people made; and confirming a manual item.

A run is shown against the checklist it started with (`plan_json`, kept in the run's
record): a later change of the procedure's checklist, or its removal from the
configuration, leaves the run's checklist as it was. Runs recorded before the store kept
it (migration 0009) are shown against today's configuration. Every reader takes its
checklists from here: `hostkeeper checklist`, the status model (dashboard, /api/status),
the per-day log and the weekly and monthly reports.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import checklists as checklist_store
from hostkeeper.adapters.store.checklists import AlreadyConfirmed, Confirmation
from hostkeeper.adapters.store.checks import results_during
from hostkeeper.adapters.store.runs import RunRecord, StepRecord, get_run, list_runs
from hostkeeper.config import Config
from hostkeeper.config.procedures import Procedure
from hostkeeper.config.step_references import StepReference, resolve_step
from hostkeeper.core.checklists import (
    MARKS,
    ItemSource,
    ItemState,
    check_item_state,
    count_states,
    describe_counts,
    manual_item_state,
    step_item_state,
)
from hostkeeper.core.health import CheckResult
from hostkeeper.core.redact import argv_secrets, redact_argv, redact_text
from hostkeeper.core.runs import describe_origin
from hostkeeper.services.status_model import ChecklistItemStatus, ChecklistStatus

EVIDENCE_WIDTH = 160  # text renderings cut longer evidence; JSON keeps all of it


class ChecklistError(Exception):
    """A confirmation that cannot be recorded, with the reason to show."""


def procedures_with_checklists(config: Config) -> list[str]:
    return [name for name, procedure in config.procedures.items() if procedure.checklist]


# -- the plan: what a run's checklist holds -----------------------------------------------


@dataclass(frozen=True)
class PlannedItem:
    """One item of a run's checklist as its run started: what it says and what proves
    it (`kind`: step, precondition, check or manual), a step item's step resolved (None
    when its reference names no single step: the item is then crossed as not run)."""

    section: str
    name: str
    text: str
    kind: str
    reference: str | None = None
    step: StepReference | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"section": self.section, "name": self.name, "text": self.text}
        data["kind"] = self.kind
        if self.reference is not None:
            data["reference"] = self.reference
        if self.step is not None:
            data["step"] = [self.step.phase, self.step.position, self.step.label]
            if self.step.argv is not None:
                data["argv"] = list(self.step.argv)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlannedItem:
        step = None
        if "step" in data:
            phase, position, label = data["step"]
            argv = tuple(map(str, data["argv"])) if "argv" in data else None
            step = StepReference(str(phase), int(position), str(label), argv)
        return cls(
            section=str(data["section"]),
            name=str(data["name"]),
            text=str(data["text"]),
            kind=str(data["kind"]),
            reference=data.get("reference"),
            step=step,
        )


def plan(procedure: Procedure) -> list[PlannedItem]:
    """The checklist of `procedure` as a run of it starts now. A command step's argv is
    kept as the step records it (secrets redacted), which is what finds its record."""
    planned = []
    for section, item in procedure.checklist_items():
        proof = item.proof
        kind, reference = proof if proof else ("manual", None)
        step = None
        if kind == "step":
            assert reference is not None
            resolved = resolve_step(procedure, reference)
            if isinstance(resolved, StepReference):
                argv = list(resolved.argv) if resolved.argv is not None else None
                recorded = tuple(redact_argv(argv, argv_secrets(argv))) if argv else None
                step = StepReference(resolved.phase, resolved.position, resolved.label, recorded)
                reference = step.shown  # a command's whole line, as recorded
            else:
                reference = redact_text(reference)
        planned.append(PlannedItem(section, item.name, item.text, kind, reference, step))
    return planned


def plan_json(procedure: Procedure) -> str | None:
    """What a run of `procedure` keeps in its record (None: the procedure has none)."""
    if not procedure.checklist:
        return None
    return json.dumps([item.as_json() for item in plan(procedure)], separators=(",", ":"))


def _run_plan(config: Config, run: RunRecord) -> list[PlannedItem] | None:
    """The checklist `run` started with; for a run recorded before runs kept it, its
    procedure's as configured now. None: the run has no checklist."""
    if run.checklist:
        try:
            return [PlannedItem.from_json(item) for item in json.loads(run.checklist)]
        except (ValueError, KeyError, TypeError):
            pass  # unreadable: today's configuration is the next best
    procedure = _procedure(config, run.procedure)
    return plan(procedure) if procedure is not None else None


# -- readers -------------------------------------------------------------------------------


def checklists_for(
    config: Config, store: Store, runs: Sequence[RunRecord], now: datetime
) -> list[ChecklistStatus]:
    """The checklist of each of `runs` (with their steps) that has one."""
    planned = [(run, _run_plan(config, run)) for run in runs]
    wanted = [(run, items) for run, items in planned if items]
    confirmed = checklist_store.confirmations(store, [run.id for run, _ in wanted])
    return [_checklist(items, store, run, confirmed.get(run.id, {}), now) for run, items in wanted]


def run_checklist(
    config: Config, store: Store, run: RunRecord, now: datetime
) -> ChecklistStatus | None:
    found = checklists_for(config, store, [run], now)
    return found[0] if found else None


def newest_checklists(
    config: Config, store: Store, now: datetime, host: str | None = None
) -> list[ChecklistStatus]:
    """The checklist of the newest real run of each procedure that has a checklist."""
    runs = [
        newest
        for name in procedures_with_checklists(config)
        for newest in list_runs(store, name, limit=1, host=host, real_only=True)
    ]
    return checklists_for(config, store, runs, now)


def recent_checklists(
    config: Config, store: Store, start: datetime, end: datetime, limit: int = 20
) -> list[ChecklistStatus]:
    """The checklists of the real runs started in [start, end), newest first."""
    names = procedures_with_checklists(config)
    if not names:
        return []
    runs = list_runs(store, limit=limit, procedures=names, since=start, until=end, real_only=True)
    return checklists_for(config, store, runs, end)


def confirm_item(
    config: Config,
    store: Store,
    run_id: int,
    item: str,
    by: str,
    note: str | None,
    now: datetime,
) -> Confirmation:
    """Record that `by` confirmed manual item `item` of run `run_id`.

    Raises ChecklistError when there is no such run on this host, its procedure has no
    such manual item (an item the run proves itself cannot be confirmed by hand), or the
    item was confirmed already.
    """
    run = get_run(store, run_id)
    if run is None:
        raise ChecklistError(f"no run {run_id} on host {store.host}")
    planned = _run_plan(config, run)
    if not planned:
        raise ChecklistError(f"procedure {run.procedure!r} of run {run_id} has no checklist")
    found = {entry.name: entry for entry in planned}
    manual = [entry.name for entry in planned if entry.kind == "manual"]
    if item not in found:
        raise ChecklistError(
            f"no checklist item {item!r} in procedure {run.procedure}; manual items: "
            f"{', '.join(manual) or 'none'}"
        )
    if item not in manual:
        entry = found[item]
        raise ChecklistError(
            f"{item} is proved by the run itself ({entry.kind} {entry.reference}), not "
            "confirmed by hand"
        )
    try:
        return checklist_store.record_confirmation(store, run_id, item, by, now, note)
    except AlreadyConfirmed as already:
        raise ChecklistError(str(already)) from None


# -- rendering as text (CLI, per-day log) ------------------------------------------------


def checklist_lines(checklist: ChecklistStatus) -> list[str]:
    """The checklist as lines of text: a heading, then each section and its items with a
    mark, the text and the evidence (or, for an open manual item, how to confirm it)."""
    origin = describe_origin(checklist.trigger, checklist.started_by, checklist.reason)
    lines = [
        f"{checklist.procedure} run {checklist.run_id}: {checklist.run_status}"
        f"{', dry run' if checklist.dry_run else ''} ({origin}), started "
        f"{_when(checklist.started_at)}",
        f"checklist: {describe_counts(checklist.counts)}",
    ]
    names = max((len(item.name) for item in checklist.items), default=0)
    texts = max((len(item.text) for item in checklist.items), default=0)
    section = None
    for item in checklist.items:
        if item.section != section:
            section = item.section
            lines.append(section)
        detail = item.evidence
        if item.state == ItemState.OPEN.value and item.source == ItemSource.MANUAL.value:
            detail = f"to confirm: hostkeeper confirm {checklist.run_id} {item.name}"
        mark = MARKS[ItemState(item.state)]
        lines.append(
            f"  {mark} {item.name.ljust(names)}  {item.text.ljust(texts)}  "
            f"{_one_line(detail or item.state)}".rstrip()
        )
    return lines


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EVIDENCE_WIDTH else flat[: EVIDENCE_WIDTH - 3] + "..."


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- evaluation ----------------------------------------------------------------------------


def _procedure(config: Config, name: str) -> Procedure | None:
    procedure = config.procedures.get(name)
    return procedure if procedure is not None and procedure.checklist else None


def _checklist(
    planned: list[PlannedItem],
    store: Store,
    run: RunRecord,
    confirmed: dict[str, Confirmation],
    now: datetime,
) -> ChecklistStatus:
    checks = [item.reference for item in planned if item.kind == "check" and item.reference]
    measured = results_during(store, checks, run.started_at, run.finished_at or now, run.host)
    items = [_item(item, run, confirmed, measured) for item in planned]
    return ChecklistStatus(
        run_id=run.id,
        procedure=run.procedure,
        run_status=run.status,
        trigger=run.trigger,
        started_at=run.started_at,
        finished_at=run.finished_at,
        started_by=run.started_by,
        reason=run.reason,
        dry_run=run.dry_run,
        items=items,
        counts=count_states(ItemState(item.state) for item in items),
    )


def _item(
    item: PlannedItem,
    run: RunRecord,
    confirmed: dict[str, Confirmation],
    measured: dict[str, CheckResult],
) -> ChecklistItemStatus:
    base = {"section": item.section, "name": item.name, "text": item.text}
    if item.kind == "step":
        label = item.step.shown if item.step is not None else str(item.reference)
        record = _step_record(run, item.step)
        state = step_item_state(record.status.value if record else None, run.ended)
        return ChecklistItemStatus(
            **base,
            source=ItemSource.STEP.value,
            reference=label,
            state=state.value,
            evidence=_step_evidence(f"step {label}", record, run),
            at=record.finished_at if record else None,
            confirmed_by=None,
            note=None,
        )
    if item.kind == "precondition":
        kind = str(item.reference)
        record = next((s for s in run.steps if s.phase == "before" and s.name == kind), None)
        state = step_item_state(record.status.value if record else None, run.ended)
        return ChecklistItemStatus(
            **base,
            source=ItemSource.PRECONDITION.value,
            reference=kind,
            state=state.value,
            evidence=_precondition_evidence(kind, record, run),
            at=record.finished_at if record else None,
            confirmed_by=None,
            note=None,
        )
    if item.kind == "check":
        check = str(item.reference)
        result = measured.get(check)
        state = check_item_state(result.state.value if result else None, run.ended)
        return ChecklistItemStatus(
            **base,
            source=ItemSource.CHECK.value,
            reference=check,
            state=state.value,
            evidence=(
                f"check {check} {result.state.value} at {_when(result.checked_at)}: {result.detail}"
                if result
                else f"check {check} not measured during the run"
                if run.ended
                else None
            ),
            at=result.checked_at if result else None,
            confirmed_by=None,
            note=None,
        )
    confirmation = confirmed.get(item.name)
    return ChecklistItemStatus(
        **base,
        source=ItemSource.MANUAL.value,
        reference=None,
        state=manual_item_state(confirmation is not None).value,
        evidence=(
            f"confirmed by {confirmation.confirmed_by} at {_when(confirmation.confirmed_at)}"
            + (f": {confirmation.note}" if confirmation.note else "")
            if confirmation
            else None
        ),
        at=confirmation.confirmed_at if confirmation else None,
        confirmed_by=confirmation.confirmed_by if confirmation else None,
        note=confirmation.note if confirmation else None,
    )


def _step_record(run: RunRecord, reference: StepReference | None) -> StepRecord | None:
    """The run's record of the step: of its phase and label, for a command with its
    argv (as the command step records it, secrets redacted), and when that leaves
    several (records without argv: not run), the one at its position. None rather than
    a guess."""
    if reference is None:
        return None
    found = [s for s in run.steps if s.phase == reference.phase and s.label == reference.label]
    if reference.argv is not None:
        recorded = list(reference.argv)
        found = [s for s in found if (s.details or {}).get("argv", recorded) == recorded]
    if len(found) > 1:
        found = [s for s in found if s.position == reference.position]
    return found[0] if len(found) == 1 else None


def _step_evidence(what: str, record: StepRecord | None, run: RunRecord) -> str | None:
    if record is None:
        if not run.ended:
            return None
        return f"{what} not run" + (f" (run {run.status}: {run.error})" if run.error else "")
    said = record.error or record.summary
    return f"{what} {record.status.value}" + (f": {said}" if said else "")


def _precondition_evidence(kind: str, record: StepRecord | None, run: RunRecord) -> str | None:
    if record is None:
        return f"precondition {kind} not evaluated" if run.ended else None
    verdict = "met" if record.status.value == "succeeded" else "unmet"
    said = record.error or record.summary
    return f"precondition {record.label} {verdict}" + (f": {said}" if said else "")
