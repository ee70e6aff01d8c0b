"""`hostkeeper daemon`: lifecycle, signals, watchdog and reload.

The main thread owns the lifecycle. Signal handlers only set flags and wake the loop;
the loop reloads, stops, refreshes STATUS= and pings the watchdog, the latter only while
the scheduler thread is alive, its heartbeat job ran recently and the store answers.

Kept whole: start, reload, stop and the watchdog share the loop's state; splitting them
would spread that state over modules.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import structlog

from hostkeeper import __version__
from hostkeeper.adapters.daemon_state import DaemonState, ReloadAttempt, write_state
from hostkeeper.adapters.locks import FileLock, LockHeld
from hostkeeper.adapters.logsetup import configure_logging
from hostkeeper.adapters.memory import release_free_memory
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.spool import Spool
from hostkeeper.adapters.systemd import Notifier, monotonic_usec, watchdog_interval
from hostkeeper.alerting.service import AlertService
from hostkeeper.config import Config, ConfigError, ConfigIssue, LoadedConfig, load_config
from hostkeeper.daemon.collector import MetricsCollector
from hostkeeper.daemon.running_config import save_running_config
from hostkeeper.daemon.scheduler import ProcedureScheduler
from hostkeeper.daemon.status_line import summary_line
from hostkeeper.procedures.engine import Engine, RunReport, lock_path
from hostkeeper.services.maintenance_status import maintenance_status
from hostkeeper.services.spooler import Spooler, is_transient
from hostkeeper.services.status import current_procedures
from hostkeeper.services.store_setup import prepare_store

if TYPE_CHECKING:
    from hostkeeper.alerting.fleet_watch import SilentHostWatch
    from hostkeeper.daemon.presence import Presence
    from hostkeeper.web.server import DashboardServer

log = structlog.get_logger("hostkeeper.daemon")

STATUS_REFRESH_SECONDS = 60.0
INSTANCE_LOCK = "daemon.lock"
SPOOL_FILE = "spool.db"
MIGRATION_EXTEND_SECONDS = 60.0


class Daemon:
    def __init__(self, config_path: str) -> None:
        self.config_path = config_path
        self.notifier = Notifier()
        self._wake = threading.Event()
        self._reload_requested = False
        self._stop_requested = False
        self._status_dirty = True
        self._reload_error: str | None = None
        self._reload_sequence = 0
        self._windows_shown: tuple[int, ...] = ()  # maintenance windows STATUS= names
        self.loaded: LoadedConfig | None = None
        self.store: Store | None = None
        self.engine: Engine | None = None
        self.scheduler: ProcedureScheduler | None = None
        self.state: DaemonState | None = None
        self.metrics: MetricsCollector | None = None
        self.alerting: AlertService | None = None
        self.dashboard: DashboardServer | None = None
        self.presence: Presence | None = None
        self.spooler: Spooler | None = None
        self._store_health: tuple[str | None, dict[str, int] | None] = (None, None)
        self.fleet_watch: SilentHostWatch | None = None
        self._instance_lock: FileLock | None = None

    @property
    def config(self) -> Config:
        assert self.loaded is not None
        return self.loaded.config

    # -- signals ---------------------------------------------------------------------------

    def _on_reload_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._reload_requested = True
        self._wake.set()

    def request_reload(self) -> str:
        """Reload at the next turn of the loop, as SIGHUP does (a step rotated our log)."""
        self._reload_requested = True
        self._wake.set()
        return f"reloaded the daemon (pid {os.getpid()})"

    def _on_stop_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._stop_requested = True
        self._wake.set()

    def _install_signal_handlers(self) -> None:
        signal.signal(signal.SIGHUP, self._on_reload_signal)
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)

    # -- start -----------------------------------------------------------------------------

    def run(self) -> int:
        self._install_signal_handlers()
        try:
            self.loaded = load_config(self.config_path)
        except ConfigError as error:
            configure_logging()
            for issue in error.issues:
                log.error("invalid configuration", problem=str(issue))
            self.notifier.send(f"STATUS=invalid configuration: {error.first_line}")
            return 1
        configure_logging(self.config.daemon.log_format.value, self.config.daemon.log_level)
        # Before anything is touched: a second daemon on the same state would run every
        # schedule twice and overwrite daemon.json.
        try:
            self._instance_lock = hold_instance_lock(self.config.paths.state_dir)
        except (LockHeld, OSError) as error:
            reason = str(error) if isinstance(error, LockHeld) else describe_start_failure(error)
            log.error("not starting", error=reason)
            self.notifier.status(f"not starting: {reason}")
            return 1
        log.info("starting", version=__version__, config=self.config_path)
        try:
            interval = self._start()
        except Exception as error:  # one clear line for journalctl, not a bare traceback
            reason = describe_start_failure(error)
            log.error("start failed", error=reason, exc_info=error)
            self.notifier.status(f"start failed: {reason}")
            self._stop_parts()
            return 1
        return self._loop(interval)

    def _start(self) -> float | None:
        """Open the store and start every part; the watchdog interval."""
        with self._extending_start_timeout():
            self.store = prepare_store(
                self.config, on_progress=lambda m: log.info(m), isolate_migration=True
            )
        self._start_spooler(self.store)
        self.engine = Engine(
            lambda: self.config,
            self.store,
            listener=self._on_run_event,
            config_path=self.config_path,
            reload_self=self.request_reload,
            on_window=self._on_window_opened,
            runs=self.spooler,
        )
        self._close_abandoned_runs(self.store)
        # Rule evaluation and notification delivery run on threads of their own.
        self.alerting = AlertService(lambda: self.config, self.store)
        self.alerting.start()
        interval = watchdog_interval() if self.config.daemon.watchdog else None
        self.scheduler = ProcedureScheduler(
            self.engine, heartbeat_every=max(min(interval / 3, 10.0), 0.5) if interval else 10.0
        )
        self.scheduler.start(self.config)
        caught_up = self.scheduler.catch_up(self.config, datetime.now(UTC))
        # Metrics are collected at metrics.interval on a thread of their own.
        self.metrics = MetricsCollector(
            self.store, self.config, write=self.spooler.write_samples if self.spooler else None
        )
        self.metrics.start()
        now = _iso_now()
        self.state = DaemonState(
            pid=os.getpid(),
            started_at=now,
            config_file=os.path.abspath(self.config_path),
            config_loaded_at=now,
            last_reload="ok",
            version=__version__,
        )
        self._start_dashboard()
        self._record_running_config()
        write_state(self.config.paths.state_dir, self.state)
        self._start_fleet()
        self.notifier.ready(self._status_text())
        release_free_memory()  # what reading the configuration and starting up freed
        log.info(
            "ready",
            procedures=sorted(self.config.procedures),
            catch_up=caught_up,
            watchdog_seconds=interval,
        )
        return interval

    def _start_dashboard(self) -> None:
        """Serve the dashboard; a port in use is logged, never fatal to maintenance."""
        assert self.store is not None and self.scheduler is not None and self.state is not None
        from hostkeeper.web.server import DashboardServer

        if self.dashboard is None:
            self.dashboard = DashboardServer(
                lambda: self.config,
                self.store,
                next_runs=self.scheduler.next_run_times,
                daemon_state=lambda: asdict(self.state) if self.state else None,
            )
        try:
            if self.dashboard.listen is None:
                if self.config.dashboard.enabled:
                    self.dashboard.start()
            else:
                self.dashboard.apply()
        except (OSError, ValueError) as error:
            log.error(
                "dashboard not available", listen=self.config.dashboard.listen, error=str(error)
            )
        running = self.dashboard.listen is not None and self.dashboard.running
        self.state.dashboard_url = (
            "http://{}:{}/".format(*self.dashboard.address) if running else None
        )

    def _start_spooler(self, store: Store) -> None:
        """A remote database may go away while the daemon runs: runs and samples then wait
        in state_dir/spool.db and are replayed in order (SQLite is the daemon's own file)."""
        if store.is_sqlite:
            return
        spool = Spool(
            Path(self.config.paths.state_dir) / SPOOL_FILE, self.config.fleet.spool.max_size
        )
        self.spooler = Spooler(store, spool)
        abandoned = self.spooler.close_abandoned(datetime.now(UTC))
        if abandoned:
            log.warning("closed abandoned runs in the spool", local_ids=abandoned)
        self.spooler.start()

    def _start_fleet(self) -> None:
        """The heartbeat in the store and, on a shared PostgreSQL, the watch for silent
        hosts (idle while `fleet.watch` is false; a reload may turn it on)."""
        assert self.store is not None and self.scheduler is not None
        assert self.alerting is not None
        from hostkeeper.alerting.fleet_watch import SilentHostWatch
        from hostkeeper.daemon.presence import Presence

        self.presence = Presence(
            lambda: self.config, self.store, lambda: self.state, self.scheduler.next_run_times
        )
        self.presence.start()
        if not self.store.is_sqlite:
            self.fleet_watch = SilentHostWatch(
                lambda: self.config, self.store, self.alerting.worker
            )
            self.fleet_watch.start()

    @contextmanager
    def _extending_start_timeout(self) -> Iterator[None]:
        """Keep systemd's start timeout from expiring during a long migration."""
        done = threading.Event()

        def extend() -> None:
            while not done.wait(MIGRATION_EXTEND_SECONDS / 3):
                self.notifier.extend_timeout(MIGRATION_EXTEND_SECONDS)

        thread = threading.Thread(target=extend, name="extend-timeout", daemon=True)
        if self.notifier.enabled:
            self.notifier.extend_timeout(MIGRATION_EXTEND_SECONDS)
            thread.start()
        try:
            yield
        finally:
            done.set()

    def _close_abandoned_runs(self, store: Store) -> None:
        """Runs left `running` by a crash are closed, unless a CLI run still holds the lock."""
        for record in run_store.unfinished_runs(store):
            try:
                with FileLock(lock_path(self.config, record.procedure)):
                    run_store.mark_abandoned(
                        store,
                        record.id,
                        datetime.now(UTC),
                        "hostkeeper stopped before the run finished",
                    )
                    log.warning(
                        "closed an abandoned run", procedure=record.procedure, run_id=record.id
                    )
            except LockHeld:
                continue

    # -- loop ------------------------------------------------------------------------------

    def _loop(self, watchdog_seconds: float | None) -> int:
        assert self.scheduler is not None and self.store is not None
        tick = min(watchdog_seconds / 2, 5.0) if watchdog_seconds else 5.0
        last_status = time.monotonic()
        while True:
            self._wake.wait(tick)
            self._wake.clear()
            if self._stop_requested:
                return self._stop()
            if self._reload_requested:
                self._reload_requested = False
                self._reload()
            if watchdog_seconds and self._healthy(watchdog_seconds):
                self.notifier.watchdog()
            self._notice_window_changes()
            self._note_store_health()
            if self._status_dirty or time.monotonic() - last_status > STATUS_REFRESH_SECONDS:
                self._status_dirty = False
                last_status = time.monotonic()
                self.notifier.status(self._status_text())
                self.store.flush_slow_queries()
                # After a run, a reload or a minute: what the work freed goes back.
                release_free_memory()

    def _notice_window_changes(self) -> None:
        """Refresh STATUS= when the alert rounds see other maintenance windows (one
        opened or closed by a verb, or a planned one starting)."""
        last = self.alerting.last_round if self.alerting is not None else None
        if last is not None and tuple(last.windows) != self._windows_shown:
            self._windows_shown = tuple(last.windows)
            self._status_dirty = True

    def _healthy(self, watchdog_seconds: float) -> bool:
        assert self.scheduler is not None and self.store is not None
        if not self.scheduler.alive():
            log.error("watchdog withheld: the scheduler thread is not running")
            return False
        if self.scheduler.heartbeat_age() > watchdog_seconds:
            log.error(
                "watchdog withheld: the heartbeat job is late",
                seconds=round(self.scheduler.heartbeat_age(), 1),
            )
            return False
        # A remote database that does not answer is ridden out with the spool (a restart
        # would not bring it back); the daemon's own SQLite file must answer.
        if self.spooler is None and not self.store.ping():
            log.error("watchdog withheld: the store does not answer")
            return False
        return True

    def _on_window_opened(self, procedure: str, window_id: int) -> None:
        self._status_dirty = True  # STATUS= names the window
        self._wake.set()
        if self.alerting is not None:
            self.alerting.on_window_opened(procedure, window_id)

    def _note_store_health(self) -> None:
        """Keep daemon.json (what `status` reads) and STATUS= told whether the remote
        database answers and what waits in the spool."""
        if self.spooler is None or self.state is None:
            return
        since = self.spooler.unreachable_since
        stats = self.spooler.stats()
        spool = None
        if not stats.empty or stats.dropped_samples or stats.rejected:
            spool = {
                "run_events": stats.run_events,
                "samples": stats.samples,
                "dropped_samples": stats.dropped_samples,
                "rejected": stats.rejected,
            }
        health = (since.isoformat(timespec="seconds") if since else None, spool)
        if health == self._store_health:
            return
        self._store_health = health
        self.state.store_unreachable_since, self.state.spool = health
        self._status_dirty = True
        try:
            write_state(self.config.paths.state_dir, self.state)
        except OSError as error:
            log.error("could not record the store's state", error=str(error))

    def _on_run_event(self, procedure: str, event: str, report: RunReport) -> None:
        self._status_dirty = True
        self._wake.set()
        if self.alerting is not None:  # maintenance notifications (`notify.on`)
            self.alerting.on_run_event(procedure, event, report)

    # -- reload ----------------------------------------------------------------------------

    def _reload(self) -> None:
        assert self.scheduler is not None and self.state is not None
        # Taken after the request flag was cleared and before the file is read: whoever
        # signalled at or before this moment is answered by this attempt.
        started = _iso_now(), monotonic_usec()
        self._reload_sequence += 1
        self.notifier.reloading(started[1])
        log.info("reloading", config=self.config_path, attempt=self._reload_sequence)
        try:
            loaded = load_reload_candidate(self.config_path)
            self._refuse_restart_only_changes(loaded)
        except ConfigError as error:
            self._reload_error = error.first_line
            for issue in error.issues:
                log.error("reload failed, keeping the running configuration", problem=str(issue))
            self._record_reload(error.first_line, started, [str(i) for i in error.issues])
            self.notifier.ready(self._status_text())
            return
        previous = self.loaded
        try:
            changes = self._apply(loaded)
        except Exception as error:  # a valid file we could not apply: keep what ran
            log.exception("reload failed while applying, keeping the running configuration")
            assert previous is not None
            try:
                self._apply(previous)
            except Exception:  # the database is away: the old jobs are still scheduled
                log.exception("restoring the previous configuration failed")
            self._reload_error = f"{self.config_path}: could not apply: {error}"
            self._record_reload(self._reload_error, started, [self._reload_error])
            self.notifier.ready(self._status_text())
            return
        self._reload_error = None
        self.state.config_loaded_at = _iso_now()
        self._record_running_config()
        self._record_reload("ok", started, [])
        self.notifier.ready(self._status_text())
        log.info("configuration reloaded", schedule_changes=changes)

    def _apply(self, loaded: LoadedConfig) -> list[str]:
        """Make the running parts follow `loaded`; returns the schedule changes."""
        assert self.scheduler is not None
        self.loaded = loaded
        if self.spooler is not None:
            self.spooler.spool.max_bytes = self.config.fleet.spool.max_size
        configure_logging(self.config.daemon.log_format.value, self.config.daemon.log_level)
        changes = self.scheduler.apply(self.config)
        if self.metrics is not None:
            self.metrics.apply(self.config)
        self._start_dashboard()
        return changes

    def _refuse_restart_only_changes(self, new: LoadedConfig) -> None:
        if new.config.database.url != self.config.database.url:
            # The line in the file as it is now, not as it was when last loaded.
            line = new.source.line_of(("database", "url"))
            raise ConfigError(
                [
                    ConfigIssue(
                        self.config_path,
                        line,
                        ("database", "url"),
                        "changing the database needs a restart (systemctl restart hostkeeper)",
                    )
                ]
            )

    def _record_running_config(self) -> None:
        """Keep a copy of the text now in force where the CLI finds it while the file on
        disk is invalid; a failed write costs the CLI that view, never the daemon its run."""
        assert self.loaded is not None and self.state is not None
        try:
            self.state.config_sha256 = save_running_config(
                self.config.paths.state_dir, self.loaded.text
            )
        except OSError as error:
            self.state.config_sha256 = ""
            log.error("could not record the running configuration", error=str(error))

    def _record_reload(self, result: str, started: tuple[str, int], errors: list[str]) -> None:
        """Write the attempt to daemon.json, where `hostkeeper reload` waits for it."""
        assert self.state is not None
        self.state.last_reload = result
        self.state.last_reload_at = _iso_now()
        self.state.reload = ReloadAttempt.finished(self._reload_sequence, *started, errors)
        if self.presence is not None:  # the fleet sees the verdict, scope and next runs
            self.presence.beat_soon()
        try:
            write_state(self.config.paths.state_dir, self.state)
        except OSError as error:  # a full disk must not end the daemon; waiters time out
            log.error("could not record the reload", error=str(error))

    # -- stop ------------------------------------------------------------------------------

    def _stop(self) -> int:
        assert self.scheduler is not None and self.engine is not None
        assert self.store is not None
        timeout = self.config.daemon.shutdown_timeout.total_seconds()
        active = sorted(self.engine.active)
        self.notifier.stopping(
            f"stopping; waiting up to {timeout:g}s for {', '.join(active)}"
            if active
            else "stopping"
        )
        log.info("stopping", running=active, shutdown_timeout=timeout)
        self.scheduler.pause()
        if not self.engine.wait_idle(timeout):
            log.warning(
                "shutdown timeout passed, aborting running steps",
                running=sorted(self.engine.active),
            )
            self.engine.shutdown.set()
            self.engine.wait_idle(30.0)
        self._stop_parts()
        log.info("stopped")
        return 0

    def _stop_parts(self) -> None:
        """Stop whatever has been started (all of it, or what a failed start got to)."""
        if self.engine is not None:
            self.engine.shutdown.set()
        if self.fleet_watch is not None:
            self.fleet_watch.stop()
        if self.alerting is not None:
            self.alerting.stop(timeout=5.0)
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.dashboard is not None:
            self.dashboard.stop()
        if self.metrics is not None:
            self.metrics.stop()
        if self.presence is not None:
            self.presence.stop()
        if self.spooler is not None:  # what waits stays in the spool file
            self.spooler.stop()
            self.spooler.spool.close()
        if self.store is not None:
            self.store.dispose()
        if self._instance_lock is not None:
            self._instance_lock.release()

    # -- status ----------------------------------------------------------------------------

    def _status_text(self) -> str:
        """The STATUS= line. It reads the store, which may be away or broken; the line
        then says so, and the daemon goes on (the watchdog judges the store's health)."""
        assert self.scheduler is not None and self.store is not None
        try:
            procedures = current_procedures(
                self.store, self.config, self.scheduler.next_run_times()
            )
            windows = maintenance_status(self.store, self.config, datetime.now(UTC))
            text = summary_line(procedures, self.engine.active if self.engine else set(), windows)
        except Exception as error:
            text = self._status_without_store(error)
        unreachable = self.spooler.unreachable_since if self.spooler else None
        if unreachable is not None:
            text = (
                f"store unreachable since {unreachable:%Y-%m-%d %H:%M:%S} UTC, "
                f"spooling locally | {text}"
            )
        if self._reload_error:
            text = f"reload failed, running previous config: {self._reload_error} | {text}"
        return text

    def _status_without_store(self, error: Exception) -> str:
        if self.spooler is not None and is_transient(error):
            # The remote database is away; nothing may have been written since, so the
            # spooler learns it here.
            self.spooler.noticed_unreachable(error)
            log.debug("status line without the store", error=_first_line(error))
            return "running the schedule"
        reason = _first_line(error)
        log.warning("status line without the store", error=reason)
        return f"running the schedule; status unavailable: {reason}"


def _iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _first_line(error: BaseException) -> str:
    """The first line of what a database error says, without SQLAlchemy's wrapping."""
    text = describe_start_failure(error)
    return text.splitlines()[0] if text else text


def describe_start_failure(error: BaseException) -> str:
    """The operator's version of a start-up error: the database's own words for database
    errors (without SQLAlchemy's wrapping), the path for file errors."""
    original = getattr(error, "orig", None)  # sqlalchemy.exc.DBAPIError
    if isinstance(original, BaseException):
        return f"database {type(original).__name__}: {original}"
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def hold_instance_lock(state_dir: str) -> FileLock:
    """The exclusive lock of the one daemon per state directory (state_dir/daemon.lock);
    raises LockHeld naming the holder's pid. The kernel drops it when the holder dies."""
    lock = FileLock(Path(state_dir) / INSTANCE_LOCK)
    try:
        lock.acquire()
    except LockHeld as held:
        raise LockHeld(
            held.path, f"another hostkeeper daemon ({held.holder or 'pid unknown'})"
        ) from None
    return lock


def load_reload_candidate(path: str) -> LoadedConfig:
    """The file for a reload, every failure a ConfigError: whatever is wrong with the
    new file, the running daemon keeps its configuration and carries on."""
    try:
        return load_config(path)
    except ConfigError:
        raise
    except Exception as error:  # a loader bug must cost the reload, never the daemon
        log.exception("reading the configuration failed unexpectedly")
        problem = f"cannot be loaded: {type(error).__name__}: {error}"[:300]
        raise ConfigError([ConfigIssue(path, None, (), problem)]) from None


def run_daemon(config_path: str) -> int:
    return Daemon(config_path).run()
