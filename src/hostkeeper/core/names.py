"""Names that become path elements: backup sets, procedures (their lock files).

Pure. One rule for every place a configured name turns into a file or directory name:
it must be one ordinary path element, so it can never point outside its root.
"""

from __future__ import annotations

import re

# Letters, digits, `.`, `_` and `-`; it does not start with `-` (an option to a tool)
# or `.` (`.`, `..` and hidden files).
_SAFE = re.compile(r"\w[\w.-]{0,99}")


def path_name_problem(name: str) -> str | None:
    """Why `name` cannot be used as a path element, or None when it can."""
    if not isinstance(name, str) or not name:
        return "the name is empty"
    if "\0" in name:
        return "the name contains a NUL character"
    if "/" in name or "\\" in name:
        return f"the name {name!r} contains a path separator"
    if name in (".", ".."):
        return f"the name {name!r} is a path element that leaves its directory"
    if name.startswith("-"):
        return f"the name {name!r} starts with `-`"
    if name.startswith("."):
        return f"the name {name!r} starts with `.`"
    if not _SAFE.fullmatch(name):
        return (
            f"the name {name!r} may use letters, digits, `.`, `_` and `-` only "
            "(at most 100 characters)"
        )
    return None


def safe_path_name(name: str) -> str:
    """`name` itself; raises ValueError with the reason when it is not a safe path element."""
    problem = path_name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name
