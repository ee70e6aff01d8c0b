"""`hostkeeper alerts list|ack|silence|unsilence|mark-false-positive|test|stats`.

Kept whole: seven alert verbs with their help pages; each verb is a few lines over the
alert store.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from hostkeeper.commands.common import (
    VerbContext,
    fail,
    id_type,
    limit_type,
    with_config,
    with_running_config,
)
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, table, when
from hostkeeper.core.numbers import format_seconds
from hostkeeper.services.status_model import AlertsStatus

STATE_CHOICES = ("active", "pending", "firing", "resolved", "cancelled")


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "alerts",
        **page(
            "alerts: list, ack, silence, test, stats",
            """
            Work with the alerts the rules raise (pending -> firing -> resolved): list
            them, acknowledge one so its repeats stop, silence a rule for a while, mark a
            false positive, send a test through a rule's channels, and measure each
            rule's effectiveness. `hostkeeper alerts ACTION --help` explains one.
            """,
            [(0, "the action succeeded"), (1, "it failed; each action's help says when")],
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True, help="one of:")

    listing = actions.add_parser(
        "list",
        **page(
            "alerts, newest first, and current silences",
            """
            List this host's alerts, newest first, with rule, severity, state, since
            when, whether acknowledged and how many notifications went out; then the
            silences in force and until when.
            """,
            [(0, "the list was printed (also when empty)"), (1, CONFIG_ERROR)],
        ),
    )
    listing.add_argument(
        "--state",
        choices=STATE_CHOICES,
        metavar="STATE",
        help=f"only alerts in this state: {', '.join(STATE_CHOICES)}; active means pending "
        "or firing (default: all)",
    )
    listing.add_argument(
        "--limit",
        "-n",
        type=limit_type,
        default=50,
        help="at most this many (default: %(default)s)",
    )
    listing.set_defaults(handler=list_alerts)

    ack = actions.add_parser(
        "ack",
        **page(
            "acknowledge an alert: its repeats stop",
            """
            Acknowledge a pending or firing alert: someone is on it, so no repeat
            notification goes out for it. It still resolves on its own, and a new
            alert of the same rule notifies again.
            """,
            [(0, "acknowledged"), (1, f"no such alert, it is not active, or {CONFIG_ERROR}")],
        ),
    )
    ack.add_argument("id", type=id_type, metavar="ID", help="the alert's number in `alerts list`")
    ack.set_defaults(handler=acknowledge)

    silence = actions.add_parser(
        "silence",
        **page(
            "no notifications for RULE for a while",
            """
            Silence a rule for a duration: it is still evaluated and its alerts are
            recorded, but nothing is notified; an alert still firing when the silence
            ends notifies then. For planned work on every rule, use a maintenance
            window instead. `host_silent` (the fleet watch's rule) silences the watch for
            this host, e.g. before stopping it on purpose.
            """,
            [
                (0, "the silence was added"),
                (1, f"the rule is unknown, --for is invalid, or {CONFIG_ERROR}"),
            ],
        ),
    )
    silence.add_argument("rule", metavar="RULE", help="the name of an alert rule")
    silence.add_argument(
        "--for",
        dest="duration",
        required=True,
        metavar="DURATION",
        help="how long, e.g. 30m, 2h, 1d",
    )
    silence.add_argument("--reason", help="why (shown in `alerts list`)")
    silence.set_defaults(handler=add_silence)

    unsilence = actions.add_parser(
        "unsilence",
        **page(
            "end the silences of RULE now",
            """
            End every current silence of a rule now, so its alerts notify again. Says
            so when there was none.
            """,
            [(0, "done, also when there was no silence"), (1, CONFIG_ERROR)],
        ),
    )
    unsilence.add_argument("rule", metavar="RULE", help="the name of an alert rule")
    unsilence.set_defaults(handler=lift_silence)

    false_positive = actions.add_parser(
        "mark-false-positive",
        **page(
            "mark an alert that fired as a false positive",
            """
            Record that an alert which fired was not a real problem. `alerts stats`,
            the alert_effectiveness report and `thresholds` count these per rule, to
            show which rules need other levels.
            """,
            [
                (0, "marked"),
                (1, f"no such alert, it never fired, or {CONFIG_ERROR}"),
            ],
        ),
    )
    false_positive.add_argument(
        "id", type=id_type, metavar="ID", help="the alert's number in `alerts list`"
    )
    false_positive.set_defaults(handler=mark_false_positive)

    test = actions.add_parser(
        "test",
        **page(
            "send a test notification through RULE's channels",
            """
            Send a test notification of a rule to each of its channels (email,
            webhook, Alertmanager, command, log), with the same retries as a real one,
            and print per channel whether it was delivered and after how many attempts.
            """,
            [
                (0, "every channel of the rule delivered the test"),
                (
                    1,
                    f"a channel failed, the rule has no channels or is unknown, or {CONFIG_ERROR}",
                ),
            ],
        ),
    )
    test.add_argument("rule", metavar="RULE", help="the name of an alert rule")
    test.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="seconds for every delivery, retries included (default: %(default)g)",
    )
    test.set_defaults(handler=test_rule)

    stats = actions.add_parser(
        "stats",
        **page(
            "alert effectiveness per rule over a period",
            """
            Per rule over the period: alerts fired, notifications sent and repeated,
            false positives, flaps, mean time to acknowledge and to resolve, how many a
            `for:` delay cancelled, and apart, how many began during maintenance (and
            of those, how many were notified when it ended); then the noisiest rules.
            """,
            [(0, "the statistics were printed"), (1, f"--period is invalid, or {CONFIG_ERROR}")],
        ),
    )
    stats.add_argument(
        "--period",
        default="7d",
        metavar="DURATION",
        help="how far back, e.g. 24h, 30d (default: %(default)s)",
    )
    stats.set_defaults(handler=show_stats)


def _alert_dict(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "rule": record.rule,
        "severity": record.severity,
        "state": record.state.value,
        "pending_since": record.pending_since,
        "fired_at": record.fired_at,
        "resolved_at": record.resolved_at,
        "acknowledged_at": record.acknowledged_at,
        "last_notified_at": record.last_notified_at,
        "notifications": record.notifications,
        "false_positive": record.false_positive,
        "value": record.value,
        "summary": record.summary,
        "maintenance_window": record.maintenance_window,
    }


@with_running_config
def list_alerts(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store import alerts as alert_store

    store = ctx.store
    states = None
    if args.state == "active":
        states = ["pending", "firing"]
    elif args.state:
        states = [args.state]
    records = alert_store.list_alerts(store, states, args.limit)
    silences = alert_store.silence_rows(store, datetime.now(UTC))
    if args.json:
        emit_json(
            {
                "alerts": [_alert_dict(r) for r in records],
                "silences": [vars(s) for s in silences],
            }
        )
        return 0
    if records:
        print(
            table(
                ["id", "rule", "severity", "state", "since", "ack", "sent", "summary"],
                [
                    [
                        r.id,
                        r.rule
                        + (" (false positive)" if r.false_positive else "")
                        + (
                            f" (began in maintenance #{r.maintenance_window})"
                            if r.maintenance_window is not None
                            else ""
                        ),
                        r.severity,
                        r.state.value,
                        when(r.fired_at or r.pending_since),
                        "yes" if r.acknowledged_at else "",
                        r.notifications,
                        r.summary,
                    ]
                    for r in records
                ],
            )
        )
    else:
        print("no alerts" + (f" in state {args.state}" if args.state else ""))
    for s in silences:
        reason = f" ({s.reason})" if s.reason else ""
        print(f"silenced: {s.rule} until {when(s.until)}{reason}")
    return 0


@with_config
def _change(args: argparse.Namespace, ctx: VerbContext, action: str) -> int:
    from hostkeeper.adapters.store import alerts as alert_store
    from hostkeeper.alerting.evaluator import alerts_locked

    store = ctx.store
    change = alert_store.acknowledge if action == "ack" else alert_store.mark_false_positive
    try:
        with alerts_locked(ctx.config):
            record = change(store, args.id, datetime.now(UTC))
    except (alert_store.AlertNotFound, ValueError) as error:
        return fail(str(error))
    if args.json:
        emit_json(_alert_dict(record))
    else:
        done = "acknowledged" if action == "ack" else "marked as a false positive"
        print(f"alert #{record.id} ({record.rule}, {record.state.value}) {done}")
    return 0


def acknowledge(args: argparse.Namespace) -> int:
    return _change(args, "ack")


def mark_false_positive(args: argparse.Namespace) -> int:
    return _change(args, "false-positive")


def _rule_names(config: Any) -> list[str]:
    return [rule.name for rule in config.alerts.rules]


def _silenceable(config: Any) -> list[str]:
    from hostkeeper.core.fleet import HOST_SILENT_RULE

    # host_silent is the fleet watch's rule; silencing it on a host before stopping
    # that host on purpose keeps the watch quiet.
    return [*_rule_names(config), HOST_SILENT_RULE]


@with_config
def add_silence(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store import alerts as alert_store
    from hostkeeper.config.units import parse_duration

    rules = _silenceable(ctx.config)
    if args.rule not in rules:
        return fail(f"no rule named {args.rule!r}; rules: {', '.join(rules)}")
    try:
        duration = parse_duration(args.duration)
    except ValueError as error:
        return fail(f"--for: {error}")
    if not duration:
        return fail("--for must be longer than 0s")
    now = datetime.now(UTC)
    store = ctx.store
    silence_id = alert_store.add_silence(store, args.rule, now, now + duration, args.reason)
    if args.json:
        emit_json({"id": silence_id, "rule": args.rule, "until": now + duration})
    else:
        print(f"{args.rule} silenced until {when(now + duration)}")
    return 0


@with_config
def lift_silence(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store import alerts as alert_store

    lifted = alert_store.lift_silences(ctx.store, args.rule, datetime.now(UTC))
    if args.json:
        emit_json({"rule": args.rule, "lifted": lifted})
    elif lifted:
        print(f"{args.rule}: {lifted} silence{'s' if lifted > 1 else ''} lifted")
    else:
        print(f"{args.rule}: no current silence")
    return 0


@with_config
def test_rule(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.steps.alert_test import send_test

    if args.rule not in _rule_names(ctx.config):
        return fail(f"no rule named {args.rule!r}; rules: {', '.join(_rule_names(ctx.config))}")
    results = send_test(ctx.config, ctx.store, args.rule, args.timeout)
    ok = bool(results) and all(r["state"] == "sent" for r in results)
    if args.json:
        emit_json({"rule": args.rule, "delivered": ok, "deliveries": results})
    elif not results:
        print(f"{args.rule}: the rule has no channels")
    else:
        print(
            table(
                ["channel", "state", "attempts", "error"],
                [[r["channel"], r["state"], r["attempts"], r["error"]] for r in results],
            )
        )
    return 0 if ok else 1


@with_running_config
def show_stats(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.alerting.stats import effectiveness
    from hostkeeper.config.units import parse_duration

    try:
        period = parse_duration(args.period)
    except ValueError as error:
        return fail(f"--period: {error}")
    now = datetime.now(UTC)
    report = effectiveness(ctx.config, ctx.store, now - period, now)
    if args.json:
        emit_json(report.as_dict())
        return 0
    print(f"alert effectiveness from {when(report.start)} to {when(report.end)}")
    print(
        table(
            [
                "rule",
                "fired",
                "sent",
                "repeats",
                "false pos",
                "flaps",
                "mtta",
                "mttr",
                "by for",
                "maintenance",
            ],
            [
                [
                    r.rule,
                    r.fired,
                    r.notifications_sent,
                    r.repeats,
                    _rate(r.false_positives, r.false_positive_rate),
                    _rate(r.flaps, r.flap_rate),
                    format_seconds(r.mean_time_to_acknowledge_seconds),
                    format_seconds(r.mean_time_to_resolve_seconds),
                    r.cancelled_by_for,
                    f"{r.during_maintenance} ({r.notified_after_maintenance} notified)"
                    if r.during_maintenance
                    else 0,
                ]
                for r in report.rules
            ],
        )
    )
    if report.noisiest:
        print(f"noisiest: {', '.join(report.noisiest)}")
    return 0


def _rate(count: int, rate: float | None) -> str:
    return f"{count} ({rate:.0%})" if rate is not None else str(count)


# -- `status` section -------------------------------------------------------------------------


def print_alerts_status(data: AlertsStatus) -> None:
    if not data.firing and not data.pending:
        print("alerts: none firing")
    for alert in data.firing:
        ack = ", acknowledged" if alert.acknowledged else ""
        print(
            f"alert FIRING #{alert.id} {alert.rule} ({alert.severity}{ack}) "
            f"since {when(alert.since)}: {alert.summary}"
        )
    for alert in data.pending:
        print(f"alert pending #{alert.id} {alert.rule}: {alert.summary}")
    for silence in data.silences:
        print(f"silenced: {silence.rule} until {when(silence.until)}")
    for channel, count in sorted(data.dropped_deliveries.items()):
        print(f"notifications: {count} dropped for channel {channel} (its queue was full)")
    if data.failed_deliveries:
        newest = data.failed_deliveries[0]
        print(
            f"notifications: {len(data.failed_deliveries)} recent deliveries failed "
            f"(newest via {newest.channel}: {newest.error})"
        )
