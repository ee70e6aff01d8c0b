"""`hostkeeper reload`: the unit's ExecReload=. Exit 0 once the daemon runs the new
configuration; exit 1 when it refused the file (the errors on stderr, the first error on
the first line, which is what `systemctl status` shows), did not answer or does not run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hostkeeper.commands.common import pid_type
from hostkeeper.commands.helppage import page
from hostkeeper.commands.output import emit_json

DEFAULT_TIMEOUT = "30s"  # well inside the unit's TimeoutStartSec=, which bounds ExecReload=


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "reload",
        **page(
            "make the running daemon reload its configuration and report its verdict",
            """
            Send SIGHUP to the running daemon (the one given by --pid, else the one
            recorded in state_dir/daemon.json) and wait until it has tried the
            configuration file again. The unit's ExecReload= runs this verb, so
            `systemctl reload hostkeeper` fails when the daemon refuses the file, on any
            systemd version.

            A refused file leaves the daemon running on its previous configuration;
            every problem is printed on stderr as FILE:LINE: key.path: message, the
            first one first (that line is what `systemctl status` shows).
            """,
            [
                (0, "the daemon runs the new configuration"),
                (
                    1,
                    "the daemon refused the file and keeps the previous configuration, "
                    "or no daemon runs, or it did not answer within --timeout",
                ),
            ],
        ),
    )
    parser.add_argument(
        "--pid",
        type=pid_type,
        help="the daemon's pid (the unit passes $MAINPID); default: the one in "
        "state_dir/daemon.json",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,  # argparse converts a string default with `type`
        metavar="DURATION",
        help=f"how long to wait for the verdict (default {DEFAULT_TIMEOUT})",
    )
    parser.set_defaults(handler=reload_verb)


def _seconds(text: str) -> float:
    from hostkeeper.config.units import parse_duration

    try:
        return parse_duration(text).total_seconds()
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def reload_verb(args: argparse.Namespace) -> int:
    from hostkeeper.adapters.reload_request import ReloadUnanswered, request_reload, state_dir_of

    try:
        verdict = request_reload(state_dir_of(args.config), args.pid, args.timeout)
    except ReloadUnanswered as error:
        print(f"hostkeeper reload: {error}", file=sys.stderr)
        return 1
    if args.json:
        emit_json(verdict.as_dict())
    attempt = verdict.attempt.get("sequence")
    if verdict.applied:
        if not args.json:
            print(f"reloaded: the daemon (pid {verdict.pid}) runs the new configuration")
        return 0
    for line in verdict.errors or ["the daemon refused the configuration"]:
        print(line, file=sys.stderr)
    print(
        f"hostkeeper reload: the daemon (pid {verdict.pid}) refused the configuration "
        f"(reload #{attempt}) and keeps running the previous one",
        file=sys.stderr,
    )
    return 1
