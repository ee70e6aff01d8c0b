"""Log files that hostkeeper and logrotate would both rotate (`config validate --strict`).

Two rotators on one file set rotate twice, keep different numbers of generations and
signal different daemons; each file set needs exactly one. This reads the path patterns
of the host's logrotate configuration (`/etc/logrotate.conf`, `/etc/logrotate.d/*`) and
reports every `logs:` path that one of them also covers.
"""

from __future__ import annotations

import glob
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from hostkeeper.config.crossref import Problem
from hostkeeper.config.models import Config

LOGROTATE_CONFIGS = ("/etc/logrotate.conf", "/etc/logrotate.d")
# Files in an include directory that logrotate itself skips (its default taboo list).
_TABOO_SUFFIXES = (
    ",v", ".cfsaved", ".disabled", ".dpkg-bak", ".dpkg-del", ".dpkg-dist", ".dpkg-new",
    ".dpkg-old", ".rpmnew", ".rpmorig", ".rpmsave", ".swp", ".ucf-dist", ".ucf-new",
    ".ucf-old", "~",
)  # fmt: skip


@dataclass(frozen=True)
class LogrotatePattern:
    """One path pattern of a logrotate block, with where it was written."""

    pattern: str
    file: str
    line: int


def logrotate_overlaps(config: Config, sources: Sequence[str] = LOGROTATE_CONFIGS) -> list[Problem]:
    """A problem for every `logs:` path that a logrotate block also rotates."""
    if not config.logs:
        return []
    patterns = list(read_patterns(sources))
    problems: list[Problem] = []
    for index, policy in enumerate(config.logs):
        for position, path in enumerate(policy.paths):
            for found in patterns:
                if _overlap(path, found.pattern):
                    problems.append(
                        (
                            ("logs", index, "paths", position),
                            f"{path} is also rotated by logrotate ({found.file}:{found.line}: "
                            f"{found.pattern}); give each file set one rotator",
                        )
                    )
                    break
    return problems


def read_patterns(sources: Sequence[str]) -> Iterator[LogrotatePattern]:
    """The path patterns of every block in the logrotate files and directories given."""
    for source in sources:
        path = Path(source)
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_file() and not child.name.endswith(_TABOO_SUFFIXES):
                    yield from _patterns_in(child)
        elif path.is_file():
            yield from _patterns_in(path)


def _patterns_in(path: Path) -> Iterator[LogrotatePattern]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    depth = 0
    pending: list[LogrotatePattern] = []
    in_script = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if in_script:  # postrotate ... endscript holds shell, not directives
            in_script = line != "endscript"
            continue
        if depth and line in ("postrotate", "prerotate", "firstaction", "lastaction",
                              "preremove"):  # fmt: skip
            in_script = True
            continue
        line = line.split("#", 1)[0]
        for word in _words(line):
            if word == "{":
                depth += 1
                yield from pending
                pending = []
            elif word == "}":
                depth = max(depth - 1, 0)
            elif depth == 0 and word.startswith("/"):
                pending.append(LogrotatePattern(word, str(path), number))


def _words(line: str) -> list[str]:
    spaced = line.replace("{", " { ").replace("}", " } ")
    try:
        return shlex.split(spaced)
    except ValueError:
        return spaced.split()


def _overlap(ours: str, theirs: str) -> bool:
    if _same_files(ours.split("/"), theirs.split("/")):
        return True
    return bool(set(glob.glob(ours)) & set(glob.glob(theirs)))


def _same_files(ours: list[str], theirs: list[str]) -> bool:
    """Whether one pattern names what the other matches, component by component.

    Compared per path component, because a glob's `*` never crosses a `/`.
    """
    return len(ours) == len(theirs) and all(
        a == b or fnmatchcase(a, b) or fnmatchcase(b, a) for a, b in zip(ours, theirs, strict=True)
    )
