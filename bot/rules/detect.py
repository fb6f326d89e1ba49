"""Pure classifier: is this issue a security report, a beg-bounty scanner finding, or neither?

Text in, ``Verdict(kind, score, reasons)`` out. Standard library only, no I/O, nothing runs at
import apart from compiling the regular expressions: those below, and the signal tables, which
are data in ``bot/rules/signals.py`` (what is looked for and what it weighs); this module is the
logic that searches and scores them.

How it works
============

Two scorers, combined (step 5): a weighted-signal scorer, explained below, and a small learned
model (``bot/rules/learned.py``). The signal scorer:

1. **Zones.** The body is capped (``MAX_BODY_CHARS``) and split along Markdown lines into *prose*,
   *code* (fenced ```` ``` ````/``~~~`` blocks and indented blocks) and *quote* (``>`` lines).
   HTML comments (issue-template instructions such as "do not report security issues here") and
   unticked template checkboxes are dropped. URLs are pulled out of the prose and classified on
   their own (an advisory/CVE database link, a bounty platform link), then removed so that words
   inside a URL do not count as words.
2. **Signals.** Each signal is a precompiled regular expression with a fixed, explainable name
   (``vuln-term:xss``, ``payment-ask``, ``negative:dependency-bump`` ...) and two weights: one
   towards *vulnerability*, one towards *beg bounty*. A signal counts once, at the strongest zone
   it fires in: title x1.25, prose x1.0, quote x0.35 (someone else's words weigh less). Words are
   not looked for in code blocks at all, so a stack trace with ``StackOverflowError`` or
   ``SecurityException`` is not a report; code blocks are searched only for *payload* shapes
   (``<script>``, ``' OR 1=1``, ``../../etc/passwd``, ``{{7*7}}``, ``__proto__``, cloud metadata
   IPs, sanitizer output ...), which count when vulnerability words are also present.
3. **Families.**
   - ``vuln-term:*``: weakness classes (XSS, SQL/command/template injection, RCE, path traversal,
     SSRF, XXE, unsafe deserialization, prototype pollution, ReDoS, auth bypass, privilege
     escalation, IDOR, memory corruption, secrets exposure, sandbox escape, ...), in English,
     Spanish, Portuguese, French, German, Chinese, Russian and Japanese.
   - ``report:*`` and ``attacker-framing``: "vulnerability", "security issue", "exploit",
     "an attacker can", "crafted", proof of concept, CVSS, "request a CVE", disclosure wording.
   - ``plain:*``: the weakness described in plain words instead of its jargon name, in English and
     es/pt/fr/de/it/nl/pl/tr/zh/ja/ko/ru: a subject that is someone else ("any logged-in user",
     "anyone", a guest, another tenant, any website) with a capability ("can see/read/delete");
     another party's data ("other customers' invoices", private repos); swapping an id in the URL;
     credentials still valid after logout/password change/removal; signatures, state or certificates
     not checked; ``../`` file names written outside the folder; the server made to fetch a URL
     (plus ``plain:internal-target`` when it points at a metadata, loopback or private address);
     password hashes, keys and tokens in responses, logs or world-readable files; no login needed;
     debug endpoints; minutes of CPU on input anyone can send; ``yaml.load``/pickle/``eval``/shell
     on user input; self-granted roles; cross-site requests and redirects to any site. Each weighs
     at most ~2.6, so one phrase alone stays under the default threshold; two families together
     reach it. Their negatives are first person and support framing: "I can't see / gets a 403"
     (``negative:inability``), the author's own password/config/machine (``negative:own-account``),
     "how can I / is there a setting / is this expected" (``negative:user-question``) and
     "worked in 1.x" (``negative:regression``); all of them only offset claims.
   - ``security-topic:*``: weak words that are merely about security (password, permission,
     authentication, certificate, sandbox, origin ...). Their sum is capped so that they cannot
     by themselves pass the default threshold; they matter for bug trackers at a low threshold.
   - ``scanner-finding:*`` and ``payment-ask``, ``beg-framing``: the beg-bounty family (missing
     headers, SPF/DMARC/DKIM, clickjacking, version disclosure, self-XSS, cookie flags, ...), and
     the derived ``beg:ask-about-finding``: a payment ask together with any security signal, for
     the low-value findings no list names (``negative:declines-payment`` offsets it).
   - ``negative:*``: dependency bumps citing someone else's CVE, bot authors, scanner false
     positives, requests for security *features*, questions about the security policy or about
     how to use something safely, ordinary crashes without attacker framing, and vocabulary from
     games, medicine, chemistry, dependency injection, API payloads, chess engines.
   Weak negatives (crash wording, tests/docs, feature requests, how-to questions, "to prevent")
   only offset claims (class, report, attacker, payload signals); they never push mere topic words
   below zero. Strong negatives (dependency bump, bot author, scanner false positive, "not a
   security issue", hearsay, policy question, foreign vocabulary) count in full.
4. **Squash.** ``p = 1 / (1 + exp(-(bias + sum)))`` separately for the vulnerability and the
   beg-bounty sums. ``vulnerability`` wins when its probability reaches its threshold and it is
   at least the beg-bounty probability (or a concrete weakness class was named that no scanner
   finding explains). ``beg_bounty`` needs its own threshold. A real vulnerability that also asks
   about a bounty stays ``vulnerability``: asking for money only feeds the beg-bounty sum.

5. **Combined with the learned model.** The signals' vulnerability log-odds (bias -3 plus the sum)
   and the learned model's log-odds (floored at -3) go through a stacking logistic regression
   (``combine``; weights in the model file, fitted out-of-fold by ``scripts/train_detector.py``).
   Without a claim the signals can name (a weakness class, report wording, a plain-language
   capability, attacker framing, a payload) a text never reaches the public tier: its score stays
   just under ``Thresholds.public`` (reason ``learned-only``). The beg-bounty score is the signals' alone.
6. **Tiers.** ``vulnerability`` from ``Thresholds.public``, ``possible`` from ``notify``: both
   defaults chosen by cross-validation on training rows (scripts/train_detector.py prints how).
   ``phishing`` and ``status_ping`` are decided first, by their own signals.
7. **Windows.** A body longer than ``MAX_BODY_CHARS`` is read in up to ``MAX_WINDOWS``
   overlapping windows (longer ones for longer bodies, up to ``MAX_TOTAL_CHARS``); the most
   report-like window decides.

Speed (pure Python, one core; measured figures are in bench/README.md, from bench/classify.py):
each signal's pattern is split at its top-level ``|`` into branches, and each branch keeps a
literal that every match of it must contain; a branch that starts with a group of alternatives is
distributed over them first (``(?:a|b)c`` = ``ac|bc``, ``(?:a)?c`` = ``ac|c``). The word signals'
branches are indexed by one trigram of their literal: per text, the set of its trigrams is built
once and only the branches whose trigram (then all of whose literal's trigrams, then the literal
itself) occur are run, a small part of them for a typical text. A branch that starts with
``\\b`` plus a literal is compiled as ``literal(?<=\\bliteral)...`` so that the regex engine
scans for its literal prefix instead of trying every position. All of these give exactly the
matches of the original patterns; they only skip work that cannot match. Zone searches (title,
prose, quote) run only for the signals that fired on the whole text. The language guess counts
the text's words once against the stop-word sets. Bodies are capped at ``MAX_BODY_CHARS``.

Reasons are the names of the signals that fired, from the fixed vocabulary ``REASON_NAMES``
plus ``lang:<code>`` and the learned model's ``learned:<probability>`` (``is_reason``); they never
contain any text of the report, so they are safe to store and to log.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, TextIO

from bot.rules import learned, signals

__all__ = ["Verdict", "Thresholds", "TextContext", "KINDS", "classify", "classify_stream", "features", "REASON_NAMES",
           "MAX_BODY_CHARS", "MAX_TOTAL_CHARS", "MAX_WINDOWS", "windows", "is_reason", "rule_logits", "combine"]

MAX_BODY_CHARS = 20_000  # one window; a longer body is read in several
WINDOW_OVERLAP = 2_000
MAX_WINDOWS = 8  # a longer body gets longer windows, never more of them
MAX_TOTAL_CHARS = 1_048_576  # read in full up to here (GitHub caps bodies at 65,536 characters)
_STATUS_PING_MAX_CHARS = 600
MAX_TITLE_CHARS = 1_000

_BIAS = -3.0
# Weight of ``beg:ask-about-finding`` in the beg-bounty sum (chosen on training rows: 0.8, 1.0, 1.2 tried).
BEG_ASK_ABOUT_FINDING = 1.0
_FINDING_PREFIXES = ("security-topic:", "report:", "vuln-term:", "plain:", "attacker-framing", "scanner-", "beg-framing")
_WEAK_PLAIN = frozenset(name for name, _, w in signals.PLAIN if w <= 1.0)  # no claim alone
_TOPIC_CAP = 1.6  # security-topic words alone never reach the default threshold
_ZONE_WEIGHT = {"title": 1.25, "prose": 1.0, "quote": 0.35}


# What a text can be: a confident vulnerability report (the public redirect), a possible one (a
# private heads-up to the maintainers), a beg-bounty report, a phishing campaign, someone asking
# after a report ("any news?"), or nothing.
KINDS = ("vulnerability", "possible", "beg_bounty", "phishing", "status_ping", "none")


@dataclass(frozen=True)
class Verdict:
    kind: str  # one of KINDS
    score: float  # 0..1
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Thresholds:
    public: float = 0.783  # from here: a vulnerability report, redirected in public
    notify: float = 0.266  # from here up to `public`: possible, a private heads-up to the maintainers
    beg_bounty: float = 0.5


@dataclass(frozen=True)
class TextContext:
    """What GitHub says about a text besides its words (who wrote it, where)."""

    source: str = "issue"  # issue | comment | discussion | discussion_comment | pull_request
    author_association: str | None = None
    author_is_bot: bool = False
    labels: tuple[str, ...] = ()
    repo_full_name: str | None = None
    repo_paths: frozenset[str] | None = None


@dataclass(frozen=True)
class _Signal:
    name: str
    pattern: str  # the source, as in bot/rules/signals.py (compiled by branch only: `parts`)
    vuln: float
    beg: float
    family: str  # "class" | "report" | "plain" | "topic" | "beg" | "neg" | "payload"
    parts: tuple[tuple[str, str, re.Pattern[str]], ...]  # (trigram of literal, literal every match must contain, branch)

    def search(self, text: str) -> bool:
        """Same answer as ``re.search(pattern, text)``, faster: a branch is only run when its literal
        occurs. (The whole pattern is not kept compiled: 0.7 MB of every worker process that no
        search needs.)"""
        for _, literal, branch in self.parts:
            if literal in text and branch.search(text) is not None:
                return True
        return False


def _trigrams(text: str) -> set[str]:
    """Every 3-character substring of ``text``, plus "" (the key of literals shorter than 3)."""
    grams = set(map("".join, zip(text, text[1:], text[2:])))
    grams.add("")
    return grams


# Letters by how common they are in issue text; a literal is keyed by its least common trigram so
# that the set lookup in ``_Signal.search`` rules out as many branches as it can (speed only).
_COMMON = " etaoinsrhldcumfpgwybvk.,-'"


def _gram_key(literal: str) -> str:
    if len(literal) < 3:
        return ""
    grams = [literal[i:i + 3] for i in range(len(literal) - 2)]
    return max(grams, key=lambda g: sum(_COMMON.index(c) if c in _COMMON else len(_COMMON) for c in g))


def _skip_group(p: str, i: int) -> int:
    """Index just past the group or class that starts at p[i]."""
    depth, in_class = 0, False
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def _split_top(pattern: str) -> list[str]:
    """The pattern's top-level ``|`` alternatives."""
    branches, start, i = [], 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c in "([":
            i = _skip_group(pattern, i) if c == "(" else _skip_class(pattern, i)
            continue
        if c == "|":
            branches.append(pattern[start:i])
            start = i + 1
        i += 1
    branches.append(pattern[start:])
    return branches


