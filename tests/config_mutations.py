"""Hypothesis strategies for hostile configuration text: any bytes, and mutations of the
reference configurations (the shipped one and the specification's)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_FILES = [
    REPO_ROOT / "etc" / "hostkeeper" / "hostkeeper.yaml",
    REPO_ROOT / ".." / "shared" / "spec" / "hostkeeper.yaml",
]
REFERENCES = [path.read_text(encoding="utf-8") for path in REFERENCE_FILES if path.is_file()]

# Values that broke, or could break, a loader: dates, aliases, tags, extremes, syntax.
HOSTILE_VALUES = [
    "2024-02-30",
    "2024-13-45T99:99:99",
    "[a, b]",
    "{a: 1}",
    "&x [*x]",
    "*undefined",
    "!!binary zz",
    "!!int " + "9" * 5000,
    "!!python/object:os.system x",
    "!!timestamp 2024-02-30",
    "99999999999999999999",
    "-99999999999999999999",
    ".inf",
    "-.inf",
    ".nan",
    "999999999d",
    "0s",
    "-1s",
    "1e308",
    "99999999999999T",
    "~",
    "''",
    '"\\x00"',
    "{",
    "[",
    '"unterminated',
    "? [a, b]",
    "<<: 1",
    "- - - -",
    "\t",
    "%YAML 1.1",
    "---",
    "...",
]


@st.composite
def mutated_reference(draw: st.DrawFn) -> str:
    """A reference configuration with one to four lines broken: a value replaced by a
    hostile one, a line deleted, duplicated, moved, re-indented or cut short."""
    lines = draw(st.sampled_from(REFERENCES)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        operation = draw(
            st.sampled_from(["value", "delete", "duplicate", "move", "indent", "cut", "text"])
        )
        if operation == "value" and ":" in line:
            key = line.split(":", 1)[0]
            lines[index] = f"{key}: {draw(st.sampled_from(HOSTILE_VALUES))}"
        elif operation == "delete":
            del lines[index]
        elif operation == "duplicate":
            lines.insert(index, line)
        elif operation == "move":
            lines.insert(draw(st.integers(0, len(lines))), lines.pop(index))
        elif operation == "indent":
            lines[index] = " " * draw(st.integers(0, 12)) + line.lstrip()
        elif operation == "cut":
            lines[index] = line[: draw(st.integers(0, len(line)))]
        else:
            lines[index] = draw(st.text(max_size=40))
    return "\n".join(lines) + "\n"


# Random bytes rarely form YAML structure; half the examples are made of YAML's
# punctuation, so anchors, aliases, flow collections and complex keys meet often.
YAML_ALPHABET = "[]{}:&*!-?,<|>'\"#%@. \n\t0123456789abdxyz"
any_bytes = st.one_of(
    st.binary(max_size=4096),
    st.text(alphabet=YAML_ALPHABET, max_size=300).map(lambda text: text.encode()),
)
