"""The second opinion's rules, without I/O: which verdicts a language model is asked about, the
question it gets, how its answer is read, and how the answer moves a verdict.

Only the uncertain tier (`possible`: a score in [notify, public)) is asked about. A yes moves
the verdict one tier up (to `vulnerability`), a no one tier down (to `none`); anything else
leaves it where the classifier put it. The outcome is recorded as one reason name, never as
text: `llm:yes`, `llm:no`, `llm:unclear` (an answer that is neither), `llm:error` (timeout,
refusal, a broken reply), `llm:budget` (the hourly budget is spent, or the endpoint asked us to
wait with a 429).

The answer is read strictly: one word (`yes` or `no`, a full stop allowed) or the JSON object
`{"answer": "yes"}` / `{"answer": "no"}`, optionally inside one Markdown code fence. Anything
else, however close, is unclear: a model that rambles has not answered, and a text that tries
to talk the model into an answer usually makes it ramble.
"""

from __future__ import annotations

import dataclasses
import json
import re

from bot.rules.detect import Verdict

ASKED = "possible"  # the uncertain tier, the only one asked about
TIERS = ("none", "possible", "vulnerability")  # a yes moves one up, a no one down

YES, NO, UNCLEAR, ERROR, BUDGET = "llm:yes", "llm:no", "llm:unclear", "llm:error", "llm:budget"
REASONS = (YES, NO, UNCLEAR, ERROR, BUDGET)

# What of a text is sent: enough for a report's substance, bounded whatever a stranger writes.
MAX_TITLE = 300
MAX_BODY = 6000
MAX_ANSWER = 200  # characters; a longer answer is not one word or one small object

_WORD = re.compile(r"(yes|no)\.?", re.IGNORECASE)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.DOTALL | re.IGNORECASE)


def asks_about(verdict: Verdict) -> bool:
    """Whether a verdict is uncertain enough to ask a second opinion about."""
    return verdict.kind == ASKED


def question(title: str, body: str | None) -> str:
    """The user message: the text as one JSON object (data, not instructions), bounded."""
    return json.dumps({"title": (title or "")[:MAX_TITLE], "text": (body or "")[:MAX_BODY]}, ensure_ascii=False)


def read_answer(text: object) -> bool | None:
    """True for yes, False for no, None for anything else."""
    if not isinstance(text, str) or len(text) > MAX_ANSWER:
        return None
    text = text.strip()
    fenced = _FENCE.fullmatch(text)
    if fenced:
        text = fenced[1]
    word = _WORD.fullmatch(text)
    if word:
        return word[1].lower() == "yes"
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if not isinstance(found, dict) or set(found) != {"answer"} or not isinstance(found["answer"], str):
        return None
    answer = found["answer"].strip().lower()
    return {"yes": True, "no": False}.get(answer)


def moved(verdict: Verdict, answer: bool | None, reason: str) -> Verdict:
    """`verdict` one tier up for a yes, one down for a no, where it was otherwise; `reason` added."""
    if reason not in REASONS:
        raise ValueError(f"unknown second-opinion reason {reason!r}")
    kind = verdict.kind
    if answer is not None and kind in TIERS:
        step = 1 if answer else -1
        kind = TIERS[min(len(TIERS) - 1, max(0, TIERS.index(kind) + step))]
    return dataclasses.replace(verdict, kind=kind, reasons=(*verdict.reasons, reason))
