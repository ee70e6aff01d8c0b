"""Channels against real local peers, and the delivery worker's retries, budget and log."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message as Mail
from pathlib import Path
from typing import Any

import pytest
from alerting_peers import (
    alertmanager,
    free_port,
    http_receiver,
    slow_peer,
    smtp_server,
    wait_until,
)
from structlog.testing import capture_logs

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store.alerts import NotificationRow
from hostkeeper.alerting.messages import alert_message, maintenance_message
from hostkeeper.channels import deliver
from hostkeeper.channels.base import DeliveryError, Message
from hostkeeper.channels.delivery import Backoff, DeliveryWorker
from hostkeeper.config.alerts import (
    AlertmanagerChannel,
    CommandChannel,
    EmailChannel,
    LogChannel,
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


def submitted(worker: DeliveryWorker, channel: str, note: Message) -> int:
    """Queue `note` on `channel`; the channels here want every message, so it gets an id."""
    notification_id = worker.submit(channel, note)
    assert notification_id is not None
    return notification_id


def body_of(mail: Mail) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes), payload  # a single-part text mail
    return payload.decode()


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
    body = body_of(mail)
    assert "check root_disk is critical: 3.5% free" in body


def test_email_test_notification_is_marked_as_a_test() -> None:
    with smtp_server() as mailbox:
        deliver(email_channel(mailbox.port), message(kind="test", state="test"))
    mail = mailbox.messages[0]
    assert mail["X-Hostkeeper-Test"] == "yes"
    assert mail["Subject"].startswith("[hostkeeper] TEST ")
    assert "test notification" in body_of(mail)


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

    def attempt_ended() -> NotificationRow | None:
        row = alert_store.get_notification(store, notification_id)
        return row if row.attempts and row.state != "sending" else None

    row = wait_until(attempt_ended, what="the first attempt to end")
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
        notification_id = submitted(worker, "gone", message())
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


# -- credentials in URLs ----------------------------------------------------------------------

SECRET_PARTS = ("s3cret-pass", "query-secret-value", "XXXXXXXXXXXXXXXXXXXXXXXX", "hk-user")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_webhook_with_credentials_in_its_url_delivers_with_basic_auth() -> None:
    with http_receiver() as receiver:
        host = receiver.url.removeprefix("http://")
        channel = webhook(f"http://hk-user:s3cret%40pass@{host}/hook?team=ops")
        assert deliver(channel, message()) == "HTTP 200"
    [request] = receiver.requests
    assert request.path == "/hook?team=ops"
    assert request.headers["Authorization"] == _basic("hk-user", "s3cret@pass")


def test_alertmanager_with_credentials_in_its_url_delivers_with_basic_auth() -> None:
    with http_receiver() as receiver:
        host = receiver.url.removeprefix("http://")
        deliver(am_channel(f"http://am:s3cret-pass@{host}/"), message())
    [request] = receiver.requests
    assert request.path == "/api/v2/alerts"
    assert request.headers["Authorization"] == _basic("am", "s3cret-pass")


SECRET_URLS = (
    "http://hk-user:s3cret-pass@127.0.0.1:{port}/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "http://127.0.0.1:{port}/hook?token=query-secret-value&team=ops",
    "http://hk-user:s3cret-pass@127.0.0.1:{port}/x?token=query-secret-value",
    "http://hk-user@127.0.0.1:{port}/hook/XXXXXXXXXXXXXXXXXXXXXXXX",
)


@pytest.mark.parametrize("template", SECRET_URLS)
@pytest.mark.parametrize("status", [None, 503, 404])
def test_no_error_or_log_names_a_url_secret(
    store: Store, worker_for: Any, template: str, status: int | None
) -> None:
    # None: nothing listens (a connection error); else the receiver answers `status`.
    with http_receiver(then=status or 200) as receiver:
        port = receiver.url.rpartition(":")[2] if status else str(free_port())
        worker = worker_for(webhook(template.format(port=port)))
        with capture_logs() as events:
            notification_id = worker.submit("hook", message())
            assert worker.drain(20)
    row = alert_store.get_notification(store, notification_id)
    assert row.state == "failed" and row.last_error
    shown = [row.last_error, *(json.dumps(event, default=str) for event in events)]
    for text in shown:
        for secret in SECRET_PARTS:
            assert secret not in text, text
    assert "127.0.0.1" in row.last_error  # still says where it went


def test_secret_path_channel_never_shows_its_path(store: Store, worker_for: Any) -> None:
    channel = WebhookChannel.model_validate(
        {
            "name": "hook",
            "type": "webhook",
            "url": f"http://127.0.0.1:{free_port()}/hooks/short1",
            "secret_path": True,
        }
    )
    worker = worker_for(channel)
    notification_id = worker.submit("hook", message())
    assert worker.drain(20)
    row = alert_store.get_notification(store, notification_id)
    assert row.last_error and "short1" not in row.last_error and "/***" in row.last_error


# -- bounded waiting ----------------------------------------------------------------------------


def test_a_dripping_webhook_is_cut_off_at_its_timeout_and_retried(
    store: Store, worker_for: Any
) -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    drip_total = 2.0 * len(answer)  # 80 s if the attempt waited for the whole answer
    with slow_peer(drip=answer, interval=2.0) as peer:
        channel = WebhookChannel.model_validate(
            {"name": "hook", "type": "webhook", "url": peer.url, "timeout": "3s"}
        )
        worker = worker_for(channel, backoff=Backoff(first=600, attempts=2))
        started = time.monotonic()
        notification_id = worker.submit("hook", message())

        def attempt_ended() -> NotificationRow | None:
            row = alert_store.get_notification(store, notification_id)
            return row if row.last_error and row.state == "queued" else None

        row = wait_until(attempt_ended, timeout=drip_total, what="the first attempt to end")
        elapsed = time.monotonic() - started
    assert elapsed < drip_total / 4, elapsed  # well under the drip, whatever the machine
    assert peer.bytes_sent < len(answer)
    assert row.attempts == 1
    assert row.last_error is not None
    assert row.last_error.startswith("transient:") and "within 3s" in row.last_error


def test_a_dripping_smtp_server_is_cut_off_at_its_timeout() -> None:
    greeting = b"220 slow.example ESMTP ready, eventually\r\n"
    with slow_peer(drip=greeting, interval=2.0) as peer:
        channel = email_channel(peer.port, timeout="3s")
        started = time.monotonic()
        with pytest.raises(DeliveryError) as failure:
            deliver(channel, message())
        elapsed = time.monotonic() - started
    assert elapsed < 2.0 * len(greeting) / 4, elapsed
    assert failure.value.transient and "within 3s" in str(failure.value)


def test_one_hung_channel_does_not_delay_the_others(store: Store, tmp_path: Path) -> None:
    import sys

    with slow_peer() as hung_http, slow_peer() as hung_smtp:
        channels: dict[str, Any] = {
            "hook": WebhookChannel.model_validate(
                {"name": "hook", "type": "webhook", "url": hung_http.url, "timeout": "20s"}
            ),
            "mail": email_channel(hung_smtp.port, timeout="20s").model_copy(
                update={"name": "mail"}
            ),
            "pager": CommandChannel.model_validate(
                {
                    "name": "pager",
                    "type": "command",
                    "argv": [sys.executable, "-c", "import time; time.sleep(20)"],
                    "timeout": "20s",
                }
            ),
            "journal": LogChannel.model_validate({"name": "journal", "type": "log"}),
        }
        worker = DeliveryWorker(store, lambda: channels, FAST).start()  # default threads
        try:
            ids = {name: submitted(worker, name, message()) for name in channels}
            wait_until(
                lambda: alert_store.get_notification(store, ids["journal"]).state == "sent",
                timeout=15,
                what="the log channel's delivery",
            )
            for name in ("hook", "mail", "pager"):
                assert alert_store.get_notification(store, ids[name]).state == "sending", name
        finally:
            worker.stop(0.5)


def test_a_full_channel_queue_drops_counts_and_reports_the_overflow(
    store: Store, worker_for: Any
) -> None:
    from hostkeeper.config import Config
    from hostkeeper.services.status import build_status
    from hostkeeper.web import prometheus

    hook = webhook("http://127.0.0.1:9/")
    worker = DeliveryWorker(store, lambda: {"hook": hook}, FAST, max_queued=3)  # not started
    ids = [submitted(worker, "hook", message()) for _ in range(5)]
    states = [alert_store.get_notification(store, i).state for i in ids]
    assert states == ["queued"] * 3 + ["dropped"] * 2
    dropped = alert_store.get_notification(store, ids[-1])
    assert "3 notifications already wait for channel 'hook'" in (dropped.last_error or "")
    assert worker.dropped == {"hook": 2}
    status = build_status(store, Config(), now=datetime.now(UTC), next_runs={})
    assert status.alerts.dropped_deliveries == {"hook": 2}
    text = prometheus.render(status)
    assert 'hostkeeper_notifications_total{channel="hook",state="dropped"} 2' in text
