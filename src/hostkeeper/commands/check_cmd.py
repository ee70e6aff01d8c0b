"""`hostkeeper check [--quick|--comprehensive]` and `hostkeeper thresholds [--period P]`.

`check` exits like a Nagios plugin (0 ok, 1 warning, 2 critical, 3 unknown, from the
worst check state) and prints a plugin-style first line with performance data, so it can
be run by NRPE or any Nagios-compatible scheduler as it is.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hostkeeper.commands.common import (
    VerbContext,
    load_running_if_invalid,
    store_for,
    with_config,
)
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, table
from hostkeeper.core.numbers import format_quantity, format_seconds
from hostkeeper.services.status_model import HealthStatus

UNKNOWN_EXIT = 3
# Nagios performance data units; other units are left off the number.
_PERFDATA_UNITS = {"%": "%", "s": "s"}


def register(verbs: Any) -> None:
    check = verbs.add_parser(
        "check",
        **page(
            "run the health checks now; Nagios exit codes and the health score",
            """
            Run the configured health checks now (disk, memory, load, units, http, tcp,
            certificates, file age, processes) and print a Nagios plugin line with the
            health score and performance data, then one row per check. The exit status
            is the worst check's state, so NRPE or any Nagios-compatible scheduler can
            run it as it is. A run of every check also stores the results and the
            health score, as the daemon's health_check step does.
            """,
            [
                (0, "OK: every check is ok"),
                (1, "WARNING: the worst check is warning"),
                (
                    2,
                    "CRITICAL: the worst check is critical (argparse also exits 2 on a bad "
                    "command line, before any check runs)",
                ),
                (
                    3,
                    "UNKNOWN: a check could not tell and none is warning or critical, no "
                    f"check is configured, or {CONFIG_ERROR}",
                ),
            ],
        ),
    )
    scope = check.add_mutually_exclusive_group()
    scope.add_argument(
        "--quick",
        action="store_true",
        help="only the local checks (disk_free, memory_available, load, process, file_age); "
        "their results are stored, the health score is not",
    )
    scope.add_argument(
        "--comprehensive",
        action="store_true",
        help="every check (the default), printing each check's detail, duration and weight",
    )
    check.set_defaults(handler=check_verb)
    thresholds = verbs.add_parser(
        "thresholds",
        **page(
            "suggest warning/critical levels for rules and checks from history "
            "(the suggest_thresholds step)",
            """
            For every check with levels and every alert rule, summarise the period's
            observations and suggest warning and critical levels outside their normal
            range, with the evidence: how often the current and the suggested levels
            would have fired over the same observations. The report is written to
            report_dir/thresholds/; the configuration is not changed.
            """,
            [(0, "the suggestions were written"), (1, f"--period is invalid, or {CONFIG_ERROR}")],
        ),
    )
    thresholds.add_argument(
        "--period",
        default=None,
        metavar="DURATION",
        help="history to look at, e.g. 3d, 2w (default 7d)",
    )
    thresholds.set_defaults(handler=thresholds_verb)


def check_verb(args: argparse.Namespace) -> int:
    """A Nagios status line on stdout whatever happens; UNKNOWN when nothing was checked."""
    from hostkeeper.config import ConfigError

    try:
        loaded = load_running_if_invalid(args.config)
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        return _unknown(args, f"invalid configuration: {error.first_line}")
    try:
        return _check(args, loaded.config)
    except BrokenPipeError:
        raise
    except Exception as error:  # a plugin that dies without a status line reads as a warning
        text = (str(error).strip().splitlines() or [""])[0]
        return _unknown(args, f"check failed: {type(error).__name__}: {text}".rstrip(": "))


def _unknown(args: argparse.Namespace, reason: str) -> int:
    message = f"UNKNOWN: {reason}"
    if args.json:
        emit_json({"state": "unknown", "exit_code": UNKNOWN_EXIT, "error": message})
    else:
        print(message)
    return UNKNOWN_EXIT


def _check(args: argparse.Namespace, config: Any) -> int:
    from hostkeeper.core.health import nagios_exit_code
    from hostkeeper.steps.health_check import check_round, select_checks

    checks = select_checks(config, quick=args.quick)
    if not checks:
        return _unknown(args, f"no {'local checks' if args.quick else 'checks'} configured")
    try:
        store = store_for(config)
    except Exception as error:  # a broken store must not stop the checks themselves
        print(f"hostkeeper: results not stored: {error}", file=sys.stderr)
        store = None
    round_ = check_round(config, store, checks)
    code = nagios_exit_code(round_.state)
    weights = config.health_score.weights
    if args.json:
        emit_json(
            {
                "state": round_.state.value,
                "exit_code": code,
                "score": round_.score,
                "score_stored": round_.complete and store is not None,
                "scope": "quick" if args.quick else "all",
                "checks": [
                    result.to_dict() | {"weight": weights.get(result.name, 1.0)}
                    for result in round_.results
                ],
            }
        )
        return code
    print(_status_line(round_, args.quick))
    rows = []
    for result in round_.results:
        row = [result.name, result.type, result.state.value.upper(), _value(result)]
        if args.comprehensive:
            row += [
                format_seconds(result.duration),
                f"{weights.get(result.name, 1.0):g}",
                result.detail,
            ]
        rows.append(row)
    headers = ["check", "type", "state", "value"]
    if args.comprehensive:
        headers += ["duration", "weight", "detail"]
    print(table(headers, rows))
    if not args.comprehensive:
        for result in round_.results:
            if result.state.value != "ok":
                print(f"{result.name}: {result.detail}")
    return code


def _status_line(round_: Any, quick: bool) -> str:
    """`WARNING: health score 83 - 1 warning (root_disk) | score=83;;;0;100 root_disk=9.1%`."""
    score = "-" if round_.score is None else f"{round_.score:.0f}"
    scope = " (local checks only)" if quick else ""
    parts = []
    for state, count in round_.counts().items():
        if count and state != "ok":
            names = [r.name for r in round_.results if r.state.value == state]
            parts.append(f"{count} {state} ({', '.join(names)})")
    summary = ", ".join(parts) or f"all {len(round_.results)} checks ok"
    perfdata = [] if round_.score is None else [f"score={round_.score:.1f};;;0;100"]
    for result in round_.results:
        if result.value is not None:
            unit = _PERFDATA_UNITS.get(result.unit or "", "")
            perfdata.append(f"{_perf_label(result.name)}={result.value:g}{unit}")
    line = f"{round_.state.value.upper()}: health score {score}{scope} - {summary}"
    return line + (" | " + " ".join(perfdata) if perfdata else "")


def _perf_label(name: str) -> str:
    return f"'{name}'" if any(c in name for c in " ='") else name


def _value(result: Any) -> str:
    """The value as the dashboard and the reports spell it (`46 ms`, `42.2 %`)."""
    return format_quantity(result.value, result.unit)


@with_config
def thresholds_verb(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.config.units import parse_duration
    from hostkeeper.steps.suggest_thresholds import DEFAULT_PERIOD, build_report, write_report

    try:
        period = parse_duration(args.period) if args.period else DEFAULT_PERIOD
    except ValueError as error:
        print(f"hostkeeper: --period: {error}", file=sys.stderr)
        return 1
    config = ctx.config
    from datetime import UTC, datetime

    report = build_report(config, ctx.store, datetime.now(UTC), period)
    path = write_report(config, report)
    if args.json:
        emit_json(report | {"path": str(path)})
        return 0
    print(
        table(
            [
                "for",
                "name",
                "current levels",
                "suggested levels",
                "alerts at current",
                "alerts at suggested",
                "verdict",
                "note",
            ],
            [_suggestion_row(item) for item in report["items"]],
        )
    )
    print(f"report: {path}")
    return 0


def _suggestion_row(item: dict[str, Any]) -> list[Any]:
    evidence = item.get("evidence") or {}
    return [
        item["kind"],
        item["name"],
        _levels(item.get("current")),
        _levels(item.get("suggested")),
        _alerts(evidence.get("current")),
        _alerts(evidence.get("suggested")),
        item.get("verdict"),
        item.get("note") or "",
    ]


def _levels(levels: dict[str, Any] | None) -> str:
    """`warning 20%, critical 10%` for checks, `cpu.percent > 69` for rules."""
    if not levels:
        return "-"
    if "rule" in levels:
        return str(levels["rule"])
    spelled = levels.get("config", levels)
    if isinstance(spelled, str):
        return spelled
    shown = [f"{key} {spelled[key]}" for key in ("warning", "critical") if key in spelled]
    if "level" in levels and not shown:
        shown = [f"level {levels['level']:g}"]
    if "states" in levels:
        shown = [f"{levels['check']} in {'/'.join(levels['states'])}"]
    return ", ".join(shown) or "-"


def _alerts(counts: dict[str, Any] | None) -> str:
    """Alerts a level would have raised: `3` for a rule, `w 3, c 0` for a check."""
    if not counts:
        return "-"
    if "level" in counts:
        return str(counts["level"]["episodes"])
    return ", ".join(f"{key[0]} {counts[key]['episodes']}" for key in ("warning", "critical"))


# -- the health section of `status` -----------------------------------------------------------


def print_health_status(health: HealthStatus) -> None:
    if not health.checks:
        print("health: no checks configured")
        return
    if health.score_computed_at is None:
        print("health score: not computed yet (run `hostkeeper check` or a health_check step)")
    else:
        score = "-" if health.score is None else f"{health.score:.0f}"
        at = health.score_computed_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"health score: {score} (state {health.state or '-'}, as of {at} UTC)")
    print(
        table(
            ["check", "state", "value", "checked at (UTC)", "detail"],
            [
                [
                    c.name,
                    (c.state or "never run").upper(),
                    _value(c),
                    c.checked_at.strftime("%Y-%m-%d %H:%M:%S") if c.checked_at else "-",
                    c.detail,
                ]
                for c in health.checks
            ],
        )
    )
