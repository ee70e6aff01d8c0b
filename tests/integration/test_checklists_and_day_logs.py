"""Checklists, per-day maintenance logs and manual runs, through the real CLI.

Each run is a `hostkeeper run` process; readers are real processes too (`tail -F`,
`hostkeeper logs --follow`); confirmations come from other `hostkeeper confirm`
processes, as different users; notifications go to a real local HTTP receiver.
Steps that must be caught mid-run wait for a file the test creates, so no assertion
depends on timing.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from alerting_peers import Receiver, http_receiver

from conftest import PYTHON, clean_environment, wait_until

# A step that prints a line, then waits for the test's go-ahead before the next one.
GATED = 'echo "{first}"; while [ ! -e "{gate}" ]; do sleep 0.05; done; echo "{second}"'


@dataclass
class Site:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "hostkeeper.yaml"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    def write(self, procedures: dict[str, Any], **sections: Any) -> None:
        data: dict[str, Any] = {
            "version": 1,
            "timezone": "UTC",
            "paths": {
                "state_dir": str(self.root / "state"),
                "report_dir": str(self.root / "reports"),
                "backup_dir": str(self.root / "backups"),
                "log_dir": str(self.log_dir),
            },
            "database": {"url": f"sqlite:///{self.root / 'state' / 'hostkeeper.db'}"},
            "dashboard": {"enabled": False},
            "procedures": procedures,
            **sections,
        }
        self.config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def command(self, *args: str) -> list[str]:
        return [PYTHON, "-m", "hostkeeper", "--config", str(self.config), *args]

    def cli(
        self, *args: str, env: dict[str, str] | None = None, prefix: Sequence[str] = ()
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, *self.command(*args)],
            cwd=self.root,
            env=clean_environment(**(env or {})),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            cwd=self.root,
            env=clean_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def day_log(self, procedure: str) -> Path:
        today = datetime.now(UTC).strftime("%Y%m%d")
        return self.log_dir / "maintenance" / f"{procedure}_maintenance_{today}.log"

    def checklist(self, run: int | None = None) -> dict[str, Any]:
        done = self.cli("--json", "checklist", *([str(run)] if run else []))
        assert done.returncode == 0, done.stderr
        data: dict[str, Any] = json.loads(done.stdout)
        return data


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


class LineReader:
    """A reader process's stdout, collected line by line by a thread of its own."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        import threading

        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=clean_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def seen(self, fragment: str) -> bool:
        return any(fragment in line for line in list(self.lines))

    def count(self, fragment: str) -> int:
        return sum(fragment in line for line in list(self.lines))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self._thread.join(10)


@pytest.fixture
def readers() -> Iterator[list[LineReader]]:
    started: list[LineReader] = []
    yield started
    for reader in started:
        if reader.process.poll() is None:
            reader.stop()


def _gated_step(root: Path, first: str, second: str, gate: str = "go") -> dict[str, Any]:
    script = GATED.format(first=first, second=second, gate=root / gate)
    return {"run": ["/bin/sh", "-c", script], "timeout": "2m"}


# -- the per-day log, followed while the run is in progress ----------------------------------


@pytest.mark.skipif(shutil.which("tail") is None, reason="needs tail(1)")
def test_tail_follows_each_step_line_of_the_day_log_before_the_run_ends(
    site: Site, readers: list[LineReader]
) -> None:
    site.write(
        {
            "nightly": {
                "schedule": {"every": "1h"},
                "steps": [_gated_step(site.root, "first line", "second line"), "health_check"],
            }
        }
    )
    log = site.day_log("nightly")
    tail = LineReader(["tail", "-F", "-n", "+1", str(log)], site.root)
    readers.append(tail)
    run = site.start("run", "nightly")
    try:
        wait_until(lambda: tail.seen("first line"), timeout=60, what="the first output line")
        # The step is held until the gate opens: the run is still going.
        assert run.poll() is None
        assert tail.seen("run started (manual by ")
        assert tail.seen("step run: /bin/sh started")
        assert not tail.seen("second line") and not tail.seen("run succeeded")
        lines_mid_run = len([line for line in tail.lines if "nightly[" in line])
        assert lines_mid_run >= 3
        (site.root / "go").touch()
        assert run.wait(60) == 0, run.stderr.read() if run.stderr else ""
    finally:
        if run.poll() is None:
            run.kill()
    wait_until(lambda: tail.seen("checklist") or tail.seen("run succeeded"), what="the end")
    wait_until(lambda: tail.seen("run succeeded"), what="the run's last line")
    assert tail.seen("second line")
    assert tail.seen("step run: /bin/sh succeeded in ")
    assert tail.seen("step health_check succeeded in ")
    assert oct(log.stat().st_mode & 0o777) == oct(0o640)


