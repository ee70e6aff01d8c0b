"""Several hostkeeper daemons on loopback sharing one real PostgreSQL database, each with
a host id, a state directory and a configuration of its own."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notify_socket import NotifySocket

from conftest import PYTHON, DaemonProcess, Site, clean_environment, wait_until

PULSE = 'pulse:\n  schedule: {every: 2s}\n  steps:\n    - run: ["true"]\n'


@dataclass
class Member:
    """One host of the fleet: its site (directories, configuration) and its daemon."""

    name: str
    site: Site
    daemon: DaemonProcess | None = None

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PYTHON, "-m", "hostkeeper", "--config", str(self.site.config), *args],
            env=clean_environment(),
            cwd=self.site.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check:
            assert result.returncode == 0, f"hostkeeper {' '.join(args)}: {result.stderr}"
        return result

    def fleet(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.cli("--json", "fleet").stdout)
        return data

    def get(self, path: str) -> tuple[int, str]:
        """GET `path` from this host's dashboard (served without a token on loopback)."""
        state = self.site.daemon_state() or {}
        base = str(state["dashboard_url"]).rstrip("/")
        with urllib.request.urlopen(base + path, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()


@dataclass
class Fleet:
    root: Path
    database_url: str
    members: dict[str, Member] = field(default_factory=dict)
    started: list[DaemonProcess] = field(default_factory=list)

    def add(
        self,
        name: str,
        *,
        watch: bool = False,
        dashboard: bool = False,
        receiver: str | None = None,
        procedures: str = PULSE,
        fleet_extra: str = "",
        metrics_interval: str = "10s",
    ) -> Member:
        site = Site(self.root / name)
        site.root.mkdir(parents=True)
        preamble = (
            "fleet:\n"
            f"  host_id: {name}\n"
            "  heartbeat_every: 1s\n"
            "  silent_after: 4s\n"
            f"  watch: {'true' if watch else 'false'}\n"
            + ("  channels: [hook]\n" if receiver else "")
            + "".join(f"  {line}\n" for line in fleet_extra.splitlines() if line.strip())
            + f"metrics:\n  interval: {metrics_interval}\n"
        )
        if receiver:
            preamble += (
                "alerts:\n  channels:\n"
                f"    - {{name: hook, type: webhook, url: {json.dumps(receiver)}}}\n"
            )
        text = site.config_text(procedures, database_url=self.database_url, preamble=preamble)
        if dashboard:
            text = text.replace(
                "dashboard:\n  enabled: false\n",
                'dashboard:\n  listen: "127.0.0.1:0"\n  auth: none\n',
            )
        site.write_text(text)
        member = Member(name, site)
        self.members[name] = member
        return member

    def start(
        self,
        member: Member,
        notify: NotifySocket | None = None,
        watchdog_usec: int | None = None,
    ) -> DaemonProcess:
        daemon = DaemonProcess(member.site, notify, watchdog_usec, False, {})
        self.started.append(daemon)
        member.daemon = daemon
        daemon.wait_for_event(lambda e: e.get("event") == "ready", timeout=90, what="ready")
        return daemon

    def start_all(self) -> None:
        for member in self.members.values():
            self.start(member)

    def wait_all_running(self, viewer: Member) -> dict[str, Any]:
        names = sorted(self.members)

        def running() -> dict[str, Any] | None:
            view = viewer.fleet()
            states = {host["host"]: host["state"] for host in view["hosts"]}
            return view if states == dict.fromkeys(names, "running") else None

        return wait_until(running, timeout=60, interval=0.5, what=f"{names} running")

    def kill_all(self) -> None:
        for daemon in self.started:
            daemon.kill()
