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
    from hostkeeper.commands import MODULES

    for module in MODULES:
        module.register(verbs)
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
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
