"""`hostkeeper validate-system`: a PASSED/FAILED line per item and a summary; exit 0 only
when nothing failed."""

from __future__ import annotations

import argparse
from typing import Any

from hostkeeper.output import emit_json


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "validate-system",
        help="end-to-end validation: config, service, health check, alert path, "
        "today's daily report, backups",
    )
    parser.add_argument(
        "--alert-timeout",
        type=float,
        default=30.0,
        help="seconds the test notifications may take, retries included (default 30)",
    )
    parser.set_defaults(handler=validate_system_verb)


def validate_system_verb(args: argparse.Namespace) -> int:
    from hostkeeper.validation import validate_system

    result = validate_system(args.config, alert_timeout=args.alert_timeout)
    if args.json:
        emit_json(result.as_dict())
    else:
        for item in result.items:
            print(item.line())
        print(result.summary())
    return 0 if result.passed else 1
