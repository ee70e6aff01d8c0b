"""The shipped /etc/hostkeeper/hostkeeper.yaml does what the seed schedule stands for.

Its procedures run here unchanged, with only the host paths moved under tmp_path:
daily backs up, verifies what it made and writes the daily report that
`validate-system` looks for; a rejected baseline does not cost the weekly run its
reports and cleanup; monthly audits before the assessment that summarises the audit and
reindexes; hostkeeper's own logs have exactly one rotator; the checklists render.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, date, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import PYTHON, clean_environment
from hostkeeper.adapters.daylog import maintenance_log_path, validation_log_path
from hostkeeper.adapters.store.metrics import write_samples
from hostkeeper.config.loader import load_config
from hostkeeper.config.logrotate_overlap import read_patterns
from hostkeeper.core.metrics import Sample
from hostkeeper.services.store_setup import prepare_store

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = REPO_ROOT / "etc" / "hostkeeper" / "hostkeeper.yaml"
SNIPPET = REPO_ROOT / "packaging" / "logrotate" / "hostkeeper"


def shipped() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    return data


def relocated(tmp_path: Path) -> dict[str, Any]:
    """The shipped configuration with every host path moved under tmp_path."""
    data = shipped()
    moved = {
        "/var/lib/hostkeeper": tmp_path / "var" / "lib" / "hostkeeper",
        "/var/backups/hostkeeper": tmp_path / "var" / "backups" / "hostkeeper",
        "/var/log/hostkeeper": tmp_path / "var" / "log" / "hostkeeper",
        "/etc/hostkeeper": tmp_path / "etc" / "hostkeeper",
    }
    text = json.dumps(data)
    for old, new in moved.items():
        text = text.replace(old, str(new))
    result: dict[str, Any] = json.loads(text)
    config_dir = moved["/etc/hostkeeper"]
    config_dir.mkdir(parents=True)
    (config_dir / "site.yaml").write_text("role: test\n")
    result["dashboard"]["enabled"] = False
    return result


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "etc" / "hostkeeper" / "hostkeeper.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def hostkeeper(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "hostkeeper", "--config", str(config), *args],
        cwd=config.parent,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def steps_of(config: Path, procedure: str) -> list[dict[str, Any]]:
    done = hostkeeper(config, "--json", "runs", "--procedure", procedure, "--limit", "1")
    assert done.returncode == 0, done.stderr
    runs: list[dict[str, Any]] = json.loads(done.stdout)
    steps: list[dict[str, Any]] = runs[0]["steps"]
    return steps


def test_daily_backs_up_then_verifies_and_writes_the_daily_report(tmp_path: Path) -> None:
    config = write(tmp_path, relocated(tmp_path))
    done = hostkeeper(config, "run", "daily")
    assert done.returncode == 0, done.stdout + done.stderr

    names = [step["label"] for step in steps_of(config, "daily")]
    assert names.index("backup: config") < names.index("verify_backups")
    verify = next(s for s in steps_of(config, "daily") if s["label"] == "verify_backups")
    assert verify["status"] == "succeeded", verify
    today = datetime.now(UTC).strftime("%Y%m%d")
    report_dir = Path(load_config(config).config.paths.report_dir)
    assert (report_dir / "daily" / f"health_report_{today}.html").is_file()

    checked = hostkeeper(config, "validate-system", "--alert-timeout", "5")
    lines = dict(line.split(": ", 1) for line in checked.stdout.splitlines() if ": " in line)
    assert lines["daily report"].startswith("PASSED"), checked.stdout
    assert lines["backups"].startswith("PASSED"), checked.stdout


def test_a_rejected_baseline_keeps_the_weekly_reports_and_cleanup(tmp_path: Path) -> None:
    data = relocated(tmp_path)
    data["baselines"]["min_samples"] = 100
    # The disk precondition is about this machine's disk, not about the steps under test.
    data["procedures"]["weekly"]["before"] = []
    config = write(tmp_path, data)
    store = prepare_store(load_config(config).config)
    try:
        seed(store, 20.0, count=200)
        first = hostkeeper(config, "run", "weekly")
        assert first.returncode == 0, first.stdout + first.stderr
        seed(store, 80.0, count=2000)  # a busy week: the new baseline drifts and is rejected
    finally:
        store.dispose()

    second = hostkeeper(config, "run", "weekly")
    assert second.returncode == 1, second.stdout  # the run reports the rejected baseline
    status = {step["label"]: step["status"] for step in steps_of(config, "weekly")}
    assert status["baseline: validate"] == "failed"
    assert status["report: alert_effectiveness"] == "succeeded"
    assert status["cleanup"] == "succeeded"
    assert status["health_check"] in ("succeeded", "warning")


def seed(store: Any, mean: float, count: int) -> None:
    end = time.time() - 5
    for metric in shipped()["baselines"]["metrics"]:
        values = [mean + ((i * 37) % 21 - 10) / 10 for i in range(count)]
        write_samples(
            store,
            [Sample(metric, end - 10.0 * (count - 1 - i), v) for i, v in enumerate(values)],
        )


def test_monthly_audits_before_the_assessment_and_reindexes() -> None:
    steps = shipped()["procedures"]["monthly"]["steps"]
    names = [step if isinstance(step, str) else next(iter(step)) for step in steps]
    reports = [step.get("report") for step in steps if isinstance(step, dict)]
    assert "health_assessment" in reports
    assessment = next(i for i, step in enumerate(steps) if step == {"report": "health_assessment"})
    assert names.index("security_audit") < assessment
    (database,) = [step["db"] for step in steps if isinstance(step, dict) and "db" in step]
    assert "reindex" in database
    assert database.index("integrity_check") == 0  # nothing is rewritten before the check


@pytest.mark.parametrize("procedure", ["daily", "weekly", "monthly", "quarterly"])
def test_every_shipped_procedure_runs_on_a_fresh_install(tmp_path: Path, procedure: str) -> None:
    data = relocated(tmp_path)
    data["procedures"]["weekly"]["before"] = []  # this machine's disk is not under test
    config = write(tmp_path, data)
    assert hostkeeper(config, "run", "daily").returncode == 0  # quarterly tests its archive
    done = hostkeeper(config, "run", procedure)
    assert done.returncode == 0, done.stdout + done.stderr
    failed = [s for s in steps_of(config, procedure) if s["status"] == "failed"]
    assert failed == []
    if not data["procedures"][procedure].get("checklist"):
        return
    # Every automated item is bound to a step that proves it: a good run ticks them all
    # (a check item is at least measured); the people's items wait for them.
    shown = hostkeeper(config, "--json", "checklist", "--procedure", procedure)
    assert shown.returncode == 0, shown.stderr
    for item in json.loads(shown.stdout)["items"]:
        if item["source"] == "manual":
            assert item["state"] == "open", item
        elif item["source"] == "check":
            assert item["state"] != "open", item
        else:
            assert item["state"] in ("done", "warning"), item


def test_hostkeeper_logs_have_one_rotator() -> None:
    snippet = [found.pattern for found in read_patterns([str(SNIPPET)])]
    assert snippet == ["/var/log/hostkeeper/*.log"]
    ours = [path for policy in shipped()["logs"] for path in policy["paths"]]
    assert not set(ours) & set(snippet)
    # Every file hostkeeper writes under log_dir has exactly one rotator: its own logs
    # the snippet, the per-day maintenance and validation logs one cleanup policy.
    config = load_config(SHIPPED).config
    log_dir = Path(config.paths.log_dir)
    day, moment = date(2026, 1, 4), datetime(2026, 1, 4, 3, 0, tzinfo=UTC)
    written = {
        log_dir / "hostkeeper.log": "snippet",
        maintenance_log_path(log_dir, "weekly", day): "cleanup maintenance-logs",
        maintenance_log_path(log_dir, "my-backups_2", day): "cleanup maintenance-logs",
        validation_log_path(log_dir, moment): "cleanup maintenance-logs",
    }
    for path, owner in written.items():
        # glob(3) as logrotate matches: `*` stays within one path component.
        rotators = ["snippet" for pattern in snippet if path.match(pattern)]
        rotators += [f"logs {p.name}" for p in config.logs for g in p.paths if path.match(g)]
        rotators += [
            f"cleanup {policy.name}"
            for policy in config.cleanup
            if path.is_relative_to(policy.path)
            and any(fnmatch(path.name, glob) for glob in _globs(policy.match))
        ]
        assert rotators == [owner], path


def _globs(match: str | list[str]) -> list[str]:
    return [match] if isinstance(match, str) else match


def test_the_shipped_file_holds_nothing_the_audit_takes_for_a_secret() -> None:
    from hostkeeper.core.audit import secrets_in_line

    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    flagged = [(number, line) for number, line in enumerate(lines, 1) if secrets_in_line(line)]
    assert flagged == []