def test_a_rotated_day_log_loses_no_line(site: Site, readers: list[LineReader]) -> None:
    burst = "; ".join(f"echo before-{n}" for n in range(1, 6))
    after = "; ".join(f"echo after-{n}" for n in range(1, 6))
    gate = site.root / "go"
    script = f'{burst}; while [ ! -e "{gate}" ]; do sleep 0.05; done; {after}'
    site.write(
        {"nightly": {"schedule": {"every": "1h"}, "steps": [{"run": ["/bin/sh", "-c", script]}]}}
    )
    log = site.day_log("nightly")
    follower = LineReader(site.command("logs", "nightly", "--follow"), site.root)
    readers.append(follower)
    run = site.start("run", "nightly")
    try:
        wait_until(lambda: log.is_file() and "before-5" in log.read_text(), what="the burst")
        wait_until(lambda: follower.seen("before-5"), what="the follower to read the burst")
        _rotate(log, site.root)
        assert not log.exists() or "before-5" not in log.read_text()
        gate.touch()
        assert run.wait(60) == 0
    finally:
        if run.poll() is None:
            run.kill()
    rotated = log.with_name(log.name + ".1")
    both = rotated.read_text().splitlines() + log.read_text().splitlines()
    for n in range(1, 6):
        assert sum(line.endswith(f"| before-{n}") for line in both) == 1
        assert sum(line.endswith(f"| after-{n}") for line in both) == 1
    assert sum("run succeeded" in line for line in both) == 1
    assert any("after-1" in line for line in log.read_text().splitlines())  # reopened
    # The follower read the old file to its end, then the new one: every line once.
    wait_until(lambda: follower.seen("run succeeded"), what="the follower to see the end")
    for n in range(1, 6):
        assert follower.count(f"| before-{n}") == 1
        assert follower.count(f"| after-{n}") == 1


