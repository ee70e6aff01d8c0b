"""The `hostkeeper` command line: argument parsing and output only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from hostkeeper import __version__
from hostkeeper.app import default_config_path

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hostkeeper",
        description="Keep this host healthy: scheduled maintenance procedures under systemd.",
    )
    parser.add_argument(
        "--config",
        default=None,
        help="configuration file (default: $HOSTKEEPER_CONFIG, then "
        "/etc/hostkeeper/hostkeeper.yaml)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--verbose", "-v", action="store_true", help="log progress to stderr")
    parser.add_argument("--version", action="version", version=f"hostkeeper {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    verbs.add_parser("daemon", help="run in the foreground (systemd ExecStart)")

    config = verbs.add_parser("config", help="validate, show or generate the configuration")
    config_verbs = config.add_subparsers(dest="config_verb", metavar="ACTION", required=True)
    validate = config_verbs.add_parser("validate", help="check the file; exit 1 when invalid")
    validate.add_argument(
        "--strict",
        action="store_true",
        help="also fail on warnings about this host (missing paths, commands)",
    )
    config_verbs.add_parser("show", help="the effective configuration, defaults filled in")
    config_verbs.add_parser("sample", help="a commented sample configuration")

    verbs.add_parser("schedule", help="procedures, their schedule, next run and last result")

    run = verbs.add_parser("run", help="run a procedure now, under the daemon's lock")
    run.add_argument("procedure")
    run.add_argument(
        "--dry-run", action="store_true", help="evaluate and record, but let steps change nothing"
    )

    runs = verbs.add_parser("runs", help="run history with per-step results")
    runs.add_argument("--procedure", "-p")
    runs.add_argument("--limit", "-n", type=int, default=10)
    runs.add_argument("--host", help="another host's history (shared PostgreSQL store)")

    status = verbs.add_parser("status", help="daemon state and procedures at a glance")
    status.add_argument("--host", help="another host's state (shared PostgreSQL store)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.config = args.config or default_config_path()
    if args.verb != "daemon":
        from hostkeeper.logsetup import configure_logging

        configure_logging(
            "console" if sys.stderr.isatty() else "json", "info" if args.verbose else "warning"
        )
    handler = _handler(args)
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _handler(args: argparse.Namespace) -> Handler:
    from hostkeeper import commands

    if args.verb == "config":
        return getattr(commands, f"config_{args.config_verb}")  # type: ignore[no-any-return]
    return getattr(commands, args.verb)  # type: ignore[no-any-return]
