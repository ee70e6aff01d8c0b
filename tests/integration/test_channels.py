"""Channels against real local peers, and the delivery worker's retries, budget and log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alerting_peers import alertmanager, free_port, http_receiver, smtp_server, wait_until

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.alerting.messages import alert_message, maintenance_message
from hostkeeper.channels import deliver
from hostkeeper.channels.base import DeliveryError, Message
from hostkeeper.channels.delivery import Backoff, DeliveryWorker
from hostkeeper.config.alerts import (
    AlertmanagerChannel,
    CommandChannel,
    EmailChannel,
    WebhookChannel,
)
from hostkeeper.core.alerts import AlertRecord, AlertState

FAST = Backoff(first=0.05, factor=2.0, ceiling=0.2, attempts=4, budget=20.0)
NOW = datetime.now(UTC).replace(microsecond=0)


def firing_record(rule: str = "disk_low", alert_id: int | None = None) -> AlertRecord:
    return AlertRecord(
        rule=rule,
        severity="critical",
        state=AlertState.FIRING,
        pending_since=NOW - timedelta(minutes=5),
        fired_at=NOW,
        value=3.5,
        summary="check root_disk is critical: 3.5% free",
        id=alert_id,
    )


def message(kind: str = "firing", **changes: Any) -> Message:
    base = alert_message(firing_record(), kind, "web-1", NOW)
    return Message(**{**base.__dict__, **changes})


def webhook(url: str, name: str = "hook") -> WebhookChannel:
    return WebhookChannel.model_validate(
        {"name": name, "type": "webhook", "url": url, "timeout": "2s", "headers": {"X-Team": "ops"}}
    )


@pytest.fixture
def worker_for(store: Store) -> Iterator[Any]:
    workers: list[DeliveryWorker] = []

    def make(*channels: Any, backoff: Backoff = FAST, start: bool = True) -> DeliveryWorker:
        by_name = {channel.name: channel for channel in channels}
        worker = DeliveryWorker(store, lambda: by_name, backoff, threads=1)
        if start:
            worker.start()
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop(2.0)


# -- email ----------------------------------------------------------------------------------


def email_channel(port: int, **extra: Any) -> EmailChannel:
    return EmailChannel.model_validate(
        {
            "name": "ops",
            "type": "email",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "from": "hostkeeper@web-1",
            "to": ["ops@example.org", "oncall@example.org"],
            "timeout": "5s",
            **extra,
        }
    )


def test_email_channel_delivers_the_mail_to_a_real_smtp_server() -> None:
    with smtp_server() as mailbox:
        result = deliver(email_channel(mailbox.port), message())
    assert "accepted" in result
    assert mailbox.envelopes == [("hostkeeper@web-1", ["ops@example.org", "oncall@example.org"])]
    mail = mailbox.messages[0]
    assert mail["Subject"] == (
        "[hostkeeper] FIRING critical disk_low on web-1: check root_disk is critical: 3.5% free"
    )
    assert mail["X-Hostkeeper-Rule"] == "disk_low"
    assert mail["X-Hostkeeper-Test"] is None
    body = mail.get_payload(decode=True).decode()
    assert "check root_disk is critical: 3.5% free" in body


def test_email_test_notification_is_marked_as_a_test() -> None:
    with smtp_server() as mailbox:
        deliver(email_channel(mailbox.port), message(kind="test", state="test"))
    mail = mailbox.messages[0]
    assert mail["X-Hostkeeper-Test"] == "yes"
    assert mail["Subject"].startswith("[hostkeeper] TEST ")
    assert "test notification" in mail.get_payload(decode=True).decode()


def test_email_login_reads_the_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    with smtp_server(users={"hk": "s3cret"}) as mailbox:
        deliver(email_channel(mailbox.port, username="hk", password_file=str(secret)), message())
    assert mailbox.logins == [("hk", "s3cret")]
    assert len(mailbox.messages) == 1


def test_email_login_refused_is_permanent(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("wrong")
    with smtp_server(users={"hk": "s3cret"}) as mailbox:
        channel = email_channel(mailbox.port, username="hk", password_file=str(secret))
        with pytest.raises(DeliveryError) as failure:
            deliver(channel, message())
    assert not failure.value.transient
    assert "535" in str(failure.value)
    assert mailbox.messages == []


def test_email_to_a_closed_port_is_transient() -> None:
    with pytest.raises(DeliveryError) as failure:
        deliver(email_channel(free_port()), message())
    assert failure.value.transient


# -- webhook and the delivery worker ---------------------------------------------------------


def test_webhook_posts_the_notification_as_json() -> None:
    with http_receiver() as receiver:
        result = deliver(webhook(receiver.url + "/alerts"), message())
    assert result == "HTTP 200"
    [request] = receiver.requests
    assert request.path == "/alerts"
    assert request.headers["X-Team"] == "ops"
    assert request.headers["Content-Type"] == "application/json"
    body = request.body
    assert body["kind"] == "firing" and body["rule"] == "disk_low"
    assert body["severity"] == "critical" and body["state"] == "firing"
    assert body["test"] is False
    assert body["starts_at"] == NOW.isoformat()


def test_worker_retries_transient_failures_then_records_the_delivery(
    store: Store, worker_for: Any
) -> None:
    with http_receiver(statuses=[503, 503]) as receiver:
        worker = worker_for(webhook(receiver.url))
        notification_id = worker.submit("hook", message())
        assert worker.drain(20)
    assert len(receiver.requests) == 3
    row = alert_store.get_notification(store, notification_id)
    assert row.state == "sent" and row.attempts == 3
    assert row.sent_at is not None
    assert row.last_error is None


def test_worker_does_not_retry_a_permanent_failure(store: Store, worker_for: Any) -> None:
    with http_receiver(statuses=[400]) as receiver:
        worker = worker_for(webhook(receiver.url))
        notification_id = worker.submit("hook", message())
        assert worker.drain(20)
    assert len(receiver.requests) == 1
    row = alert_store.get_notification(store, notification_id)
    assert row.state == "failed" and row.attempts == 1
    assert row.last_error is not None and row.last_error.startswith("permanent: HTTP 400")


def test_worker_gives_up_after_its_attempts(store: Store, worker_for: Any) -> None:
    with http_receiver(then=503) as receiver:
        worker = worker_for(webhook(receiver.url))
        notification_id = worker.submit("hook", message())
        assert worker.drain(20)
    assert len(receiver.requests) == FAST.attempts
    row = alert_store.get_notification(store, notification_id)
    assert row.state == "failed" and row.attempts == FAST.attempts
    assert "transient: HTTP 503" in (row.last_error or "")


def test_failed_attempt_waits_for_its_retry_on_the_worker_thread(
    store: Store, worker_for: Any
) -> None:
    # Nothing listens on port 9: the attempt fails on the worker's thread, and the retry
    # is 30 s away; submit itself only recorded the notification.
    worker = worker_for(webhook("http://127.0.0.1:9/"), backoff=Backoff(first=30, attempts=3))
    notification_id = worker.submit("hook", message())
    assert notification_id is not None
    row = wait_until(
        lambda: (
            (r := alert_store.get_notification(store, notification_id)).attempts
            and r.state != "sending"
            and r
        ),
        what="the first attempt to end",
    )
    assert row.state == "queued"  # waiting 30 s for its retry, on the worker's thread
    assert "transient" in (row.last_error or "")


def test_stopped_worker_leaves_the_notification_queued_and_the_next_one_delivers_it(
    store: Store, worker_for: Any
) -> None:
    with http_receiver(statuses=[503]) as receiver:
        first = worker_for(webhook(receiver.url), backoff=Backoff(first=60, attempts=5))
        notification_id = first.submit("hook", message())
        wait_until(
            lambda: (
                (r := alert_store.get_notification(store, notification_id)).last_error
                and r.state == "queued"
            ),
            what="the first attempt to fail",
        )
        assert first.stop(2.0) == 1
        assert alert_store.get_notification(store, notification_id).state == "queued"
        second = worker_for(webhook(receiver.url))
        assert second.adopt_orphans(older_than=timedelta(0)) == 1
        assert second.drain(20)
    assert len(receiver.requests) == 2
    row = alert_store.get_notification(store, notification_id)
    assert row.state == "sent" and row.attempts == 2


def test_two_workers_never_deliver_one_notification_twice(store: Store, worker_for: Any) -> None:
    with http_receiver() as receiver:
        owner = worker_for(webhook(receiver.url), start=False)
        notification_id = owner.submit("hook", message())
        adopter = worker_for(webhook(receiver.url))
        adopter.adopt_orphans(older_than=timedelta(0))
        assert adopter.drain(20)
        owner.start()
        assert owner.drain(20)
    assert len(receiver.requests) == 1
    assert alert_store.get_notification(store, notification_id).state == "sent"


def test_channel_removed_before_delivery_fails_permanently(store: Store) -> None:
    worker = DeliveryWorker(store, lambda: {}, FAST, threads=1).start()
    try:
        notification_id = worker.submit("gone", message())
        assert worker.drain(10)
    finally:
        worker.stop()
    row = alert_store.get_notification(store, notification_id)
    assert row.state == "failed" and "no channel named 'gone'" in (row.last_error or "")


# -- command --------------------------------------------------------------------------------


def command_channel(argv: list[str], timeout: str = "10s") -> CommandChannel:
    return CommandChannel.model_validate(
        {"name": "pager", "type": "command", "argv": argv, "timeout": timeout}
    )


WRITE_ARGV = "import json, sys; open(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))"


def test_command_channel_substitutes_into_argv_without_a_shell(tmp_path: Path) -> None:
    import sys

    out = tmp_path / "argv.json"
    summary = "disk at 99%; $(touch /tmp/pwned) `id` && echo {rule}"
    channel = command_channel(
        [sys.executable, "-c", WRITE_ARGV, str(out), "{severity}", "{rule}", "{state}", "{summary}"]
    )
    deliver(channel, message(summary=summary))
    assert json.loads(out.read_text()) == ["critical", "disk_low", "firing", summary]
    assert not Path("/tmp/pwned").exists()


def test_command_exit_75_is_transient_and_other_failures_permanent() -> None:
    import sys

    tempfail = command_channel([sys.executable, "-c", "raise SystemExit(75)"])
    with pytest.raises(DeliveryError) as first:
        deliver(tempfail, message())
    assert first.value.transient
    broken = command_channel([sys.executable, "-c", "raise SystemExit(2)"])
    with pytest.raises(DeliveryError) as second:
        deliver(broken, message())
    assert not second.value.transient
    missing = command_channel(["/nonexistent/pager"])
    with pytest.raises(DeliveryError) as third:
        deliver(missing, message())
    assert not third.value.transient


# -- Alertmanager ---------------------------------------------------------------------------


def am_channel(url: str) -> AlertmanagerChannel:
    return AlertmanagerChannel.model_validate(
        {"name": "am", "type": "alertmanager", "url": url, "resend": "5m"}
    )


def _ours(manager: Any, rule: str) -> list[dict[str, Any]]:
    return [a for a in manager.alerts() if a["labels"].get("alertname") == rule]


def test_alertmanager_receives_the_alert_and_then_its_resolution(tmp_path: Path) -> None:
    with alertmanager(tmp_path / "am") as manager:
        channel = am_channel(manager.url)
        record = firing_record(alert_id=12)
        deliver(channel, alert_message(record, "firing", "web-1", NOW))
        [active] = wait_until(lambda: _ours(manager, "disk_low"), what="the alert in Alertmanager")
        assert active["status"]["state"] == "active"
        assert active["labels"] == {
            "alertname": "disk_low",
            "severity": "critical",
            "instance": "web-1",
            "job": "hostkeeper",
        }
        assert active["annotations"]["summary"] == record.summary
        assert active["annotations"]["hostkeeper_alert_id"] == "12"
        ends_at = datetime.fromisoformat(active["endsAt"].replace("Z", "+00:00"))
        assert ends_at > datetime.now(UTC) + timedelta(minutes=10)  # 3 x resend ahead

        resolved_at = datetime.now(UTC)
        resolved = AlertRecord(
            **{**record.__dict__, "state": AlertState.RESOLVED, "resolved_at": resolved_at}
        )
        deliver(channel, alert_message(resolved, "resolved", "web-1", resolved_at))
        wait_until(
            lambda: all(a["status"]["state"] != "active" for a in _ours(manager, "disk_low")),
            what="Alertmanager to resolve the alert",
        )


def test_alertmanager_maintenance_failure_fires_and_success_resolves(tmp_path: Path) -> None:
    with alertmanager(tmp_path / "am") as manager:
        channel = am_channel(manager.url)
        failed = maintenance_message("weekly", "failure", "web-1", datetime.now(UTC), "failed")
        deliver(channel, failed)
        [alert] = wait_until(
            lambda: _ours(manager, "hostkeeper_procedure_failed"), what="the failure alert"
        )
        assert alert["labels"]["procedure"] == "weekly"
        ok = maintenance_message("weekly", "success", "web-1", datetime.now(UTC), "succeeded")
        deliver(channel, ok)
        wait_until(
            lambda: all(
                a["status"]["state"] != "active"
                for a in _ours(manager, "hostkeeper_procedure_failed")
            ),
            what="the failure alert to resolve",
        )
