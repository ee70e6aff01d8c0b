"""Shared fixtures: configurations under tmp_path, a migrated SQLite store, the real CLI."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hostkeeper.adapters.store import Store
from hostkeeper.config import Config
from tests.peers import missing_peer
from tests.postgres_server import PostgresServer, find_bindir

REPO_ROOT = Path(__file__).resolve().parents[1]
# CI checks out the repository beside `shared/`, which holds the reference configuration.
SHARED_DIR = (REPO_ROOT / ".." / "shared").resolve()

ConfigData = Callable[..., dict[str, Any]]
ConfigFile = Callable[..., Path]
Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def reference_config_path() -> Path:
    """The reference configuration of the specification (`../shared/spec/hostkeeper.yaml`)."""
    path = SHARED_DIR / "spec" / "hostkeeper.yaml"
    if not path.is_file():
        pytest.skip(f"reference configuration not found at {path}")
    return path


@pytest.fixture
def config_data(tmp_path: Path) -> ConfigData:
    """A configuration dict whose state and database live under tmp_path.

    `config_data({"p": {...procedure...}}, checks=[...])` adds procedures and sections.
    """

    def build(procedures: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
        state_dir = tmp_path / "state"
        data: dict[str, Any] = {
            "version": 1,
            "timezone": "UTC",
            "paths": {
                "state_dir": str(state_dir),
                "report_dir": str(tmp_path / "reports"),
                "backup_dir": str(tmp_path / "backups"),
                "log_dir": str(tmp_path / "log"),
            },
            "database": {"url": f"sqlite:///{state_dir}/hostkeeper.db"},
            "procedures": procedures or {},
        }
        data.update(sections)
        return data

    return build


@pytest.fixture
def make_config(config_data: ConfigData) -> Callable[..., Config]:
    """Like `config_data`, validated into a Config."""

    def build(procedures: dict[str, Any] | None = None, **sections: Any) -> Config:
        return Config.model_validate(config_data(procedures, **sections))

    return build


@pytest.fixture
def config_file(tmp_path: Path, config_data: ConfigData) -> ConfigFile:
    """Write `config_data(...)` as YAML to tmp_path/hostkeeper.yaml and return the path."""

    def write(procedures: dict[str, Any] | None = None, **sections: Any) -> Path:
        path = tmp_path / "hostkeeper.yaml"
        data = config_data(procedures, **sections)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def store(make_config: Callable[..., Config]) -> Iterator[Store]:
    """A migrated SQLite store in tmp_path, the one `make_config()` points at."""
    from hostkeeper.services.store_setup import prepare_store

    opened = prepare_store(make_config())
    yield opened
    opened.dispose()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """Run the real command line, `python -m hostkeeper ARGS`, in tmp_path."""

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if k != "HOSTKEEPER_CONFIG"}
        return subprocess.run(
            [sys.executable, "-m", "hostkeeper", *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


_LOCK_HOLDER = """
import sys
from pathlib import Path

from hostkeeper.adapters.locks import FileLock

lock = FileLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the test closes stdin
lock.release()
"""


@pytest.fixture
def hold_lock() -> Iterator[Callable[[Path], subprocess.Popen[str]]]:
    """Start another process holding hostkeeper's FileLock on a path; stopped at teardown.

    Closing the returned process's stdin makes it release the lock and exit.
    """
    processes: list[subprocess.Popen[str]] = []

    def start(path: Path) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", _LOCK_HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the session (the store contracts, the fleet)."""
    bindir = find_bindir()
    if bindir is None:
        missing_peer("PostgreSQL server binaries not installed (apt-get install postgresql)")
    if importlib.util.find_spec("psycopg") is None:
        missing_peer("psycopg is not installed (pip install 'psycopg[binary]')")
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
