"""File verbs: `rotate` and `cleanup`.

Each runs the same code as the corresponding step, under the same lock, so a verb and
the daemon never act on the same files at once.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from hostkeeper.commands.common import VerbContext, fail, known_name, with_config
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, printable, table
from hostkeeper.core.numbers import format_bytes


def register(verbs: Any) -> None:
    rotate = verbs.add_parser(
        "rotate",
        **page(
            "rotate configured logs",
            """
            Rotate the logs of the `logs` policies that are due (daily, weekly, monthly
            in the configured time zone, or over max_size): rename (or copytruncate
            where configured), compress older generations, delete those beyond keep,
            then run after_rotate. The rotate_logs step runs the same code under the
            same lock.
            """,
            [
                (0, "every due log was rotated (or, with --dry-run, the plan printed)"),
                (
                    1,
                    "any log failed (each error on stderr), another rotation or cleanup "
                    f"holds the lock, the policy is unknown, or {CONFIG_ERROR}",
                ),
            ],
        ),
    )
    rotate.add_argument(
        "name", nargs="?", metavar="NAME", help="one policy of `logs` (default: all)"
    )
    rotate.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    rotate.add_argument(
        "--force", action="store_true", help="rotate every non-empty log now, due or not"
    )
    rotate.set_defaults(handler=rotate_verb)

    cleanup = verbs.add_parser(
        "cleanup",
        **page(
            "apply cleanup policies",
            """
            Apply the `cleanup` policies: under each policy's path, compress the
            matching files older than compress_after and delete those older than
            delete_after. Never follows a symlink, leaves the path or crosses a
            filesystem. Prints what was deleted and compressed, the bytes freed and
            what was skipped and why; with --dry-run, every planned action instead.
            """,
            [
                (0, "every policy applied cleanly (or, with --dry-run, the plan printed)"),
                (
                    1,
                    "any file failed (each error on stderr), another rotation or cleanup "
                    f"holds the lock, the policy is unknown, or {CONFIG_ERROR}",
                ),
            ],
        ),
    )
    cleanup.add_argument(
        "name", nargs="?", metavar="NAME", help="one policy of `cleanup` (default: all)"
    )
    cleanup.add_argument(
        "--dry-run",
        action="store_true",
        help="print each action with file, size and reason, change nothing",
    )
    cleanup.set_defaults(handler=cleanup_verb)


def _now() -> datetime:
    return datetime.now(UTC)


# -- rotate ----------------------------------------------------------------------------


@with_config
def rotate_verb(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.locks import LockHeld
    from hostkeeper.steps.rotate_logs import rotate

    config = ctx.config
    if not known_name([p.name for p in config.logs], args.name, "logs"):
        return 1
    try:
        outcomes = rotate(
            config,
            ctx.store,
            names=[args.name] if args.name else None,
            dry_run=args.dry_run,
            force=args.force,
            now=_now(),
        )
    except LockHeld as held:
        return fail(f"another rotation or cleanup is running ({held.holder})")
    if args.json:
        emit_json([outcome.as_dict() for outcome in outcomes])
    else:
        _print_rotation(outcomes, dry_run=args.dry_run)
    return 1 if any(outcome.all_errors for outcome in outcomes) else 0


def _print_rotation(outcomes: list[Any], *, dry_run: bool) -> None:
    rows = []
    for outcome in outcomes:
        for item in outcome.logs:
            plan = item.plan
            rotates = plan.rotate if dry_run else item.rotated
            action = f"-> {plan.rotate_to}" if rotates else "-"
            extra = []
            if plan.compress:
                extra.append(f"compress {', '.join(plan.compress)}")
            if plan.delete or plan.discard:
                extra.append(f"delete {', '.join(plan.discard + plan.delete)}")
            if item.deferred:
                extra.append(f"still open, not compressed: {', '.join(item.deferred)}")
            rows.append([outcome.policy, plan.path, plan.reason, action, "; ".join(extra)])
    print(table(["policy", "log", "why", "rotation", "then"], rows) if rows else "no logs")
    for outcome in outcomes:
        if outcome.after_rotate:
            print(f"{outcome.policy}: after_rotate: {outcome.after_rotate}")
        for error in outcome.all_errors:
            print(f"{outcome.policy}: ERROR {printable(error)}", file=sys.stderr)


# -- cleanup ---------------------------------------------------------------------------


@with_config
def cleanup_verb(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.locks import LockHeld
    from hostkeeper.steps.cleanup import clean

    config = ctx.config
    if not known_name([p.name for p in config.cleanup], args.name, "cleanup"):
        return 1
    try:
        outcomes = clean(
            config,
            ctx.store,
            names=[args.name] if args.name else None,
            dry_run=args.dry_run,
            now=_now(),
        )
    except LockHeld as held:
        return fail(f"another rotation or cleanup is running ({held.holder})")
    if args.json:
        emit_json([outcome.as_dict(actions=args.dry_run) for outcome in outcomes])
        return 1 if any(o.errors for o in outcomes) else 0
    for outcome in outcomes:
        plan = outcome.plan
        if args.dry_run and plan is not None:
            print(f"{outcome.policy} ({printable(outcome.path)}): {len(plan.actions)} action(s)")
            if plan.actions:
                print(
                    table(
                        ["action", "file", "bytes", "why"],
                        [[a.kind.value, a.relpath, a.bytes, a.reason] for a in plan.actions],
                    )
                )
            print(
                f"would delete {format_bytes(plan.bytes_to_delete)}, "
                f"compress {format_bytes(plan.bytes_to_compress)}"
            )
        else:
            print(
                f"{outcome.policy} ({printable(outcome.path)}): deleted {outcome.deleted}, "
                f"compressed {outcome.compressed}, freed {format_bytes(outcome.bytes_freed)}"
            )
        for relpath, reason in outcome.skipped[:20]:
            print(f"  skipped {printable(relpath)}: {printable(reason)}")
        for error in outcome.errors:
            print(f"{outcome.policy}: ERROR {printable(error)}", file=sys.stderr)
    return 1 if any(o.errors for o in outcomes) else 0
