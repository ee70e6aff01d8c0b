"""Maintenance windows: how long alerts are held, and the planned (recurring) windows."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator

from hostkeeper.config.base import Section, sample
from hostkeeper.config.procedures import Schedule
from hostkeeper.config.units import Duration


class PlannedWindow(Section):
    """A recurring maintenance window: from each time its schedule fires, for `duration`."""

    name: str = Field(
        description="unique name, shown in `maintenance list`, status and notifications",
        examples=["patch-night"],
    )
    schedule: Schedule = Field(
        description="when each occurrence starts: cron fields or `cron:` (not `every:`), in "
        "the configured timezone",
        examples=[{"cron": "0 22 * * tue"}, {"day": "1st sat", "hour": 0}],
    )
    duration: Duration = Field(description="how long each occurrence lasts", examples=["2h"])
    announce: Duration | None = Field(
        None,
        description="notify notify.channels this long before each occurrence starts; unset: "
        "no announcement",
        examples=["24h"],
    )
    reason: str | None = Field(
        None,
        description="why, shown with the window and in its notifications",
        examples=["kernel and package updates"],
    )
    rules: list[str] | None = Field(
        None,
        description="names of alerts.rules it holds; unset: every rule (a rule with "
        "`maintenance: ignore` is never held)",
        examples=[["web_up"]],
    )
    grace: Duration | None = Field(
        None,
        description="alerts starting this long after an occurrence ends are still held; "
        "unset: maintenance.grace",
        examples=["15m"],
    )

    @field_validator("schedule")
    @classmethod
    def _fixed_times(cls, value: Schedule) -> Schedule:
        if value.every is not None:
            raise ValueError(
                "a planned window starts at fixed times: use cron fields or `cron:`, not `every:`"
            )
        return value

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("duration must be at least 1m")
        return value


class Maintenance(Section):
    grace: Duration = Field(
        timedelta(minutes=5),
        description="alerts starting this long after a window ends are still held (what the "
        "work disturbed takes a while to settle)",
        examples=["5m"],
    )
    max_hold: Duration = Field(
        timedelta(minutes=30),
        description="an alert is notified at the latest this long after it fired, however "
        "long its window lasts, so a real outage during maintenance still reaches someone",
        examples=["30m"],
    )
    windows: list[PlannedWindow] = Field(
        default_factory=list,
        description="planned (recurring) maintenance windows",
        examples=[
            [
                {
                    "name": "patch-night",
                    "schedule": {"cron": "0 22 * * tue"},
                    "duration": "2h",
                    "announce": "24h",
                    "reason": "kernel and package updates",
                }
            ]
        ],
        json_schema_extra=sample([]),
    )

    @field_validator("max_hold")
    @classmethod
    def _max_hold_positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("max_hold must be at least 1s")
        return value
