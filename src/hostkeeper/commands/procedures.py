"""Procedure verbs: `daemon`, `schedule`, `run`, `runs`, `status`.

Kept whole: the five verbs share the status model's rendering; most of the length is
their help pages.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hostkeeper.commands.common import (
    VerbContext,
    limit_type,
    with_config,
    with_running_config,
)
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, table, when
from hostkeeper.core.numbers import format_seconds

if TYPE_CHECKING:
    from hostkeeper.services.status_model import ProcedureStatus


def register(verbs: Any) -> None:
    verbs.add_parser(
        "daemon",
        **page(
            "run in the foreground (systemd ExecStart)",
            """
            Run the daemon in the foreground: load the configuration, migrate the store,
            start the scheduler and the dashboard, tell systemd it is ready, then run
            every procedure on its schedule (and once to catch up after downtime). SIGHUP
            reloads the configuration (an invalid one is refused and the old one stays),
            SIGTERM stops it within daemon.shutdown_timeout. This is the unit's
            ExecStart; start it with `systemctl start hostkeeper`, not by hand.
            """,
            [
                (0, "stopped cleanly after SIGTERM or SIGINT"),
                (1, f"{CONFIG_ERROR}, or the start failed (the reason is in the journal)"),
            ],
        ),
    ).set_defaults(handler=daemon)
    verbs.add_parser(
        "schedule",
        **page(
            "procedures, their schedule, next run and last result",
            """
            List every configured procedure with its schedule, the next time it runs
            (UTC; none for a disabled one) and the time and result of its last run. With
            fleet.splay, the schedule shows this host's shift (`+7 min 12 s splay`), and
            the next run includes it. With --json each procedure also lists its steps
            and splay_seconds, and times are ISO 8601.
            """,
            [(0, "the schedule was printed"), (1, CONFIG_ERROR)],
        ),
    ).set_defaults(handler=schedule)
    run_parser = verbs.add_parser(
        "run",
        add_help=False,
        **page(
            "run a procedure now, under the daemon's lock",
            """
            Run one procedure now, exactly as the daemon would: its `before`
            preconditions, its steps in order, then its `after` checks, recorded in the
            run history as a manual run with who started it (the invoking user; through
            sudo, SUDO_USER) and --reason. It takes the same lock as the daemon, so it
            never overlaps a scheduled run of the same procedure (it is skipped
            instead). It notifies notify.channels per notify.on like a scheduled run,
            writes the same per-day log (log_dir/maintenance/) and waits for the
            checklist items of its `wait_for` steps. Prints each step's result;
            `hostkeeper runs` and `hostkeeper checklist` show it later.
            """,
            [
                (0, "the run succeeded (possibly with warnings)"),
                (
                    1,
                    "the run failed or was skipped (a precondition unmet, or the procedure "
                    f"is already running), the procedure is unknown, or {CONFIG_ERROR}",
                ),
            ],
        ),
    )
    run_parser.add_argument(
        "-h",
        "--help",
        action=_RunHelp,
        help="show this help, with the procedures of the configuration, and exit",
    )
    run_parser.add_argument(
        "procedure", metavar="PROCEDURE", help="the name of a procedure of the configuration"
    )
    run_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="evaluate and record, but let steps change nothing (each says what it would do)",
    )
    run_parser.add_argument(
        "--reason",
        metavar="TEXT",
        help="why the run is started by hand: recorded with it, logged and notified",
    )
    run_parser.set_defaults(handler=run)
    runs_parser = verbs.add_parser(
        "runs",
        **page(
            "run history with per-step results",
            """
            Show the recorded runs, newest first: procedure, result, trigger (scheduled,
            manual or catch-up), start time, duration and error, then a table of the
            run's steps with their phase, result, duration and summary. --json adds each
            step's captured output.
            """,
            [(0, "the history was printed (also when it is empty)"), (1, CONFIG_ERROR)],
        ),
    )
    runs_parser.add_argument(
        "--procedure", "-p", metavar="NAME", help="only the runs of this procedure (default: all)"
    )
    runs_parser.add_argument(
        "--limit",
        "-n",
        type=limit_type,
        default=10,
        help="at most this many runs (default: %(default)s)",
    )
    runs_parser.add_argument(
        "--host", help="another host's history (shared PostgreSQL store; default: this host)"
    )
    runs_parser.set_defaults(handler=runs)
    status_parser = verbs.add_parser(
        "status",
        **page(
            "daemon state and procedures at a glance",
            """
            Show how the host is doing: whether the daemon runs and its last reload, the
            health score and the state of each check, the last and next run of each
            procedure, key metrics, the newest backup of each set, and firing alerts.
            When the daemon cannot reach a remote database, since when and what it
            keeps in its local spool. --host shows another host of a shared store as
            that host's daemon recorded its configuration (as `fleet` does).
            """,
            [
                (0, "the status was printed, whatever it says"),
                (
                    1,
                    "the store cannot be reached (what the daemon says is printed), or "
                    + CONFIG_ERROR,
                ),
            ],
        ),
    )
    status_parser.add_argument(
        "--host", help="another host's state (shared PostgreSQL store; default: this host)"
    )
    status_parser.set_defaults(handler=status)


class _RunHelp(argparse.Action):
    """`run --help`, followed by the procedures one can name."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        listing = procedure_listing(getattr(namespace, "config", None))
        parser.epilog = f"{listing}\n\n{parser.epilog}"
        parser.print_help()
        parser.exit()


