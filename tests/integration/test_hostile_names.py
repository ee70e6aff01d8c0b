"""Names and texts an operator or a host controls, made hostile (`<script>`, quotes, `&`,
`</textarea>`), rendered into every page and every report from a real store: each HTML
page parses with no script element and no stray end tag, and shows the text escaped."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from hostkeeper.adapters.store import Store, window_notes
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.adapters.store.baselines import activate, create_version
from hostkeeper.adapters.store.checks import record_check_run
from hostkeeper.adapters.store.metrics import roll_up, write_samples
from hostkeeper.adapters.store.runs import StepRecord, finish_run, record_step, start_run
from hostkeeper.adapters.store.schema import alerts, backup_archives, restore_tests
from hostkeeper.config import Config
from hostkeeper.core.baselines import MetricStats
from hostkeeper.core.health import CheckResult, CheckState
from hostkeeper.core.metrics import Sample
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
from hostkeeper.core.windows import WindowKind
from hostkeeper.reports.registry import NAMES, generate
from hostkeeper.services.status import build_status
from hostkeeper.services.store_setup import prepare_store
from hostkeeper.web.dashboard import render_dashboard, render_report_index
from hostkeeper.web.report_files import list_reports

HOSTILE = "<script>alert(1)</script>\"'&</textarea>"
CONFIGURED = "nightly"  # a configured procedure's name is letters, digits, - and _ only
PROCEDURE = f"nightly {HOSTILE}"  # ... but the store holds whatever a run was recorded as
CHECK = f"disk {HOSTILE}"
RULE = f"rule {HOSTILE}"
METRIC = f"disk.{HOSTILE}.used_percent"  # a usage metric: the capacity report draws it
STEP = f"step {HOSTILE}"


@dataclass
class Page(HTMLParser):
    """What a browser would build from the page: elements, end tags and text."""

    starts: list[str] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)
        self.attributes += [name for name, _ in attrs]

    def handle_endtag(self, tag: str) -> None:
        self.ends.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_escaped(html: str, *shown: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert "script" not in page.starts and "script" not in page.ends
    assert "textarea" not in page.ends
    assert all(name.isascii() and name.replace("-", "").isalnum() for name in page.attributes)
    text = "".join(page.text)
    for value in shown:
        assert value in text, f"{value!r} is not shown as text"
    assert HOSTILE not in html  # only ever in its escaped form
    return page


@dataclass
class Hostile:
    config: Config
    config_path: Path
    store: Store
    now: datetime


@pytest.fixture
def hostile(tmp_path: Path, config_data: Callable[..., dict[str, Any]]) -> Iterator[Hostile]:
    data = config_data(
        {CONFIGURED: {"schedule": {"every": "1d"}, "steps": [{"run": ["true"]}]}},
        checks=[
            {
                "name": CHECK,
                "type": "disk_free",
                "path": str(tmp_path),
                "warning": "10%",
                "critical": "5%",
            }
        ],
        alerts={"rules": [{"name": RULE, "when": "health_score < 101", "summary": HOSTILE}]},
        baselines={"metrics": [METRIC]},
        backups=[{"name": "config", "sources": [str(tmp_path)]}],
    )
    config_path = tmp_path / "hostkeeper.yaml"
    config_path.write_text(json.dumps(data), encoding="utf-8")
    config = Config.model_validate(data)
    store = prepare_store(config)
    now = datetime.now(UTC)
    _fill(store, now)
    security = Path(config.paths.report_dir) / "security"
    security.mkdir(parents=True)
    finding = {"severity": "high", "kind": HOSTILE, "location": HOSTILE, "message": HOSTILE}
    (security / "monthly_20260101.json").write_text(
        json.dumps({"generated_at": HOSTILE, "summary": {HOSTILE: 1}, "findings": [finding]})
    )
    (security / "x<script>.html").write_text("not a report name")
    try:
        yield Hostile(config, config_path, store, now)
    finally:
        store.dispose()


def _fill(store: Store, now: datetime) -> None:
    _incident(store, now)
    start = now - timedelta(days=3)
    samples = [
        Sample(METRIC, float(ts), 40 + ts % 86400 / 86400)
        for ts in range(int(start.timestamp()), int(now.timestamp()), 1800)
    ]
    write_samples(store, samples)
    roll_up(store, now.timestamp())
    stats = MetricStats(n=100, mean=40.0, stddev=1.0, min=39, max=42, p95=41.5)
    version, _ = create_version(store, {METRIC: stats}, start - timedelta(days=7), start, start, 5)
    activate(store, version)
    for hours in (30, 20, 10, 1):
        at = now - timedelta(hours=hours)
        result = CheckResult(
            CHECK, "disk_free", CheckState.WARNING, 12.5, HOSTILE, HOSTILE, 0.0199, at
        )
        record_check_run(store, [result], score=60.0, computed_at=at)
    for hours, procedure in ((3, PROCEDURE), (2, CONFIGURED)):
        begun = now - timedelta(hours=hours)
        run_id = start_run(store, procedure, Trigger.MANUAL, begun)
        step = StepRecord(
            0,
            "steps",
            STEP,
            STEP,
            StepStatus.FAILED,
            begun,
            begun + timedelta(seconds=2),
            summary=HOSTILE,
            error=HOSTILE,
        )
        record_step(store, run_id, step)
        finish_run(store, run_id, RunStatus.FAILED, begun + timedelta(seconds=3), error=HOSTILE)
    with store.write() as connection:
        connection.execute(
            insert(alerts).values(
                host=store.host,
                rule=RULE,
                severity="critical",
                state="firing",
                pending_since=now - timedelta(hours=3),
                fired_at=now - timedelta(hours=2),
                notifications=0,
                false_positive=False,
                value=60.0,
                summary=HOSTILE,
            )
        )
        archive = f"/backups/config/{HOSTILE}.tar.gz"
        connection.execute(
            insert(backup_archives).values(
                host=store.host,
                backup_set="config",
                path=archive,
                created_at=now - timedelta(hours=5),
                size_bytes=1_048_576,
                files=3,
                sha256="0" * 64,
                state="present",
                verified_at=now - timedelta(hours=5),
                verify_ok=True,
            )
        )
        connection.execute(
            insert(restore_tests).values(
                host=store.host,
                backup_set="config",
                archive=archive,
                tested_at=now - timedelta(hours=4),
                ok=False,
                files_checked=0,
                duration_seconds=1.5,
                detail=HOSTILE,
            )
        )


def test_the_dashboard_escapes_every_name_and_text(hostile: Hostile) -> None:
    config = hostile.config
    daemon = {
        "pid": 1,
        "started_at": hostile.now,
        "config_loaded_at": hostile.now,
        "last_reload": HOSTILE,  # the first line of the error that kept the old config
    }
    status = build_status(hostile.store, config, now=hostile.now, next_runs={}, daemon_state=daemon)
    reports = list_reports(config.paths.report_dir, per_folder=1)
    html = render_dashboard(hostile.store, status, reports)
    test = status.backups[0].restore_test
    assert test is not None
    assert_escaped(
        html,
        HOSTILE,  # the configured procedure's last error
        CHECK,
        RULE,
        f"last reload failed: {HOSTILE}",
        f"/backups/config/{HOSTILE}.tar.gz",
        f"FAILED {test.tested_at:%Y-%m-%d %H:%M} UTC: {HOSTILE}",
    )


def test_the_report_listing_escapes_and_lists_only_report_names(hostile: Hostile) -> None:
    generate("daily", hostile.config, hostile.store, hostile.now)
    reports = list_reports(hostile.config.paths.report_dir)
    html = render_report_index(reports, HOSTILE)
    page = assert_escaped(html, f"hostkeeper reports — {HOSTILE}", "monthly_20260101.json")
    assert "x<script>.html" not in "".join(page.text)
    assert [file.name for file in reports["security"]] == ["monthly_20260101.json"]


EXPECTED = {
    "daily": [PROCEDURE, CHECK, RULE, STEP, HOSTILE],
    "performance": [METRIC, PROCEDURE, STEP, CHECK],
    "trends": [METRIC],
    "capacity": [METRIC],
    "health_assessment": [CHECK, RULE, HOSTILE],
    "incidents": [PROCEDURE, STEP, RULE, HOSTILE],
}


@pytest.mark.parametrize("name", NAMES)
def test_every_report_escapes_every_name_and_text(hostile: Hostile, name: str) -> None:
    path, _ = generate(
        name, hostile.config, hostile.store, hostile.now, config_path=str(hostile.config_path)
    )
    text = path.read_text(encoding="utf-8")
    if name == "alert_effectiveness":  # JSON for programs: the names as they are
        assert RULE in {rule["rule"] for rule in json.loads(text)["rules"]}
        return
    if name == "security":  # JSON of the audit's own findings about the host
        assert json.loads(text)["summary"]
        return
    assert_escaped(text, *EXPECTED[name])


def _incident(store: Store, now: datetime) -> None:
    """An incident around the runs and the alert of `_fill`, every text of it hostile."""
    incident = window_store.open_window(
        store,
        window_store.NewWindow(
            WindowKind.INCIDENT, now - timedelta(hours=4), reason=HOSTILE, opened_by=HOSTILE
        ),
    )
    window_notes.add_note(store, incident, now - timedelta(hours=3), HOSTILE, HOSTILE)
    window_store.close_window(
        store, incident, now - timedelta(minutes=30), HOSTILE, cause=HOSTILE, prevention=HOSTILE
    )
