"""The triage card, as pure rules: what a report claims, what it holds, how alike two texts are,
and the next step to suggest. No I/O: bot/reports/triage.py asks GitHub and the store, then
calls these.

Everything here reads a stranger's text, so every list is bounded (MAX_* below) and every
pattern is linear (no nested quantifiers over the same characters). The card keeps names the
report gives (paths, symbols, ids, versions): it is shown only to maintainers, in the private
tracker or Secbot's store.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from bot.rules.signals import BEG

MAX_TEXT = 100_000  # characters of a report read for claims
MAX_COMPARED = 20_000  # characters of each text compared for duplicates
MAX_PATHS = 15
MAX_SYMBOLS = 10
MAX_OPTIONS = 8
MAX_ENDPOINTS = 8
MAX_VERSIONS = 5
MAX_IDS = 10
MAX_SEARCHES = 4  # code searches one card may make (symbols first, then options, then endpoints)
DUPLICATE = 0.6  # a similarity at or above this is "likely a duplicate"
SIMILAR = 0.3  # below this a neighbour is not worth showing

# Extensions of files a report may name (lower case, without the dot).
_EXTENSIONS = frozenset(
    "py pyi js mjs cjs jsx ts tsx go rs c h cc cpp hpp cxx java kt scala rb php pl pm lua sh bash zsh ps1 cs swift m "
    "mm ex exs erl hs ml clj dart r jl vue svelte html htm css scss xml json yml yaml toml ini cfg conf lock gradle "
    "mod sum txt md rst sql proto graphql tf dockerfile".split())
_PATH = re.compile(r"(?<![\w@/.:-])((?:\.{0,2}/)?[\w.-]{1,100}(?:/[\w.-]{1,100}){0,12})(?::\d{1,6})?(?![\w/-])")
_BLOB_URL = re.compile(r"https?://github\.com/[\w.-]+/[\w.-]+/(?:blob|tree)/([\w.-]{1,100})/([\w./-]{1,600})")
_URL = re.compile(r"https?://\S{1,2000}")
_EMAIL = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}\b")
_CALL = re.compile(r"(?<![\w.$])((?:[A-Za-z_]\w{0,60}(?:\.|::|->)){0,3}[A-Za-z_]\w{1,60})\s?\(")
_DEFN = re.compile(r"\b(?:def|class|function|func|fn|struct|interface|trait|sub|method)\s+([A-Za-z_]\w{1,60})")
_TICKED = re.compile(r"`([A-Za-z_]\w{0,60}(?:(?:\.|::)[A-Za-z_]\w{0,60}){0,3})(?:\(\))?`")
_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9]{0,30}(?:[-_][a-z0-9]{1,30}){0,6})(?![\w-])")
_ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(/[\w./{}:-]{0,200})")
_API_PATH = re.compile(r"(?<![\w/.:-])(/(?:api|v\d|graphql|rest|admin|auth|oauth)[\w./{}-]{0,200})")
_VERSION = re.compile(
    r"(?:\b(?:version|versions|release|tag|v)\s?:?\s?|(?<![\w.])v)(\d{1,4}\.\d{1,4}(?:\.\d{1,6})?(?:[-.]?(?:rc|beta|alpha|post|dev|b|a)\.?\d{0,4})?)(?![\w.]*\d)"
    r"|(?<![\w.])(\d{1,4}\.\d{1,4}\.\d{1,6}(?:[-.]?(?:rc|beta|alpha|post|dev)\.?\d{0,4})?)(?![.\w])",
    re.I)
_CVE = re.compile(r"\bCVE-(\d{4})-(\d{4,7})\b", re.I)
_GHSA = re.compile(r"\bGHSA(?:-[23456789cfghjmpqrvwx]{4}){3}\b", re.I)
_WORD = re.compile(r"[a-z][a-z0-9_]{2,40}")

# Words that look like calls in prose, or are every language's keywords and built-ins.
_NOT_SYMBOLS = frozenset(
    "if for while switch return print printf echo function def class new catch try with and or not sizeof typeof "
    "e.g i.e etc see note fig figure step steps version here this that the above below example alert eval "
    "len str int dict list set open exec system require import include main self super assert".split())
_CODE_FENCE = re.compile(r"```|~~~")
_COMMAND = re.compile(r"(?m)^\s*(?:\$|#|>|PS>)\s+\S|^\s*(?:curl|wget|python3?|node|npm|pip|go run|cargo|java|ruby|php|"
                      r"bash|sh|nc|ncat|docker|git|make|perl)\s")
_HTTP_REQUEST = re.compile(r"(?m)^(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S{1,500} HTTP/[12]|^Host:\s\S")
_STEPS = re.compile(r"(?im)steps? to reproduce|reproduc(?:e|tion)(?: steps)?\s*:|proof of concept|\bpoc\b"
                    r"|^\s*(?:1[.)]|step 1)\s+\S")
_IMPACT = re.compile(r"(?i)\bimpact\b|attacker (?:can|could|may|is able)|allows? (?:an? )?(?:remote |unauthenticated |local )?"
                     r"(?:attacker|user)s?|leads? to|results? in|could (?:allow|lead|result)|arbitrary (?:code|command|file)")
_AFFECTED = re.compile(r"(?i)affected versions?|versions? affected|(?:<=?|>=?|up to|before|prior to|through)\s*v?\d+\.\d+")
_AI_DISCLOSURE = re.compile(r"(?i)\b(?:chat ?gpt|gpt-?\d|openai|claude|gemini|copilot|llama|llm|large language model|"
                            r"ai[- ](?:assisted|generated|tool|model|help)|(?:with|using) (?:the help of )?(?:an? )?ai\b|"
                            r"generated (?:with|by|using) (?:an? )?(?:ai|llm)|no ai (?:was )?used|without (?:the use of )?ai)")
_TEMPLATED = tuple(re.compile(p, re.I | re.M) for p in (
    r"i hope this (?:message|email) finds you well", r"\bdear (?:team|sir|madam|developers?|maintainers?)\b",
    r"i (?:have )?(?:discovered|found|identified) an? (?:critical|serious|severe|high[- ]severity) (?:security )?vulnerability",
    r"\bas an ai\b", r"\bit is (?:important|worth|crucial) (?:to note|noting)\b", r"\bin conclusion\b",
    r"\bthis vulnerability (?:could|can) (?:potentially )?(?:allow|lead|result)", r"\bfollow(?:ing)? (?:security )?best practices\b",
    r"\bensure (?:that )?(?:all|proper) (?:input|user input)", r"\bpotential(?:ly)? (?:serious|severe|significant) (?:consequences|impact)",
    r"\bplease (?:let me know|do not hesitate)", r"\bcertainly[!,]", r"\bcomprehensive (?:security )?(?:report|analysis|assessment)",
    r"^\s*#*\s*(?:remediation|mitigation|recommendations?)\s*:?\s*$", r"\bexecutive summary\b",
    r"\bcould potentially\b", r"\bsaniti[sz]e all (?:user )?inputs?\b",
))
_SCANNER = re.compile(r"(?im)^\s*(?:risk|confidence|severity|plugin id|cwe id|wasc id|alert|evidence|solution)\s*:\s*\S"
                      r"|\bnikto\b|\bburp(?: suite)?\b|\bowasp zap\b|\bacunetix\b|\bnessus\b|\bqualys\b|\bnuclei\b|\bsqlmap\b"
                      r"|securityheaders\.com|\bmxtoolbox\b|\bwpscan\b")
_PAYMENT = re.compile("|".join(p for name, p, _, _ in BEG if name == "payment-ask"), re.I)
_STOP = frozenset("the and for that this with from are was were been have has had not but you your our can could "
                  "will would should may might into via when which what who how all any its it's than then there "
                  "their they them also use used using able such only some more most other each per".split())


@dataclasses.dataclass(frozen=True)
class Claims:
    """What a report names that can be checked against the repository."""

    paths: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    cves: tuple[str, ...] = ()
    ghsas: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()  # refs named in links to the repository's files (blob/<ref>/...)


@dataclasses.dataclass(frozen=True)
class Substance:
    """What the report holds besides claims."""

    poc: tuple[str, ...]  # kinds found: code block, commands, HTTP request, reproduction steps
    affected_versions: bool
    impact: bool
    scanner_output: bool
    payment: bool  # beg-bounty or payment markers
    beg_signals: tuple[str, ...]  # the classifier's beg-bounty signal names that match
    ai_disclosure: bool
    templated: int  # phrases of generic, templated prose found

    @property
    def generic(self) -> bool:
        return self.templated >= 2


def _unique(items: Iterable[str], limit: int) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item.lower() not in {s.lower() for s in seen}:
            seen[item] = None
            if len(seen) >= limit:
                break
    return tuple(seen)


def _looks_like_path(token: str) -> bool:
    token = token.strip("./")
    if not token or len(token) > 300:
        return False
    last = token.rsplit("/", 1)[-1]
    if "/" in token:
        parts = token.split("/")
        if any(not p for p in parts) or all(p.replace(".", "").isdigit() for p in parts):
            return False  # 1/2, dates, fractions
        return any(c.isalpha() for c in token)
    if "." not in last:
        return last.lower() in ("dockerfile", "makefile", "gemfile", "rakefile", "procfile")
    stem, ext = last.rsplit(".", 1)
    if not stem or ext.lower() not in _EXTENSIONS or stem.replace(".", "").isdigit():
        return False
    return not re.fullmatch(r"[a-z]{1,3}", stem.lower()) or ext.lower() in ("py", "js", "go", "rs", "c", "h")


def extract_claims(title: str, body: str, *, own_ghsa: str | None = None) -> Claims:
    """The paths, symbols, options, endpoints, versions and advisory ids a report names."""
    text = f"{title}\n{body}"[:MAX_TEXT]
    refs = []
    blob_paths = []
    for m in _BLOB_URL.finditer(text):
        refs.append(m[1])
        blob_paths.append(m[2].split("#", 1)[0].strip("/"))
    prose = _EMAIL.sub(" ", _URL.sub(" ", text))
    tokens = (m[1].rstrip(".") for m in _PATH.finditer(prose))
    paths = blob_paths + [t.removeprefix("./").lstrip("/") for t in tokens if _looks_like_path(t)]
    endpoints = [f"{m[1]} {m[2].rstrip('.:')}" for m in _ENDPOINT.finditer(text)]
    named = {e.split(" ", 1)[1] for e in endpoints}
    endpoints += [p for p in (m[1].rstrip(".:") for m in _API_PATH.finditer(prose)) if p not in named]
    endpoint_paths = {e.split(" ", 1)[-1].lstrip("/") for e in endpoints}
    paths = [p for p in paths if p not in endpoint_paths and not p.startswith(("api/", "v1/", "v2/"))]
    symbols = [m[1] for m in _DEFN.finditer(text)] + [m[1] for m in _TICKED.finditer(text)]
    for m in _CALL.finditer(prose):
        name = m[1]
        if name.lower() in _NOT_SYMBOLS or name.split(".")[-1].lower() in _NOT_SYMBOLS:
            continue
        if " " in m.group(0) and re.fullmatch(r"[A-Za-z][a-z]*", name):
            continue  # "reproduce (see below)": a plain word, a space, a parenthesis is prose
        symbols.append(name)
    symbols = [s for s in symbols if not _looks_like_path(s) and s.lower() not in _NOT_SYMBOLS]
    versions = [m[1] or m[2] for m in _VERSION.finditer(prose)]
    cves = [f"CVE-{m[1]}-{m[2]}" for m in _CVE.finditer(text)]
    ghsas = ["GHSA-" + m[0][5:].lower() for m in _GHSA.finditer(text)]
    ghsas = [g for g in ghsas if not own_ghsa or g.lower() != own_ghsa.lower()]
    return Claims(
        paths=_unique(paths, MAX_PATHS), symbols=_unique(symbols, MAX_SYMBOLS),
        options=_unique((m[1] for m in _OPTION.finditer(prose)), MAX_OPTIONS),
        endpoints=_unique(endpoints, MAX_ENDPOINTS), versions=_unique(versions, MAX_VERSIONS),
        cves=_unique(cves, MAX_IDS), ghsas=_unique(ghsas, MAX_IDS), refs=_unique(refs, 3),
    )


def substance(title: str, body: str, version_ranges: Iterable[str] = ()) -> Substance:
    """Proof of concept, affected versions, impact, scanner output, payment, AI use, templated prose."""
    text = f"{title}\n{body}"[:MAX_TEXT]
    poc = []
    if _CODE_FENCE.search(text) or re.search(r"(?m)^(?: {4}|\t)\S", text):
        poc.append("code block")
    if _COMMAND.search(text):
        poc.append("commands")
    if _HTTP_REQUEST.search(text):
        poc.append("HTTP request")
    if _STEPS.search(text):
        poc.append("reproduction steps")
    lower = text.lower()
    beg = tuple(name for name, pattern, _, weight in BEG if weight > 0 and re.search(pattern, lower))
    return Substance(
        poc=tuple(poc),
        affected_versions=bool(any(r for r in version_ranges) or _AFFECTED.search(text)
                               or (_VERSION.search(text) and re.search(r"(?i)\baffect|\bvulnerable\b", text))),
        impact=bool(_IMPACT.search(text)), scanner_output=bool(_SCANNER.search(text)),
        payment=bool(_PAYMENT.search(lower)), beg_signals=beg[:8], ai_disclosure=bool(_AI_DISCLOSURE.search(text)),
        templated=sum(1 for p in _TEMPLATED if p.search(text)),
    )


# -- checking claims against a tree ---------------------------------------------------------


def find_path(claim: str, paths: frozenset[str]) -> str | None:
    """The repository path a claimed path names: itself, a file or folder ending with it (a
    report often names `src/parser.c` as `parser.c`), or None."""
    claim = claim.strip().strip("/")
    if claim.startswith("./"):
        claim = claim[2:]
    if not claim:
        return None
    if claim in paths:
        return claim
    suffix = "/" + claim
    best = None
    for path in paths:
        if path.endswith(suffix) or path.startswith(claim + "/"):
            found = path if path.endswith(suffix) else claim
            if best is None or len(found) < len(best):
                best = found
    return best


def search_term(claim: str, kind: str) -> str:
    """What code search is asked for a symbol (its last name), an option or an endpoint path."""
    if kind == "symbol":
        return re.split(r"\.|::|->", claim)[-1]
    if kind == "endpoint":
        path = claim.split(" ", 1)[-1]
        parts = [p for p in path.split("/") if p and not p.startswith(("{", ":")) and ":" not in p]
        return "/".join(parts[-2:]) if parts else path.replace(":", "")
    return claim.lstrip("-")


def normalise_version(version: str) -> str:
    return version.strip().lower().removeprefix("v").removeprefix("release-")


def match_version(version: str, tags: Iterable[str]) -> str | None:
    """The tag that names a cited version (`v1.2.3`, `1.2.3`, `release-1.2.3`, `pkg@1.2.3`)."""
    want = normalise_version(version)
    for tag in tags:
        name = tag.rsplit("@", 1)[-1] if "@" in tag else tag
        name = name.rsplit("/", 1)[-1]
        if normalise_version(name) == want:
            return tag
    return None


# -- similarity -----------------------------------------------------------------------------


def features(text: str) -> Counter[str]:
    """Words (no stop words) and word pairs of a text, for `similarity`."""
    words = [w for w in _WORD.findall(text[:MAX_COMPARED].lower()) if w not in _STOP]
    found: Counter[str] = Counter(words)
    found.update(f"{a} {b}" for a, b in zip(words, words[1:]))
    return found


def closest(text: str, candidates: Iterable[tuple[Any, str]], *, keep: int = 3) -> list[tuple[Any, float]]:
    """The `keep` candidates (key, text) most like `text`, at SIMILAR or above, best first."""
    mine = features(text)
    scored = [(key, similarity(mine, features(other))) for key, other in candidates]
    scored.sort(key=lambda pair: -pair[1])
    return [pair for pair in scored if pair[1] >= SIMILAR][:keep]


def similarity(a: Mapping[str, int], b: Mapping[str, int]) -> float:
    """Cosine similarity of two feature counts, 0..1 (1: the same words in the same proportions)."""
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    dot = sum(n * large.get(k, 0) for k, n in small.items())
    norm = math.sqrt(sum(n * n for n in a.values())) * math.sqrt(sum(n * n for n in b.values()))
    return round(dot / norm, 2) if norm else 0.0


# -- the suggestion -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Suggestion:
    step: str  # acknowledge | needs-poc | duplicate | beg-bounty
    text: str
    why: tuple[str, ...]


def suggest(card: Mapping[str, Any]) -> Suggestion:
    """The next step to suggest for a card (its `as_dict` form). Never taken by Secbot itself."""
    dup = card.get("duplicates") or []
    top = dup[0] if dup else None
    sub = card.get("substance") or {}
    checked = card.get("claims") or []
    missing = [c for c in checked if c.get("status") == "missing"]
    found = [c for c in checked if c.get("status") == "found"]
    published_ids = [i for i in card.get("identifiers") or [] if i.get("status") == "published"]
    if top and top.get("similarity", 0) >= DUPLICATE:
        name = top.get("ghsa_id") or f"report {top.get('report_id')}"
        return Suggestion("duplicate", f"likely duplicate of {name}",
                          (f"similarity {top['similarity']:.2f} with {name} ({top.get('state')})",))
    why = []
    if sub.get("payment"):
        why.append("asks about payment or a bounty")
    if sub.get("beg_signals"):
        why.append("beg-bounty signals: " + ", ".join(sub["beg_signals"]))
    if sub.get("scanner_output"):
        why.append("scanner output")
    if why and not sub.get("poc"):
        return Suggestion("beg-bounty", "likely beg bounty: answer with `/sec reject beg-bounty` if so", tuple(why))
    why = []
    if not sub.get("poc"):
        why.append("no proof of concept or reproduction steps")
    if missing and len(missing) >= len(found):
        why.append(f"{len(missing)} of {len(missing) + len(found)} named files or symbols not found")
    if published_ids:
        why.append("names an identifier already published: " + ", ".join(i["id"] for i in published_ids))
    if why:
        return Suggestion("needs-poc", "ask for a proof of concept: `/sec needs-info poc`", tuple(why))
    return Suggestion("acknowledge", "acknowledge and triage", ("a proof of concept, and the claims checked out",))
