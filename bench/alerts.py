"""Alerting: notification delivery and evaluation rounds, each against its floor.

- Webhook delivery of N notifications through the delivery worker (delivery log row,
  claim, attempt, result per notification) vs N plain urllib POSTs of the same JSON to
  the same local receiver: the cost of the log and the worker.
- One evaluation round of 50 metric rules with firing alerts (snapshot, state machine,
  persistence) vs loading the same snapshot alone: the cost of evaluating over reading.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.harness import Context, Floor, Result, median, spread

NAME = "alerts"
SUMMARY = "notification delivery (worker + log vs raw POSTs) and evaluation rounds"


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _store(context: Context, name: str) -> Any:
    from hostkeeper.adapters.store import open_store
    from hostkeeper.adapters.store.migrate import upgrade

    directory = context.work_dir / name
    directory.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{directory / 'hostkeeper.db'}")
    upgrade(store)
    return store


def _delivery(context: Context, count: int) -> list[Result]:
    from hostkeeper.alerting.messages import test_message
    from hostkeeper.channels.delivery import DeliveryWorker
    from hostkeeper.config.alerts import Rule, WebhookChannel

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = "http://{}:{}/".format(*server.server_address[:2])
    channel = WebhookChannel.model_validate({"name": "hook", "type": "webhook", "url": url})
    rule = Rule.model_validate({"name": "bench", "when": "health_score < 50"})
    message = test_message(rule, "bench", datetime.now(UTC))
    body = json.dumps(message.to_json()).encode()
    ours: list[float] = []
    raw: list[float] = []
    try:
        for run in range(context.repeat(3, 1)):
            started = time.perf_counter()
            for _ in range(count):
                request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
                request.add_header("Content-Type", "application/json")
                with urllib.request.urlopen(request, timeout=5):  # noqa: S310
                    pass
            raw.append(time.perf_counter() - started)
            store = _store(context, f"delivery-{run}")
            worker = DeliveryWorker(store, lambda: {"hook": channel}, threads=2).start()
            started = time.perf_counter()
            for _ in range(count):
                worker.submit("hook", message)
            worker.drain(300)
            ours.append(time.perf_counter() - started)
            worker.stop()
            store.dispose()
    finally:
        server.shutdown()
        server.server_close()
    floor = Floor(median(raw), "s", f"{count} raw urllib POSTs")
    return [
        Result(
            NAME,
            f"webhook delivery of {count} notifications (worker, delivery log)",
            median(ours),
            "s",
            floor=floor,
            detail={"ours": spread(ours), "raw": spread(raw)},
        )
    ]


def _evaluation(context: Context, rules: int) -> list[Result]:
    from sqlalchemy import insert

    from hostkeeper.adapters.store.database import inserted_id
    from hostkeeper.adapters.store.schema import samples, series
    from hostkeeper.alerting.evaluator import _round
    from hostkeeper.alerting.rules import metrics_read
    from hostkeeper.alerting.sources import load_snapshot
    from hostkeeper.config import Config

    store = _store(context, "evaluation")
    now = datetime.now(UTC)
    with store.write() as connection:
        for index in range(rules):
            series_id = inserted_id(
                connection.execute(insert(series).values(host=store.host, name=f"bench.m{index}"))
            )
            connection.execute(
                insert(samples),
                [
                    {"series_id": series_id, "ts": now.timestamp() - 10 * k, "value": 90.0}
                    for k in range(100)
                ],
            )
    config = Config.model_validate(
        {
            "paths": {"state_dir": str(context.work_dir / "evaluation")},
            "alerts": {
                "rules": [{"name": f"r{i}", "when": f"bench.m{i} > 50"} for i in range(rules)]
            },
        }
    )

    class Nowhere:
        def submit(self, channel: str, message: Any) -> None:
            return None

    names = set().union(*(metrics_read(rule) for rule in config.alerts.rules))
    ours: list[float] = []
    reads: list[float] = []
    for _ in range(context.repeat(20, 5)):
        started = time.perf_counter()
        load_snapshot(store, names, set(), set())
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        _round(config, store, Nowhere(), datetime.now(UTC))
        ours.append(time.perf_counter() - started)
    store.dispose()
    return [
        Result(
            NAME,
            f"evaluation round, {rules} firing metric rules",
            median(ours),
            "s",
            floor=Floor(median(reads), "s", "reading the same values"),
            detail={"ours": spread(ours), "reads": spread(reads)},
        )
    ]


def run(context: Context) -> list[Result]:
    from hostkeeper.adapters.logsetup import configure_logging

    configure_logging("console", "warning")  # every round logs each alert it fires
    count = 50 if context.quick else 200
    return _delivery(context, count) + _evaluation(context, 50)