def _distribute(branch: str) -> list[str] | None:
    """``\\b(?:a|b)REST`` -> [``\\baREST``, ``\\bbREST``]; None when the branch does not start so.
    Leading lookarounds distribute like ``\\b`` (zero-width, at the same position):
    ``(?<!x)(?:a|b)REST`` -> [``(?<!x)aREST``, ``(?<!x)bREST``]."""
    i = 0
    while branch.startswith(("(?<!", "(?<=", "(?!", "(?="), i):
        i = _skip_group(branch, i)
        if branch[i:i + 1] in ("?", "*", "+", "{"):
            return None
    prefix = branch[:i] + (r"\b" if branch.startswith(r"\b", i) else "")
    rest = branch[len(prefix):]
    if not rest.startswith("(?:"):
        return None
    end = _skip_group(rest, 0)
    alts = _split_top(rest[3:end - 1])
    if end < len(rest) and rest[end] == "?":  # (?:a)?c = ac|c
        tail = rest[end + 2:] if rest[end + 1:end + 2] == "?" else rest[end + 1:]
        return [prefix + alt + tail for alt in alts] + [prefix + tail]
    if end < len(rest) and rest[end] in "*+{":
        return None
    if len(alts) < 2:
        return None
    return [prefix + alt + rest[end:] for alt in alts]