def procedure_listing(config_path: str | None) -> str:
    """The procedures configured in the file `--config` names (or the default one), or
    where it looked and why they cannot be listed: help must print either way."""
    from hostkeeper.config import ConfigError, load_config
    from hostkeeper.config.location import default_config_path

    if config_path:
        source = "given by --config"
    elif os.environ.get("HOSTKEEPER_CONFIG"):
        source = "from $HOSTKEEPER_CONFIG"
    else:
        source = "the default location"
    path = config_path or default_config_path()
    try:
        config = load_config(path).config
    except ConfigError as error:
        problem = error.first_line
    except Exception as error:  # whatever breaks, `run --help` still explains the verb
        problem = f"{path}: {type(error).__name__}: {error}"
    else:
        if not config.procedures:
            return f"procedures in {path}: none defined"
        width = max(map(len, config.procedures))
        lines = [f"procedures in {path}:"]
        for name, procedure in config.procedures.items():
            steps = len(procedure.steps)
            facts = [procedure.schedule.describe(), f"{steps} step{'' if steps == 1 else 's'}"]
            if not procedure.enabled:
                facts.append("disabled")
            lines.append(f"  {name.ljust(width)}  {', '.join(facts)}")
        return "\n".join(lines)
    return "\n".join(
        [
            *_wrap(f"procedure list unavailable: cannot use {path} ({source}):"),
            *_wrap(problem, indent="  ", hanging="    "),
        ]
    )


def daemon(args: argparse.Namespace) -> int:
    from hostkeeper.daemon.lifecycle import run_daemon

    return run_daemon(args.config)


def _wrap(text: str, indent: str = "", hanging: str = "") -> list[str]:
    # A path is never cut in two, so it can be copied from the terminal.
    return textwrap.wrap(
        text,
        79,
        initial_indent=indent,
        subsequent_indent=hanging,
        break_long_words=False,
        break_on_hyphens=False,
    )


