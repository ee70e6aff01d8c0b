"""`hostkeeper incident open|close|show|list|report` and `hostkeeper note`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hostkeeper.commands.common import (
    VerbContext,
    id_type,
    limit_type,
    with_config,
    with_running_config,
)
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.maintenance_cmd import (
    NOTICE_TIMEOUT,
    after_change,
    fail,
    parse_rules,
    print_silence_outcomes,
    window_json,
)
from hostkeeper.commands.output import emit_json, printable, table, when

if TYPE_CHECKING:
    from hostkeeper.adapters.store import Store
    from hostkeeper.adapters.store.windows import WindowRow
    from hostkeeper.config import Config
    from hostkeeper.services.incidents import IncidentView

SEVERITIES = ("info", "warning", "critical")


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "incident",
        **page(
            "incidents: open, close, show, list, report",
            """
            An incident is an emergency window: it holds alerts like a maintenance
            window, notifies notify.channels when it opens and closes, and collects
            the runs started and the notes written while it is open, with the alerts
            of its span, into one timeline. `hostkeeper incident ACTION --help`
            explains one.
            """,
            [(0, "the action succeeded"), (1, "it failed; each action's help says when")],
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, help="one of:")

    opening = actions.add_parser(
        "open",
        **page(
            "open an incident now",
            """
            Open an incident with a title and a severity. It is notified on
            notify.channels at once; alerts that start while it is open are held (as in
            any maintenance window, for at most maintenance.max_hold); every procedure
            run started and every `hostkeeper note` written until it closes attach to it.
            """,
            [(0, "the incident is open"), (1, f"the title is empty, or {CONFIG_ERROR}")],
        ),
    )
    opening.add_argument("title", metavar="TITLE", help="what is wrong, in a line")
    opening.add_argument(
        "--severity",
        choices=SEVERITIES,
        default="critical",
        help="info, warning or critical (default: %(default)s)",
    )
    opening.add_argument(
        "--rules",
        metavar="RULE,...",
        help="hold only these alert rules (default: every rule without maintenance: ignore)",
    )
    opening.set_defaults(handler=open_incident)

    closing = actions.add_parser(
        "close",
        **page(
            "close an incident with its root cause",
            """
            Close incident ID (or the one open incident) and record its root cause and
            what will keep it from happening again. Notified on notify.channels; the
            incident's report is written to report_dir/incidents/.
            """,
            [
                (0, "the incident is closed"),
                (1, f"no such open incident, several open and none named, or {CONFIG_ERROR}"),
            ],
        ),
    )
    closing.add_argument("id", nargs="?", type=id_type, metavar="ID", help="the incident's number")
    closing.add_argument("--cause", required=True, help="the root cause")
    closing.add_argument("--prevention", help="what keeps it from happening again")
    closing.set_defaults(handler=close_incident)

    show = actions.add_parser(
        "show",
        **page(
            "an incident's timeline",
            """
            Show incident ID (or the one open incident): when it opened and closed and
            by whom, its root cause, then its timeline: the runs started while it was
            open with each step, the alerts of its span, and the notes with who wrote
            them.
            """,
            [(0, "shown"), (1, f"no such incident, or {CONFIG_ERROR}")],
        ),
    )
    show.add_argument("id", nargs="?", type=id_type, metavar="ID", help="the incident's number")
    show.set_defaults(handler=show_incident)

    listing = actions.add_parser(
        "list",
        **page(
            "incidents, newest first",
            "List the incidents, newest first: severity, title, when opened and closed, cause.",
            [(0, "the list was printed (also when empty)"), (1, CONFIG_ERROR)],
        ),
    )
    listing.add_argument(
        "--limit", "-n", type=limit_type, default=20, help="at most this many (default: 20)"
    )
    listing.set_defaults(handler=list_incidents)

    report = actions.add_parser(
        "report",
        **page(
            "write an incident's HTML report",
            """
            Write incident ID's report (its timeline as a self-contained HTML page) to
            report_dir/incidents/incident_ID.html, or to --output. `report incidents`
            writes every incident of a period on one page.
            """,
            [(0, "the report was written"), (1, f"no such incident, or {CONFIG_ERROR}")],
        ),
    )
    report.add_argument("id", type=id_type, metavar="ID", help="the incident's number")
    report.add_argument("--output", type=Path, metavar="FILE", help="write here instead")
    report.set_defaults(handler=write_report)

    note = verbs.add_parser(
        "note",
        **page(
            "write a note into the open incident or window",
            """
            Record a note, with the invoking user (the one who ran sudo, under sudo) and
            the time, in the open incident, else in the newest open maintenance window,
            or in the one --window names. `incident show` lists the notes in its
            timeline.
            """,
            [
                (0, "the note was recorded"),
                (1, f"no incident or window is open, the note is empty, or {CONFIG_ERROR}"),
            ],
        ),
    )
    note.add_argument("text", metavar="TEXT", help="what was seen or done")
    note.add_argument(
        "--window", type=id_type, metavar="ID", help="the incident or window to write to"
    )
    note.set_defaults(handler=add_note)


@with_config
def open_incident(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.invoker import invoking_user
    from hostkeeper.services import incidents
    from hostkeeper.services.maintenance import MaintenanceError

    config, store = ctx.config, ctx.store
    try:
        row = incidents.open_incident(
            config,
            store,
            datetime.now(UTC),
            title=args.title,
            severity=args.severity,
            opened_by=invoking_user(),
            rules=parse_rules(args.rules),
        )
    except MaintenanceError as error:
        return fail(str(error))
    _notify(config, store, row, "opened")
    silences = after_change(config, store)
    if args.json:
        emit_json({"incident": window_json(row), "silences": silences})
        return 0
    print(f"incident #{row.id} open ({row.severity}): {printable(row.reason or '')}")
    print("runs started and notes written (`hostkeeper note TEXT`) now attach to it")
    print_silence_outcomes(silences)
    return 0


@with_config
def close_incident(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.invoker import invoking_user
    from hostkeeper.adapters.store.windows import WindowNotFound
    from hostkeeper.reports.incidents import write_incident
    from hostkeeper.services import incidents
    from hostkeeper.services.maintenance import MaintenanceError

    config, store = ctx.config, ctx.store
    now = datetime.now(UTC)
    try:
        row = incidents.close_incident(
            store,
            now,
            incident_id=args.id,
            cause=args.cause,
            prevention=args.prevention,
            closed_by=invoking_user(),
        )
    except (MaintenanceError, WindowNotFound) as error:
        return fail(str(error))
    _notify(config, store, row, "closed")
    silences = after_change(config, store)
    try:
        path: Path | None = write_incident(config, store, row.id, now)
    except OSError as error:
        print(f"hostkeeper: incident report not written: {error}")
        path = None
    if args.json:
        emit_json({"incident": window_json(row), "report": path, "silences": silences})
        return 0
    print(f"incident #{row.id} closed; cause: {printable(row.cause or '')}")
    if path is not None:
        print(f"report written to {path}")
    print_silence_outcomes(silences)
    return 0


def _notify(config: Config, store: Store, row: WindowRow, event: str) -> None:
    from hostkeeper.alerting.service import sender_for
    from hostkeeper.alerting.windows import send_incident_notice

    with sender_for(store, config, NOTICE_TIMEOUT) as sender:
        send_incident_notice(config, store, sender, row, event, datetime.now(UTC))


@with_running_config
def show_incident(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store.windows import WindowNotFound
    from hostkeeper.services import incidents
    from hostkeeper.services.maintenance import MaintenanceError

    store = ctx.store
    now = datetime.now(UTC)
    try:
        view = incidents.incident_view(store, args.id, now)
    except (MaintenanceError, WindowNotFound) as error:
        return fail(str(error))
    if args.json:
        emit_json(incident_json(view))
        return 0
    print_incident(view)
    return 0


def incident_json(view: IncidentView) -> dict[str, Any]:
    return {
        "incident": window_json(view.incident),
        "timeline": [vars(entry) for entry in view.timeline],
        "notes": [vars(note) for note in view.notes],
        "runs": [
            {"id": run.id, "procedure": run.procedure, "status": run.status} for run in view.runs
        ],
        "alerts": [
            {"id": alert.id, "rule": alert.rule, "state": alert.state.value}
            for alert in view.alerts
        ],
    }


def print_incident(view: IncidentView) -> None:
    incident = view.incident
    state = "open" if incident.closed_at is None else f"closed {when(incident.closed_at)}"
    title = printable(incident.reason or "")
    print(f"incident #{incident.id} ({incident.severity}, {state}): {title}")
    print(f"opened {when(incident.starts_at)} by {incident.opened_by or '-'}")
    if incident.closed_at is not None:
        print(f"closed by {incident.closed_by or '-'}")
        print(f"cause: {printable(incident.cause or '-')}")
        print(f"prevention: {printable(incident.prevention or '-')}")
    print(
        table(
            ["when", "what", "who", "text"],
            [[entry.at, entry.kind, entry.who, entry.text] for entry in view.timeline],
        )
    )


@with_running_config
def list_incidents(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.services import incidents

    rows = incidents.list_incidents(ctx.store, args.limit)
    if args.json:
        emit_json([window_json(row) for row in rows])
        return 0
    if not rows:
        print("no incidents")
        return 0
    print(
        table(
            ["id", "severity", "opened", "closed", "by", "title", "cause"],
            [
                [r.id, r.severity, r.starts_at, r.closed_at, r.opened_by, r.reason, r.cause]
                for r in rows
            ],
        )
    )
    return 0


@with_config
def write_report(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store.windows import WindowNotFound
    from hostkeeper.reports.incidents import write_incident
    from hostkeeper.services.maintenance import MaintenanceError

    try:
        path = write_incident(ctx.config, ctx.store, args.id, datetime.now(UTC), args.output)
    except (MaintenanceError, WindowNotFound) as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"cannot write {error.filename or args.output}: {error.strerror or error}")
    if args.json:
        emit_json({"incident": args.id, "path": str(path)})
    else:
        print(f"incident #{args.id} report written to {path}")
    return 0


@with_config
def add_note(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.invoker import invoking_user
    from hostkeeper.adapters.store.windows import WindowNotFound
    from hostkeeper.services import incidents
    from hostkeeper.services.maintenance import MaintenanceError

    try:
        note_id, target = incidents.add_note(
            ctx.store,
            datetime.now(UTC),
            text=args.text,
            author=invoking_user(),
            window_id=args.window,
        )
    except (MaintenanceError, WindowNotFound) as error:
        return fail(str(error))
    if args.json:
        emit_json({"note": note_id, "window": target.id, "kind": target.kind.value})
    else:
        what = "incident" if target.kind.value == "incident" else f"{target.kind.value} window"
        print(f"note #{note_id} added to {what} #{target.id}")
    return 0
