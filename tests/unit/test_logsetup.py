"""Whatever a caller logs, the rendered line carries no URL credential, token or
secret-looking argument (the journal is readable by every member of adm/systemd-journal).

Logged in a child process, so the test sees exactly the lines the daemon would write."""

from __future__ import annotations

import json
import subprocess
import sys

SECRETS = ("hunter2-pw", "t0ken-value", "query-secret", "bearer-abc", "XXXXXXXXXXXXXXXXXXXXXXXX")

CHILD = """
import logging, structlog
from hostkeeper.adapters.logsetup import configure_logging
configure_logging("json", "debug")
log = structlog.get_logger("test")
log.error(
    "POST http://u:hunter2-pw@h/hook failed",
    url="https://hooks.slack.com/services/T0/B0/XXXXXXXXXXXXXXXXXXXXXXXX",
    argv=["app", "--token", "t0ken-value"],
    details={"hook": "http://h/x?token=query-secret"},
    error="curl: Authorization: Bearer bearer-abc",
)
try:
    raise ValueError("cannot open http://u:hunter2-pw@h/x?token=query-secret")
except ValueError:
    log.exception("delivery crashed")
logging.getLogger("apscheduler").warning("job http://u:hunter2-pw@h/ failed")
"""


def test_every_kind_of_value_is_redacted_in_the_rendered_line() -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=True
    )
    lines = child.stderr.splitlines()
    assert len(lines) == 3, child.stderr
    events = [json.loads(line) for line in lines]
    for line in lines:
        for secret in SECRETS:
            assert secret not in line, line
    assert events[0]["argv"] == ["app", "--token", "***"]
    assert "Traceback" in events[1]["exception"]  # the traceback is kept, redacted
    assert events[2]["event"] == "job http://***@h/ failed"
