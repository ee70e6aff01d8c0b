"""Procedure verbs: `daemon`, `schedule`, `run`, `runs`, `status`."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from datetime import UTC, datetime
from typing import Any

from hostkeeper.commands.common import load, load_for_reading, store_for
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.core.redact import redact_text
from hostkeeper.output import emit_json, table, when


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
            --json each procedure also lists its steps, and times are ISO 8601.
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
            run history as a manual run. It takes the same lock as the daemon, so it
            never overlaps a scheduled run of the same procedure (it is skipped
            instead). Prints each step's result; `hostkeeper runs` shows it later.
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
    run_parser.set_defaults(handler=run)
    runs_parser = verbs.add_parser(
        "runs",
        **page(
            "run history with per-step results",
            """
            Show the recorded runs, newest first: procedure, result, trigger (scheduled,
            manual or catch-up), start time, duration and error, then a table of the
            run's steps with their phase, result, seconds and summary. --json adds each
            step's captured output.
            """,
            [(0, "the history was printed (also when it is empty)"), (1, CONFIG_ERROR)],
        ),
    )
    runs_parser.add_argument(
        "--procedure", "-p", metavar="NAME", help="only the runs of this procedure (default: all)"
    )
    runs_parser.add_argument(
        "--limit", "-n", type=int, default=10, help="at most this many runs (default: %(default)s)"
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
            """,
            [(0, "the status was printed, whatever it says"), (1, CONFIG_ERROR)],
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
    from hostkeeper.daemon import run_daemon

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


def schedule(args: argparse.Namespace) -> int:
    from hostkeeper.adapters.store.runs import latest_runs
    from hostkeeper.scheduler import procedure_trigger
    from hostkeeper.scheduling import next_fire_time

    loaded = load_for_reading(args)
    if loaded is None:
        return 1
    config = loaded.config
    store = store_for(config)
    latest = latest_runs(store)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for name, procedure in config.procedures.items():
        trigger = procedure_trigger(config, name, procedure, store)
        upcoming = next_fire_time(trigger, now) if procedure.enabled else None
        last = latest.get(name)
        rows.append(
            {
                "procedure": name,
                "enabled": procedure.enabled,
                "schedule": procedure.schedule.describe(),
                "timezone": config.timezone,
                "next_run": upcoming.astimezone(UTC).isoformat() if upcoming else None,
                "last_run": last.started_at.isoformat() if last else None,
                "last_result": last.status if last else None,
                "steps": [step.label() for step in procedure.steps],
            }
        )
    if args.json:
        emit_json(rows)
        return 0
    print(
        table(
            ["procedure", "schedule", "next run (UTC)", "last run", "result"],
            [
                [
                    r["procedure"] + ("" if r["enabled"] else " (disabled)"),
                    r["schedule"],
                    (r["next_run"] or "-")[:16].replace("T", " "),
                    (r["last_run"] or "-")[:16].replace("T", " "),
                    r["last_result"],
                ]
                for r in rows
            ],
        )
    )
    return 0


def run(args: argparse.Namespace) -> int:
    from hostkeeper.core.runs import Trigger, is_success
    from hostkeeper.engine import Engine

    loaded = load(args)
    if loaded is None:
        return 1
    config = loaded.config
    if args.procedure not in config.procedures:
        print(
            f"hostkeeper: no procedure named {args.procedure!r}; defined: "
            f"{', '.join(config.procedures) or 'none'}",
            file=sys.stderr,
        )
        return 1
    engine = Engine(lambda: config, store_for(config), config_path=args.config)
    report = engine.run(args.procedure, Trigger.MANUAL, dry_run=args.dry_run)
    if args.json:
        emit_json(
            {
                "procedure": report.procedure,
                "run_id": report.run_id,
                "status": report.status.value,
                "error": report.error,
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
                    ["phase", "step", "status", "seconds", "detail"],
                    [
                        [s.phase, s.label, s.status.value, s.seconds, s.error or s.summary]
                        for s in report.steps
                    ],
                )
            )
    return 0 if is_success(report.status) else 1


