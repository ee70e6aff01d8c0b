"""`alert_test: RULE`: send a test notification through the rule's channels.

The message is marked as a test (subject, body, webhook `"test": true`, Alertmanager
label test="true", mail header X-Hostkeeper-Test). Delivery is synchronous, with the
usual retries within the step's time; the step succeeds only if every channel accepted.
"""

from __future__ import annotations

from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.alerting.messages import test_message
from hostkeeper.alerting.service import channel_map
from hostkeeper.channels.base import utc_now
from hostkeeper.channels.delivery import Backoff, DeliveryWorker
from hostkeeper.config import Config
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "alert_test"

DEFAULT_TIMEOUT = 120.0


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    rule_name: str = argument
    if ctx.dry_run:
        return StepOutcome(StepStatus.SKIPPED, f"dry run: would test rule {rule_name}")
    remaining = ctx.remaining()
    results = send_test(ctx.config, ctx.store, rule_name, remaining or DEFAULT_TIMEOUT)
    failed = [r for r in results if r["state"] != "sent"]
    details = {"rule": rule_name, "deliveries": results}
    if not results:
        return StepOutcome.failed(f"rule {rule_name} has no channels to test", **details)
    if failed:
        text = "; ".join(f"{r['channel']}: {r['error'] or r['state']}" for r in failed)
        return StepOutcome.failed(f"test notification not delivered: {text}", **details)
    channels = ", ".join(r["channel"] for r in results)
    return StepOutcome.ok(f"test notification for {rule_name} delivered via {channels}", **details)


def send_test(config: Config, store: Store, rule_name: str, timeout: float) -> list[dict[str, Any]]:
    """Send a test of `rule_name` to each of its channels; one result per channel."""
    rule = next(r for r in config.alerts.rules if r.name == rule_name)
    message = test_message(rule, store.host, utc_now())
    backoff = Backoff(budget=max(timeout - 5.0, 1.0))
    results: list[dict[str, Any]] = []
    with DeliveryWorker(store, lambda: channel_map(config), backoff) as worker:
        ids = [(channel, worker.submit(channel, message)) for channel in rule.channels]
        worker.drain(timeout)
    for channel, notification_id in ids:
        if notification_id is None:
            results.append(
                {
                    "channel": channel,
                    "state": "failed",
                    "attempts": 0,
                    "error": "could not record the notification",
                }
            )
            continue
        row = alert_store.get_notification(store, notification_id)
        results.append(
            {
                "channel": channel,
                "state": row.state,
                "attempts": row.attempts,
                "error": row.last_error if row.state != "sent" else None,
            }
        )
    return results