def _branches(pattern: str, depth: int = 0) -> list[tuple[str, str]]:
    """Split a pattern at its top-level ``|`` into (required literal, branch) pairs.

    A speed-up only: ``str.__contains__`` is far cheaper than a regex scan, and a branch whose
    required literal is absent cannot match. A branch that starts with a group of alternatives and
    has no literal of its own is distributed over them (``(?:a|b)c`` = ``ac|bc``). A branch with no
    usable literal gets "" (always run).
    """
    anchors: list[tuple[str, str]] = []
    for br in _split_top(pattern):
        runs, cur, i = [], "", 0
        while i < len(br):
            c = br[i]
            if c == "\\" and i + 1 < len(br):
                n = br[i + 1]
                if n.isalnum():
                    runs.append(cur)
                    cur = ""
                else:
                    cur += n
                i += 2
                continue
            if c == "(":
                runs.append(cur)
                cur = ""
                i = _skip_group(br, i)
            elif c == "[":
                runs.append(cur)
                cur = ""
                i = _skip_class(br, i)
            elif c in "?*":
                runs.append(cur[:-1])
                cur = ""
                i += 1
                continue
            elif c == "{":
                j = br.index("}", i)
                if br[i + 1:j].split(",")[0] in ("", "0"):
                    cur = cur[:-1]
                runs.append(cur)
                cur = ""
                i = j + 1
                continue
            elif c in ".^$+":
                if c == "+":
                    runs.append(cur)
                else:
                    runs.append(cur)
                cur = ""
                i += 1
                continue
            else:
                cur += c
                i += 1
                continue
            # after a group or class: a following quantifier belongs to it
            if i < len(br) and br[i] in "?*+":
                i += 1
            elif i < len(br) and br[i] == "{":
                i = br.index("}", i) + 1
        runs.append(cur)
        best = max(runs, key=len)
        # A branch that starts with a group gives the regex engine no literal prefix to scan for:
        # distribute it even when it has a long enough literal further on.
        if (len(best) < 3 or br.startswith(("(?:", r"\b(?:"))) and depth < 2:
            spread = _distribute(br)
            if spread is not None:
                parts = [a for alt in spread for a in _branches(alt, depth + 1)]
                if all(lit for lit, _ in parts):
                    anchors.extend(parts)
                    continue
        anchors.append((best if len(best) >= 2 else "", br))
    return anchors


def _skip_class(p: str, i: int) -> int:
    i += 1
    if i < len(p) and p[i] == "^":
        i += 1
    if i < len(p) and p[i] == "]":
        i += 1
    while i < len(p) and p[i] != "]":
        i += 2 if p[i] == "\\" else 1
    return i + 1


_LEADING_WORD = re.compile(r"\\b([^\\.^$*+?{}\[\]()|]+)")


def _literal_first(branch: str) -> str:
    """``\\bfoo REST`` -> ``foo (?<=\\bfoo )REST``: the same matches, found faster.

    The regex engine scans for a literal prefix with a fast substring search, but a leading ``\\b``
    hides the prefix and makes it try every position; moving the word-boundary check into a
    lookbehind just after the literal gives it the prefix back.
    """
    m = _LEADING_WORD.match(branch)
    if not m:
        return branch
    run = m.group(1)
    if m.end() < len(branch) and branch[m.end()] in "?*+{":
        run = run[:-1]  # the quantifier applies to the run's last character
    if not run:
        return branch
    return run + "(?<=\\b" + run + ")" + branch[2 + len(run):]


