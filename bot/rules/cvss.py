"""CVSS vectors: parse and check a 3.0, 3.1 or 4.0 vector, compute a 3.x base score, name its band.

Pure, standard library only. ``parse_cvss`` checks a vector against the specification's metric
tables and returns it in canonical form with its base score (3.x only: the 4.0 score needs the
specification's lookup table of macro vectors, which Secbot does not carry, so a 4.0 vector is
kept without a score). ``band`` is the specification's qualitative rating of a score, as the
severity words ``/sec accept`` and ``/sec severity`` take.
"""

from __future__ import annotations

import math
import re
from typing import Mapping

__all__ = ["parse_cvss", "base_score", "band", "MAX_VECTOR_CHARS"]

MAX_VECTOR_CHARS = 512

_CVSS3_METRICS: dict[str, tuple[str, ...]] = {
    "AV": ("N", "A", "L", "P"), "AC": ("L", "H"), "PR": ("N", "L", "H"), "UI": ("N", "R"),
    "S": ("U", "C"), "C": ("H", "L", "N"), "I": ("H", "L", "N"), "A": ("H", "L", "N"),
    "E": ("X", "U", "P", "F", "H"), "RL": ("X", "O", "T", "W", "U"), "RC": ("X", "U", "R", "C"),
    "CR": ("X", "L", "M", "H"), "IR": ("X", "L", "M", "H"), "AR": ("X", "L", "M", "H"),
    "MAV": ("X", "N", "A", "L", "P"), "MAC": ("X", "L", "H"), "MPR": ("X", "N", "L", "H"),
    "MUI": ("X", "N", "R"), "MS": ("X", "U", "C"),
    "MC": ("X", "N", "L", "H"), "MI": ("X", "N", "L", "H"), "MA": ("X", "N", "L", "H"),
}  # fmt: skip
_CVSS3_BASE = frozenset({"AV", "AC", "PR", "UI", "S", "C", "I", "A"})
_CVSS4_METRICS: dict[str, tuple[str, ...]] = {
    "AV": ("N", "A", "L", "P"), "AC": ("L", "H"), "AT": ("N", "P"), "PR": ("N", "L", "H"),
    "UI": ("N", "P", "A"), "VC": ("H", "L", "N"), "VI": ("H", "L", "N"), "VA": ("H", "L", "N"),
    "SC": ("H", "L", "N"), "SI": ("H", "L", "N"), "SA": ("H", "L", "N"),
    "E": ("X", "A", "P", "U"),
    "CR": ("X", "H", "M", "L"), "IR": ("X", "H", "M", "L"), "AR": ("X", "H", "M", "L"),
    "MAV": ("X", "N", "A", "L", "P"), "MAC": ("X", "L", "H"), "MAT": ("X", "N", "P"),
    "MPR": ("X", "N", "L", "H"), "MUI": ("X", "N", "P", "A"),
    "MVC": ("X", "H", "L", "N"), "MVI": ("X", "H", "L", "N"), "MVA": ("X", "H", "L", "N"),
    "MSC": ("X", "H", "L", "N"), "MSI": ("X", "S", "H", "L", "N"), "MSA": ("X", "S", "H", "L", "N"),
    "S": ("X", "N", "P"), "AU": ("X", "N", "Y"), "R": ("X", "A", "U", "I"), "V": ("X", "D", "C"),
    "RE": ("X", "L", "M", "H"), "U": ("X", "Clear", "Green", "Amber", "Red"),
}  # fmt: skip
_CVSS4_BASE = frozenset({"AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"})
_CVSS_PREFIX = re.compile(r"CVSS:(3\.0|3\.1|4\.0)/", re.I)


def parse_cvss(text: str) -> tuple[str, float | None] | None:
    """``(canonical vector, base score)`` for a CVSS 3.0/3.1/4.0 vector, None if it is not one.

    Metric names and values are checked against the specification's tables, each metric at most
    once, every base metric present. The base score is computed for 3.x only (None for 4.0).
    """
    if not isinstance(text, str) or len(text) > MAX_VECTOR_CHARS or not text.isascii():
        return None
    prefix = _CVSS_PREFIX.match(text)
    if prefix is None:
        return None
    version = prefix[1]
    table, base = (_CVSS4_METRICS, _CVSS4_BASE) if version == "4.0" else (_CVSS3_METRICS, _CVSS3_BASE)
    seen: dict[str, str] = {}
    for part in text[prefix.end() :].split("/"):
        name, colon, value = part.partition(":")
        name = name.upper()
        allowed = table.get(name)
        if not colon or allowed is None or name in seen:
            return None
        value = value.capitalize() if name == "U" and version == "4.0" and len(value) > 1 else value.upper()
        if value not in allowed:
            return None
        seen[name] = value
    if not base <= seen.keys():
        return None
    vector = f"CVSS:{version}/" + "/".join(f"{name}:{value}" for name, value in seen.items())
    return vector, (base_score(seen, version) if version != "4.0" else None)


_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}


def _roundup_31(value: float) -> float:
    """CVSS 3.1 Appendix A: round up to one decimal, immune to floating-point noise."""
    scaled = round(value * 100000)
    if scaled % 10000 == 0:
        return scaled / 100000.0
    return (math.floor(scaled / 10000) + 1) / 10.0


def _roundup_30(value: float) -> float:
    """CVSS 3.0 as its reference calculator does it."""
    return math.ceil(value * 10) / 10


def base_score(m: Mapping[str, str], version: str) -> float:
    """The CVSS 3.0 or 3.1 base score of checked metrics (``{"AV": "N", ...}``, every base metric)."""
    changed = m["S"] == "C"
    iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
    if changed:
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    else:
        impact = 6.42 * iss
    pr = (_PR_CHANGED if changed else _PR_UNCHANGED)[m["PR"]]
    exploitability = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * pr * _UI[m["UI"]]
    if impact <= 0:
        return 0.0
    roundup = _roundup_30 if version == "3.0" else _roundup_31
    total = (1.08 if changed else 1.0) * (impact + exploitability)
    return roundup(min(total, 10.0))


def band(score: float) -> str | None:
    """CVSS qualitative rating; None for 0.0 ("None" is not a severity Secbot tracks)."""
    if score <= 0:
        return None
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "medium"
    if score < 9.0:
        return "high"
    return "critical"
