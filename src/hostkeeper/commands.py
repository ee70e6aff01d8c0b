"""What each CLI verb does: load the config, call the app, print the result."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

import yaml

from hostkeeper.config import Config, ConfigError, LoadedConfig, load_config
from hostkeeper.output import emit_json, table, when


def _load(args: argparse.Namespace) -> LoadedConfig | None:
    try:
        return load_config(args.config)
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        return None


def daemon(args: argparse.Namespace) -> int:
    from hostkeeper.daemon import run_daemon

    return run_daemon(args.config)


# -- config -------------------------------------------------------------------------------


def config_validate(args: argparse.Namespace) -> int:
    from hostkeeper.config.environment import environment_problems
    from hostkeeper.config.issues import ConfigIssue

    try:
        loaded = load_config(args.config)
    except ConfigError as error:
        if args.json:
            emit_json(
                {
                    "file": args.config,
                    "valid": False,
                    "errors": [str(issue) for issue in error.issues],
                    "warnings": [],
                }
            )
        else:
            for issue in error.issues:
                print(issue, file=sys.stderr)
            print(f"{args.config}: invalid ({len(error.issues)} problem(s))", file=sys.stderr)
        return 1
    warnings = [
        ConfigIssue(args.config, loaded.source.line_of(location), location, message, warning=True)
        for location, message in environment_problems(loaded.config)
    ]
    failed = bool(args.strict and warnings)
    if args.json:
        emit_json(
            {
                "file": args.config,
                "valid": not failed,
                "errors": [],
                "warnings": [str(warning) for warning in warnings],
            }
        )
    else:
        for warning in warnings:
            print(warning, file=sys.stderr)
        config = loaded.config
        verdict = "invalid under --strict" if failed else "valid"
        print(
            f"{args.config}: {verdict} ({len(config.procedures)} procedures, "
            f"{len(config.checks)} checks, {len(config.alerts.rules)} rules, "
            f"{len(warnings)} warning(s))"
        )
    return 1 if failed else 0


def config_show(args: argparse.Namespace) -> int:
    loaded = _load(args)
    if loaded is None:
        return 1
    data = loaded.config.model_dump(mode="json", by_alias=True)
    if args.json:
        emit_json(data)
    else:
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, width=100))
    return 0


def config_sample(args: argparse.Namespace) -> int:
    from hostkeeper.config.sample import render_sample

    sys.stdout.write(render_sample())
    return 0


# -- procedures ---------------------------------------------------------------------------


def _store(config: Config) -> Any:
    from hostkeeper.app import prepare_store

    return prepare_store(config)


def schedule(args: argparse.Namespace) -> int:
    from hostkeeper.adapters.store.runs import latest_runs
    from hostkeeper.scheduling import build_trigger, next_fire_time

    loaded = _load(args)
    if loaded is None:
        return 1
    config = loaded.config
    latest = latest_runs(_store(config))
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for name, procedure in config.procedures.items():
        trigger = build_trigger(procedure.schedule.trigger_spec(), config.timezone)
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

    loaded = _load(args)
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
    engine = Engine(lambda: config, _store(config))
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

    loaded = _load(args)
    if loaded is None:
        return 1
    records = list_runs(_store(loaded.config), args.procedure, args.limit, host=args.host)
    if args.json:
        emit_json(
            [
                {
                    **{k: v for k, v in vars(r).items() if k != "steps"},
                    "steps": [vars(s) | {"status": s.status.value} for s in r.steps],
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
    from hostkeeper.scheduling import build_trigger, next_fire_time

    loaded = _load(args)
    if loaded is None:
        return 1
    config = loaded.config
    store = _store(config)
    host = args.host or store.host
    state = read_state(config.paths.state_dir) if host == store.host else None
    latest = latest_runs(store, host)
    now = datetime.now(UTC)
    procedures: list[dict[str, Any]] = []
    for name, procedure in config.procedures.items():
        trigger = build_trigger(procedure.schedule.trigger_spec(), config.timezone)
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
    return 0
