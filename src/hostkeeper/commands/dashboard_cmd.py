"""`hostkeeper dashboard url`: the address that logs a browser into the dashboard."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hostkeeper.commands.common import VerbContext, with_running_config
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "dashboard",
        **page(
            "the dashboard's login address",
            """
            The dashboard wants its token on every request (unless `dashboard.auth:
            none`). `hostkeeper dashboard url` prints the address that logs a browser
            in: /login?token=... sets an HttpOnly, SameSite=Strict cookie and leads to
            the dashboard. The address holds the token: open it, do not share it.
            Scripts and Prometheus send `Authorization: Bearer TOKEN` instead, with
            the token read from the token file.
            """,
            [
                (0, "the address was printed"),
                (1, f"the dashboard is disabled, its token cannot be read, or {CONFIG_ERROR}"),
            ],
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    url = actions.add_parser(
        "url",
        **page(
            "print the login address (it holds the token)",
            """
            Print the dashboard's login address: the address the running daemon
            serves (state_dir/daemon.json), else the configured `listen`, with the
            token from the token file. With `auth: none`, the plain address.
            """,
            [
                (0, "the address was printed"),
                (1, f"the dashboard is disabled, its token cannot be read, or {CONFIG_ERROR}"),
            ],
        ),
    )
    url.set_defaults(handler=dashboard_url)


@with_running_config
def dashboard_url(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.daemon_state import read_state
    from hostkeeper.web.auth import TokenUnavailable, login_url, read_token, token_path

    config = ctx.config
    if not config.dashboard.enabled:
        print("the dashboard is disabled (dashboard.enabled: false)", file=sys.stderr)
        return 1
    state = read_state(config.paths.state_dir) or {}
    base = state.get("dashboard_url") if state.get("running") else None
    if not base:
        host, port = config.dashboard.host, config.dashboard.port
        base = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
    if config.dashboard.auth == "none":
        address = base
    else:
        path = token_path(config)
        try:
            address = login_url(base, read_token(path))
        except TokenUnavailable as error:
            print(f"{error} (the daemon creates it on its first start)", file=sys.stderr)
            return 1
    if args.json:
        emit_json({"url": address})
    else:
        print(address)
    return 0
