"""A scheduled run in the real daemon waits for its checklist items: a confirmation from
the CLI lets it go on, a stop ends the wait; its per-day log tells the story."""

from __future__ import annotations

import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notify_socket import NotifySocket

from conftest import PYTHON, DaemonFactory, Site, clean_environment, wait_until

PROCEDURE = """\
deploy:
  schedule: {every: 1s}
  steps:
    - run: ["/bin/echo", "deployed"]
      wait_for: [approval]
      wait_timeout: 10m
  checklist:
    planning:
      - approval: Review change requests
    post:
      - deployed: Change deployed
        step: "run: /bin/echo"
"""


def _day_log(site: Site) -> Path:
    today = datetime.now(UTC).strftime("%Y%m%d")
    return site.root / "log" / "maintenance" / f"deploy_maintenance_{today}.log"


def _text(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


def _confirm(site: Site, run_id: int, user: str) -> subprocess.CompletedProcess[str]:
    # The daemon's own configuration: the CLI's spare one has no procedures.
    return subprocess.run(
        [
            PYTHON,
            "-m",
            "hostkeeper",
            "--config",
            str(site.config),
            "confirm",
            str(run_id),
            "approval",
        ],
        cwd=site.root,
        env=clean_environment(SUDO_USER=user),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _run(site: Site, run_id: int) -> dict[str, Any]:
    return next(r for r in site.runs("deploy") if r["id"] == run_id)


def test_a_scheduled_run_waits_for_a_confirmation_and_a_stop_ends_the_wait(
    site: Site, start_daemon: DaemonFactory, notify: NotifySocket
) -> None:
    site.write_config(PROCEDURE, shutdown_timeout="5s")
    daemon = start_daemon()
    notify.wait_key("READY", "1")
    log = _day_log(site)
    wait_until(lambda: "waits up to 10m" in _text(log), timeout=30, what="the run to wait")
    [waiting] = [r for r in site.runs("deploy") if r["status"] == "running"]
    assert f"deploy[{waiting['id']}] run started (scheduled)" in _text(log)

    confirmed = _confirm(site, waiting["id"], "frank")
    assert confirmed.returncode == 0, confirmed.stderr
    wait_until(
        lambda: _run(site, waiting["id"])["status"] == "succeeded", timeout=30, what="the run"
    )
    text = _text(log)
    assert f"deploy[{waiting['id']}] checklist item approval confirmed by frank" in text
    assert f"deploy[{waiting['id']}]   run: /bin/echo | deployed" in text
    assert f"deploy[{waiting['id']}] checklist: 2 done" in text

    # The next scheduled run waits in turn; stopping the daemon ends that wait.
    nxt = wait_until(
        lambda: next(
            (
                r
                for r in site.runs("deploy")
                if r["id"] > waiting["id"] and r["status"] == "running"
            ),
            None,
        ),
        timeout=30,
        what="the next run",
    )
    wait_until(lambda: f"deploy[{nxt['id']}] deploy run {nxt['id']} waits" in _text(log))
    daemon.send(signal.SIGTERM)
    assert daemon.wait(timeout=30) == 0
    stopped = _run(site, nxt["id"])
    assert stopped["status"] == "aborted"
    [step] = stopped["steps"]
    assert step["status"] == "aborted"
    assert step["error"] == "stopped waiting for approval: hostkeeper is stopping"