def _s(name: str, pattern: str, vuln: float, beg: float = 0.0, family: str = "report") -> _Signal:
    parts = tuple((_gram_key(lit), lit, re.compile(_literal_first(br))) for lit, br in _branches(pattern))
    return _Signal(name, pattern, vuln, beg, family, parts)


# The tables of bot/rules/signals.py, compiled, one tuple per family.
_CLASS_SIGNALS: tuple[_Signal, ...] = tuple(_s(name, pat, w, b, "class") for name, pat, w, b in signals.CLASS)
_REPORT_SIGNALS: tuple[_Signal, ...] = tuple(_s(name, pat, w, b, "report") for name, pat, w, b in signals.REPORT)
_TOPIC_SIGNALS: tuple[_Signal, ...] = tuple(_s(name, pat, w, 0.0, "topic") for name, pat, w in signals.TOPIC)
_BEG_SIGNALS: tuple[_Signal, ...] = tuple(_s(name, pat, w, b, "beg") for name, pat, w, b in signals.BEG)
_NEG_SIGNALS: tuple[_Signal, ...] = tuple(_s(name, pat, w, b, "neg") for name, pat, w, b in signals.NEGATIVE)
_PAYLOAD_SIGNALS: tuple[_Signal, ...] = tuple(_s(name, pat, w, 0.0, "payload") for name, pat, w in signals.PAYLOAD)
_PLAIN_SIGNALS: tuple[_Signal, ...] = tuple(_s(name, pat, w, 0.0, "plain") for name, pat, w in signals.PLAIN)
_PLAIN_NEG_SIGNALS: tuple[_Signal, ...] = tuple(
    _s(name, pat, w, b, "neg") for name, pat, w, b in signals.PLAIN_NEGATIVE
)

_ALL_SIGNALS = (_CLASS_SIGNALS + _REPORT_SIGNALS + _PLAIN_SIGNALS + _TOPIC_SIGNALS + _BEG_SIGNALS + _NEG_SIGNALS
                + _PLAIN_NEG_SIGNALS + _PAYLOAD_SIGNALS)

# Inverted index of the word signals' branches by their literal's trigram key: for a text, only
# the branches whose key occurs among its trigrams are looked at.
# Each entry also carries all the literal's trigrams: when one is missing from the text's, the
# literal cannot occur, and a set comparison is cheaper than the substring scan.
_BY_GRAM: dict[str, tuple[tuple[int, frozenset[str], str, re.Pattern[str]], ...]] = {}
for _i, _sig in enumerate(_ALL_SIGNALS):
    if _sig.family != "payload":
        for _gram, _lit, _br in _sig.parts:
            _entry = (_i, frozenset(_lit[j:j + 3] for j in range(len(_lit) - 2)), _lit, _br)
            _BY_GRAM[_gram] = _BY_GRAM.get(_gram, ()) + (_entry,)
del _i, _sig, _gram, _lit, _br, _entry


def _word_hits(text: str) -> set[int]:
    """Indices (in ``_ALL_SIGNALS``) of the word signals that match ``text``: ``sig.search(text)``
    for every non-payload signal at once, each branch run only if its literal occurs."""
    hits: set[int] = set()
    grams = _trigrams(text)
    for gram in _BY_GRAM.keys() & grams:
        for i, literal_grams, literal, branch in _BY_GRAM[gram]:
            if i not in hits and literal_grams <= grams and literal in text and branch.search(text) is not None:
                hits.add(i)
    return hits


# The payload signals' branches, each with the characters of its literal that are not lower-case
# letters, digits or spaces ("gates"): a branch is only looked at when all of them occur in the text
# (one `in` per such character and text instead of a scan per literal; speed only). Branches are
# filed under one of their gates, the least common, or "" when they have none.
_GATE_FREE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 ")
_COMMON_GATES = "._-/:()'\",*#"
_PAYLOAD_BY_GATE: dict[str, tuple[tuple[int, frozenset[str], str, re.Pattern[str]], ...]] = {"": ()}
for _i, _sig in enumerate(_ALL_SIGNALS):
    if _sig.family == "payload":
        for _, _lit, _br in _sig.parts:
            _gates = frozenset(_lit) - _GATE_FREE
            _key = min(_gates, key=lambda c: (_COMMON_GATES.find(c), c), default="")
            _PAYLOAD_BY_GATE[_key] = _PAYLOAD_BY_GATE.get(_key, ()) + ((_i, _gates, _lit, _br),)
del _i, _sig, _lit, _br, _gates, _key
_GATE_CHARS = tuple(sorted(frozenset().union(*(g for parts in _PAYLOAD_BY_GATE.values() for _, g, _, _ in parts))))


def _payload_hits(text: str) -> set[int]:
    """Indices (in ``_ALL_SIGNALS``) of the payload signals that match ``text``: ``sig.search(text)``
    for each of them at once, each distinct literal looked for once."""
    present = {c for c in _GATE_CHARS if c in text}
    hits: set[int] = set()
    found: dict[str, bool] = {}
    for key in ("", *present):
        for i, gates, literal, branch in _PAYLOAD_BY_GATE.get(key, ()):
            if i in hits or not gates <= present:
                continue
            occurs = found.get(literal)
            if occurs is None:
                occurs = found[literal] = literal in text
            if occurs and branch.search(text) is not None:
                hits.add(i)
    return hits


REASON_NAMES: frozenset[str] = frozenset(
    [s.name for s in _ALL_SIGNALS] + list(signals.DERIVED) + [f"lang:{c}" for c in signals.LANGS]
)

