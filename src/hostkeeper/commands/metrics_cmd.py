"""`hostkeeper metrics show|list|collect|resources|trends`.

`metrics show METRIC --since 1h` reads raw samples for short spans and 5-minute or
hourly rollups for longer ones (or the resolution asked for). `collect`, `resources`
and `trends` run the collect_metrics, resource_report and analyze_trends steps now.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from hostkeeper.commands.common import (
    VerbContext,
    with_config,
    with_running_config,
)
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, table
from hostkeeper.services.status_model import MetricsStatus

RESOLUTIONS = {"auto": None, "raw": 0, "5m": 300, "1h": 3600}
RESOLUTION_NAMES = {0: "raw", 300: "5m", 3600: "1h"}


def register(verbs: Any) -> None:
    metrics = verbs.add_parser(
        "metrics",
        **page(
            "stored metrics: show, list, collect now",
            """
            Read the host metrics the daemon samples every metrics.interval (cpu,
            memory, swap, load, disk, disk and network I/O, processes), kept as raw
            samples and 5-minute and hourly rollups, or run the metric steps now.
            `hostkeeper metrics ACTION --help` explains one.
            """,
            [(0, "the action succeeded"), (1, "it failed; each action's help says when")],
        ),
    )
    actions = metrics.add_subparsers(
        dest="metrics_action", metavar="ACTION", required=True, help="one of:"
    )
    step_failed = f"the step failed, or {CONFIG_ERROR}"
    show = actions.add_parser(
        "show",
        **page(
            "samples or rollups of one metric",
            """
            Print one metric's values over a span, with min, mean, max and last: raw
            samples for short spans, 5-minute or hourly rollups for longer ones (or the
            resolution asked for), as far back as metrics.retention keeps them.
            """,
            [
                (0, "printed (also when the span holds no value)"),
                (1, f"no such metric was ever recorded, --since is invalid, or {CONFIG_ERROR}"),
            ],
        ),
    )
    show.add_argument(
        "metric", metavar="METRIC", help="a metric name, e.g. cpu.percent or disk./.used_percent"
    )
    show.add_argument(
        "--since",
        default="1h",
        metavar="DURATION",
        help="how far back, e.g. 30m, 6h, 7d (default: %(default)s)",
    )
    show.add_argument(
        "--resolution",
        choices=list(RESOLUTIONS),
        default="auto",
        help="raw samples, 5-minute or hourly rollups (default: %(default)s, by the span)",
    )
    show.add_argument(
        "--host", help="another host's metrics (shared PostgreSQL store; default: this host)"
    )
    show.set_defaults(handler=show_verb)
    listing = actions.add_parser(
        "list",
        **page(
            "every recorded metric with its newest value",
            """
            List every metric recorded for the host with its newest value and when it
            was taken: the names `metrics show` and alert rules accept.
            """,
            [(0, "listed (also when there is none)"), (1, CONFIG_ERROR)],
        ),
    )
    listing.add_argument(
        "--host", help="another host's metrics (shared PostgreSQL store; default: this host)"
    )
    listing.set_defaults(handler=list_verb)
    collect = actions.add_parser(
        "collect",
        **page(
            "collect one round now, then roll up and expire (collect_metrics)",
            """
            Run the collect_metrics step now: read the counters, wait a second, store
            one round of samples, then compute the rollups and expire what is past
            metrics.retention. The daemon collects on its own; this is for a host
            without it, or to see the step work.
            """,
            [(0, "collected"), (1, step_failed)],
        ),
    )
    collect.set_defaults(handler=step_verb, step="collect_metrics", argument=None)
    resources = actions.add_parser(
        "resources",
        **page(
            "top processes, filesystems, directory growth (resource_report)",
            """
            Run the resource_report step now: the top processes by CPU and memory, the
            use of each filesystem, and the size of the paths hostkeeper looks after
            with their growth since the previous report. Written to
            report_dir/resources/ as JSON too.
            """,
            [(0, "the report was made"), (1, step_failed)],
        ),
    )
    resources.set_defaults(handler=step_verb, step="resource_report", argument=None)
    trends = actions.add_parser(
        "trends",
        **page(
            "slope per day and days until full per baseline metric (analyze_trends)",
            """
            Run the analyze_trends step now: fit a least-squares line through each of
            baselines.metrics over the period and print its slope per day and, for
            usage metrics, the days until 100 %. Written to report_dir/trends/ as JSON
            too.
            """,
            [(0, "the trends were computed"), (1, f"--period is invalid, or {step_failed}")],
        ),
    )
    trends.add_argument(
        "--period",
        default="7d",
        metavar="DURATION",
        help="history to fit, e.g. 7d, 30d (default: %(default)s)",
    )
    trends.set_defaults(handler=step_verb, step="analyze_trends")


@with_running_config
def show_verb(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store.metrics import metric_names, points
    from hostkeeper.config.units import parse_duration
    from hostkeeper.core.metrics import display_resolution

    try:
        span = parse_duration(args.since)
    except ValueError as error:
        print(f"hostkeeper: --since: {error}", file=sys.stderr)
        return 1
    config = ctx.config
    store = ctx.store
    host = args.host or store.host
    retention = config.metrics.retention
    resolution = RESOLUTIONS[args.resolution]
    if resolution is None:
        resolution = display_resolution(
            span.total_seconds(),
            retention.raw.total_seconds(),
            retention.five_minute.total_seconds(),
        )
    now = datetime.now(UTC)
    since = now - span
    found = points(store, args.metric, since, now, resolution, host)
    if not found and resolution != 0 and args.resolution == "auto":
        # No rollups yet (a new installation, or the first 5 minutes): show raw samples.
        resolution = 0
        found = points(store, args.metric, since, now, resolution, host)
    if not found and args.metric not in metric_names(store, host):
        known = metric_names(store, host)
        hint = f"; recorded: {', '.join(known)}" if known else "; no metric is recorded yet"
        print(f"hostkeeper: no metric named {args.metric!r} on {host}{hint}", file=sys.stderr)
        return 1
    values = [point.value for point in found]
    summary = (
        {
            "min": min(point.min if point.min is not None else point.value for point in found),
            "mean": sum(values) / len(values),
            "max": max(point.max if point.max is not None else point.value for point in found),
            "last": values[-1],
        }
        if found
        else None
    )
    if args.json:
        emit_json(
            {
                "host": host,
                "metric": args.metric,
                "since": since,
                "until": now,
                "resolution": RESOLUTION_NAMES[resolution],
                "summary": summary,
                "points": [point.as_dict() for point in found],
            }
        )
        return 0
    label = RESOLUTION_NAMES[resolution]
    if not found:
        print(f"{args.metric}: no {label} values in the last {args.since}")
        return 0
    assert summary is not None
    print(
        f"{args.metric} on {host}, last {args.since} ({label}, {len(found)} values): "
        f"min {_number(summary['min'])}  mean {_number(summary['mean'])}  "
        f"max {_number(summary['max'])}  last {_number(summary['last'])}"
    )
    if resolution == 0:
        print(table(["time", "value"], [[p.at, _number(p.value)] for p in found]))
    else:
        print(
            table(
                ["bucket start", "min", "mean", "max", "samples"],
                [[p.at, _number(p.min), _number(p.value), _number(p.max), p.count] for p in found],
            )
        )
    return 0


@with_running_config
def list_verb(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store.metrics import latest_values

    store = ctx.store
    host = args.host or store.host
    latest = latest_values(store, None, host)
    if args.json:
        emit_json({name: {"value": p.value, "at": p.at.isoformat()} for name, p in latest.items()})
        return 0
    if not latest:
        print(f"no metrics recorded for {host} yet")
        return 0
    print(
        table(["metric", "value", "at"], [[n, _number(p.value), p.at] for n, p in latest.items()])
    )
    return 0


@with_config
def step_verb(args: argparse.Namespace, ctx: VerbContext) -> int:
    """Run one built-in step outside any procedure; 0 unless it failed."""
    from hostkeeper.core.runs import StepStatus

    argument = getattr(args, "argument", None)
    if args.step == "analyze_trends":
        from hostkeeper.config.units import parse_duration

        try:
            argument = parse_duration(args.period)
        except ValueError as error:
            print(f"hostkeeper: --period: {error}", file=sys.stderr)
            return 1
    config = ctx.config
    outcome = run_step(config, ctx.store, args.step, argument)
    print_outcome(args, args.step, outcome)
    return 1 if outcome.status in (StepStatus.FAILED, StepStatus.ABORTED) else 0


def run_step(config: Any, store: Any, name: str, argument: Any) -> Any:
    """Run the built-in step `name` with an already parsed argument, as a procedure would."""
    import structlog

    from hostkeeper.config.procedures import Step
    from hostkeeper.procedures.engine import execute_step
    from hostkeeper.steps.context import StepContext

    step = Step(name=name, argument=argument)
    ctx = StepContext(
        config=config,
        store=store,
        procedure="(command line)",
        run_id=None,
        step=step,
        log=structlog.get_logger("hostkeeper.cli").bind(step=step.label()),
    )
    return execute_step(ctx)


def print_outcome(args: argparse.Namespace, label: str, outcome: Any) -> None:
    if args.json:
        emit_json(
            {
                "step": label,
                "status": outcome.status.value,
                "summary": outcome.summary,
                "error": outcome.error,
                "details": outcome.details,
            }
        )
        return
    print(f"{label}: {outcome.status.value}: {outcome.error or outcome.summary or ''}".rstrip())


def _number(value: float | None) -> str:
    """Whole numbers in full (byte counts), others with up to 4 significant digits."""
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"


# -- the metrics section of `status` ----------------------------------------------------------


def print_metrics_status(status: MetricsStatus, now: datetime) -> None:
    values = status.values
    if not values:
        print("metrics: none collected yet")
        return
    age = ""
    if status.newest_sample_at is not None:
        seconds = (now - status.newest_sample_at).total_seconds()
        age = f" ({seconds:.0f}s ago)" if seconds < 120 else f" ({seconds / 60:.0f} min ago)"
    shown = "  ".join(f"{name} {_number(value)}" for name, value in values.items())
    print(f"metrics{age}: {shown}")
