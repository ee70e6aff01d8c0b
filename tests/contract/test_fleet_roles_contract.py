"""packaging/postgresql/fleet-roles.sql on a real PostgreSQL, applied with the real psql:
a host's role does its daemon's work, reads the whole fleet, writes only its own rows
and deletes no history; a watcher's role records another host's host_silent alert."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import fleet as fleet_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.checks import record_check_run
from hostkeeper.adapters.store.history_retention import BOUNDED_BY, prune_history
from hostkeeper.adapters.store.metrics import maintain, write_samples
from hostkeeper.adapters.store.migrate import migrate
from hostkeeper.adapters.store.schema import (
    fleet_hosts,
    maintenance_windows,
    metric_blocks,
    runs,
    samples,
    series,
)
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
    # Measurements belong to their series' host: none written or expired for another.
    with web01.read() as connection:
        theirs = connection.execute(
            select(series.c.id).where(series.c.host == "web-02")
        ).scalar_one()
    forged_sample = insert(samples).values(series_id=theirs, ts=NOW.timestamp(), value=1.0)
    assert "row-level security" in _refused(web01, forged_sample)
    with web01.write() as connection:
        assert connection.execute(delete(samples)).rowcount == 0
    with web01.read() as connection:
        kept = select(func.count()).select_from(samples).where(samples.c.series_id == theirs)
        assert connection.execute(kept).scalar_one() == 1


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


def test_a_host_role_runs_the_daemons_housekeeping_without_a_refusal(
    fleet_db: dict[str, Store], tmp_path: Path
) -> None:
    """The collector's passes, as a host's role: measurements roll up, seal into blocks
    and expire; the history it may not delete is left to the owner, without an error."""
    config = _config(tmp_path)
    web01 = fleet_db["web-01"]
    _daemons_work(web01, config)
    old = NOW.timestamp() - 3 * 86400
    write_samples(web01, [Sample("cpu.percent", old + n * 10, float(n)) for n in range(360)])
    later = NOW.timestamp() + 86400
    # Seal everything, then expire everything: every measurement table is touched.
    maintain(web01, later, 7 * 86400, 30 * 86400, 400 * 86400, expire_rows=True)
    result = maintain(web01, later + 400 * 86400, 1, 1, 1, expire_rows=True)
    assert not result.sealing_left
    cutoffs = dict.fromkeys((*BOUNDED_BY, "slow_queries"), NOW + timedelta(days=1))
    pruned = prune_history(web01, cutoffs)
    assert pruned.refused  # what the role may not delete, named
    assert "runs" in pruned.refused and "check_results" not in pruned.refused
    # The owner's history is still there; the host's measurements are gone.
    assert run_store.list_runs(web01, host="web-01")
    with web01.read() as connection:
        assert connection.execute(select(func.count()).select_from(samples)).scalar_one() == 0
        blocks = connection.execute(select(func.count()).select_from(metric_blocks))
        assert blocks.scalar_one() == 0


def test_a_host_role_forgets_a_window_ahead_but_never_one_that_began(
    fleet_db: dict[str, Store],
) -> None:
    web01 = fleet_db["web-01"]
    with web01.write() as connection:
        for name, starts in (
            ("ahead", NOW + timedelta(days=1)),
            ("began", NOW - timedelta(hours=1)),
        ):
            connection.execute(
                insert(maintenance_windows).values(
                    host="web-01", kind="planned", name=name, starts_at=starts, grace_seconds=0.0
                )
            )
    with web01.write() as connection:
        connection.execute(delete(maintenance_windows))
    with web01.read() as connection:
        left = connection.execute(select(maintenance_windows.c.name)).scalars().all()
    assert left == ["began"]


def _prune_as(url: str, tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / f"prune-{len(list(tmp_path.glob('prune-*')))}.yaml"
    data = {
        "paths": {key: str(tmp_path / key) for key in ("state_dir", "report_dir", "log_dir")},
        "database": {"url": url, "retention": {"runs": "30d"}},
        "procedures": {"daily": {"schedule": {"hour": 2}, "steps": ["cleanup"]}},
    }
    config.write_text(yaml.safe_dump(data))
    return subprocess.run(
        [sys.executable, "-m", "hostkeeper", "--config", str(config), "db", "prune", *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_owner_prunes_the_history_the_hosts_roles_may_not(
    fleet_db: dict[str, Store], tmp_path: Path
) -> None:
    for role in ("web-01", "web-02"):
        for days in (90, 60):  # the newest run of a procedure always stays
            started = NOW - timedelta(days=days)
            run_id = run_store.start_run(fleet_db[role], "daily", Trigger.SCHEDULED, started)
            run_store.finish_run(fleet_db[role], run_id, RunStatus.SUCCEEDED, started)
    as_host = _prune_as(str(fleet_db["web-01"].engine.url), tmp_path)
    assert as_host.returncode == 1
    assert "deleting is not permitted to this role in" in as_host.stdout
    assert "runs" in as_host.stdout

    owner_url = fleet_db["web-01"].engine.url.set(username="postgres")
    as_owner = _prune_as(owner_url.render_as_string(hide_password=False), tmp_path, "--all-hosts")
    assert as_owner.returncode == 0, as_owner.stdout + as_owner.stderr
    assert "web-01: runs 1" in as_owner.stdout and "web-02: runs 1" in as_owner.stdout
    for role in ("web-01", "web-02"):
        [kept] = run_store.list_runs(fleet_db[role], host=role)
        assert kept.started_at == NOW - timedelta(days=60)
