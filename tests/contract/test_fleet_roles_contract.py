"""packaging/postgresql/fleet-roles.sql on a real PostgreSQL, applied with the real psql:
a host's role does its daemon's work, reads the whole fleet, writes only its own rows
and deletes no history; a watcher's role records another host's host_silent alert."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import DBAPIError

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import fleet as fleet_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.checks import record_check_run
from hostkeeper.adapters.store.metrics import write_samples
from hostkeeper.adapters.store.migrate import migrate
from hostkeeper.adapters.store.schema import fleet_hosts, runs, samples
from hostkeeper.alerting.fleet_watch import evaluate_silent_hosts
from hostkeeper.channels.base import Message
from hostkeeper.config import Config, parse_config
from hostkeeper.core.fleet import HOST_SILENT_RULE
from hostkeeper.core.health import CheckResult, CheckState
from hostkeeper.core.metrics import Sample
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
from hostkeeper.services.fleet_status import build_fleet, heartbeat
from tests.postgres_server import PostgresServer

ROLES_SQL = Path(__file__).resolve().parents[2] / "packaging" / "postgresql" / "fleet-roles.sql"
NOW = datetime.now(UTC)


def _psql(server: PostgresServer, database: str, *args: str) -> None:
    subprocess.run(
        [
            str(server.bindir / "psql"),
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "-d",
            database,
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def fleet_db(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[dict[str, Store]]:
    url = postgres_server.new_database()
    database = url.rsplit("/", 1)[1]
    owner = open_store(url)
    migrate(owner, tmp_path / "migrate.lock")
    owner.dispose()
    _psql(postgres_server, database, "-f", str(ROLES_SQL))
    _psql(postgres_server, database, "-f", str(ROLES_SQL))  # idempotent: again after upgrades
    for role in ("web-01", "web-02", "watch-01"):  # roles belong to the server: once
        exists = f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"  # noqa: S608 (fixed names)
        create = f'CREATE ROLE "{role}" LOGIN IN ROLE hostkeeper_host'
        _psql(
            postgres_server,
            database,
            "-c",
            f"DO $$ BEGIN IF NOT EXISTS ({exists}) THEN {create}; END IF; END $$",
        )
    _psql(postgres_server, database, "-c", 'GRANT hostkeeper_watcher TO "watch-01"')
    base = f"postgresql+psycopg://{{}}@127.0.0.1:{postgres_server.port}/{database}"
    stores = {role: open_store(base.format(role), host=role) for role in ("web-01", "web-02")}
    stores["watch-01"] = open_store(base.format("watch-01"), host="watch-01")
    yield stores
    for store in stores.values():
        store.dispose()


def _config(tmp_path: Path) -> Config:
    data = {
        "paths": {"state_dir": str(tmp_path / "state")},
        "procedures": {"daily": {"schedule": {"hour": 2}, "steps": ["cleanup"]}},
        "fleet": {"channels": ["pager"]},
        "alerts": {"channels": [{"name": "pager", "type": "log"}]},
    }
    return parse_config(yaml.safe_dump(data), "test.yaml").config


def _daemons_work(store: Store, config: Config) -> None:
    """What a daemon writes in a day, as the host's own role."""
    run_id = run_store.start_run(store, "daily", Trigger.SCHEDULED, NOW - timedelta(hours=2))
    step = run_store.StepRecord(0, "steps", "cleanup", "cleanup", StepStatus.SUCCEEDED, NOW, NOW)
    run_store.record_step(store, run_id, step)
    run_store.finish_run(store, run_id, RunStatus.SUCCEEDED, NOW)
    write_samples(store, [Sample("cpu.percent", NOW.timestamp(), 12.0)])
    record_check_run(
        store,
        [CheckResult("disk", "disk_free", CheckState.OK, 50.0, "%", "", 0.1, NOW)],
        score=100.0,
    )
    fleet_store.record_heartbeat(store, heartbeat(store, config, NOW, {"pid": 7}, {}))


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def submit(self, channel: str, message: Message) -> int | None:
        self.sent.append(message)
        return len(self.sent)


def _refused(store: Store, statement: object) -> str:
    with pytest.raises(DBAPIError) as raised, store.write() as connection:
        connection.execute(statement)  # type: ignore[call-overload]
    return str(raised.value.orig)


def test_a_host_role_does_its_work_and_reads_the_whole_fleet(
    fleet_db: dict[str, Store], tmp_path: Path
) -> None:
    config = _config(tmp_path)
    for role in ("web-01", "web-02"):
        _daemons_work(fleet_db[role], config)
    view = build_fleet(fleet_db["web-01"], NOW, timedelta(minutes=5))
    assert [h.host for h in view.hosts] == ["web-01", "web-02"]
    assert [p.last_status for p in view.hosts[1].procedures] == ["succeeded"]


def test_a_host_role_writes_only_its_own_rows_and_deletes_no_history(
    fleet_db: dict[str, Store], tmp_path: Path
) -> None:
    config = _config(tmp_path)
    _daemons_work(fleet_db["web-02"], config)
    web01 = fleet_db["web-01"]
    forged = insert(runs).values(
        host="web-02", procedure="daily", trigger="manual", status="succeeded", started_at=NOW
    )
    assert "row-level security" in _refused(web01, forged)
    assert "permission denied" in _refused(web01, delete(runs))
    with web01.write() as connection:
        changed = connection.execute(
            update(runs).where(runs.c.host == "web-02").values(status="failed")
        )
        assert changed.rowcount == 0
    [record] = run_store.list_runs(web01, host="web-02")
    assert record.status == "succeeded"
    # Nor can it speak for another host in the fleet view.
    with web01.write() as connection:
        changed = connection.execute(
            update(fleet_hosts).where(fleet_hosts.c.host == "web-02").values(version="forged")
        )
        assert changed.rowcount == 0
    assert "permission denied" in _refused(web01, delete(fleet_hosts))
    # Retention may expire measurements, never the runs.
    with web01.write() as connection:
        connection.execute(delete(samples).where(samples.c.ts < 0))


def test_only_a_watcher_records_another_hosts_silence(
    fleet_db: dict[str, Store], tmp_path: Path
) -> None:
    config = _config(tmp_path)
    _daemons_work(fleet_db["web-02"], config)
    heard = {"web-02": NOW - timedelta(hours=1)}
    watched = NOW - timedelta(hours=2)
    with pytest.raises(DBAPIError, match="row-level security"):
        evaluate_silent_hosts(config, fleet_db["web-01"], Recorder(), NOW, heard, watched)
    sender = Recorder()
    result = evaluate_silent_hosts(config, fleet_db["watch-01"], sender, NOW, heard, watched)
    assert result.notified == [("web-02", "firing")] and len(sender.sent) == 1
    [alert] = alert_store.list_alerts(fleet_db["web-02"], ["firing"])
    assert alert.rule == HOST_SILENT_RULE
