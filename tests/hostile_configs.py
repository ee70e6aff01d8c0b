"""Hostile configuration files: each must give `FILE:LINE: key: message`, never a crash.

Every case is a fragment that goes under a valid head (`version: 1`), so the line of the
problem is known: `line` counts from the fragment's first line. `key` is the key path the
problem names and `says` a piece of its message. The same cases feed the loader's unit
tests, `config validate`, the daemon's start and its SIGHUP reload.
"""

from __future__ import annotations

from dataclasses import dataclass

HEAD = "version: 1\n"


@dataclass(frozen=True)
class HostileConfig:
    name: str
    fragment: str
    line: int
    key: str
    says: str

    @property
    def text(self) -> str:
        return HEAD + self.fragment

    @property
    def file_line(self) -> int:
        return self.line + HEAD.count("\n")


def _billion_laughs(levels: int, fan_out: int) -> str:
    """`levels` anchors, each a list of `fan_out` aliases of the one before: a few
    hundred bytes that expand to fan_out**levels values."""
    lines = ['lol0: &lol0 "lol"']
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*lol{level - 1}"] * fan_out)
        lines.append(f"lol{level}: &lol{level} [{aliases}]")
    return "\n".join(lines) + "\n"


CASES = [
    HostileConfig("impossible date", "timezone: 2024-02-30\n", 1, "timezone", "unknown time zone"),
    HostileConfig("impossible month", "timezone: 2024-13-01\n", 1, "timezone", "unknown time zone"),
    HostileConfig(
        "list as a key", "? [a, b]\n: 1\n", 1, "(top level)", "a key must be a plain name"
    ),
    HostileConfig(
        "mapping as a key", "paths:\n  ? {a: 1}\n  : x\n", 2, "paths", "a key must be a plain name"
    ),
    HostileConfig("self-referencing alias", "paths: &p [*p]\n", 1, "paths[0]", "alias refers"),
    HostileConfig(
        "self-referencing mapping",
        "paths: &p\n  state_dir: *p\n",
        2,
        "paths.state_dir",
        "alias refers",
    ),
    HostileConfig("self-merging mapping", "paths: &p\n  <<: *p\n", 1, "paths", "alias refers"),
    HostileConfig(
        "merge of a scalar", "paths:\n  <<: 1\n", 2, "paths", "a merge key (<<) takes a mapping"
    ),
    HostileConfig(
        "deep nesting of lists",
        "checks: " + "[" * 5000 + "]" * 5000 + "\n",
        1,
        "(top level)",
        "nested more than 64 levels",
    ),
    HostileConfig(
        "deep nesting of mappings",
        "checks: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
        1,
        "(top level)",
        "nested more than 64 levels",
    ),
    HostileConfig(
        "billion laughs",
        _billion_laughs(levels=6, fan_out=10),
        7,
        "lol6",
        "once aliases are expanded",
    ),
    HostileConfig(
        "huge duration",
        "metrics:\n  interval: 999999999d\n",
        2,
        "metrics.interval",
        "longer than 3650d",
    ),
    HostileConfig(
        "duration of a googol seconds",
        "daemon:\n  shutdown_timeout: 1" + "0" * 100 + "\n",
        2,
        "daemon.shutdown_timeout",
        "longer than 3650d",
    ),
    HostileConfig(
        "zero metrics interval",
        "metrics:\n  interval: 0s\n",
        2,
        "metrics.interval",
        "at least 1s",
    ),
    HostileConfig(
        "huge count",
        "baselines:\n  min_samples: 99999999999999999999\n",
        2,
        "baselines.min_samples",
        "out of range",
    ),
    HostileConfig(
        "infinite weight",
        "health_score:\n  weights: {disk: .inf}\n",
        2,
        "health_score.weights",
        "not a usable number",
    ),
    HostileConfig(
        "huge size",
        "logs:\n  - {name: a, paths: [/var/log/a.log], max_size: 99999999999999T}\n",
        2,
        "logs[0].max_size",
        "too large a size",
    ),
    HostileConfig(
        "integer with too many digits",
        "baselines:\n  min_samples: !!int " + "9" * 5000 + "\n",
        2,
        "baselines.min_samples",
        "cannot read the value",
    ),
    HostileConfig(
        "schedule on February 30",
        "procedures:\n  p:\n    schedule: {month: 2, day: 30}\n    steps: [rotate_logs]\n",
        3,
        "procedures.p.schedule",
        "never fires",
    ),
    HostileConfig(
        "schedule in a past year",
        "procedures:\n  p:\n    schedule: {year: 1999}\n    steps: [rotate_logs]\n",
        3,
        "procedures.p.schedule",
        "never fires",
    ),
    HostileConfig(
        "crontab on April 31",
        'procedures:\n  p:\n    schedule: {cron: "0 3 31 4 *"}\n    steps: [rotate_logs]\n',
        3,
        "procedures.p.schedule",
        "never fires",
    ),
]
