"""`type: alertmanager`: Alertmanager's v2 API, POST {url}/api/v2/alerts.

Alertmanager keeps an alert active until its `endsAt`. A firing alert is posted with
`endsAt` = now + 3 x `resend` and re-posted every `resend` while it fires (kind
`refresh`), so Alertmanager resolves it by itself if hostkeeper disappears; a resolution
is posted with `endsAt` = the time it resolved, which resolves it at once. Labels:
alertname (the rule), severity, instance (the host), job=hostkeeper.

Maintenance notifications become the alert `hostkeeper_procedure_failed` with a
`procedure` label: a failure fires it (for a day at most), the next success resolves it,
and start events are not sent. Test notifications carry the label test="true" and end
after five minutes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hostkeeper.channels.base import Message
from hostkeeper.channels.http import post_json
from hostkeeper.config.alerts import AlertmanagerChannel

TYPE = "alertmanager"
CONFIG = AlertmanagerChannel

MAINTENANCE_ALERT = "hostkeeper_procedure_failed"
MAINTENANCE_HOLD = timedelta(days=1)
TEST_HOLD = timedelta(minutes=5)


def wants(message: Message) -> bool:
    """Whether this channel carries `message` at all: maintenance starts are not alerts,
    and maintenance windows and incidents reach Alertmanager as silences (see
    `create_silence`), not as alerts."""
    if message.kind in ("window", "incident"):
        return False
    return not (message.kind == "maintenance" and message.state == "start")


def alert_for(channel: AlertmanagerChannel, message: Message) -> dict[str, Any]:
    labels = {
        "alertname": message.rule,
        "severity": message.severity,
        "instance": message.host,
        "job": "hostkeeper",
    }
    starts_at = message.starts_at or message.at
    ends_at: datetime
    if message.kind == "resolved":
        ends_at = message.ends_at or message.at
    elif message.kind == "test":
        labels["test"] = "true"
        ends_at = message.at + TEST_HOLD
    elif message.kind == "maintenance":
        labels["alertname"] = MAINTENANCE_ALERT
        labels["procedure"] = message.rule
        # One severity for failure and success alike: the labels identify the alert, so
        # the success must carry the same ones to resolve it.
        labels["severity"] = "warning"
        starts_at = message.at
        ends_at = message.at + MAINTENANCE_HOLD if message.state == "failure" else message.at
    else:  # firing, repeat, refresh
        ends_at = message.at + 3 * channel.resend
    annotations = {"summary": message.summary, "description": message.body()}
    if message.alert_id is not None:
        annotations["hostkeeper_alert_id"] = str(message.alert_id)
    return {
        "labels": labels,
        "annotations": annotations,
        "startsAt": _rfc3339(starts_at),
        "endsAt": _rfc3339(max(ends_at, starts_at)),
    }


def send(channel: AlertmanagerChannel, message: Message) -> str:
    url = channel.url.rstrip("/") + "/api/v2/alerts"
    return post_json(
        url,
        [alert_for(channel, message)],
        channel.timeout.total_seconds(),
        secret_path=channel.secret_path,
    )


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
