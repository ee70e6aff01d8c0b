"""`hostkeeper validate-system`: a PASSED/FAILED line per item and a summary; exit 0 only
when nothing failed."""

from __future__ import annotations

import argparse
from typing import Any

from hostkeeper.commands.helppage import page
from hostkeeper.commands.output import emit_json


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "validate-system",
        **page(
            "end-to-end validation: config, service, health check, alert path, "
            "today's daily report, backups",
            """
            Check the installation end to end and print one line per item, NAME:
            PASSED, FAILED or SKIPPED with the reason, then a summary:

              config        the file loads and validates
              service       hostkeeper.service is active (or the daemon is alive)
              health check  every check runs now; none critical or unknown
              alert path    a test notification reaches every channel
              daily report  today's daily report exists and is not empty
              backups       the newest archive of every backup set verifies
            """,
            [(0, "no item failed"), (1, "an item failed")],
        ),
    )
    parser.add_argument(
        "--alert-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds the test notifications may take, retries included (default %(default)g)",
    )
    parser.set_defaults(handler=validate_system_verb)


def validate_system_verb(args: argparse.Namespace) -> int:
    from hostkeeper.procedures.validation import validate_system

    result = validate_system(args.config, alert_timeout=args.alert_timeout)
    if args.json:
        emit_json(result.as_dict())
    else:
        for item in result.items:
            print(item.line())
        print(result.summary())
    return 0 if result.passed else 1
