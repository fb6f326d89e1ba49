"""Pure evidence from what GitHub says about a public text besides its words.

The classifier (``bot/rules/detect.py``) reads words. This module reads the rest of what arrives
with the text (``detect.TextContext``) and moves the score a little, with a reason name for each
piece of evidence (never any text):

- ``context:security-title``: the title is marked as a security report (``[SECURITY] …``,
  ``Security: …``, ``[CVE-…]``, ``[vuln] …``), as reporters do when a repository asks them to;
- ``context:security-label``: a label with "security" or "vulnerab" in its name was applied when the
  issue was opened (issue forms apply them);
- ``context:security-form``: the body carries the headings of a security issue form (impact,
  affected versions, proof of concept, severity …), at least two of them;
- ``context:names-own-files``: it names paths that exist in this repository's tree (when the tree is
  known): someone looked at this code;
- ``context:names-missing-files``: it names several paths and none of them is in the tree;
- ``context:other-repository``: it links into another repository's code, issues or advisories and
  never into this one's (a report about someone else's package, a quoted upstream CVE);
- ``context:own-repository``: it links into this repository's code.

The move is bounded (``MAX_SHIFT`` either way) and evidence alone never makes a text a confident
public report: a text the words left below the heads-up threshold can reach the heads-up tier at
most, and so does a text without a claim the rules can name. What is read is bounded too: the first ``MAX_SCAN`` characters, ``MAX_PATHS`` path-like
tokens and ``MAX_LINKS`` links. Standard library only, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.rules.detect import TextContext, Thresholds, Verdict

__all__ = ["Evidence", "evidence", "apply", "worth_reading_tree", "MAX_SHIFT"]

MAX_SHIFT = 0.15
MAX_SCAN = 20_000  # characters of the body looked at for paths, links and form headings
MAX_PATHS = 40
MAX_LINKS = 40

WEIGHTS = {
    "context:security-title": 0.10,
    "context:security-label": 0.08,
    "context:security-form": 0.08,
    "context:names-own-files": 0.06,
    "context:own-repository": 0.04,
    "context:names-missing-files": -0.05,
    "context:other-repository": -0.08,
}

_TITLE = re.compile(
    r"^\s*(?:[\[(]\s*(?:security|sec|vuln(?:erability)?|cve-\d{4}-\d+|ghsa(?:-[0-9a-z]{4}){3})\s*[\])]"
    r"|(?:security|vulnerability)\s*(?:issue|report|bug|vulnerability)?\s*:)", re.IGNORECASE)
_FORM_HEADING = re.compile(
    r"^\s{0,3}#{2,4}\s*(?:impact|affected (?:versions?|components?|products?)|patched versions?|"
    r"proof of concept|poc|steps to reproduce|reproduction(?: steps)?|severity|cvss(?: score)?|"
    r"(?:vulnerability|weakness) (?:type|details|description|class)|cwe|attack (?:vector|scenario)|"
    r"mitigation|workarounds?)\s*$", re.IGNORECASE | re.MULTILINE)
_EXTENSIONS = (
    "py|pyx|js|mjs|cjs|jsx|ts|tsx|go|rs|c|h|cc|cpp|hpp|cxx|java|kt|scala|rb|php|cs|swift|m|mm|lua|pl|pm|"
    "sh|bash|ps1|sql|yml|yaml|json|toml|ini|cfg|conf|xml|html|htm|vue|svelte|erb|ex|exs|erl|hs|ml|"
    "clj|dart|r|jl|zig|nim|gradle|properties|lock|mod|sum|tf|proto|graphql|twig|jinja|j2|tpl")
_PATH = re.compile(r"(?<![\w./@:-])((?:[\w.-]+/){0,8}[\w.-]+\.(?:" + _EXTENSIONS + r"))(?::\d+)?(?![\w/])",
                   re.IGNORECASE)
_LINK = re.compile(r"github\.com/([\w.-]{1,39})/([\w.-]{1,100})/(blob|tree|issues|pull|security|commit|releases)\b",
                   re.IGNORECASE)
# Every match of _LINK holds a match of _LINK_HINT, every match of _FORM_HEADING holds _FORM_HINT:
# looked for first, they rule most texts out at a tenth of the cost of the full scans (speed only:
# the same links and headings are found; tests/test_context.py).
_LINK_HINT = re.compile(r"\.com/", re.IGNORECASE)
_FORM_HINT = "##"


@dataclass(frozen=True)
class Evidence:
    reasons: tuple[str, ...]
    shift: float


def _paths(body: str) -> list[str]:
    found: list[str] = []
    for m in _PATH.finditer(body):
        token = m.group(1).lstrip("./")
        if token and token not in found and not token.startswith(("www.", "http")):
            found.append(token)
            if len(found) >= MAX_PATHS:
                break
    return found


def worth_reading_tree(score: float, body: str | None, thresholds: tuple[float, ...]) -> bool:
    """Whether the repository's tree could change the verdict: the text names a path and its score
    is within reach of a threshold. Only then is the tree read."""
    return any(abs(score - t) <= MAX_SHIFT for t in thresholds) and bool(_paths((body or "")[:MAX_SCAN]))


@lru_cache(maxsize=4)
def _suffixes(paths: frozenset[str]) -> frozenset[str]:
    """Every trailing part of every path (``a/b/c.py`` → ``a/b/c.py``, ``b/c.py``, ``c.py``), so a
    path named relative to any folder is found in one set lookup; kept for the last few trees."""
    out: set[str] = set()
    for p in paths:
        parts = p.split("/")
        for i in range(len(parts)):
            out.add("/".join(parts[i:]).lower())
    return frozenset(out)


def evidence(title: str, body: str | None, context: TextContext | None) -> Evidence:
    """What the text's context says, as reason names and a bounded score shift."""
    if context is None:
        return Evidence((), 0.0)
    text = (body or "")[:MAX_SCAN]
    reasons: list[str] = []
    if _TITLE.search(title or ""):
        reasons.append("context:security-title")
    if any(("security" in label.lower() or "vulnerab" in label.lower()) for label in context.labels):
        reasons.append("context:security-label")
    if _FORM_HINT in text and len({m.group(0).strip().lower() for m in _FORM_HEADING.finditer(text)}) >= 2:
        reasons.append("context:security-form")
    if context.repo_paths:
        named = _paths(text)
        if named:
            index = _suffixes(context.repo_paths)
            hits = sum(1 for p in named if p.lower() in index)
            if hits:
                reasons.append("context:names-own-files")
            elif len(named) >= 2:
                reasons.append("context:names-missing-files")
    if context.repo_full_name and _LINK_HINT.search(text):
        own, other = False, False
        for n, m in enumerate(_LINK.finditer(text)):
            if n >= MAX_LINKS:
                break
            full = f"{m.group(1)}/{m.group(2)}".removesuffix(".git").lower()
            if full == context.repo_full_name.lower():
                own = True
            else:
                other = True
        if own:
            reasons.append("context:own-repository")
        elif other:
            reasons.append("context:other-repository")
    shift = sum(WEIGHTS[r] for r in reasons)
    return Evidence(tuple(reasons), max(-MAX_SHIFT, min(MAX_SHIFT, shift)))


_CLAIMS = ("vuln-term:", "plain:", "report:", "payload:", "attacker-framing")


def _claims(reasons: tuple[str, ...]) -> bool:
    """Whether the words made a claim the rules can name (the detector's own condition for a public
    redirect); a text without one, or flagged ``learned-only``, stays a heads-up whatever its context."""
    return "learned-only" not in reasons and any(r.startswith(_CLAIMS) for r in reasons)


def apply(verdict: Verdict, title: str, body: str | None, context: TextContext | None,
          thresholds: Thresholds) -> Verdict:
    """The verdict after the context's evidence. Only the security tiers move (vulnerability,
    possible, none); beg bounty, phishing and status pings are decided by their words."""
    if verdict.kind not in ("vulnerability", "possible", "none"):
        return verdict
    ev = evidence(title, body, context)
    if not ev.reasons:
        return verdict
    score = round(min(1.0, max(0.0, verdict.score + ev.shift)), 4)
    if score >= thresholds.public and verdict.score >= thresholds.notify and _claims(verdict.reasons):
        kind = "vulnerability"
    elif score >= thresholds.notify:
        kind = "possible"
    else:
        kind = "none"
    return Verdict(kind, score, tuple(sorted({*verdict.reasons, *ev.reasons})))
