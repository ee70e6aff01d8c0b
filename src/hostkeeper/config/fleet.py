"""The `fleet:` section: this host's name in a shared store, its heartbeat, the watch for
silent hosts, the schedule splay and the spool that rides out a database outage."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from hostkeeper.config.alerts import Severity
from hostkeeper.config.base import Section, sample
from hostkeeper.config.units import Duration, Size
from hostkeeper.core.names import path_name_problem


class Spool(Section):
    max_size: Size = Field(
        64 * 1024**2,
        description="run records and metric samples kept in state_dir/spool.db while the "
        "database cannot be written, replayed in order when it can; past this size the "
        "oldest samples are dropped (and counted), run records never",
        examples=["64M", "1G"],
    )


class Fleet(Section):
    host_id: str | None = Field(
        None,
        description="this host's name in the store: every row it writes carries it, the "
        "fleet view lists it, the splay is derived from it; unset: the hostname",
        examples=["web-01"],
    )
    heartbeat_every: Duration = Field(
        timedelta(seconds=30),
        description="the daemon records that it is alive (and its next runs) this often",
        examples=["30s"],
    )
    watch: bool = Field(
        False,
        description="evaluate the built-in rule host_silent over every host of the store "
        "(PostgreSQL only); of all watching daemons, one at a time does (an advisory lock)",
    )
    silent_after: Duration = Field(
        timedelta(minutes=5),
        description="a host whose newest heartbeat is older than this is silent",
        examples=["5m", "15m"],
    )
    severity: Severity = Field(
        Severity.CRITICAL, description="severity of host_silent alerts: info | warning | critical"
    )
    channels: list[str] = Field(
        default_factory=list,
        description="names of alerts.channels told when a host falls silent and when it "
        "is heard again; none: the alert is only recorded",
        json_schema_extra=sample([]),
        examples=[["oncall"]],
    )
    splay: Duration = Field(
        timedelta(0),
        description="each host's scheduled runs (cron, every: and catch-up) are shifted by a "
        "stable offset below this, derived from host_id, so a fleet spreads its runs; 0: none",
        examples=["15m"],
    )
    spool: Spool = Field(
        default_factory=Spool,
        description="the local queue that keeps the daemon's records while the database is "
        "unreachable",
    )

    @field_validator("host_id")
    @classmethod
    def _usable_host_id(cls, value: str | None) -> str | None:
        if value is None:
            return value
        problem = path_name_problem(value)  # it becomes a URL path element (/hosts/ID/)
        if problem is not None:
            raise ValueError(f"host_id: {problem}")
        return value
