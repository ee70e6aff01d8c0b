"""The `hostkeeper` command line: argument parsing and output only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hostkeeper import __version__
from hostkeeper.commands.helppage import exit_status_section, fill
from hostkeeper.config.location import default_config_path

Handler = Callable[[argparse.Namespace], int]


class _ConfigOption(argparse.Action):
    """Stores --config, and also as the default of every verb's parser: argparse parses a
    verb into a namespace of its own, and `run --help` lists this file's procedures."""

    def __init__(
        self, *args: Any, verb_parsers: Mapping[str, argparse.ArgumentParser], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.verb_parsers = verb_parsers

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        for verb_parser in self.verb_parsers.values():
            verb_parser.set_defaults(**{self.dest: values})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hostkeeper",
        description=fill(
            """
            Keep this host healthy: scheduled maintenance procedures, health checks,
            metrics and baselines, alerts, backups and reports, run by a daemon under
            systemd. Every verb below works on the same store and under the same locks as
            the daemon, so a verb run by hand never collides with a scheduled run.
            """
        ),
        epilog="`hostkeeper VERB --help` explains a verb, its arguments and its exit "
        "statuses.\n\n"
        + exit_status_section(
            [(0, "the verb succeeded"), (1, "it failed; each verb's help says when")]
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        action=_ConfigOption,
        verb_parsers=verbs.choices,
        help="configuration file (default: $HOSTKEEPER_CONFIG, then "
        "/etc/hostkeeper/hostkeeper.yaml)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--verbose", "-v", action="store_true", help="log progress to stderr")
    parser.add_argument("--version", action="version", version=f"hostkeeper {__version__}")
    from hostkeeper.commands.verbs import MODULES

    for module in MODULES:
        module.register(verbs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    daemon_config = daemon_invocation(arguments)
    if daemon_config is not None:
        # The unit's ExecStart: the daemon never needs the other verbs' modules, which
        # would stay in its resident memory for as long as it runs.
        from hostkeeper.daemon.lifecycle import run_daemon

        return run_daemon(daemon_config or default_config_path())
    parser = build_parser()
    args = parser.parse_args(arguments)
    args.config = args.config or default_config_path()
    if args.verb != "daemon":
        from hostkeeper.adapters.logsetup import configure_logging

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
    except Exception as error:  # one line for the operator; --verbose keeps the traceback
        if args.verbose or args.verb == "daemon":  # the journal keeps a daemon's traceback
            raise
        from hostkeeper.commands.common import describe_failure

        print(f"{parser.prog} {args.verb}: {describe_failure(error)}", file=sys.stderr)
        return 1


def daemon_invocation(arguments: Sequence[str]) -> str | None:
    """The --config of a plain `hostkeeper [--config PATH] [-v] daemon` ("" for the
    default); None for anything else (help, a typo, another verb), which the full parser
    answers."""
    config, rest = "", list(arguments)
    while rest:
        word = rest.pop(0)
        if word == "daemon":
            return config if not rest else None
        if word == "--config" and rest:
            config = rest.pop(0)
        elif word.startswith("--config="):
            config = word.removeprefix("--config=")
        elif word not in ("--verbose", "-v", "--json"):
            return None
    return None
