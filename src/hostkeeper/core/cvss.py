"""CVSS v3.0/v3.1 base scores from a vector string, and the qualitative rating.

Pure: `base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")` is 9.8. The weights
and formulas are those of the CVSS v3.1 specification (section 7); v3.0 vectors use the
same ones (3.1 changed only the rounding helper, which this applies to both, so a 3.0
score can differ from a 3.0 calculator by 0.1 in rare cases).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

_WEIGHTS: Mapping[str, Mapping[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
# Privileges Required weighs more when the scope changes.
_PRIVILEGES = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_BASE_METRICS = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")
_SCOPES = ("U", "C")


class CvssError(ValueError):
    """The text is not a CVSS v3 vector with every base metric."""


def parse_vector(vector: str) -> dict[str, str]:
    """The metrics of a v3 vector (`CVSS:3.x/AV:N/...`), base and any others, by name.

    Raises CvssError for another version, a missing or unknown base metric value, or a
    metric given twice.
    """
    prefix, _, rest = vector.strip().partition("/")
    if prefix not in ("CVSS:3.0", "CVSS:3.1"):
        raise CvssError(f"not a CVSS v3 vector: {vector!r}")
    metrics: dict[str, str] = {}
    for part in rest.split("/"):
        name, separator, value = part.partition(":")
        if not separator or not name or not value:
            raise CvssError(f"malformed metric {part!r} in {vector!r}")
        if name in metrics:
            raise CvssError(f"metric {name} given twice in {vector!r}")
        metrics[name] = value
    for name in _BASE_METRICS:
        if name not in metrics:
            raise CvssError(f"base metric {name} missing from {vector!r}")
        value = metrics[name]
        allowed = _SCOPES if name == "S" else _PRIVILEGES["U"] if name == "PR" else _WEIGHTS[name]
        if value not in allowed:
            raise CvssError(f"unknown value {name}:{value} in {vector!r}")
    return metrics


def roundup(value: float) -> float:
    """The specification's Roundup: the smallest number with one decimal >= value,
    computed on integers so that 4.000000001 does not become 4.1 through float noise."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000
    return (math.floor(scaled / 10_000) + 1) / 10.0


def base_score(vector: str) -> float:
    """The base score 0.0-10.0 of a CVSS v3.0 or v3.1 vector; raises CvssError."""
    metrics = parse_vector(vector)
    scope = metrics["S"]
    confidentiality = _WEIGHTS["C"][metrics["C"]]
    integrity = _WEIGHTS["I"][metrics["I"]]
    availability = _WEIGHTS["A"][metrics["A"]]
    impact_subscore = 1 - (1 - confidentiality) * (1 - integrity) * (1 - availability)
    if scope == "U":
        impact = 6.42 * impact_subscore
    else:
        impact = 7.52 * (impact_subscore - 0.029) - 3.25 * (impact_subscore - 0.02) ** 15
    exploitability = (
        8.22
        * _WEIGHTS["AV"][metrics["AV"]]
        * _WEIGHTS["AC"][metrics["AC"]]
        * _PRIVILEGES[scope][metrics["PR"]]
        * _WEIGHTS["UI"][metrics["UI"]]
    )
    if impact <= 0:
        return 0.0
    if scope == "U":
        return roundup(min(impact + exploitability, 10))
    return roundup(min(1.08 * (impact + exploitability), 10))


def rating(score: float) -> str:
    """The qualitative rating of a score: none, low, medium, high or critical."""
    if score <= 0:
        return "none"
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "medium"
    if score < 9.0:
        return "high"
    return "critical"
