"""Health checks: one round of hostkeeper's checks vs the same checks as Nagios plugins.

The peer is Debian's `monitoring-plugins-basic` (check_disk, check_load, check_http,
check_tcp, check_procs, check_file_age) plus `openssl x509 -checkend` for the
certificate, with the same levels and targets: a local HTTP server, a TCP listener, a
certificate file, a fresh file and a running process. Nagios and NRPE run plugins one
process each, one after another; a scheduler may also start them all at once. hostkeeper
runs the seven checks in one process, concurrently (the `health_check` step's path), and
as a whole `hostkeeper check` command (interpreter start, imports, store write).

Without the plugins (`apt-get install monitoring-plugins-basic`) only hostkeeper's
figures are printed.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from bench.harness import Context, Floor, Result, median, spread, stage
from hostkeeper.checks.runner import run_checks
from hostkeeper.config.checks import Check

NAME = "checks"
SUMMARY = "one round of 7 health checks: hostkeeper vs the Nagios plugins"
PLUGINS = Path("/usr/lib/nagios/plugins")


@dataclass(frozen=True)
class Cost:
    wall: float
    cpu: float  # user + system seconds, this process's threads and its children


def _cpu() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _measure(work: Callable[[], object]) -> Cost:
    cpu = _cpu()
    started = time.perf_counter()
    work()
    return Cost(time.perf_counter() - started, _cpu() - cpu)


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Targets:
    http_port: int
    tcp_port: int
    certificate: Path
    fresh_file: Path
    process_match: str


@contextmanager
def _targets(directory: Path) -> Iterator[Targets]:
    """Live things to check: HTTP server, TCP listener, certificate, file, process."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    listener = ThreadingHTTPServer(("127.0.0.1", 0), _Health)  # a second port that accepts
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    certificate = directory / "site.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(directory / "key.pem"),
            "-out",
            str(certificate),
            "-days",
            "90",
            "-subj",
            "/CN=bench",
        ],
        check=True,
        capture_output=True,
    )
    fresh = directory / "backups" / "latest.tar.gz"
    fresh.parent.mkdir()
    fresh.write_bytes(b"x")
    marker = f"600.{uuid.uuid4().int % 10**9:09d}"
    sleeper = subprocess.Popen(["sleep", marker])
    try:
        yield Targets(
            server.server_address[1],
            listener.server_address[1],
            certificate,
            fresh,
            f"sleep {marker}",
        )
    finally:
        sleeper.kill()
        sleeper.wait()
        for running in (server, listener):
            running.shutdown()
            running.server_close()


def _check_config(targets: Targets) -> list[dict[str, Any]]:
    return [
        {
            "name": "root_disk",
            "type": "disk_free",
            "path": "/",
            "warning": "20%",
            "critical": "10%",
        },
        {"name": "load", "type": "load", "warning": 2.0, "critical": 4.0},
        {
            "name": "api",
            "type": "http",
            "url": f"http://127.0.0.1:{targets.http_port}/health",
            "timeout": "5s",
        },
        {"name": "broker", "type": "tcp", "host": "127.0.0.1", "port": targets.tcp_port},
        {"name": "worker", "type": "process", "match": targets.process_match, "min": 1},
        {
            "name": "backups_fresh",
            "type": "file_age",
            "path": str(targets.fresh_file),
            "warning": "2d",
            "critical": "8d",
        },
        {
            "name": "site_certificate",
            "type": "certificate",
            "path": str(targets.certificate),
            "warning": "30d",
            "critical": "7d",
        },
    ]


def _plugin_commands(targets: Targets) -> list[list[str]]:
    return [
        [str(PLUGINS / "check_disk"), "-w", "20%", "-c", "10%", "-p", "/"],
        [str(PLUGINS / "check_load"), "-r", "-w", "2,2,2", "-c", "4,4,4"],
        [
            str(PLUGINS / "check_http"),
            "-H",
            "127.0.0.1",
            "-p",
            str(targets.http_port),
            "-u",
            "/health",
            "-e",
            "200",
            "-t",
            "5",
        ],
        [str(PLUGINS / "check_tcp"), "-H", "127.0.0.1", "-p", str(targets.tcp_port), "-t", "3"],
        [str(PLUGINS / "check_procs"), "-a", targets.process_match, "-c", "1:"],
        [
            str(PLUGINS / "check_file_age"),
            "-w",
            "172800",
            "-c",
            "691200",
            "-f",
            str(targets.fresh_file),
        ],
        [
            "openssl",
            "x509",
            "-checkend",
            str(30 * 86400),
            "-noout",
            "-in",
            str(targets.certificate),
        ],
    ]


