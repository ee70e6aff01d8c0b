"""`make lint` refuses an import that breaks the layers of docs/architecture.md.

The contract is pyproject.toml's [tool.importlinter]; these tests run the real
lint-imports on a copy of the package with one planted violation each.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[3]
# `make lint` installs import-linter into a venv of its own (see the Makefile).
LINT_IMPORTS = REPOSITORY / ".venv-lint" / "bin" / "lint-imports"


def _lint(tmp_path: Path, plant: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """lint-imports on a copy of src/ with `plant` appended to the named modules."""
    if not LINT_IMPORTS.exists():
        reason = f"{LINT_IMPORTS} is missing: `make lint` installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    source = tmp_path / "src"
    shutil.copytree(REPOSITORY / "src", source, ignore=shutil.ignore_patterns("__pycache__"))
    for module, line in plant.items():
        path = source / "hostkeeper" / module
        path.write_text(path.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")
    shutil.copy(REPOSITORY / "pyproject.toml", tmp_path / "pyproject.toml")
    environment = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tmp_path / "pyproject.toml")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_package_keeps_its_layers(tmp_path: Path) -> None:
    result = _lint(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "complaint"),
    [
        # core imports configuration: core is the bottom layer
        (
            "core/numbers.py",
            "from hostkeeper.config import units as _units",
            "hostkeeper.core is not allowed to import hostkeeper.config",
        ),
        # a step reaches up into the daemon, even lazily inside a function
        (
            "steps/cleanup.py",
            "def _daemon() -> object:\n    from hostkeeper.daemon import lifecycle\n\n"
            "    return lifecycle",
            "hostkeeper.steps is not allowed to import hostkeeper.daemon",
        ),
        # a report reaches up into the web server
        (
            "reports/daily.py",
            "import hostkeeper.web.server as _server",
            "hostkeeper.reports is not allowed to import hostkeeper.web",
        ),
        # core grows an I/O dependency
        ("core/numbers.py", "import sqlalchemy as _sqlalchemy", "hostkeeper.core is not allowed"),
    ],
)
def test_a_planted_violation_breaks_the_lint(
    tmp_path: Path, module: str, line: str, complaint: str
) -> None:
    result = _lint(tmp_path, {module: line})
    assert result.returncode != 0
    assert complaint in result.stdout, result.stdout


def test_a_planted_cycle_inside_a_layer_breaks_the_lint(tmp_path: Path) -> None:
    # alerting and services may import each other's modules, but not in a circle
    result = _lint(
        tmp_path,
        {
            "services/trends.py": "import hostkeeper.alerting.stats as _stats",
            "alerting/stats.py": "import hostkeeper.services.trends as _trends",
        },
    )
    assert result.returncode != 0
    assert "no import cycles" in result.stdout and "BROKEN" in result.stdout, result.stdout
