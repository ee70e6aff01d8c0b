"""The credentials file: `NAME=value` lines, as systemd's EnvironmentFile= reads them.

Pure. Blank lines and lines starting with `#` are skipped; a value may be wrapped in
single or double quotes, which are removed; nothing is expanded.
"""

from __future__ import annotations

import re

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_env_file(text: str) -> dict[str, str]:
    """Every `NAME=value` of `text`; raises ValueError naming the first bad line (its
    number, never its content: it may hold a secret)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not ENV_NAME.fullmatch(name):
            raise ValueError(f"line {number} is not NAME=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values
