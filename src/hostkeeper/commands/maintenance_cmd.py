"""`hostkeeper maintenance start|stop|list`: maintenance windows (docs/maintenance.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hostkeeper.commands.common import (
    VerbContext,
    id_type,
    limit_type,
    with_config,
    with_running_config,
)
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, printable, table, when

if TYPE_CHECKING:
    from hostkeeper.adapters.store import Store
    from hostkeeper.adapters.store.windows import WindowRow
    from hostkeeper.config import Config
    from hostkeeper.services.maintenance import Upcoming
    from hostkeeper.services.status_model import MaintenanceStatus

NOTICE_TIMEOUT = 30.0  # seconds a verb waits for its notifications to be delivered


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "maintenance",
        **page(
            "maintenance windows: start, stop, list",
            """
            A maintenance window holds the alerts that start in it: they are recorded,
            not notified, and notified when it ends if they still fire (never later
            than maintenance.max_hold after firing). Every procedure run opens one,
            planned ones come from maintenance.windows, and these verbs open and close
            one by hand. While a window holds alerts, each Alertmanager channel carries
            a silence for this host. `hostkeeper maintenance ACTION --help` explains one.
            """,
            [(0, "the action succeeded"), (1, "it failed; each action's help says when")],
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, help="one of:")

    start = actions.add_parser(
        "start",
        **page(
            "open a maintenance window now, for a duration",
            """
            Open a window from now for --for: alerts that start in it (or within the
            grace after it) are held. Notified on notify.channels when notify.on has
            `window`; Alertmanager channels get a silence for this host at once (the
            daemon keeps it, and retries one that failed).
            """,
            [
                (0, "the window is open"),
                (1, f"--for, --grace or a rule is invalid, or {CONFIG_ERROR}"),
            ],
        ),
    )
    start.add_argument(
        "--for", dest="duration", required=True, metavar="DURATION", help="how long, e.g. 2h"
    )
    start.add_argument("--reason", help="why (shown in status, list and notifications)")
    start.add_argument(
        "--rules",
        metavar="RULE,...",
        help="hold only these alert rules (default: every rule without maintenance: ignore)",
    )
    start.add_argument(
        "--grace",
        metavar="DURATION",
        help="alerts starting this long after the end are still held (default: maintenance.grace)",
    )
    start.set_defaults(handler=start_window)

    stop = actions.add_parser(
        "stop",
        **page(
            "end maintenance windows now",
            """
            End window ID now, or without ID every open ad hoc and planned window (a
            run's window ends with its run, an incident with `incident close`). Alerts
            starting within the grace are still held; then the held alerts that still
            fire are notified, and the Alertmanager silences are deleted.
            """,
            [
                (0, "done, also when no window was open"),
                (1, f"no such window, it is not one stop ends, or {CONFIG_ERROR}"),
            ],
        ),
    )
    stop.add_argument("id", nargs="?", type=id_type, metavar="ID", help="the window's number")
    stop.set_defaults(handler=stop_windows)

    listing = actions.add_parser(
        "list",
        **page(
            "windows holding alerts, planned ones, recent ones",
            """
            List the windows holding alerts now (open, or in their grace), the next
            occurrence of each planned window, and the newest windows that ended, with
            what they hold, why and who opened them.
            """,
            [(0, "the list was printed (also when empty)"), (1, CONFIG_ERROR)],
        ),
    )
    listing.add_argument(
        "--limit",
        "-n",
        type=limit_type,
        default=10,
        help="at most this many ended windows (default: %(default)s)",
    )
    listing.set_defaults(handler=list_windows)


def fail(message: str) -> int:
    print(f"hostkeeper: {message}", file=sys.stderr)
    return 1


def parse_rules(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


@with_config
def start_window(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.invoker import invoking_user
    from hostkeeper.config.units import parse_duration
    from hostkeeper.services import maintenance

    try:
        duration = parse_duration(args.duration)
        grace = parse_duration(args.grace) if args.grace is not None else None
    except ValueError as error:
        return fail(f"--for/--grace: {error}")
    config, store = ctx.config, ctx.store
    try:
        row = maintenance.start_window(
            config,
            store,
            datetime.now(UTC),
            duration=duration,
            reason=args.reason,
            opened_by=invoking_user(),
            rules=parse_rules(args.rules),
            grace=grace,
        )
    except maintenance.MaintenanceError as error:
        return fail(str(error))
    silences = after_change(config, store)
    if args.json:
        emit_json({"window": window_json(row), "silences": silences})
        return 0
    print(f"maintenance window #{row.id} open until {when(row.ends_at)}; holds {_scope(row)}")
    print_silence_outcomes(silences)
    return 0


@with_config
def stop_windows(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.invoker import invoking_user
    from hostkeeper.adapters.store.windows import WindowNotFound
    from hostkeeper.services import maintenance

    config, store = ctx.config, ctx.store
    try:
        stopped = maintenance.stop_windows(store, datetime.now(UTC), invoking_user(), args.id)
    except (maintenance.MaintenanceError, WindowNotFound) as error:
        return fail(str(error))
    silences = after_change(config, store) if stopped else []
    if args.json:
        emit_json({"stopped": [window_json(row) for row in stopped], "silences": silences})
        return 0
    if not stopped:
        print("no ad hoc or planned maintenance window is open")
    for row in stopped:
        grace = f"; alerts starting until {when(row.hold_until)} are still held"
        print(f"maintenance window #{row.id} stopped" + (grace if row.grace else ""))
    print_silence_outcomes(silences)
    return 0


@with_running_config
def list_windows(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.services import maintenance

    now = datetime.now(UTC)
    listing = maintenance.list_windows(ctx.config, ctx.store, now, args.limit)
    if args.json:
        emit_json(
            {
                "holding": [window_json(row) for row in listing.holding],
                "upcoming": [upcoming_json(upcoming) for upcoming in listing.upcoming],
                "recent": [window_json(row) for row in listing.recent],
            }
        )
        return 0
    print("holding alerts now:" if listing.holding else "no maintenance window holds alerts now")
    if listing.holding:
        print(window_table(listing.holding, now))
    if listing.upcoming:
        print("planned:")
        print(
            table(
                ["name", "starts", "ends", "holds", "reason"],
                [
                    [u.name, u.starts_at, u.ends_at, _rules_text(u.rules), u.reason]
                    for u in listing.upcoming
                ],
            )
        )
    if listing.recent:
        print("ended:")
        print(window_table(listing.recent, now))
    return 0


# -- shared by the maintenance, incident and status verbs --------------------------------------


def after_change(config: Config, store: Store) -> list[dict[str, Any]]:
    """What a verb that opened or closed a window does next, without waiting for the
    daemon: send the window notices that fell due, and bring the Alertmanager silences
    in line. The silences' outcomes, for printing."""
    from hostkeeper.alerting.service import sender_for
    from hostkeeper.alerting.silences import sync_silences
    from hostkeeper.alerting.windows import send_window_notices

    now = datetime.now(UTC)
    with sender_for(store, config, NOTICE_TIMEOUT) as sender:
        send_window_notices(config, store, sender, now)
    return [vars(outcome) for outcome in sync_silences(config, store, now)]


def print_silence_outcomes(outcomes: Sequence[dict[str, Any]]) -> None:
    done = {"create": "created", "extend": "extended", "delete": "deleted", "abandon": "let go"}
    for outcome in outcomes:
        what = f"alertmanager {outcome['channel']}: silence {done[str(outcome['action'])]}"
        if outcome["error"]:
            print(f"{what} FAILED: {outcome['error']} (the daemon retries)")
        elif outcome["action"] != "abandon":
            print(f"{what} ({outcome['silence_id']})")


def window_json(row: WindowRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind.value,
        "name": row.name,
        "reason": row.reason,
        "severity": row.severity,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "closed_at": row.closed_at,
        "grace_seconds": row.grace.total_seconds(),
        "hold_until": row.hold_until,
        "rules": list(row.rules) if row.rules is not None else None,
        "run_id": row.run_id,
        "incident_id": row.incident_id,
        "opened_by": row.opened_by,
        "closed_by": row.closed_by,
        "cause": row.cause,
        "prevention": row.prevention,
    }


def upcoming_json(upcoming: Upcoming) -> dict[str, Any]:
    return {
        "name": upcoming.name,
        "starts_at": upcoming.starts_at,
        "ends_at": upcoming.ends_at,
        "reason": upcoming.reason,
        "rules": upcoming.rules,
        "announce_seconds": upcoming.announce.total_seconds() if upcoming.announce else None,
    }


def window_table(rows: Sequence[WindowRow], now: datetime) -> str:
    return table(
        ["id", "kind", "name", "since", "until", "holds", "by", "reason"],
        [
            [
                row.id,
                row.kind.value + (" (grace)" if row.window.in_grace(now) else ""),
                row.name,
                row.starts_at,
                _until(row),
                _scope(row),
                row.opened_by,
                row.reason,
            ]
            for row in rows
        ],
    )


def _until(row: WindowRow) -> str:
    end = row.window.end
    if end is None:
        return "its run ends" if row.kind.value == "run" else "closed"
    return when(end)


def _scope(row: WindowRow) -> str:
    return _rules_text(list(row.rules) if row.rules is not None else None)


def _rules_text(rules: Sequence[str] | None) -> str:
    return "every rule" if rules is None else ", ".join(rules)


def print_maintenance_status(data: MaintenanceStatus) -> None:
    """`status`'s maintenance lines."""
    for window in data.windows:
        label = f"{window.kind} #{window.id}" + (f" {window.name}" if window.name else "")
        ends = [moment for moment in (window.ends_at, window.closed_at) if moment is not None]
        until = when(min(ends)) if ends else "closed"
        grace = f", in its grace until {when(window.hold_until)}" if window.in_grace else ""
        reason = f": {printable(window.reason)}" if window.reason else ""
        print(f"maintenance: {label} since {when(window.started_at)} until {until}{grace}{reason}")
    if data.held_alerts:
        print(f"maintenance: {data.held_alerts} alerts held")
    for silence in data.silences:
        if silence.error:
            print(
                f"maintenance: alertmanager {silence.channel} silence of window "
                f"#{silence.window_id} failing ({silence.failed_attempts} attempts): "
                f"{silence.error}"
            )
    if data.upcoming:
        first = data.upcoming[0]
        print(f"maintenance: next planned {first.name} at {when(first.starts_at)}")
