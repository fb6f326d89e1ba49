"""Pure per-repository memory of the maintainers' answers: texts like past false alarms score
lower, texts like past confirmed reports score higher.

Each answer a maintainer gave (`/sec not-security`: a false alarm; `/sec confirm` or `/sec hide`:
a report) is kept as an `Example`: its label and the names of its features (``detect.features``:
signal names and hashed word pairs, never words). A new text is compared with a repository's
examples by the overlap of their feature sets (Jaccard); each example at least `MIN_SIMILARITY`
alike moves the score towards its label by `STEP` times its similarity, and the whole move is
bounded by `MAX_SHIFT`, so the memory nudges a text across a tier only when it is near one, and
one maintainer's answer never outweighs the classifier by much.

Cost is bounded per text and per repository: at most `MAX_EXAMPLES` examples (the newest) of at
most ``detect.MAX_FEATURES`` + the signal names each are looked at, whatever the repository's
history, and only for texts whose score is within `MAX_SHIFT` of a threshold that matters.
Standard library only, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Example", "Adjustment", "adjust", "worth_asking", "feature_names",
           "FALSE_ALARM", "CONFIRMED", "MAX_EXAMPLES", "MAX_SHIFT", "MIN_SIMILARITY", "STEP"]

FALSE_ALARM, CONFIRMED = "not_security", "security"
MAX_EXAMPLES = 200  # newest examples per repository looked at
MAX_SHIFT = 0.15  # the most the memory moves a score, either way
MIN_SIMILARITY = 0.35  # below this, an example says nothing about the text
STEP = 0.25  # move per example, times its similarity


@dataclass(frozen=True)
class Example:
    label: str  # FALSE_ALARM or CONFIRMED
    features: frozenset[str]


@dataclass(frozen=True)
class Adjustment:
    score: float  # the score after the memory
    shift: float  # how far it moved (negative: towards a false alarm)
    alike: int  # examples at least MIN_SIMILARITY alike

    @property
    def reason(self) -> str | None:
        """A reason name for the verdict (never text): which way the memory moved it."""
        if self.shift < 0:
            return "memory:like-false-alarms"
        if self.shift > 0:
            return "memory:like-confirmed-reports"
        return None


def feature_names(found: Mapping[str, float] | Iterable[str]) -> frozenset[str]:
    """Feature names from what ``detect.features`` returns (a set of names, or names with weights)."""
    if isinstance(found, Mapping):
        return frozenset(str(k) for k, v in found.items() if v)
    return frozenset(str(k) for k in found)


def worth_asking(score: float, thresholds: Iterable[float]) -> bool:
    """Whether the memory could move `score` across one of `thresholds`: only then is it read."""
    return any(abs(score - t) <= MAX_SHIFT for t in thresholds)


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def adjust(score: float, features: frozenset[str], examples: Iterable[Example]) -> Adjustment:
    """The score of a text with `features` after the repository's `examples` (newest first; only
    the first MAX_EXAMPLES are read)."""
    shift, alike = 0.0, 0
    for n, example in enumerate(examples):
        if n >= MAX_EXAMPLES:
            break
        sim = _similarity(features, example.features)
        if sim < MIN_SIMILARITY:
            continue
        alike += 1
        shift += STEP * sim if example.label == CONFIRMED else -STEP * sim
    shift = max(-MAX_SHIFT, min(MAX_SHIFT, shift))
    return Adjustment(score=round(min(1.0, max(0.0, score + shift)), 4), shift=round(shift, 4), alike=alike)
