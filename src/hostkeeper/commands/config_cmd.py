"""`hostkeeper config validate|show|sample`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from hostkeeper.commands.common import VerbContext, with_running_config
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json
from hostkeeper.config import Config, ConfigError, load_config
from hostkeeper.config.crossref import Problem


def register(verbs: Any) -> None:
    config = verbs.add_parser(
        "config",
        **page(
            "validate, show or generate the configuration",
            """
            The configuration file is the one --config names, else $HOSTKEEPER_CONFIG,
            else /etc/hostkeeper/hostkeeper.yaml. Check it before `systemctl reload
            hostkeeper` (a daemon refuses an invalid file and keeps the old one), print
            it with every default filled in, or print a commented sample generated from
            the models, which documents every key.
            """,
            [(0, "the action succeeded"), (1, "the configuration is invalid")],
        ),
    )
    actions = config.add_subparsers(
        dest="config_verb", metavar="ACTION", required=True, help="one of:"
    )
    validate = actions.add_parser(
        "validate",
        **page(
            "check the file; exit 1 when invalid",
            """
            Read and validate the configuration: YAML syntax, every key and value, then
            the references between sections (a rule naming a missing channel, a step
            naming a missing backup set, ...). Every problem is printed at once as
            FILE:LINE: key.path: message. Then the warnings about this host: paths and
            commands the configuration names but the host lacks.
            """,
            [
                (0, "valid (warnings about this host do not count without --strict)"),
                (1, "invalid, or with --strict there were warnings"),
            ],
        ),
    )
    validate.add_argument(
        "--strict",
        action="store_true",
        help="also fail on warnings about this host (missing paths, commands)",
    )
    validate.set_defaults(handler=config_validate)
    actions.add_parser(
        "show",
        **page(
            "the effective configuration, defaults filled in",
            """
            Print the configuration as the daemon sees it, every default filled in, as
            YAML (or JSON with --json). It reads back as a valid configuration.
            """,
            [(0, "printed"), (1, CONFIG_ERROR)],
        ),
    ).set_defaults(handler=config_show)
    actions.add_parser(
        "sample",
        **page(
            "a commented sample configuration",
            """
            Print a sample configuration with every section and key, each with the
            comment that documents it, generated from the configuration models. It
            does not read any configuration file.
            """,
            [(0, "printed")],
        ),
    ).set_defaults(handler=config_sample)


def config_validate(args: argparse.Namespace) -> int:
    from hostkeeper.config.environment import environment_problems
    from hostkeeper.config.issues import ConfigIssue

    try:
        loaded = load_config(args.config)
        unusable = host_errors(loaded.config)
        if unusable:
            raise ConfigError(
                [
                    ConfigIssue(args.config, loaded.source.line_of(location), location, message)
                    for location, message in unusable
                ]
            )
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


def host_errors(config: Config) -> list[Problem]:
    """What validates but can never work on this host: a token file that is missing or
    too short, a listen address that is not this host's."""
    from hostkeeper.adapters.listen import bind_problem
    from hostkeeper.config.environment import unusable_problems

    problems = unusable_problems(config)
    dashboard = config.dashboard
    if dashboard.enabled and (problem := bind_problem(dashboard.host, dashboard.port)):
        problems.append((("dashboard", "listen"), problem))
    return problems


@with_running_config
def config_show(args: argparse.Namespace, ctx: VerbContext) -> int:
    data = ctx.config.model_dump(mode="json", by_alias=True)
    if args.json:
        emit_json(data)
    else:
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, width=100))
    return 0


def config_sample(args: argparse.Namespace) -> int:
    from hostkeeper.config.sample import render_sample

    sys.stdout.write(render_sample())
    return 0
