"""`type: alertmanager`: Alertmanager's v2 API, POST {url}/api/v2/alerts.

Alertmanager keeps an alert active until its `endsAt`. A firing alert is posted with
`endsAt` = now + 3 x `resend` and re-posted every `resend` while it fires (kind
`refresh`), so Alertmanager resolves it by itself if hostkeeper disappears; a resolution
is posted with `endsAt` = the time it resolved, which resolves it at once. Labels:
alertname (the rule), severity, instance (the host), job=hostkeeper.

Maintenance notifications become the alert `hostkeeper_procedure_failed` with a
`procedure` label: a failure fires it (for a day at most), the next success resolves it;
other run events (start, waits for checklist items) are not sent. Test notifications
carry the label test="true" and end after five minutes.

While a maintenance window holds alerts, hostkeeper keeps a silence here (POST
/api/v2/silences, DELETE /api/v2/silence/ID at the end): it matches this host by
`silence_label` (`instance` by default: the host's name, with or without a :port) and
leaves out hostkeeper's own alerts (its rules and `hostkeeper_procedure_failed`), which
hostkeeper holds itself, for at most `maintenance.max_hold`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from hostkeeper.channels.base import DeliveryError, Message, permanent
from hostkeeper.channels.http import post_json, request_json
from hostkeeper.config.alerts import AlertmanagerChannel

TYPE = "alertmanager"
CONFIG = AlertmanagerChannel

MAINTENANCE_ALERT = "hostkeeper_procedure_failed"
MAINTENANCE_HOLD = timedelta(days=1)
TEST_HOLD = timedelta(minutes=5)


# The run events that set or clear hostkeeper_procedure_failed; a start or a wait would
# otherwise resolve a failure it says nothing about.
MAINTENANCE_STATES = ("failure", "success")


def wants(message: Message) -> bool:
    """Whether this channel carries `message` at all: of runs, failures and successes;
    maintenance windows and incidents reach Alertmanager as silences (see
    `create_silence`), not as alerts."""
    if message.kind in ("window", "incident"):
        return False
    return not (message.kind == "maintenance" and message.state not in MAINTENANCE_STATES)


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


# -- silences ---------------------------------------------------------------------------------


def silence_matchers(
    channel: AlertmanagerChannel, host: str, own_alerts: Iterable[str]
) -> list[dict[str, Any]]:
    """This host by `silence_label`, except the alerts named in `own_alerts`."""
    own = sorted({MAINTENANCE_ALERT, *own_alerts})
    return [
        {
            "name": channel.silence_label,
            "value": re.escape(host) + "(:[0-9]+)?",
            "isRegex": True,
            "isEqual": True,
        },
        {
            "name": "alertname",
            "value": "|".join(re.escape(name) for name in own),
            "isRegex": True,
            "isEqual": False,
        },
    ]


def active_silence_start(channel: AlertmanagerChannel, silence_id: str) -> str | None:
    """The `startsAt` of a silence that is still active, as Alertmanager wrote it; None
    when it is gone or over. Raises DeliveryError.

    An update keeps its id only with the silence's own `startsAt` (Alertmanager moves a
    start in the past to the moment it received the silence); any other start makes it
    expire the silence and create another."""
    url = channel.url.rstrip("/") + "/api/v2/silence/" + quote(silence_id, safe="")
    try:
        _, answer = request_json(
            "GET", url, None, channel.timeout.total_seconds(), secret_path=channel.secret_path
        )
    except DeliveryError as error:
        if silence_gone(error):
            return None
        raise
    if not isinstance(answer, dict):
        raise permanent(f"Alertmanager answered a silence with: {str(answer)[:200]}")
    status = answer.get("status")
    state = status.get("state") if isinstance(status, dict) else None
    starts_at = answer.get("startsAt")
    return starts_at if state == "active" and isinstance(starts_at, str) else None


def put_silence(
    channel: AlertmanagerChannel,
    *,
    matchers: list[dict[str, Any]],
    starts_at: datetime | str,
    ends_at: datetime,
    comment: str,
    created_by: str,
    silence_id: str | None = None,
) -> str:
    """Create a silence, or with `silence_id` update it (a new `endsAt`); its id.

    An update keeps the id when `starts_at` is the silence's own (see
    `active_silence_start`); otherwise Alertmanager answers with a new id.
    Raises DeliveryError."""
    body: dict[str, Any] = {
        "matchers": matchers,
        "startsAt": starts_at if isinstance(starts_at, str) else _rfc3339(starts_at),
        "endsAt": _rfc3339(ends_at),
        "createdBy": created_by,
        "comment": comment,
    }
    if silence_id is not None:
        body["id"] = silence_id
    url = channel.url.rstrip("/") + "/api/v2/silences"
    _, answer = request_json(
        "POST", url, body, channel.timeout.total_seconds(), secret_path=channel.secret_path
    )
    if not isinstance(answer, dict) or not isinstance(answer.get("silenceID"), str):
        raise permanent(f"Alertmanager answered without a silenceID: {str(answer)[:200]}")
    return str(answer["silenceID"])


def delete_silence(channel: AlertmanagerChannel, silence_id: str) -> None:
    """Expire a silence now. One that is gone or already expired counts as deleted.
    Raises DeliveryError."""
    url = channel.url.rstrip("/") + "/api/v2/silence/" + quote(silence_id, safe="")
    try:
        request_json(
            "DELETE", url, None, channel.timeout.total_seconds(), secret_path=channel.secret_path
        )
    except DeliveryError as error:
        if silence_gone(error):
            return
        raise


def silence_gone(error: DeliveryError) -> bool:
    """Whether Alertmanager said the silence does not exist (it answers a DELETE of an
    unknown id with HTTP 500 "silence not found", an update with 404 and that text, a
    GET with a bare 404)."""
    text = str(error)
    return "silence not found" in text or text.startswith("HTTP 404 ")


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