def runs(args: argparse.Namespace) -> int:
    from hostkeeper.adapters.store.runs import list_runs

    loaded = load_for_reading(args)
    if loaded is None:
        return 1
    records = list_runs(store_for(loaded.config), args.procedure, args.limit, host=args.host)
    if args.json:
        emit_json(
            [
                {
                    **{k: v for k, v in vars(r).items() if k != "steps"},
                    "steps": [
                        vars(s) | {"status": s.status.value, "duration_seconds": s.duration_seconds}
                        for s in r.steps
                    ],
                }
                for r in records
            ]
        )
        return 0
    if not records:
        print("no runs recorded yet")
        return 0
    # One table over the steps of every run shown, cut back into runs: the columns are as
    # wide as the longest label anywhere (labels are what people grep for, so no
    # truncation), and every run's block lines up with the others.
    steps = [step for record in records for step in record.steps]
    header, *step_lines = table(
        ["phase", "step", "status", "seconds", "detail"],
        [
            [s.phase, s.label, s.status.value, s.duration_seconds, _one_line(s.error or s.summary)]
            for s in steps
        ],
    ).splitlines()
    rows = iter(step_lines)
    for record in records:
        print(
            f"#{record.id} {record.procedure} {record.status} ({record.trigger}"
            f"{', dry run' if record.dry_run else ''}) {when(record.started_at)}"
            + (f" {record.duration_seconds:.1f}s" if record.duration_seconds is not None else "")
            + (f": {record.error}" if record.error else "")
        )
        if record.steps:
            print(f"    {header}")
        for _ in record.steps:
            print(f"    {next(rows)}")
    return 0


def _one_line(text: str | None) -> str | None:
    """A multi-line error would break the table; `runs --json` keeps it as it was."""
    return " ".join(text.split()) if text else text


def status(args: argparse.Namespace) -> int:
    from hostkeeper.adapters.store.runs import latest_runs
    from hostkeeper.daemon_state import read_state
    from hostkeeper.scheduler import procedure_trigger
    from hostkeeper.scheduling import next_fire_time

    loaded = load_for_reading(args)
    if loaded is None:
        return 1
    config = loaded.config
    store = store_for(config)
    host = args.host or store.host
    state = read_state(config.paths.state_dir) if host == store.host else None
    latest = latest_runs(store, host)
    now = datetime.now(UTC)
    procedures: list[dict[str, Any]] = []
    for name, procedure in config.procedures.items():
        trigger = procedure_trigger(config, name, procedure, store)
        last = latest.get(name)
        procedures.append(
            {
                "procedure": name,
                "next_run": next_fire_time(trigger, now) if procedure.enabled else None,
                "last_status": last.status if last else None,
                "last_started_at": last.started_at if last else None,
                # redacted again on the way out: rows stored before redaction existed
                "last_error": redact_text(last.error) if last and last.error else None,
            }
        )
    data = {"host": host, "daemon": state, "procedures": procedures}
    from hostkeeper.commands.check_cmd import health_status, print_health_status

    health = health_status(config, store, host)
    data["health"] = health
    from hostkeeper.commands.files_cmd import backup_status, print_backup_status

    backups = backup_status(config, store, host)
    data["backups"] = backups
    from hostkeeper.commands.metrics_cmd import metrics_status, print_metrics_status

    metrics = metrics_status(config, store, host)
    data["metrics"] = metrics
    from hostkeeper.commands.alerts_cmd import alerts_status, print_alerts_status

    alerting = alerts_status(store, host)
    data["alerts"] = alerting
    if args.json:
        emit_json(data)
        return 0
    if state is None:
        print(f"host {host}: daemon has not run with this configuration")
    else:
        running = "running" if state["running"] else "not running"
        print(f"host {host}: daemon {running} (pid {state['pid']}, since {state['started_at']})")
        if state.get("last_reload") not in (None, "ok"):
            print(f"last reload FAILED: {state['last_reload']}")
    print_health_status(health)
    print(
        table(
            ["procedure", "next run", "last run", "result", "error"],
            [
                [
                    p["procedure"],
                    when(p["next_run"]),
                    when(p["last_started_at"]),
                    p["last_status"],
                    p["last_error"],
                ]
                for p in procedures
            ],
        )
    )
    print_metrics_status(metrics)
    print_backup_status(backups)
    print_alerts_status(alerting)
    return 0
