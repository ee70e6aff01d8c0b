"""`report: alert_effectiveness`: the past week of alerting, per rule, as JSON.

Written atomically to report_dir/alerting/weekly_YYYYMMDD.json (the date the week ends,
in the configured time zone); `alerts stats --period 7d --json` prints the same data.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hostkeeper.adapters.fs import atomic_write
from hostkeeper.adapters.store import Store
from hostkeeper.alerting.stats import effectiveness
from hostkeeper.config import Config
from hostkeeper.config.units import format_duration

NAME = "alert_effectiveness"
TITLE = "Alert effectiveness per rule"
PERIOD = timedelta(days=7)


def build(
    config: Config, store: Store, now: datetime, period: timedelta = PERIOD
) -> dict[str, Any]:
    report = effectiveness(config, store, now - period, now)
    data = {
        "report": "alert_effectiveness",
        "host": store.host,
        "generated_at": now.isoformat(),
        "period_length": format_duration(period),
        **report.as_dict(),
        "rule_config": {
            rule.name: {
                "severity": rule.severity.value,
                "for": format_duration(rule.for_),
                "clear_for": format_duration(rule.clear_for),
                "channels": rule.channels,
            }
            for rule in config.alerts.rules
        },
    }
    return data


def report_path(config: Config, now: datetime) -> Path:
    local = now.astimezone(ZoneInfo(config.timezone))
    return Path(config.paths.report_dir) / "alerting" / f"weekly_{local:%Y%m%d}.json"


def write(
    config: Config,
    store: Store,
    now: datetime,
    *,
    period: timedelta | None = None,
    output: Path | None = None,
    config_path: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    data = build(config, store, now, period or PERIOD)
    path = output or report_path(config, now)
    atomic_write(path, (json.dumps(data, indent=2, default=str) + "\n").encode(), 0o640)
    return path, data