@with_running_config
def schedule(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.services.status import current_procedures, next_runs_from_config
    from hostkeeper.services.status_model import as_json

    config = ctx.config
    store = ctx.store
    upcoming = next_runs_from_config(config, store, datetime.now(UTC))
    procedures = current_procedures(store, config, upcoming)
    if args.json:
        emit_json(as_json(procedures))
        return 0
    print(
        table(
            ["procedure", "schedule", "next run (UTC)", "last run", "result"],
            [
                [
                    p.procedure + ("" if p.enabled else " (disabled)"),
                    _schedule(p),
                    _minute(p.next_run),
                    _minute(p.last_run),
                    _result(p),
                ]
                for p in procedures
            ],
        )
    )
    return 0


def _schedule(procedure: ProcedureStatus) -> str:
    """The schedule as configured, and the host's fleet.splay shift of every fire."""
    if not procedure.splay_seconds:
        return procedure.schedule
    from hostkeeper.core.numbers import format_seconds

    return f"{procedure.schedule} +{format_seconds(procedure.splay_seconds)} splay"


def _minute(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "-"


def _result(procedure: ProcedureStatus) -> str | None:
    """The last result, and the failure a newer missed or skipped fire does not clear."""
    if procedure.failing and procedure.last_status != procedure.last_outcome:
        return f"{procedure.last_status} (failing: last run {procedure.last_outcome})"
    return procedure.last_status


@with_config
def run(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.identity import invoking_user
    from hostkeeper.alerting.run_events import notify_run_event
    from hostkeeper.alerting.service import sender_for
    from hostkeeper.core.runs import Trigger, is_success
    from hostkeeper.procedures.engine import Engine, RunReport

    config = ctx.config
    if args.procedure not in config.procedures:
        print(
            f"hostkeeper: no procedure named {args.procedure!r}; defined: "
            f"{', '.join(config.procedures) or 'none'}",
            file=sys.stderr,
        )
        return 1
    store = ctx.store
    # Notified like the daemon's runs; what is not delivered before the verb ends stays
    # queued for the daemon.
    with sender_for(store, config, None) as worker:

        def listener(procedure: str, event: str, report: RunReport) -> None:
            notify_run_event(config, worker, store.host, procedure, event, report)

        engine = Engine(lambda: config, store, listener=listener, config_path=args.config)
        report = engine.run(
            args.procedure,
            Trigger.MANUAL,
            dry_run=args.dry_run,
            started_by=invoking_user(),
            reason=args.reason,
        )
    if args.json:
        emit_json(
            {
                "procedure": report.procedure,
                "run_id": report.run_id,
                "status": report.status.value,
                "error": report.error,
                "started_by": report.started_by,
                "reason": report.reason,
                "log": report.log_path,
                "steps": [vars(step) | {"status": step.status.value} for step in report.steps],
            }
        )
    else:
        print(
            f"{report.procedure}: {report.status.value} (run {report.run_id})"
            + (f": {report.error}" if report.error else "")
        )
        if report.steps:
            print(
                table(
                    ["phase", "step", "status", "duration", "detail"],
                    [
                        [
                            s.phase,
                            s.label,
                            s.status.value,
                            format_seconds(s.seconds),
                            s.error or s.summary,
                        ]
                        for s in report.steps
                    ],
                )
            )
    return 0 if is_success(report.status) else 1


@with_running_config
def runs(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store.runs import list_runs

    records = list_runs(ctx.store, args.procedure, args.limit, host=args.host)
    if args.json:
        from hostkeeper.services.run_records import run_as_json

        emit_json([run_as_json(record) for record in records])
        return 0
    if not records:
        print("no runs recorded yet")
        return 0
    # One table over the steps of every run shown, cut back into runs: the columns are as
    # wide as the longest label anywhere (labels are what people grep for, so no
    # truncation), and every run's block lines up with the others.
    steps = [step for record in records for step in record.steps]
    header, *step_lines = table(
        ["phase", "step", "status", "duration", "detail"],
        [
            [
                s.phase,
                s.label,
                s.status.value,
                format_seconds(s.duration_seconds),
                _one_line(s.error or s.summary),
            ]
            for s in steps
        ],
    ).splitlines()
    rows = iter(step_lines)
    for record in records:
        by = f" by {record.started_by}" if record.started_by else ""
        why = f": {_one_line(record.reason)}" if record.reason else ""
        print(
            f"#{record.id} {record.procedure} {record.status} ({record.trigger}{by}{why}"
            f"{', dry run' if record.dry_run else ''}) {when(record.started_at)}"
            + (
                ""
                if record.duration_seconds is None
                else f" {format_seconds(record.duration_seconds)}"
            )
            + (f": {record.error}" if record.error else "")
        )
        if record.steps:
            print(f"    {header}")
        for _ in record.steps:
            print(f"    {next(rows)}")
    return 0


def _store_lines(since: Any, spool: dict[str, int] | None) -> list[str]:
    """What the daemon says of its database: unreachable since when, what it spools."""
    lines = []
    if since:
        lines.append(f"store unreachable for the daemon since {since}; it spools locally")
    if spool:
        lines.append(
            f"spooled: {spool.get('run_events', 0)} run events, {spool.get('samples', 0)} "
            f"samples waiting; {spool.get('dropped_samples', 0)} samples dropped; "
            f"{spool.get('rejected', 0)} events refused by the store"
        )
    return lines


def _store_unreachable(args: argparse.Namespace, config: Any, error: Exception) -> int:
    """`status` without a store: what the daemon's state file says, and the error."""
    from hostkeeper.adapters.daemon_state import read_state
    from hostkeeper.commands.common import describe_failure

    state = read_state(config.paths.state_dir)
    problem = describe_failure(error)
    if args.json:
        emit_json({"store_error": problem, "daemon": state})
        return 1
    print(f"hostkeeper status: store unreachable: {problem}", file=sys.stderr)
    if state is not None:
        running = "running" if state.get("running") else "not running"
        print(f"daemon {running} (pid {state.get('pid')}, since {state.get('started_at')})")
        for line in _store_lines(state.get("store_unreachable_since"), state.get("spool")):
            print(line)
    return 1


def _one_line(text: str | None) -> str | None:
    """A multi-line error would break the table; `runs --json` keeps it as it was."""
    return " ".join(text.split()) if text else text


@with_running_config
def status(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.daemon_state import read_state
    from hostkeeper.commands.alerts_cmd import print_alerts_status
    from hostkeeper.commands.backup_cmd import print_backup_status
    from hostkeeper.commands.check_cmd import print_health_status
    from hostkeeper.commands.maintenance_cmd import print_maintenance_status
    from hostkeeper.commands.metrics_cmd import print_metrics_status
    from hostkeeper.services.fleet_status import recorded_host_status
    from hostkeeper.services.status import build_status, next_runs_from_config
    from hostkeeper.services.status_model import as_json

    config = ctx.config
    try:
        store = ctx.store
    except Exception as error:
        from hostkeeper.services.spooler import is_transient

        # A remote database that does not answer: what the daemon knows is worth showing.
        # A damaged SQLite file is one error line, as for every verb.
        if config.database.url.startswith("sqlite") or not is_transient(error):
            raise
        return _store_unreachable(args, config, error)
    host = args.host or store.host
    now = datetime.now(UTC)
    recorded = None
    if host != store.host:
        recorded = recorded_host_status(store, host, now, config.fleet.silent_after)
    report = recorded or build_status(
        store,
        config,
        now=now,
        next_runs=next_runs_from_config(config, store, now),
        daemon_state=read_state(config.paths.state_dir) if host == store.host else None,
        host=host,
    )
    if args.json:
        emit_json(as_json(report))
        return 0
    daemon = report.daemon
    if daemon is None:
        print(f"host {host}: daemon has not run with this configuration")
    else:
        running = "running" if daemon.running else "not running"
        print(f"host {host}: daemon {running} (pid {daemon.pid}, since {when(daemon.started_at)})")
        if not daemon.last_reload_ok:
            print(f"last reload FAILED: {daemon.last_reload}")
        for line in _store_lines(daemon.store_unreachable_since, daemon.spool):
            print(line)
    print_health_status(report.health)
    print(
        table(
            ["procedure", "next run", "last run", "result", "error"],
            [
                [p.procedure, when(p.next_run), when(p.last_run), _result(p), p.last_error]
                for p in report.procedures
            ],
        )
    )
    if report.failing:
        print("failing: " + ", ".join(sorted(p.procedure for p in report.failing)))
    print_metrics_status(report.metrics, now)
    print_backup_status(report.backups)
    print_maintenance_status(report.maintenance)
    print_alerts_status(report.alerts)
    return 0
