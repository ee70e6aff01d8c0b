"""Procedure verbs: `daemon`, `schedule`, `run`, `runs`, `status`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from hostkeeper.commands.common import load, load_for_reading, store_for
from hostkeeper.output import emit_json, table, when


def register(verbs: Any) -> None:
    verbs.add_parser("daemon", help="run in the foreground (systemd ExecStart)").set_defaults(
        handler=daemon
    )
    verbs.add_parser(
        "schedule", help="procedures, their schedule, next run and last result"
    ).set_defaults(handler=schedule)
    run_parser = verbs.add_parser("run", help="run a procedure now, under the daemon's lock")
    run_parser.add_argument("procedure")
    run_parser.add_argument(
        "--dry-run", action="store_true", help="evaluate and record, but let steps change nothing"
    )
    run_parser.set_defaults(handler=run)
    runs_parser = verbs.add_parser("runs", help="run history with per-step results")
    runs_parser.add_argument("--procedure", "-p")
    runs_parser.add_argument("--limit", "-n", type=int, default=10)
    runs_parser.add_argument("--host", help="another host's history (shared PostgreSQL store)")
    runs_parser.set_defaults(handler=runs)
    status_parser = verbs.add_parser("status", help="daemon state and procedures at a glance")
    status_parser.add_argument("--host", help="another host's state (shared PostgreSQL store)")
    status_parser.set_defaults(handler=status)


def daemon(args: argparse.Namespace) -> int:
    from hostkeeper.daemon import run_daemon

    return run_daemon(args.config)


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
    for record in records:
        print(
            f"#{record.id} {record.procedure} {record.status} ({record.trigger}"
            f"{', dry run' if record.dry_run else ''}) {when(record.started_at)}"
            + (f" {record.duration_seconds:.1f}s" if record.duration_seconds is not None else "")
            + (f": {record.error}" if record.error else "")
        )
        for step in record.steps:
            detail = step.error or step.summary or ""
            print(
                f"    {step.phase:<6} {step.label:<32} {step.status.value:<9} "
                f"{step.duration_seconds:6.1f}s  {detail}".rstrip()
            )
    return 0


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
                "last_error": last.error if last else None,
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
