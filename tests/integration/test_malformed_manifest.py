"""An archive whose MANIFEST.json is malformed is reported invalid by every reader
(`backup verify`, `backup restore-test`, the verify_backups step, `rollback`), in words,
never with a traceback; rollback falls back to the newest archive that verifies."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.malformed_manifests import MALFORMED, replace_manifest

from hostkeeper.adapters.archive import create_archive, verify_archive

Cli = Callable[..., subprocess.CompletedProcess[str]]
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def site(tmp_path: Path, config_data: Callable[..., dict[str, Any]]) -> dict[str, Path]:
    """A config set (etc/ with hostkeeper.yaml) backed up twice: an older good archive
    and a newer one whose manifest the test breaks."""
    etc = tmp_path / "etc"
    etc.mkdir()
    config = config_data(
        {"verify": {"schedule": {"every": "1h"}, "steps": ["verify_backups"]}},
        backups=[{"name": "config", "sources": [str(etc)]}],
    )
    path = etc / "hostkeeper.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    archives = tmp_path / "backups" / "config"
    older = create_archive("config", [str(etc)], [], archives, NOW - timedelta(hours=1)).path
    newer = create_archive("config", [str(etc)], [], archives, NOW).path
    return {"config": path, "older": older, "newer": newer, "etc": etc}


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr


@pytest.mark.parametrize("name", MALFORMED)
def test_verify_reports_the_manifest_as_malformed(site: dict[str, Path], name: str) -> None:
    replace_manifest(site["newer"], MALFORMED[name])

    result = verify_archive(site["newer"])

    assert not result.ok
    assert result.manifest is None
    assert [p for p in result.problems if p.startswith("MANIFEST.json is malformed: ")]
    assert verify_archive(site["older"]).ok


@pytest.mark.parametrize("name", MALFORMED)
def test_every_reader_reports_the_archive_invalid(
    cli: Cli, site: dict[str, Path], name: str
) -> None:
    replace_manifest(site["newer"], MALFORMED[name])
    config = str(site["config"])

    verified = cli("--config", config, "backup", "verify", str(site["newer"]))
    _no_traceback(verified)
    assert verified.returncode == 1
    assert "MANIFEST.json is malformed" in verified.stdout + verified.stderr

    tested = cli("--config", config, "backup", "restore-test", "config")
    _no_traceback(tested)
    assert tested.returncode == 1
    assert "MANIFEST.json is malformed" in tested.stdout + tested.stderr

    step = cli("--config", config, "--json", "run", "verify")
    _no_traceback(step)
    assert step.returncode == 1
    assert "MANIFEST.json is malformed" in step.stdout + step.stderr

    before = site["config"].read_text()
    site["config"].write_text(before + "typo: 1\n")
    rolled = cli("--config", config, "rollback")
    _no_traceback(rolled)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert site["config"].read_text() == before
    assert f"{site['newer'].name} does not verify" in rolled.stdout + rolled.stderr
    assert site["older"].name in rolled.stdout


def test_rollback_to_a_named_malformed_archive_is_refused_in_words(
    cli: Cli, site: dict[str, Path]
) -> None:
    replace_manifest(site["newer"], MALFORMED["member without path"])
    before = site["config"].read_text()

    rolled = cli("--config", str(site["config"]), "rollback", "--archive", str(site["newer"]))

    _no_traceback(rolled)
    assert rolled.returncode == 1
    assert "MANIFEST.json is malformed" in rolled.stdout + rolled.stderr
    assert site["config"].read_text() == before
