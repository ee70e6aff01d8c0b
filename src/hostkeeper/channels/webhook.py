"""`type: webhook`: the notification as a JSON POST (retried with backoff on 5xx)."""

from __future__ import annotations

from hostkeeper.channels.base import Message
from hostkeeper.channels.http import post_json
from hostkeeper.config.alerts import WebhookChannel

TYPE = "webhook"
CONFIG = WebhookChannel


def send(channel: WebhookChannel, message: Message) -> str:
    return post_json(
        channel.url,
        message.to_json(),
        channel.timeout.total_seconds(),
        channel.headers,
        secret_path=channel.secret_path,
    )
