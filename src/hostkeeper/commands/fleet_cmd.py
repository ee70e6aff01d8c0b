"""`hostkeeper fleet`: every host of the store at a glance."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from hostkeeper.commands.common import VerbContext, with_running_config
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, table


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "fleet",
        **page(
            "every host of the store: health, failing runs, backups, alerts, heartbeat",
            """
            One line per host that records its heartbeat in this store (a fleet shares
            one PostgreSQL database; docs/fleet.md): whether its daemon is running,
            silent (no heartbeat for longer than fleet.silent_after) or stopped, its
            health score, failing and missed procedures, the age of its newest backup
            and its last restore test, its firing alerts by severity (critical,
            warning, info), its hostkeeper version and last heartbeat. Each host's
            status is computed as `hostkeeper status --host HOST` computes it, from
            the configuration that host recorded. --json prints the fleet model with
            each procedure's last and next run.
            """,
            [
                (0, "the fleet was printed (also when hosts are silent)"),
                (1, CONFIG_ERROR),
            ],
        ),
    )
    parser.set_defaults(handler=fleet)


@with_running_config
def fleet(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.core.numbers import format_seconds
    from hostkeeper.services.fleet_status import build_fleet
    from hostkeeper.services.status_model import as_json

    view = build_fleet(ctx.store, datetime.now(UTC), ctx.config.fleet.silent_after)
    if args.json:
        emit_json(as_json(view))
        return 0
    if not view.hosts:
        print("no host has recorded a heartbeat in this store yet")
        return 0
    rows = []
    for host in view.hosts:
        test = host.last_restore_test
        alerts = host.alerts_firing
        rows.append(
            [
                host.host,
                host.state,
                "-" if host.health_score is None else f"{host.health_score:.0f}",
                ", ".join(host.failing) or "-",
                ", ".join(host.missed) or "-",
                format_seconds(host.newest_backup_age_seconds),
                "-" if test is None else f"{'ok' if test.ok else 'FAILED'} ({test.set})",
                ", ".join(host.maintenance) or "-",
                f"{alerts.get('critical', 0)}/{alerts.get('warning', 0)}/{alerts.get('info', 0)}",
                host.version,
                f"{format_seconds(host.heartbeat_age_seconds)} ago",
            ]
        )
    print(
        table(
            [
                "host",
                "state",
                "health",
                "failing",
                "missed",
                "newest backup",
                "restore test",
                "maintenance",
                "alerts c/w/i",
                "version",
                "heartbeat",
            ],
            rows,
        )
    )
    return 0
