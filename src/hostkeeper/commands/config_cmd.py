"""`hostkeeper config validate|show|sample`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from hostkeeper.commands.common import load_for_reading
from hostkeeper.config import ConfigError, load_config
from hostkeeper.output import emit_json


def register(verbs: Any) -> None:
    config = verbs.add_parser("config", help="validate, show or generate the configuration")
    actions = config.add_subparsers(dest="config_verb", metavar="ACTION", required=True)
    validate = actions.add_parser("validate", help="check the file; exit 1 when invalid")
    validate.add_argument(
        "--strict",
        action="store_true",
        help="also fail on warnings about this host (missing paths, commands)",
    )
    validate.set_defaults(handler=config_validate)
    actions.add_parser("show", help="the effective configuration, defaults filled in").set_defaults(
        handler=config_show
    )
    actions.add_parser("sample", help="a commented sample configuration").set_defaults(
        handler=config_sample
    )


def config_validate(args: argparse.Namespace) -> int:
    from hostkeeper.config.environment import environment_problems
    from hostkeeper.config.issues import ConfigIssue

    try:
        loaded = load_config(args.config)
    except ConfigError as error:
        if args.json:
            emit_json(
                {
                    "file": args.config,
                    "valid": False,
                    "errors": [str(issue) for issue in error.issues],
                    "warnings": [],
                }
            )
        else:
            for issue in error.issues:
                print(issue, file=sys.stderr)
            print(f"{args.config}: invalid ({len(error.issues)} problem(s))", file=sys.stderr)
        return 1
    warnings = [
        ConfigIssue(args.config, loaded.source.line_of(location), location, message, warning=True)
        for location, message in environment_problems(loaded.config)
    ]
    failed = bool(args.strict and warnings)
    if args.json:
        emit_json(
            {
                "file": args.config,
                "valid": not failed,
                "errors": [],
                "warnings": [str(warning) for warning in warnings],
            }
        )
    else:
        for warning in warnings:
            print(warning, file=sys.stderr)
        config = loaded.config
        verdict = "invalid under --strict" if failed else "valid"
        print(
            f"{args.config}: {verdict} ({len(config.procedures)} procedures, "
            f"{len(config.checks)} checks, {len(config.alerts.rules)} rules, "
            f"{len(warnings)} warning(s))"
        )
    return 1 if failed else 0


def config_show(args: argparse.Namespace) -> int:
    loaded = load_for_reading(args)
    if loaded is None:
        return 1
    data = loaded.config.model_dump(mode="json", by_alias=True)
    if args.json:
        emit_json(data)
    else:
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, width=100))
    return 0


def config_sample(args: argparse.Namespace) -> int:
    from hostkeeper.config.sample import render_sample

    sys.stdout.write(render_sample())
    return 0