# ---------------------------------------------------------------------------------------------
# Markdown zoning

_FENCE = re.compile(r"^\s{0,3}(```+|~~~+)")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_UNTICKED = re.compile(r"^\s*[-*]\s*\[ \]\s.*$", re.M)
_URL = re.compile(r"https?://[^\s)\]>\"'`]+|www\.[^\s)\]>\"'`]+")


def _zones(body: str) -> tuple[str, str, str]:
    """Split Markdown into (prose, code, quote) texts, line by line."""
    prose: list[str] = []
    code: list[str] = []
    quote: list[str] = []
    fence: str | None = None
    prev_blank = True
    in_indented = False
    for line in body.split("\n"):
        m = _FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            else:
                code.append(line)
            prev_blank = False
            continue
        if m:
            fence = m.group(1)
            in_indented = False
            continue
        stripped = line.lstrip()
        if not stripped:
            prev_blank = True
            in_indented = False
            continue
        indent = len(line) - len(stripped)
        if (line.startswith("\t") or indent >= 4) and (prev_blank or in_indented):
            code.append(line)
            in_indented = True
        elif stripped.startswith(">"):
            quote.append(stripped.lstrip("> "))
            in_indented = False
        else:
            prose.append(line)
            in_indented = False
        prev_blank = False
    return "\n".join(prose), "\n".join(code), "\n".join(quote)


# ---------------------------------------------------------------------------------------------
# Language (for the reason only; all vocabularies are always searched)

