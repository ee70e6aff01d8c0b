"""`hostkeeper baseline show|update [--backup-previous]|validate|rollback [VERSION]`.

The same code as the `baseline:` steps; `validate` exits 1 when it rejects the
candidate, `update` and `rollback` exit 1 when they fail.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from hostkeeper.commands.common import (
    VerbContext,
    version_type,
    with_config,
    with_running_config,
)
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.metrics_cmd import print_outcome
from hostkeeper.commands.output import emit_json, table


def register(verbs: Any) -> None:
    baseline = verbs.add_parser(
        "baseline",
        **page(
            "baseline versions: show, update, validate, rollback",
            """
            Baselines are per-metric statistics (mean, stddev, p50/p95/p99, n) over
            baselines.window, kept as numbered versions: `update` computes a candidate,
            `validate` promotes it to active or rejects it, `rollback` makes an earlier
            version active again. Alert rules compare against the active version.
            The same code as the `baseline:` steps of a procedure.
            """,
            [(0, "the action succeeded"), (1, "it failed; each action's help says when")],
        ),
    )
    actions = baseline.add_subparsers(
        dest="baseline_action", metavar="ACTION", required=True, help="one of:"
    )
    show = actions.add_parser(
        "show",
        **page(
            "versions, and the statistics of one (the active)",
            """
            List every baseline version with its status (candidate, active, superseded,
            rejected, rolled_back), creation time and window, then the per-metric
            statistics of one version: the active one unless a version is named.
            """,
            [
                (0, "printed (also when there is no version yet)"),
                (1, f"no such version, or {CONFIG_ERROR}"),
            ],
        ),
    )
    show.add_argument(
        "version",
        nargs="?",
        type=version_type,
        metavar="VERSION",
        help="version to show (default: active)",
    )
    show.add_argument(
        "--host", help="another host's baselines (shared PostgreSQL store; default: this host)"
    )
    show.set_defaults(handler=show_verb)
    update = actions.add_parser(
        "update",
        **page(
            "compute a new candidate version",
            """
            Compute the statistics of each metric of baselines.metrics over the last
            baselines.window and store them as a candidate version. A metric with fewer
            than min_samples samples keeps its active statistics (with a warning); when
            no metric has enough, no version is written. The candidate takes effect only
            after `baseline validate`.
            """,
            [
                (0, "a candidate was written, or there was too little data (a warning)"),
                (1, f"the update failed, or {CONFIG_ERROR}"),
            ],
        ),
    )
    update.add_argument(
        "--backup-previous",
        action="store_true",
        help="first export the active version to state_dir/baselines/ as JSON",
    )
    update.set_defaults(handler=update_verb)
    validate = actions.add_parser(
        "validate",
        **page(
            "promote the newest candidate, or reject it (exit 1)",
            """
            Check the newest candidate against the active version: when a metric's mean
            drifted more than baselines.drift_threshold, or has fewer than min_samples
            samples, the candidate is rejected and the active version stays; otherwise
            the candidate becomes active.
            """,
            [
                (0, "the candidate was promoted, or there was none to validate"),
                (1, f"the candidate was rejected, or {CONFIG_ERROR}"),
            ],
        ),
    )
    validate.set_defaults(handler=validate_verb)
    rollback = actions.add_parser(
        "rollback",
        **page(
            "make an earlier version active again",
            """
            Make an earlier baseline version active again, for when a validated update
            turned out wrong; the version it replaces is kept, marked rolled_back.
            Without VERSION: the newest earlier version that was once active, never a
            rejected one (name a rejected version to activate it anyway).
            """,
            [
                (0, "the version is active"),
                (1, f"no such version, or nothing to roll back to, or {CONFIG_ERROR}"),
            ],
        ),
    )
    rollback.add_argument(
        "version",
        nargs="?",
        type=version_type,
        metavar="VERSION",
        help="the version to activate (default: the newest earlier one once active)",
    )
    rollback.set_defaults(handler=rollback_verb)


def _exit_code(outcome: Any) -> int:
    from hostkeeper.core.runs import StepStatus

    return 1 if outcome.status in (StepStatus.FAILED, StepStatus.ABORTED) else 0


@with_config
def update_verb(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.steps.baseline import update

    config = ctx.config
    outcome = update(config, ctx.store, datetime.now(UTC), backup_previous=args.backup_previous)
    print_outcome(args, "baseline update", outcome)
    return _exit_code(outcome)


@with_config
def validate_verb(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.steps.baseline import validate

    config = ctx.config
    outcome = validate(config, ctx.store)
    print_outcome(args, "baseline validate", outcome)
    return _exit_code(outcome)


@with_config
def rollback_verb(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.steps.baseline import rollback

    config = ctx.config
    outcome = rollback(config, ctx.store, args.version)
    print_outcome(args, "baseline rollback", outcome)
    return _exit_code(outcome)


@with_running_config
def show_verb(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store import baselines as baseline_store

    store = ctx.store
    host = args.host or store.host
    versions = baseline_store.list_versions(store, host)
    shown = (
        next((v for v in versions if v.version == args.version), None)
        if args.version is not None
        else next((v for v in versions if v.status.value == "active"), None)
    )
    if args.version is not None and shown is None:
        print(f"hostkeeper: there is no baseline version {args.version} for {host}")
        return 1
    stats = baseline_store.version_stats(store, shown.version, host) if shown else {}
    if args.json:
        emit_json(
            {
                "host": host,
                "versions": [v.as_dict() for v in versions],
                "shown": shown.as_dict() if shown else None,
                "stats": {metric: s.as_dict() for metric, s in stats.items()},
            }
        )
        return 0
    if not versions:
        print(f"no baseline versions for {host} yet (run `hostkeeper baseline update`)")
        return 0
    print(
        table(
            ["version", "status", "created", "window", "note"],
            [
                [
                    f"v{v.version}",
                    v.status.value,
                    v.created_at,
                    f"{v.window_start:%Y-%m-%d %H:%M} .. {v.window_end:%Y-%m-%d %H:%M}",
                    v.note,
                ]
                for v in versions
            ],
        )
    )
    if shown is None:
        print("\nno version is active yet (run `hostkeeper baseline validate`)")
        return 0
    print(f"\nv{shown.version} ({shown.status.value}):")
    print(
        table(
            ["metric", "n", "mean", "stddev", "min", "p50", "p95", "p99", "max"],
            [
                [metric, s.n, *(_number(getattr(s, f)) for f in _FIELDS)]
                for metric, s in stats.items()
            ],
        )
    )
    return 0


_FIELDS = ("mean", "stddev", "min", "p50", "p95", "p99", "max")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
