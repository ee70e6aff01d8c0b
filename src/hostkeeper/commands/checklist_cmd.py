"""Verbs for the human half of maintenance: `checklist`, `confirm` and `logs`."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hostkeeper.commands.common import VerbContext, fail, id_type, with_config, with_running_config
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, printable, table

MAX_NOTE = 2000


def register(verbs: Any) -> None:
    checklist = verbs.add_parser(
        "checklist",
        **page(
            "a run's checklist: items ticked from the run record or confirmed by people",
            """
            Show the checklist of a run of a procedure that has a `checklist:`: each
            section (planning, pre, post, ...) with its items. An item proved by the
            run (a step, a precondition, a check measured during the run) is done,
            warning, crossed (failed or not run) or open (the run has not got there),
            with the evidence from the run record; a manual item is done once someone
            confirmed it (`hostkeeper confirm RUN ITEM`: who, when and the note) and
            open until then. Without RUN: the newest run of --procedure, or of any
            procedure with a checklist. Marks: [x] done, [!] warning, [-] crossed,
            [ ] open.
            """,
            [
                (0, "the checklist was printed, whatever its items say"),
                (1, f"no such run, or its procedure has no checklist, or {CONFIG_ERROR}"),
            ],
        ),
    )
    checklist.add_argument(
        "run", metavar="RUN", nargs="?", type=id_type, help="run id (see `hostkeeper runs`)"
    )
    checklist.add_argument(
        "--procedure", "-p", metavar="NAME", help="the newest run of this procedure"
    )
    checklist.set_defaults(handler=show_checklist)

    confirm = verbs.add_parser(
        "confirm",
        **page(
            "confirm a manual checklist item of a run, as the invoking user",
            """
            Record that the invoking user (through sudo: SUDO_USER) did a manual item
            of run RUN's checklist, now, with an optional note. A run waiting for the
            item (`wait_for`) goes on once all it waits for are confirmed. An item is
            confirmed once: the first confirmation stands. Items the run proves itself
            (step, precondition, check) cannot be confirmed by hand.
            """,
            [
                (0, "the confirmation was recorded"),
                (
                    1,
                    "no such run or item, the item is not manual or was confirmed already, "
                    f"or {CONFIG_ERROR}",
                ),
            ],
        ),
    )
    confirm.add_argument("run", metavar="RUN", type=id_type, help="run id")
    confirm.add_argument("item", metavar="ITEM", help="the manual item's name in the checklist")
    confirm.add_argument("--note", metavar="TEXT", help="what was done, where it is written down")
    confirm.set_defaults(handler=confirm_item)

    logs = verbs.add_parser(
        "logs",
        **page(
            "the per-day maintenance logs (log_dir/maintenance/), optionally followed",
            """
            Print the day's maintenance log of PROCEDURE (or of every procedure,
            merged by time): one line per event of each run (started, preconditions,
            each step started, its output, finished with status and duration, the
            checklist at the end), from log_dir/maintenance/
            PROCEDURE_maintenance_YYYYMMDD.log. --follow keeps printing lines as runs
            write them, across log rotation and into the next day's files, until
            interrupted (like `tail -f`). --list lists the files.
            """,
            [
                (0, "the lines (or the list) were printed; --follow: interrupted"),
                (1, f"no log for that procedure and day, or {CONFIG_ERROR}"),
            ],
        ),
    )
    logs.add_argument("procedure", metavar="PROCEDURE", nargs="?", help="only this procedure's log")
    logs.add_argument(
        "--day",
        metavar="YYYY-MM-DD",
        type=_day,
        help="another day than today (in the configured time zone)",
    )
    logs.add_argument(
        "--follow", "-f", action="store_true", help="keep printing new lines until interrupted"
    )
    logs.add_argument("--list", action="store_true", help="list the log files, newest day first")
    logs.set_defaults(handler=show_logs)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a day is YYYY-MM-DD, not {text!r}") from None


# -- checklist ---------------------------------------------------------------------------


@with_running_config
def show_checklist(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store.runs import get_run, list_runs
    from hostkeeper.services.checklists import (
        checklist_lines,
        procedures_with_checklists,
        run_checklist,
    )
    from hostkeeper.services.status_model import as_json

    config, store = ctx.config, ctx.store
    with_checklists = procedures_with_checklists(config)
    if args.run is not None:
        run = get_run(store, args.run)
        if run is None:
            return fail(f"no run {args.run} on host {store.host}")
    else:
        if args.procedure is not None and args.procedure not in with_checklists:
            return fail(_no_checklist(args.procedure, with_checklists))
        names = [args.procedure] if args.procedure else with_checklists
        newest = list_runs(store, procedures=names, limit=1, real_only=True) if names else []
        if not newest:
            return fail(
                "no run of a procedure with a checklist yet"
                if names
                else "no procedure has a checklist (`checklist:` in the configuration)"
            )
        run = newest[0]
    checklist = run_checklist(config, store, run, datetime.now(UTC))
    if checklist is None:
        return fail(_no_checklist(run.procedure, with_checklists))
    if args.json:
        emit_json(as_json(checklist))
    else:
        print("\n".join(printable(line) for line in checklist_lines(checklist)))
    return 0


def _no_checklist(procedure: str, with_checklists: list[str]) -> str:
    return (
        f"procedure {procedure!r} has no checklist; procedures with one: "
        f"{', '.join(with_checklists) or 'none'}"
    )


# -- confirm -----------------------------------------------------------------------------


@with_config
def confirm_item(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.identity import invoking_user
    from hostkeeper.services.checklists import ChecklistError
    from hostkeeper.services.checklists import confirm_item as confirm

    note = " ".join(args.note.split()) if args.note else None
    if note is not None and len(note) > MAX_NOTE:
        return fail(f"a note is at most {MAX_NOTE} characters")
    try:
        done = confirm(
            ctx.config, ctx.store, args.run, args.item, invoking_user(), note, datetime.now(UTC)
        )
    except ChecklistError as error:
        return fail(str(error))
    if args.json:
        emit_json(vars(done))
    else:
        print(
            printable(
                f"run {done.run_id}: {done.item} confirmed by {done.confirmed_by} at "
                f"{done.confirmed_at.strftime('%Y-%m-%d %H:%M:%S UTC')}"
                + (f": {done.note}" if done.note else "")
            )
        )
    return 0


# -- logs ----------------------------------------------------------------------------------


@with_running_config
def show_logs(args: argparse.Namespace, ctx: VerbContext) -> int:
    from zoneinfo import ZoneInfo

    from hostkeeper.adapters.daylog import maintenance_logs

    config = ctx.config
    log_dir = config.paths.log_dir
    if args.list:
        files = maintenance_logs(log_dir, args.procedure, args.day)
        if args.json:
            emit_json(
                [
                    {"path": str(f.path), "procedure": f.procedure, "day": f.day, "size": f.size}
                    for f in files
                ]
            )
        else:
            print(
                table(
                    ["day", "procedure", "size", "path"],
                    [[f.day.isoformat(), f.procedure, f.size, str(f.path)] for f in files],
                )
            )
        return 0
    zone = ZoneInfo(config.timezone)
    fixed_day = args.day

    def current() -> list[Path]:
        day = fixed_day or datetime.now(zone).date()
        return [f.path for f in maintenance_logs(log_dir, args.procedure, day)]

    if args.follow:  # a compressed day is over: nothing to follow in it
        return _follow(lambda: [path for path in current() if path.suffix == ".log"])
    return _print_day(current(), args.procedure, fixed_day or datetime.now(zone).date(), log_dir)


def _print_day(paths: list[Path], procedure: str | None, day: date, log_dir: str) -> int:
    from hostkeeper.adapters.logfollow import read_log

    if not paths:
        whose = f"of {procedure} " if procedure else ""
        return fail(f"no maintenance log {whose}for {day.isoformat()} under {log_dir}/maintenance")
    lines = [line for path in paths for line in read_log(path)]
    # Each line starts with its local time: a stable sort merges procedures in order.
    lines.sort(key=lambda line: line[:19])
    for line in lines:
        print(printable(line))
    return 0


def _follow(paths: Callable[[], list[Path]]) -> int:
    from hostkeeper.adapters.logfollow import follow

    def emit(batch: list[tuple[Path, str]]) -> None:
        for _, line in sorted(batch, key=lambda item: item[1][:19]):
            print(printable(line))
        sys.stdout.flush()

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how following ends
        follow(paths, emit, threading.Event())
    return 0