def _rotate(log: Path, root: Path) -> None:
    """Rotate as logrotate's `create` does: rename, and a new empty file (0640)."""
    if shutil.which("logrotate") is None:
        log.rename(log.with_name(log.name + ".1"))
        return
    conf = root / "logrotate.conf"
    conf.write_text(f"{log} {{\n  rotate 3\n  create 0640\n  nocompress\n}}\n")
    done = subprocess.run(
        ["logrotate", "-f", "-s", str(root / "logrotate.state"), str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_logs_prints_the_days_lines_and_says_when_there_are_none(site: Site) -> None:
    site.write({"quick": {"schedule": {"every": "1h"}, "steps": ["health_check"]}})
    missing = site.cli("logs", "quick")
    assert missing.returncode == 1
    assert "no maintenance log of quick" in missing.stderr
    assert site.cli("run", "quick").returncode == 0
    shown = site.cli("logs", "quick")
    assert shown.returncode == 0
    assert "quick[1] run started" in shown.stdout
    assert "quick[1] run succeeded" in shown.stdout
    listed = json.loads(site.cli("--json", "logs", "--list").stdout)
    assert [entry["procedure"] for entry in listed] == ["quick"]


# -- checklists --------------------------------------------------------------------------


def test_the_checklist_of_a_failed_run_crosses_its_items_with_their_evidence(site: Site) -> None:
    site.write(
        {
            "weekly": {
                "schedule": {"every": "1h"},
                "before": [{"require": "disk_free", "path": str(site.root), "min": "0%"}],
                "steps": [
                    {"run": ["/bin/sh", "-c", "echo migrating; exit 3"]},
                    "health_check",
                ],
                "after": [{"run": ["/bin/true"]}],
                "checklist": {
                    "planning": [{"review": "Review change requests"}],
                    "pre": [
                        {"space": "Enough disk space", "precondition": "disk_free"},
                        {"migrate": "Migrate the schema", "step": "run: /bin/sh"},
                    ],
                    "post": [
                        {"health": "Health verified", "step": "health_check"},
                        {"disk": "Disk checked", "check": "disk"},
                        {"verified": "Verification ran", "step": "run: /bin/true"},
                        {"documented": "Document changes made"},
                    ],
                },
            }
        },
        checks=[
            {"name": "disk", "type": "disk_free", "path": "/", "warning": "0%", "critical": "0%"}
        ],
    )
    run = site.cli("run", "weekly")
    assert run.returncode == 1
    data = site.checklist()
    assert data["run_status"] == "failed"
    items = {item["name"]: item for item in data["items"]}
    assert {name: item["state"] for name, item in items.items()} == {
        "review": "open",
        "space": "done",
        "migrate": "crossed",
        "health": "crossed",  # skipped: the failed step aborted the run
        "disk": "crossed",  # not measured: health_check never ran
        "verified": "done",  # `after` steps run whatever happened
        "documented": "open",
    }
    assert "exited with status 3" in items["migrate"]["evidence"]
    assert "not run: run: /bin/sh failed" in items["health"]["evidence"]
    assert items["disk"]["evidence"] == "check disk not measured during the run"
    assert "met" in items["space"]["evidence"]
    assert data["counts"] == {"done": 2, "warning": 0, "crossed": 3, "open": 2}

    text = site.cli("checklist", str(data["run_id"]))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    migrate = next(line for line in lines if " migrate " in line)
    assert migrate.lstrip().startswith("[-]")
    assert "exited with status 3" in migrate
    review = next(line for line in lines if " review " in line)
    assert review.lstrip().startswith("[ ]")
    assert f"hostkeeper confirm {data['run_id']} review" in review
    # The same checklist closes the run's lines in its per-day log.
    logged = site.day_log("weekly").read_text()
    assert "checklist: 2 done, 3 crossed, 2 open" in logged
    assert any(line.endswith(migrate.strip()) for line in logged.splitlines())


def test_confirm_records_each_user_by_name(site: Site) -> None:
    shared = Path(tempfile.mkdtemp(prefix="hostkeeper-confirm-"))
    try:
        _confirm_as_two_users(Site(shared))
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def _confirm_as_two_users(site: Site) -> None:
    site.write(
        {
            "monthly": {
                "schedule": {"every": "1h"},
                "steps": ["health_check"],
                "checklist": {
                    "planning": [
                        {"window": "Schedule maintenance window"},
                        {"stakeholders": "Notify stakeholders"},
                    ]
                },
            }
        }
    )
    assert site.cli("run", "monthly").returncode == 0
    run_id = site.checklist()["run_id"]
    through_sudo = site.cli(
        "confirm", str(run_id), "window", "--note", "Sat 01:00-03:00", env={"SUDO_USER": "alice"}
    )
    assert through_sudo.returncode == 0, through_sudo.stderr
    assert "confirmed by alice" in through_sudo.stdout

    other, prefix = _another_user(site)
    second = site.cli("confirm", str(run_id), "stakeholders", prefix=prefix, env=other)
    assert second.returncode == 0, second.stderr
    again = site.cli("confirm", str(run_id), "window", env={"SUDO_USER": "mallory"})
    assert again.returncode == 1
    assert "already confirmed by alice" in again.stderr

    items = {item["name"]: item for item in site.checklist(run_id)["items"]}
    assert items["window"]["confirmed_by"] == "alice"
    assert items["window"]["note"] == "Sat 01:00-03:00"
    assert items["window"]["state"] == "done"
    expected = "nobody" if prefix else "bob"
    assert items["stakeholders"]["confirmed_by"] == expected
    assert items["stakeholders"]["state"] == "done"


def _another_user(site: Site) -> tuple[dict[str, str], list[str]]:
    """A real other uid through setpriv where this runs as root, else sudo's variable."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return {"SUDO_USER": "bob"}, []
    nobody = pwd.getpwnam("nobody")
    # The other user needs the installation's state: the directory, the database and its
    # write-ahead log (the checklist read above made it exist).
    for path in [site.root, site.root / "state", *(site.root / "state").rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    prefix = [
        "setpriv",
        f"--reuid={nobody.pw_uid}",
        f"--regid={nobody.pw_gid}",
        "--clear-groups",
    ]
    return {"HOME": "/nonexistent"}, prefix


def test_confirm_refuses_items_the_run_proves_and_unknown_ones(site: Site) -> None:
    site.write(
        {
            "weekly": {
                "schedule": {"every": "1h"},
                "steps": ["health_check"],
                "checklist": {
                    "post": [
                        {"health": "Health verified", "step": "health_check"},
                        {"documented": "Document changes made"},
                    ]
                },
            },
            "plain": {"schedule": {"every": "1h"}, "steps": ["health_check"]},
        }
    )
    assert site.cli("run", "weekly").returncode == 0
    assert site.cli("run", "plain").returncode == 0
    proved = site.cli("confirm", "1", "health")
    assert proved.returncode == 1
    assert "proved by the run itself" in proved.stderr
    unknown = site.cli("confirm", "1", "nope")
    assert unknown.returncode == 1
    assert "manual items: documented" in unknown.stderr
    no_checklist = site.cli("confirm", "2", "documented")
    assert no_checklist.returncode == 1
    assert "has no checklist" in no_checklist.stderr
    no_run = site.cli("confirm", "99", "documented")
    assert no_run.returncode == 1
    assert "no run 99" in no_run.stderr


# -- wait_for and notifications -------------------------------------------------------------


def _notifying(receiver: Receiver, on: list[str]) -> dict[str, Any]:
    return {
        "alerts": {
            "rules": [],
            "channels": [{"name": "hook", "type": "webhook", "url": receiver.url, "timeout": "2s"}],
        },
        "notify": {"on": on, "channels": ["hook"]},
    }


def _approval_procedure(wait_timeout: str) -> dict[str, Any]:
    return {
        "schedule": {"every": "1h"},
        "steps": [
            "health_check",
            {
                "run": ["/bin/echo", "deployed"],
                "wait_for": ["approval"],
                "wait_timeout": wait_timeout,
            },
        ],
        "checklist": {
            "planning": [{"approval": "Review change requests"}],
            "post": [{"deployed": "Change deployed", "step": "run: /bin/echo"}],
        },
    }


def test_a_wait_that_times_out_skips_the_step_notifies_and_shows(site: Site) -> None:
    with http_receiver() as receiver:
        site.write({"deploy": _approval_procedure("1s")}, **_notifying(receiver, ["failure"]))
        done = site.cli("--json", "run", "deploy")
        assert done.returncode == 0, done.stdout + done.stderr  # a warning, not a failure
        result = json.loads(done.stdout)
        assert result["status"] == "warning"
        step = next(s for s in result["steps"] if s["label"] == "run: /bin/echo")
        assert step["status"] == "skipped"
        assert "approval not confirmed within 1s" in step["summary"]
        wait_until(lambda: receiver.bodies(), what="the wait notification")
    states = [body["state"] for body in receiver.bodies()]
    assert states == ["wait_timeout"]  # `wait` itself is not asked for; failure is
    body = receiver.bodies()[0]
    assert body["kind"] == "maintenance"
    assert "step run: /bin/echo skipped" in body["summary"]
    items = {item["name"]: item for item in site.checklist()["items"]}
    assert items["approval"]["state"] == "open"
    assert items["deployed"]["state"] == "crossed"
    assert "not confirmed within 1s" in items["deployed"]["evidence"]
    logged = site.day_log("deploy").read_text()
    assert "checklist items approval not confirmed within 1s; step run: /bin/echo skipped" in logged


def test_a_confirmation_lets_a_waiting_run_go_on(site: Site) -> None:
    site.write({"deploy": _approval_procedure("10m")})
    log = site.day_log("deploy")
    run = site.start("run", "deploy")
    try:
        wait_until(
            lambda: log.is_file() and "waits up to 10m" in log.read_text(),
            timeout=60,
            what="the run to wait",
        )
        confirmed = site.cli("confirm", "1", "approval", env={"SUDO_USER": "carol"})
        assert confirmed.returncode == 0, confirmed.stderr
        assert run.wait(60) == 0
    finally:
        if run.poll() is None:
            run.kill()
    text = log.read_text()
    assert "checklist item approval confirmed by carol" in text
    assert "| deployed" in text
    items = {item["name"]: item["state"] for item in site.checklist()["items"]}
    assert items == {"approval": "done", "deployed": "done"}


def test_a_manual_run_notifies_like_a_scheduled_one_with_who_and_why(site: Site) -> None:
    with http_receiver() as receiver:
        site.write(
            {"quick": {"schedule": {"every": "1h"}, "steps": [{"run": ["/bin/false"]}]}},
            **_notifying(receiver, ["start", "failure"]),
        )
        done = site.cli("run", "quick", "--reason", "disk filling up", env={"SUDO_USER": "dave"})
        assert done.returncode == 1
        wait_until(lambda: len(receiver.bodies()) >= 2, what="both notifications")
    start, failure = receiver.bodies()
    assert (start["state"], failure["state"]) == ("start", "failure")
    assert start["summary"] == "quick started (manual by dave: disk filling up)"
    assert failure["details"]["started_by"] == "dave"
    assert failure["details"]["reason"] == "disk filling up"
    runs = site.cli("--json", "runs")
    [record] = json.loads(runs.stdout)
    assert (record["started_by"], record["reason"]) == ("dave", "disk filling up")


def test_validate_system_writes_its_own_log(site: Site) -> None:
    site.write({})
    done = site.cli("--json", "validate-system", "--alert-timeout", "1")
    result = json.loads(done.stdout)
    path = Path(result["log"])
    assert path.parent == site.log_dir / "validation"
    assert path.name.startswith("validation_") and path.suffix == ".log"
    lines = path.read_text().splitlines()
    for item in result["items"]:
        assert sum(f" {item['item']}: {item['result']} (" in line for line in lines) == 1
    verdict = "PASSED" if result["passed"] else "FAILED"
    assert f"system validation {verdict}: " in lines[-1]
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)


# -- where checklists are shown ------------------------------------------------------------


class _Page(HTMLParser):
    """The text of each table row under the heading it follows."""

    def __init__(self) -> None:
        super().__init__()
        self.heading = ""
        self.in_heading = False
        self.rows: dict[str, list[str]] = {}
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h2":
            self.in_heading, self.heading = True, ""
        elif tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self.in_heading = False
        elif tag == "tr" and self._row is not None:
            self.rows.setdefault(self.heading, []).append(" ".join(self._row))
            self._row = None

    def handle_data(self, data: str) -> None:
        if self.in_heading:
            self.heading += data
        elif self._row is not None and data.strip():
            self._row.append(data.strip())


def _rows(html: str, heading: str) -> list[str]:
    page = _Page()
    page.feed(html)
    return page.rows.get(heading, [])


def _checklisted(site: Site) -> int:
    site.write(
        {
            "weekly": {
                "schedule": {"every": "1h"},
                "steps": [{"run": ["/bin/false"]}],
                "after": ["health_check"],
                "checklist": {
                    "pre": [{"window": "Schedule maintenance window"}],
                    "post": [
                        {"migrated": "Schema migrated", "step": "run: /bin/false"},
                        {"health": "System health verified", "step": "health_check"},
                    ],
                },
            }
        }
    )
    assert site.cli("run", "weekly").returncode == 1
    run_id: int = site.checklist()["run_id"]
    assert site.cli("confirm", str(run_id), "window", env={"SUDO_USER": "erin"}).returncode == 0
    return run_id


@pytest.mark.parametrize(
    ("report", "folder", "heading"),
    [
        ("performance", "performance", "Maintenance checklists"),
        ("health_assessment", "monthly", "Maintenance checklists"),
    ],
)
def test_the_weekly_and_monthly_reports_list_the_periods_checklists(
    site: Site, report: str, folder: str, heading: str
) -> None:
    run_id = _checklisted(site)
    done = site.cli("--json", "report", report)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    html = Path(result["path"]).read_text()
    rows = _rows(html, heading)
    assert any("Schedule maintenance window" in r and "done" in r and "erin" in r for r in rows)
    assert any(
        "Schema migrated" in r and "crossed" in r and "exited with status 1" in r for r in rows
    )
    assert any("System health verified" in r and "done" in r for r in rows)
    assert f"weekly run {run_id}" in html


def test_status_and_the_dashboard_show_the_newest_checklist(site: Site) -> None:
    from hostkeeper.config.loader import load_config
    from hostkeeper.reports import performance
    from hostkeeper.services.status import build_status
    from hostkeeper.services.store_setup import prepare_store
    from hostkeeper.web.dashboard import render_dashboard

    run_id = _checklisted(site)
    status = json.loads(site.cli("--json", "status").stdout)
    [checklist] = status["checklists"]
    assert checklist["run_id"] == run_id
    assert checklist["counts"] == {"done": 2, "warning": 0, "crossed": 1, "open": 0}
    config = load_config(site.config).config
    store = prepare_store(config)
    try:
        model = build_status(store, config, now=datetime.now(UTC), next_runs={})
        html = render_dashboard(store, model)
        _, weekly_report = performance.build(config, store, datetime.now(UTC))
    finally:
        store.dispose()
    [summary] = weekly_report["checklists"]
    assert summary["run_id"] == run_id
    assert summary["not_done"] == [{"name": "migrated", "state": "crossed"}]
    rows = _rows(html, "Checklists")
    assert any("Schedule maintenance window" in r and "confirmed by erin" in r for r in rows)
    assert any("Schema migrated" in r and "crossed" in r for r in rows)