def _sequential(commands: Sequence[list[str]]) -> None:
    for argv in commands:
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def _parallel(commands: Sequence[list[str]]) -> None:
    started = [
        subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for argv in commands
    ]
    for process in started:
        process.wait()


def _plugins_installed() -> bool:
    return all((PLUGINS / name).is_file() for name in ("check_disk", "check_http", "check_procs"))


def run(context: Context) -> list[Result]:
    rounds = context.repeat(full=20, quick=5)
    directory = context.work_dir / "checks"
    directory.mkdir()
    costs: dict[str, list[Cost]] = {}
    with _targets(directory) as targets:
        data = _check_config(targets)
        checks = [TypeAdapter(Check).validate_python(item) for item in data]
        config_path = directory / "hostkeeper.yaml"
        config_path.write_text(
            yaml.safe_dump(
                {
                    "version": 1,
                    "paths": {
                        "state_dir": str(directory / "state"),
                        "report_dir": str(directory / "reports"),
                        "backup_dir": str(directory / "backups"),
                        "log_dir": str(directory / "log"),
                    },
                    "database": {"url": f"sqlite:///{directory / 'state' / 'hostkeeper.db'}"},
                    "checks": data,
                }
            )
        )
        cli = [sys.executable, "-m", "hostkeeper", "--config", str(config_path), "check"]
        states = {r.name: r.state.value for r in run_checks(checks)}
        if set(states.values()) != {"ok"}:
            context.note(f"checks: not every check was ok in this setup: {states}")
        subprocess.run(cli, capture_output=True, check=False)  # migrate the store once
        plugins = _plugins_installed()
        if not plugins:
            context.note("checks: monitoring-plugins-basic is not installed; no peer figures")
        commands = _plugin_commands(targets)
        for _ in range(rounds):
            with stage("a round in process, the CLI, and the plugins"):
                costs.setdefault("ours", []).append(_measure(lambda: run_checks(checks)))
                costs.setdefault("cli", []).append(
                    _measure(lambda: subprocess.run(cli, capture_output=True, check=False))
                )
                if plugins:
                    costs.setdefault("sequential", []).append(
                        _measure(lambda: _sequential(commands))
                    )
                    costs.setdefault("parallel", []).append(_measure(lambda: _parallel(commands)))
    wall = {key: median([c.wall for c in value]) for key, value in costs.items()}
    cpu_ms = {key: 1000 * median([c.cpu for c in value]) for key, value in costs.items()}
    detail = {key: spread([c.wall for c in value]) for key, value in costs.items()}
    sequential = parallel = cpu_floor = None
    if "sequential" in wall:
        sequential = Floor(round(wall["sequential"], 4), "s", "7 plugins, one after another")
        parallel = Floor(round(wall["parallel"], 4), "s", "7 plugins, all at once")
        cpu_floor = Floor(round(cpu_ms["sequential"], 1), "ms", "7 plugins' CPU, one by one")
    figure = f"{len(checks)} checks, one round in process"
    cpu_detail = {key: round(value, 2) for key, value in cpu_ms.items()}
    return [
        Result(NAME, figure, wall["ours"], "s", sequential, None, detail),
        Result(NAME, figure, wall["ours"], "s", parallel, None, detail),
        Result(NAME, f"{figure}, CPU", cpu_ms["ours"], "ms", cpu_floor, None, cpu_detail),
        Result(
            NAME,
            "`hostkeeper check` command (start, imports, store)",
            wall["cli"],
            "s",
            sequential,
            None,
            detail,
        ),
    ]
