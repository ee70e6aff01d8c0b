"""What hostkeeper creates passes hostkeeper's own audit, whatever the caller's umask.

The CLI runs from a root login shell (umask 022), not under the unit's UMask=0027: the
directories and files it makes must still be private.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def _set_login_umask() -> None:
    os.umask(0o022)


@pytest.fixture
def installation(tmp_path: Path) -> Path:
    """A config whose state, reports and backups all live under audited private paths."""
    sources = tmp_path / "etc-app"
    sources.mkdir(mode=0o700)
    (sources / "app.conf").write_text("setting = 1\n")
    (sources / "app.conf").chmod(0o600)
    state = tmp_path / "var" / "lib" / "hostkeeper"
    backups = tmp_path / "var" / "backups" / "hostkeeper"
    config = tmp_path / "hostkeeper.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "timezone": "UTC",
                "paths": {
                    "state_dir": str(state),
                    "report_dir": str(state / "reports"),
                    "backup_dir": str(backups),
                    "log_dir": str(tmp_path / "log"),
                },
                "database": {"url": f"sqlite:///{state / 'hostkeeper.db'}"},
                "backups": [{"name": "config", "sources": [str(sources)]}],
                "security": {"private_paths": [str(state), str(backups)]},
            }
        )
    )
    config.chmod(0o600)
    return config


def _hostkeeper(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "HOSTKEEPER_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "hostkeeper", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=config.parent,
        preexec_fn=_set_login_umask,
        check=False,
    )


def test_what_the_cli_creates_under_umask_022_passes_the_audit(installation: Path) -> None:
    for verb in (
        ["backup", "create", "config"],
        ["backup", "restore-test", "config"],
        ["db", "backup"],
        ["report", "daily"],
        ["thresholds"],
        ["audit"],  # the first run creates report_dir/security/
    ):
        result = _hostkeeper(installation, *verb)
        assert result.returncode in (0, 1), (verb, result.stderr)
    state = installation.parent / "var" / "lib" / "hostkeeper"
    backups = installation.parent / "var" / "backups" / "hostkeeper"
    # The verbs above really made what the audit then looks at.
    assert list((backups / "config").glob("config-*.tar.gz"))
    assert list((backups / "database").glob("*.db"))
    assert list((state / "reports" / "daily").iterdir())
    assert list((state / "reports" / "security").iterdir())

    result = _hostkeeper(installation, "--json", "audit")

    findings = json.loads(result.stdout)["findings"]
    assert findings == [], findings
    assert result.returncode == 0
    for root in (state, backups):
        for directory, dirnames, filenames in os.walk(root):
            for name in [*dirnames, *filenames]:
                mode = os.lstat(os.path.join(directory, name)).st_mode
                assert not mode & stat.S_IRWXO, f"{directory}/{name}: {stat.filemode(mode)}"
