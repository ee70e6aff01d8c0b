"""Pending OS package upgrades, from the text of `apt-get -s upgrade` (a simulation:
apt changes nothing), split into security and other upgrades by the archive they come
from, and the packages that ask for a reboot (/run/reboot-required.pkgs).

Pure: text in, values out. The parser reads apt's `Inst` lines, which have kept one
form for decades (`Inst NAME [OLD] (NEW ORIGIN[, ORIGIN...] [ARCH])`); apt must run
with LC_ALL=C so that the headings around them are not translated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_INST = re.compile(
    r"^Inst (?P<name>\S+)(?: \[(?P<old>[^\]]*)\])? \((?P<new>\S+)(?: (?P<origins>.*?))?"
    r"(?: \[(?P<arch>[^\]]+)\])?\)"
)
_KEPT_BACK = "The following packages have been kept back:"


@dataclass(frozen=True)
class PendingUpgrade:
    package: str
    installed: str | None  # None: a new package the upgrade would install
    candidate: str
    origins: tuple[str, ...]  # `Label:Version/Suite` as apt prints it
    security: bool


@dataclass(frozen=True)
class Simulation:
    upgrades: tuple[PendingUpgrade, ...]
    kept_back: tuple[str, ...]  # upgradable, but `upgrade` would not (new dependencies)

    @property
    def security(self) -> list[PendingUpgrade]:
        return [upgrade for upgrade in self.upgrades if upgrade.security]

    @property
    def other(self) -> list[PendingUpgrade]:
        return [upgrade for upgrade in self.upgrades if not upgrade.security]


def is_security_origin(origin: str, markers: Sequence[str]) -> bool:
    """Whether an archive named `origin` carries security updates: it contains one of
    `markers`, case-insensitively (Debian's `Debian-Security:12/stable-security`,
    Ubuntu's `Ubuntu:22.04/jammy-security` both contain "security")."""
    lowered = origin.lower()
    return any(marker.lower() in lowered for marker in markers)


def parse_simulation(text: str, security_markers: Sequence[str]) -> Simulation:
    """The upgrades and kept-back packages in the output of `apt-get -s upgrade`."""
    upgrades = []
    kept_back: list[str] = []
    in_kept_back = False
    for line in text.splitlines():
        if line == _KEPT_BACK:
            in_kept_back = True
            continue
        if in_kept_back:
            if line.startswith(" "):
                kept_back += line.split()
                continue
            in_kept_back = False
        match = _INST.match(line)
        if match is None:
            continue
        origins = tuple(
            origin.strip() for origin in (match["origins"] or "").split(",") if origin.strip()
        )
        upgrades.append(
            PendingUpgrade(
                package=match["name"],
                installed=match["old"] or None,
                candidate=match["new"],
                origins=origins,
                security=any(is_security_origin(o, security_markers) for o in origins),
            )
        )
    return Simulation(tuple(upgrades), tuple(kept_back))


def parse_held(text: str) -> list[str]:
    """Package names from `apt-mark showhold`, one a line."""
    return sorted({line.strip() for line in text.splitlines() if line.strip()})


def reboot_packages(lines: Iterable[str]) -> list[str]:
    """The packages listed in /run/reboot-required.pkgs, each once, in their order."""
    return list(dict.fromkeys(line.strip() for line in lines if line.strip()))