_CJK = re.compile(r"[\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


def _stop_words(rx: re.Pattern[str]) -> frozenset[str]:
    """The words a ``\\b(?:w1|w2|...)\\b`` pattern matches, with ``[xy]`` classes expanded."""
    body = rx.pattern
    assert body.startswith("\\b(?:") and body.endswith(")\\b"), body
    words: set[str] = set()
    for alt in body[5:-3].split("|"):
        forms = [""]
        for piece in re.findall(r"\[[^\]]+\]|[^\[]", alt):
            chars = piece[1:-1] if piece.startswith("[") else piece
            forms = [f + c for f in forms for c in chars]
        words.update(forms)
    assert all(re.fullmatch(r"\w+", w) for w in words)  # so a match is always one whole \w+ run
    return frozenset(words)


# Each stop-word pattern matches whole \w+ runs only, so counting the text's words once gives the
# same figures as running each pattern's findall (which, with a leading \b, tries every position).
_STOP_WORDS = {lang: _stop_words(rx) for lang, rx in signals.STOP_WORD_PATTERNS.items()}
_WORD = re.compile(r"\w+")
_STOP_INDEX: dict[str, tuple[str, ...]] = {}  # stop word -> the languages whose set holds it
for _lang, _words in _STOP_WORDS.items():
    for _w in _words:
        _STOP_INDEX[_w] = _STOP_INDEX.get(_w, ()) + (_lang,)
del _lang, _words, _w


def _language(text: str) -> str:
    sample = text[:3000]
    if not sample.isascii():  # the scripts below are all non-ASCII
        if _KANA.search(sample):
            return "ja"
        if len(_HANGUL.findall(sample)) >= 4:
            return "ko"
        if len(_CJK.findall(sample)) >= 4:
            return "zh"
        if len(_CYRILLIC.findall(sample)) >= 8:
            return "ru"
    seen = Counter(learned.ascii_words(sample) if sample.isascii() else _WORD.findall(sample))
    counts = dict.fromkeys(_STOP_WORDS, 0)
    for w in seen.keys() & _STOP_INDEX:  # the text's stop words only, found by a set operation
        n = seen[w]
        for lang in _STOP_INDEX[w]:
            counts[lang] += n
    best = max(counts, key=counts.__getitem__)
    if counts[best] < 3 and counts["en"] < 2:
        # Short texts: fall back on letters each language uses and English does not.
        for lang, rx in signals.LETTERS:
            if rx.search(sample):
                return lang
        return "en"
    if best == "en" or counts[best] <= counts["en"]:
        return "en"
    if best in ("es", "pt"):  # close cousins: decide on letters only one of them uses
        if re.search(r"[ãõç]|\bn[aã]o\b|\bvoc[eê]\b", sample):
            return "pt"
        if re.search(r"[ñ¿¡]|\bel\b|\blos\b", sample):
            return "es"
    return best


@dataclass(frozen=True)
class _Eval:
    """What the rules make of one window of a text: log-odds and the signals that fired."""

    v_logit: float
    b_logit: float
    fired: tuple[str, ...]
    has_class: bool
    has_plain: bool
    scanner_explains: bool
    has_claim: bool  # a weakness class, report wording, plain-language capability, attacker framing or payload
    lang_text: str
    urls: tuple[str, ...]


def _is_stacktrace(code: str) -> bool:
    """``signals.STACKTRACE.search(code) is not None``, shape by shape (see STACKTRACE_PARTS)."""
    return any(literal in code and branch.search(code) is not None for literal, branch in signals.STACKTRACE_PARTS)


def _evaluate(title: str, raw_body: str) -> _Eval:
    """The rules on one window: ``title`` already normalised, ``raw_body`` as written."""
    text = _normalise(raw_body)
    if "<!--" in text:  # each needs its literal: a substring test skips most bodies (speed only)
        text = _HTML_COMMENT.sub(" ", text)
    if "[ ]" in text:
        text = _UNTICKED.sub(" ", text)

    prose, code, quote = _zones(text)
    urls = _URL.findall(prose) + _URL.findall(quote)
    prose = _URL.sub(" ", prose)
    quote = _URL.sub(" ", quote)

    fired: dict[str, tuple[float, float]] = {}
    zones_for_words = (("title", title), ("prose", prose), ("quote", quote))
    code_and_inline = code + "\n" + prose + "\n" + title + "\n" + " ".join(urls)
    all_words = title + "\n\n" + prose + "\n\n" + quote
    word_hits_all = _word_hits(all_words)  # one pass decides for most signals; zones only on a hit
    payload_hits = _payload_hits(code_and_inline)

    quoted_only_hits = 0
    word_hits = 0
    for i in sorted(word_hits_all | payload_hits):  # the signals that can fire, in table order
        sig = _ALL_SIGNALS[i]
        if sig.family == "payload":
            fired[sig.name] = (sig.vuln, sig.beg)
            continue
        best = 0.0
        for zone, zt in zones_for_words:
            if zt and _ZONE_WEIGHT[zone] > best and sig.search(zt):
                best = _ZONE_WEIGHT[zone]
                if zone == "title":
                    break
        if best:
            fired[sig.name] = (sig.vuln * best, sig.beg * best)
            if sig.family in ("class", "report", "plain") and best == _ZONE_WEIGHT["quote"]:
                quoted_only_hits += 1
            if sig.family in ("class", "report", "plain"):
                word_hits += 1

    names = set(fired)
    has_class = any(n.startswith("vuln-term:") for n in names)
    # A weak plain helper (weight <= 1: "API keys", phone numbers, "on the server") adds weight but
    # is no claim on its own: "are API keys hashed at rest?" names no capability.
    has_plain = any(n.startswith("plain:") and n not in _WEAK_PLAIN for n in names)
    has_report = "report:vulnerability" in names or "attacker-framing" in names or has_class or has_plain
    bumpish = "negative:dependency-bump" in names or "negative:bot-author" in names

    advisory_links = sum(1 for u in urls if signals.ADVISORY_URL.search(u))
    if advisory_links:
        fired["link:advisory"] = (0.3, 0.0)
    if any(signals.BOUNTY_URL.search(u) for u in urls):
        fired["link:bounty-platform"] = (1.0, 0.5)
    if bumpish and (advisory_links or "cve-id" in names):
        fired["negative:third-party-advisory"] = (-2.0, -1.0)
    elif advisory_links and not has_class and "attacker-framing" not in names:
        # A link to someone else's advisory with no weakness described here: a pointer, not a report.
        fired["negative:third-party-advisory"] = (-1.2, -0.5)

    if "negative:crash-framing" in fired and (has_class or "attacker-framing" in names or has_plain):
        # Memory-safety and DoS reports talk about crashes too; only crashes *without* attacker framing are ordinary.
        fired["negative:crash-framing"] = (-0.3, -0.3)

    if "plain:server-fetch" in names and signals.INTERNAL_TARGET.search(all_words + " " + " ".join(urls)):
        fired["plain:internal-target"] = (1.2, 0.0)

    payloads = [n for n in names if n.startswith("payload:")]
    if payloads and has_report and signals.STEPS.search(text):
        fired["poc-steps"] = (1.0, 0.0)
    if not has_report:
        # A payload shape with no words around it is a test fixture or an example, not a report.
        for n in payloads:
            v, b = fired[n]
            fired[n] = (v * 0.4, b)
    if code and "attacker-framing" not in names and not payloads and _is_stacktrace(code):
        # A trace with no claim around it is an ordinary crash report; with one, only a hint.
        fired["stacktrace-in-code"] = (-0.6, -0.3) if has_report else (-1.2, -0.3)
    if word_hits and quoted_only_hits == word_hits:
        fired["quoted-only"] = (-0.8, -0.5)

    # Security-topic words are capped: they hint, they never decide on their own.
    topic_v = sum(v for n, (v, _) in fired.items() if n.startswith("security-topic:"))
    over = max(0.0, topic_v - _TOPIC_CAP)

    # A payment ask about a security finding of any kind leans to beg bounty: the phrase lists cannot
    # name every low-value finding (SRI, TRACE, mixed content, ...). A real report that asks about a
    # bounty still wins on its vulnerability score (classify compares the two).
    if "payment-ask" in fired and any(n.startswith(_FINDING_PREFIXES) for n in fired if n != "payment-ask"):
        fired["beg:ask-about-finding"] = (0.0, BEG_ASK_ABOUT_FINDING)

    # Weak negatives offset claims; they do not erase topic words on their own (a bug tracker's
    # "test fails under the security manager" is still about security, it just is no report).
    claims = sum(v for n, (v, _) in fired.items() if v > 0 and not n.startswith("security-topic:"))
    weak = sum(fired[n][0] for n in signals.WEAK_NEGATIVES if n in fired)
    v_sum = sum(v for v, _ in fired.values()) - over - weak + max(weak, -claims)
    b_sum = sum(b for _, b in fired.values())
    # Begging needs a scanner finding or a payment ask; generic words alone are not beg bounty.
    if not any(n.startswith("scanner-finding:") or n == "payment-ask" for n in fired):
        b_sum = min(b_sum, 1.0)
    has_claim = has_report or bool(payloads) or any(n.startswith("report:") for n in names)
    return _Eval(_BIAS + v_sum, _BIAS + b_sum, tuple(fired), has_class, has_plain,
                 any(n.startswith("scanner-finding:") for n in fired), has_claim, title + "\n" + prose, tuple(urls))


# ---------------------------------------------------------------------------------------------
# Long bodies: windows


def windows(body: str) -> list[str]:
    """A body cut into overlapping windows that together cover all of it (up to MAX_TOTAL_CHARS).

    Windows are ``MAX_BODY_CHARS`` long and overlap by ``WINDOW_OVERLAP`` (so a sentence across a
    cut is read whole in one of them); there are never more than ``MAX_WINDOWS``: a longer body gets
    longer windows, so the cost stays linear in its length. A window after the first starts at a
    line start within its overlap, when there is one.
    """
    body = body[:MAX_TOTAL_CHARS]
    if len(body) <= MAX_BODY_CHARS:
        return [body]
    size = max(MAX_BODY_CHARS, -(-(len(body) - WINDOW_OVERLAP) // MAX_WINDOWS) + WINDOW_OVERLAP)
    out, start = [], 0
    while True:
        out.append(body[start:start + size])
        if start + size >= len(body):
            return out
        nxt = start + size - WINDOW_OVERLAP
        nl = body.find("\n", nxt, nxt + WINDOW_OVERLAP // 2)
        start = nl + 1 if nl != -1 else nxt


# ---------------------------------------------------------------------------------------------
# Phishing and status pings: texts that are about a report without being one


def _phishing_reasons(ev: _Eval, raw: str, context: TextContext | None) -> tuple[str, ...]:
    """Fake "security alert" campaigns: alert wording, a link off GitHub, and two of mass mentions,
    urgency and impersonation of GitHub. Never for people with write access."""
    if context is not None and (context.author_association or "").upper() in ("OWNER", "MEMBER", "COLLABORATOR"):
        return ()
    text = ev.lang_text
    if not signals.PHISH_ALERT.search(text):
        return ()
    if not any(not signals.PHISH_TRUSTED_HOST.match(u) for u in ev.urls):
        return ()
    found = ["phishing:alert-wording", "phishing:external-link"]
    if len(set(signals.MENTION.findall(raw))) >= 3:
        found.append("phishing:mass-mentions")
    if signals.PHISH_URGENCY.search(text):
        found.append("phishing:urgency")
    if signals.PHISH_IMPERSONATION.search(text):
        found.append("phishing:impersonation")
    return tuple(found) if len(found) >= 4 else ()


def _status_ping_reasons(ev: _Eval, raw_len: int) -> tuple[str, ...]:
    """Someone asking after a report, or asking for a private channel, without describing a weakness."""
    if raw_len > _STATUS_PING_MAX_CHARS or ev.has_class or ev.has_plain:
        return ()
    if signals.STATUS_ENABLE_PRIVATE.search(ev.lang_text):
        return ("status-ping:private-channel",)
    if signals.STATUS_FOLLOW_UP.search(ev.lang_text) and signals.STATUS_ABOUT_REPORT.search(ev.lang_text):
        return ("status-ping:follow-up",)
    return ()


# ---------------------------------------------------------------------------------------------
# Scoring: rules and the learned model, combined


def _squash(x: float) -> float:
    if x < -60:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


# Longest run of word characters the rules read whole; a longer one keeps its first this many.
# Words are never this long; hashes, tokens and base64 keep their start, which is what a pattern
# looks for. Without the cap a stranger's body of one long word that repeats a literal (such as
# "uploaduploadupload...") made a branch like ``upload\w*[^.\n]{0,80}?...`` rescan the rest of
# the word at each repeat: 30 s of a worker's CPU for 8 KB.
MAX_WORD = 64
_LONG_WORD = re.compile(r"\w{%d,}" % (MAX_WORD + 1))
_LONG_ASCII_RUN = "x" * (MAX_WORD + 1)


def _normalise(text: str) -> str:
    # NFKC folds full-width forms (ＸＳＳ, ＳＱＬ) used in CJK text; lower-casing makes patterns simple.
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    elif _LONG_ASCII_RUN not in text.translate(learned.ASCII_RUNS):  # (the common case, found cheaply)
        return text.lower()
    return _LONG_WORD.sub(lambda m: m.group(0)[:MAX_WORD], text.lower())


def rule_logits(title: str, body: str | None) -> tuple[float, float, bool]:
    """The rules' own log-odds (vulnerability, beg bounty) on a text's first window, and whether
    they found a claim: for training."""
    ev = _evaluate(_normalise((title or "")[:MAX_TITLE_CHARS]), windows(body or "")[0])
    return ev.v_logit, ev.b_logit, ev.has_claim


# Without a claim the rules can name (only security-topic words, or nothing), a text stays below
# the public tier, this much under its threshold: the learned model alone can ask for a private
# heads-up, never for a public redirect (reason ``learned-only``).
CLAIMLESS_MARGIN = 0.001


def combine(rule_logit: float, learned_logit: float, stack: dict[str, float]) -> float:
    """The combined probability: a logistic regression over the two log-odds (weights fitted by
    scripts/train_detector.py on out-of-fold predictions). The learned log-odds are floored at
    ``stack["floor"]``: the model may vouch for a text the rules missed, but its doubt about a text
    unlike anything it learnt from (a JIRA ticket, a build log) cannot bury what the rules found."""
    learned_logit = max(stack.get("floor", -1e9), learned_logit)
    return _squash(stack["rule"] * rule_logit + stack["learned"] * learned_logit + stack["bias"])


_RULES_ONLY = {"rule": 1.0, "learned": 0.0, "bias": 0.0}


def classify(title: str, body: str | None, thresholds: Thresholds | None = None,
             context: TextContext | None = None, *, model: bool = True) -> Verdict:
    """Classify one text (title and Markdown body): vulnerability, possible, beg_bounty, phishing,
    status_ping or none. A body longer than MAX_BODY_CHARS is read in overlapping windows and
    judged by its most report-like window. ``model=False`` scores with the rules alone (the
    benchmark's yardstick)."""
    th = thresholds or Thresholds()
    raw_title = (title or "")[:MAX_TITLE_CHARS]
    ntitle = _normalise(raw_title)
    raw_body = body or ""
    parts = windows(raw_body)
    lm = learned.load() if model else None
    stack = lm.meta["stack"] if lm is not None else _RULES_ONLY

    best_v: tuple[float, float, _Eval] | None = None  # (combined p, learned logit, eval)
    best_b: _Eval | None = None
    first: _Eval | None = None
    for part in parts:
        ev = _evaluate(ntitle, part)
        first = first or ev
        ll = lm.logit(raw_title, part) if lm is not None else 0.0
        pv = combine(ev.v_logit, ll, stack)
        if not ev.has_claim and pv >= th.public:
            pv = max(th.notify, th.public - CLAIMLESS_MARGIN)
        if best_v is None or pv > best_v[0]:
            best_v = (pv, ll, ev)
        if best_b is None or ev.b_logit > best_b.b_logit:
            best_b = ev
    assert best_v is not None and best_b is not None and first is not None
    pv, ll, ev = best_v
    pb = _squash(best_b.b_logit)

    extra: list[str] = [f"learned:{_squash(ll):.2f}"] if lm is not None else []
    if len(parts) > 1:
        extra.append("windowed")
    if not ev.has_claim and pv >= max(th.notify, th.public - CLAIMLESS_MARGIN):
        extra.append("learned-only")
    if len(raw_body) > MAX_TOTAL_CHARS:
        extra.append("truncated")

    phish = _phishing_reasons(first, raw_body[:MAX_BODY_CHARS], context)
    ping = _status_ping_reasons(first, len(raw_title) + len(raw_body)) if not phish else ()
    if phish:
        kind, score, fired = "phishing", max(pv, 0.9), first.fired + phish
    elif ping:
        kind, score, fired = "status_ping", 0.8, first.fired + ping
    elif pv >= th.public and ev.has_claim and (pv >= pb or (ev.has_class and not best_b.scanner_explains)):
        kind, score, fired = "vulnerability", pv, ev.fired
    elif pb >= th.beg_bounty:
        kind, score, fired = "beg_bounty", pb, best_b.fired
    elif pv >= th.public and ev.has_claim:
        kind, score, fired = "vulnerability", pv, ev.fired
    elif pv >= th.notify:
        kind, score, fired = "possible", pv, ev.fired
    else:
        kind, score, fired = "none", max(pv, pb), ev.fired

    reasons = sorted({n for n in fired if n in REASON_NAMES} | {n for n in extra if n in REASON_NAMES})
    if lm is not None:
        reasons.insert(0, extra[0])  # learned:<probability>, first
    lang = _language(first.lang_text)
    if lang != "en":
        reasons.append(f"lang:{lang}")
    return Verdict(kind, round(score, 4), tuple(reasons))


_LEARNED_REASON = re.compile(r"learned:[01]\.\d\d")


def is_reason(name: str) -> bool:
    """True for a name from the fixed reason vocabulary or the learned model's ``learned:0.83``."""
    return name in REASON_NAMES or _LEARNED_REASON.fullmatch(name) is not None


def features(title: str, body: str | None) -> frozenset[str]:
    """Names of what a text holds, for the per-repository memory of maintainers' feedback: the
    signals that fired, and hashed word pairs (``h:`` + 8 hex digits; no word itself). A hash of a
    word pair is still derived from the text: store these only where the text may be stored."""
    verdict = classify(title, body, Thresholds(public=1.01, notify=1.01, beg_bounty=1.01))
    signalled = frozenset(r for r in verdict.reasons if not r.startswith("learned:"))  # a score, not a feature
    words = _PAIR_WORD.findall(_normalise(((title or "")[:MAX_TITLE_CHARS] + " " + (body or "")[:MAX_BODY_CHARS])))
    pairs = {f"{a} {b}" for a, b in zip(words, words[1:])}
    hashed = sorted({"h:" + hashlib.blake2b(p.encode(), digest_size=4).hexdigest() for p in pairs})[:MAX_FEATURES]
    return signalled | frozenset(hashed)


MAX_FEATURES = 512  # hashed pairs kept per text: bounds what one text costs the memory
_PAIR_WORD = re.compile(r"\w{3,30}")


def classify_stream(lines: Iterable[str], out: TextIO, thresholds: Thresholds | None = None) -> int:
    """Classify JSON Lines ``{"title", "body"}``; write one result line per input line, in order.

    A line that is not a JSON object with a string ``title`` and a string-or-null ``body`` gets
    ``{"error": ...}`` on its line (the message never repeats the input) and the stream goes on.
    Returns the number of such bad lines.
    """
    bad = 0
    for lineno, line in enumerate(lines, 1):
        err = None
        try:
            obj = json.loads(line)
        except (ValueError, TypeError):
            obj, err = None, f"line {lineno}: not valid JSON"
        if err is None:
            if not isinstance(obj, dict):
                err = f"line {lineno}: expected a JSON object with \"title\" and \"body\""
            elif "title" not in obj or "body" not in obj:
                missing = [k for k in ("title", "body") if k not in obj]
                err = f"line {lineno}: missing field(s): {', '.join(missing)}"
            elif not isinstance(obj["title"], str) or not (obj["body"] is None or isinstance(obj["body"], str)):
                err = f"line {lineno}: \"title\" must be a string and \"body\" a string or null"
        if err is not None:
            bad += 1
            out.write(json.dumps({"error": err}) + "\n")
            continue
        v = classify(obj["title"], obj["body"], thresholds)
        out.write(json.dumps({"verdict": v.kind, "score": v.score, "reasons": list(v.reasons)}) + "\n")
    return bad
