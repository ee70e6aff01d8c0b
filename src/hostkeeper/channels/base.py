"""What every channel is given (a Message) and how it reports failure (DeliveryError)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


class DeliveryError(Exception):
    """A delivery attempt failed; `transient` says whether trying again may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def transient(message: str) -> DeliveryError:
    return DeliveryError(message, transient=True)


def permanent(message: str) -> DeliveryError:
    return DeliveryError(message, transient=False)


@dataclass(frozen=True)
class Message:
    """One notification, independent of the channel that carries it.

    kind: firing | repeat | resolved | refresh (Alertmanager only) | maintenance | test.
    For alerts, `rule` is the rule's name and `state` the alert's state; for maintenance
    notifications, `rule` is the procedure and `state` the run event (start, success,
    failure).
    """

    kind: str
    rule: str
    severity: str
    state: str
    summary: str
    host: str
    at: datetime
    alert_id: int | None = None
    value: float | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_test(self) -> bool:
        return self.kind == "test"

    @property
    def subject(self) -> str:
        label = {
            "firing": "FIRING",
            "repeat": "STILL FIRING",
            "resolved": "RESOLVED",
            "refresh": "FIRING",
            "test": "TEST",
        }.get(self.kind)
        if label is None:  # maintenance
            return f"[hostkeeper] {self.rule} {self.state} on {self.host}: {self.summary}"
        return f"[hostkeeper] {label} {self.severity} {self.rule} on {self.host}: {self.summary}"

    def body(self) -> str:
        lines = [self.subject, ""]
        if self.is_test:
            lines += ["This is a test notification sent by `hostkeeper alerts test`.", ""]
        lines += [
            f"host:     {self.host}",
            f"rule:     {self.rule}",
            f"severity: {self.severity}",
            f"state:    {self.state}",
            f"summary:  {self.summary}",
        ]
        if self.value is not None:
            lines.append(f"value:    {self.value:g}")
        if self.starts_at is not None:
            lines.append(f"since:    {self.starts_at.isoformat()}")
        if self.alert_id is not None:
            lines.append(f"alert:    #{self.alert_id} (hostkeeper alerts ack {self.alert_id})")
        for key, value in self.details.items():
            lines.append(f"{key}: {value}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("at", "starts_at", "ends_at"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        data["test"] = self.is_test
        data["subject"] = self.subject
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        values = {k: v for k, v in data.items() if k not in ("test", "subject")}
        for key in ("at", "starts_at", "ends_at"):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


def utc_now() -> datetime:
    return datetime.now(UTC)
