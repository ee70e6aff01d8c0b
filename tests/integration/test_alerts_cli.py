"""The `alerts` verbs and the alert steps through the real command line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alerting_peers import http_receiver
from sqlalchemy import insert

from hostkeeper.adapters.store.schema import health_scores
from hostkeeper.config import load_config
from hostkeeper.services.store_setup import prepare_store

Cli = Callable[..., subprocess.CompletedProcess[str]]
ConfigFile = Callable[..., Path]


def alerting(url: str, rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "repeat": "4h",
        "rules": rules
        or [
            {
                "name": "unhealthy",
                "when": "health_score < 50",
                "severity": "critical",
                "channels": ["hook"],
            }
        ],
        "channels": [{"name": "hook", "type": "webhook", "url": url, "timeout": "2s"}],
    }


PROCEDURES: dict[str, dict[str, object]] = {
    # A procedure that only watches opens no maintenance window: what it finds would
    # otherwise be held until it ends (docs/maintenance.md).
    "watch": {
        "schedule": {"every": "1h"},
        "steps": ["evaluate_alerts"],
        "maintenance": {"window": False},
    },
    "weekly": {
        "schedule": {"every": "1h"},
        "steps": [{"report": "alert_effectiveness"}],
        "after": [{"alert_test": "unhealthy"}],
    },
    "daily_report": {"schedule": {"every": "1h"}, "steps": [{"report": "daily"}]},
}


def store_score(config_path: Path, score: float) -> None:
    store = prepare_store(load_config(str(config_path)).config)
    with store.write() as connection:
        connection.execute(
            insert(health_scores).values(
                host=store.host, score=score, computed_at=datetime.now(UTC)
            )
        )
    store.dispose()


def run_json(cli: Cli, path: Path, *args: str, expect: int = 0) -> Any:
    result = cli("--json", "--config", str(path), *args)
    assert result.returncode == expect, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_alert_lifecycle_through_the_cli(cli: Cli, config_file: ConfigFile) -> None:
    with http_receiver() as receiver:
        path = config_file(PROCEDURES, alerts=alerting(receiver.url))
        assert run_json(cli, path, "alerts", "list") == {"alerts": [], "silences": []}
        store_score(path, 20.0)
        run = run_json(cli, path, "run", "watch")
        assert run["status"] == "succeeded"
        # The CLI run delivered before it exited.
        [body] = receiver.bodies()
        assert (body["kind"], body["rule"], body["test"]) == ("firing", "unhealthy", False)

        [alert] = run_json(cli, path, "alerts", "list", "--state", "firing")["alerts"]
        assert alert["rule"] == "unhealthy" and alert["notifications"] == 1
        status = run_json(cli, path, "status")["alerts"]
        assert [a["id"] for a in status["firing"]] == [alert["id"]]
        assert "alert FIRING #1 unhealthy (critical)" in cli("--config", str(path), "status").stdout
        acked = run_json(cli, path, "alerts", "ack", str(alert["id"]))
        assert acked["acknowledged_at"] is not None
        marked = run_json(cli, path, "alerts", "mark-false-positive", str(alert["id"]))
        assert marked["false_positive"] is True

        silenced = run_json(cli, path, "alerts", "silence", "unhealthy", "--for", "2h")
        assert silenced["rule"] == "unhealthy"
        listing = run_json(cli, path, "alerts", "list")
        assert [s["rule"] for s in listing["silences"]] == ["unhealthy"]
        assert run_json(cli, path, "alerts", "unsilence", "unhealthy") == {
            "rule": "unhealthy",
            "lifted": 1,
        }
        assert run_json(cli, path, "alerts", "list")["silences"] == []

        stats = run_json(cli, path, "alerts", "stats", "--period", "1d")
        [row] = stats["rules"]
        assert row["fired"] == 1 and row["false_positives"] == 1
        assert row["notifications_sent"] == 1 and row["acknowledged"] == 1
        assert stats["noisiest"] == ["unhealthy"]

        table = cli("--config", str(path), "alerts", "list")
        assert table.returncode == 0
        assert "unhealthy (false positive)" in table.stdout


def test_ack_of_an_unknown_alert_fails(cli: Cli, config_file: ConfigFile) -> None:
    path = config_file(PROCEDURES, alerts=alerting("http://127.0.0.1:9/"))
    result = cli("--config", str(path), "alerts", "ack", "42")
    assert result.returncode == 1
    assert "no alert #42" in result.stderr


def test_silence_of_an_unknown_rule_fails(cli: Cli, config_file: ConfigFile) -> None:
    path = config_file(PROCEDURES, alerts=alerting("http://127.0.0.1:9/"))
    result = cli("--config", str(path), "alerts", "silence", "nope", "--for", "1h")
    assert result.returncode == 1
    assert "no rule named 'nope'" in result.stderr


def test_alerts_test_sends_a_marked_test_and_reports_delivery(
    cli: Cli, config_file: ConfigFile
) -> None:
    with http_receiver(statuses=[503]) as receiver:
        path = config_file(PROCEDURES, alerts=alerting(receiver.url))
        result = run_json(cli, path, "alerts", "test", "unhealthy")
    assert result["delivered"] is True
    assert result["deliveries"] == [
        {"channel": "hook", "state": "sent", "attempts": 2, "error": None}
    ]
    body = receiver.bodies()[-1]
    assert body["test"] is True and body["kind"] == "test"
    assert body["summary"].startswith("TEST of rule unhealthy")


def test_alerts_test_fails_when_the_channel_refuses(cli: Cli, config_file: ConfigFile) -> None:
    with http_receiver(then=400) as receiver:
        path = config_file(PROCEDURES, alerts=alerting(receiver.url))
        result = run_json(cli, path, "alerts", "test", "unhealthy", expect=1)
    assert result["delivered"] is False
    [delivery] = result["deliveries"]
    assert delivery["state"] == "failed" and delivery["attempts"] == 1
    assert delivery["error"].startswith("permanent: HTTP 400")


def test_report_step_writes_the_weekly_file_and_alert_test_runs_after(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    with http_receiver() as receiver:
        path = config_file(PROCEDURES, alerts=alerting(receiver.url))
        run = run_json(cli, path, "run", "weekly")
    assert run["status"] == "succeeded", run
    [test_step] = [s for s in run["steps"] if s["phase"] == "after"]
    assert test_step["summary"] == "test notification for unhealthy delivered via hook"
    today = datetime.now(UTC).strftime("%Y%m%d")
    report = tmp_path / "reports" / "alerting" / f"weekly_{today}.json"
    data = json.loads(report.read_text())
    assert data["report"] == "alert_effectiveness"
    assert [r["rule"] for r in data["rules"]] == ["unhealthy"]
    assert data["rule_config"]["unhealthy"]["channels"] == ["hook"]
    assert not [p for p in report.parent.iterdir() if p.name.endswith(".tmp")]


def test_alert_test_step_fails_when_delivery_fails(cli: Cli, config_file: ConfigFile) -> None:
    weekly: dict[str, object] = {**PROCEDURES["weekly"], "steps": [{"run": ["true"]}]}
    procedures = {**PROCEDURES, "weekly": weekly}
    with http_receiver(then=400) as receiver:
        path = config_file(procedures, alerts=alerting(receiver.url))
        result = cli("--json", "--config", str(path), "run", "weekly")
    assert result.returncode == 1
    step = json.loads(result.stdout)["steps"][-1]
    assert step["status"] == "failed"
    assert step["error"].startswith("test notification not delivered: hook: permanent: HTTP 400")


URL_SECRETS = ("hk-user", "s3cret-pass", "query-secret-value", "XXXXXXXXXXXXXXXXXXXXXXXX")


def test_url_credentials_never_reach_the_cli_status_or_the_delivery_log(
    cli: Cli, config_file: ConfigFile, tmp_path: Path
) -> None:
    from alerting_peers import free_port

    # Nothing listens: every attempt fails with the URL in the error text.
    url = (
        f"http://hk-user:s3cret-pass@127.0.0.1:{free_port()}"
        "/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX?token=query-secret-value"
    )
    path = config_file(PROCEDURES, alerts=alerting(url))
    for json_flag in ((), ("--json",)):
        result = cli(
            *json_flag,
            "--verbose",
            "--config",
            str(path),
            "alerts",
            "test",
            "unhealthy",
            "--timeout",
            "8",
        )
        assert result.returncode == 1
        for secret in URL_SECRETS:
            assert secret not in result.stdout + result.stderr, secret
    status = cli("--json", "--config", str(path), "status")
    assert status.returncode == 0, status.stderr
    failed = json.loads(status.stdout)["alerts"]["failed_deliveries"]
    assert failed and all("127.0.0.1" in entry["error"] for entry in failed)
    text_status = cli("--config", str(path), "status")
    database = load_config(str(path)).config.database.url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        stored = repr(connection.execute("SELECT last_error FROM notifications").fetchall())
    for secret in URL_SECRETS:
        assert secret not in status.stdout + text_status.stdout + stored, secret
