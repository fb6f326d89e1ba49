"""Pure parser for the ``/sec`` comment commands, and the rule for who may run them.

Text in, ``list[Command]`` out. Standard library only, no I/O, nothing runs at import apart from
compiling the regular expressions below.

Where a command counts
======================

A command is a line whose first thing, after optional spaces or tabs, is ``/sec`` followed by
whitespace or the end of the line (``/secure``, ``/security``, ``foo /sec ack`` and
```` `/sec ack` ```` are not commands). The verb is case-insensitive ASCII. Lines are skipped when
they are

- inside a fenced code block (```` ``` ```` or ``~~~``, three or more; it is closed only by a fence
  of the same character at least as long; an unclosed fence runs to the end of the comment; a
  fence opened inside a list item is recognised too),
- indented code: four or more columns of indentation (a tab counts to the next multiple of four)
  after a blank line, the start of the comment, a heading, a closed fence, an HTML comment or
  another indented code line,
- ``>`` quotes, nested or inside list items (quoted commands are someone else's words),
- inside an HTML comment ``<!-- ... -->``, which may span lines; ``<!--`` inside an inline code
  span does not open one. A line that starts inside a comment is never a command, even if the
  comment closes on it. Inline comments are removed from a command's arguments.

The scanner is a single pass over the lines with a handful of states; every regular expression
is anchored and free of nested quantifiers that could backtrack, so the work is linear in the
size of the comment.

Known simplification: a line right after a ``>`` quote without a blank line in between is, in
Markdown, a lazy continuation of the quote. It was typed by the commenter, not quoted, so it still
counts as a command.

Results
=======

Each command becomes a frozen ``Command(verb, args, error, line)``. Wrong or missing arguments give
the command with ``error`` set to a fixed message (it never repeats the commenter's text) and
empty ``args``. Anything else after ``/sec``, or a bare ``/sec``, is ``unknown`` with the word.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Iterable, Mapping

__all__ = [
    "Command",
    "parse",
    "parse_date",
    "parse_cvss",
    "may_run",
    "is_maintainer",
    "VERBS",
    "MUTATING",
    "PUBLIC_VERBS",
    "SEVERITIES",
    "REJECT_REASONS",
    "HELP_TEXT",
    "MAX_ASSIGNEES",
    "MAX_COMMANDS",
]

SEVERITIES = ("critical", "high", "medium", "low")
REJECT_REASONS = ("invalid", "duplicate", "out-of-scope", "not-security", "beg-bounty")
VERBS = frozenset(
    {
        "ack", "accept", "reject", "assign", "severity", "eta", "fixed", "update", "pause",
        "resume", "status", "hide", "not-security", "help", "setup", "unknown",
    }
)  # fmt: skip
_READ_ONLY = frozenset({"status", "help", "unknown"})
MUTATING = VERBS - _READ_ONLY
# The verbs whose words say nothing about how a report is handled, so they may stay readable on a
# public page. Any other command a maintainer types there (accept with a severity, eta with a date,
# reject with a reason, ...) is carried out, and its comment minimized.
PUBLIC_VERBS = frozenset({"hide", "not-security", "setup", "help", "status"})
MAX_ASSIGNEES = 10  # GitHub's own limit per issue
# Commands read per comment; the rest are ignored. The longest comment a maintainer writes in
# earnest steers one report through a step or two (ack, accept, assign, eta, update, status: six),
# so ten leaves room and bounds what one comment costs: at most ten verbs run, answered in one reply.
MAX_COMMANDS = 10
MAX_WORD_CHARS = 30
_MAX_VECTOR_CHARS = 512
_MAX_VERSION_CHARS = 64
_MAX_LOGIN_CHARS = 39

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Command:
    verb: str  # one of VERBS
    args: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False)
    error: str | None = None
    line: int = 0  # 1-based line in the comment

    def __post_init__(self) -> None:
        if not isinstance(self.args, MappingProxyType):
            object.__setattr__(self, "args", MappingProxyType(dict(self.args)))

    @property
    def ok(self) -> bool:
        return self.error is None and self.verb != "unknown"


# --- fixed error messages: they name the verb and never the commenter's text ---------------------

_SEVERITY_WORDS = "critical, high, medium, low"
_ERR_VECTOR = "{verb} needs a valid CVSS 3.0, 3.1 or 4.0 vector, like CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
_ERR_SEVERITY = "{verb} needs a severity (" + _SEVERITY_WORDS + ") or a CVSS vector"
_ERR_NO_ARGS = "{verb} takes no arguments"
_ERR_REJECT = "reject needs a reason: " + ", ".join(REJECT_REASONS[:-1]) + " or " + REJECT_REASONS[-1]
_ERR_ASSIGN = "assign needs one or more GitHub logins, like @alice @bob"
_ERR_ASSIGN_MANY = f"assign takes at most {MAX_ASSIGNEES} logins"
_ERR_ETA = "eta needs a date as YYYY-MM-DD"
_ERR_FIXED = "fixed needs a version, like 1.2.3 or v2.0.0-rc.1"
_ERR_UPDATE = "update needs text for the reporter, on the same line or on the lines below it"
_ERR_PAUSE = "pause takes nothing, or until YYYY-MM-DD"

# --- line scanning ------------------------------------------------------------------------------

_ANY_SEC = re.compile(r"/sec", re.I | re.A)
_SEC = re.compile(r"[ \t]*/sec", re.I | re.A)
# Leading whitespace and list markers ("- ", "* ", "+ ", "1. ", "2) "), repeated for nested lists.
# Each marker is non-blank and must be followed by blanks, so the loop cannot backtrack.
_CONTAINER = re.compile(r"[ \t]*(?:(?:[-+*]|[0-9]{1,9}[.)])[ \t]+)*")
_FENCE = re.compile(r"`{3,}|~{3,}")
_ATX = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_BACKTICKS = re.compile(r"`+")
# A line that starts with none of these, and holds no "<!--", is plain text: no code, quote,
# list, heading, comment or command. Blank lines start with "" or a space, tab, or other space.
_SPECIAL_FIRST = frozenset(" \t>-+*0123456789`~/<#") | {""}


def _indent_width(line: str) -> int:
    """Columns of leading indentation, counted only as far as 4."""
    col = 0
    for ch in line:
        if ch == " ":
            col += 1
        elif ch == "\t":
            col += 4 - col % 4
        else:
            break
        if col >= 4:
            break
    return col


def _closes_fence(line: str, char: str, length: int, col: int) -> bool:
    body = line.lstrip(" \t")
    if len(line) - len(body) > col + 3 or not body.startswith(char * length):
        return False
    run = len(body) - len(body.lstrip(char))
    return body[run:].strip(" \t") == ""


def _strip_html_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """The visible part of ``line`` and whether an HTML comment is still open at its end.

    ``<!--`` inside an inline code span is text, as in CommonMark; a code span is a run of
    backticks up to the next run of the same length. Linear: each backtick run is looked at once.
    """
    if not in_comment and "<!--" not in line:
        return line, False
    runs: list[tuple[int, int]] = []
    partner: list[int] = []
    if "`" in line:
        runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(line)]
        partner = [-1] * len(runs)
        last: dict[int, int] = {}
        for i in range(len(runs) - 1, -1, -1):
            size = runs[i][1] - runs[i][0]
            partner[i] = last.get(size, -1)
            last[size] = i
    out: list[str] = []
    pos, r, n, start = 0, 0, len(line), -1
    if in_comment:
        end = line.find("-->")
        if end < 0:
            return "", True
        pos = end + 3
    while pos < n:
        while r < len(runs) and runs[r][0] < pos:
            r += 1
        if start < pos:  # look again only when the last "<!--" found is behind us
            start = line.find("<!--", pos)
        if start < 0:
            out.append(line[pos:])
            break
        # A code span that opens before the comment hides it.
        while r < len(runs) and runs[r][0] < start and partner[r] < 0:
            r += 1
        if r < len(runs) and runs[r][0] < start:
            close = runs[partner[r]][1]
            out.append(line[pos:close])
            pos = close
            continue
        out.append(line[pos:start])
        end = line.find("-->", start + 2)
        if end < 0:
            return "".join(out), True
        pos = end + 3
    return "".join(out), False


def parse(body: str | None) -> list[Command]:
    """The ``/sec`` commands in a comment body, in order, at most ``MAX_COMMANDS``. Never raises."""
    if not isinstance(body, str) or _ANY_SEC.search(body) is None:
        return []
    commands: list[Command] = []
    fence: tuple[str, int, int] | None = None  # (char, length, column) of the open fence
    in_comment = False
    code_ok = True  # may an indented line start an indented code block here?
    pending: list[str] | None = None  # lines of a multi-line "/sec update"
    pending_line = 0

    def finish_update() -> None:
        nonlocal pending
        if pending is not None:
            commands.append(_update(_join_block(pending), pending_line))
            pending = None

    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, 1):
        if fence is not None:
            if _closes_fence(line, *fence):
                fence, code_ok = None, True
            if pending is not None:
                pending.append(line)
            continue
        if in_comment:
            visible, in_comment = _strip_html_comments(line, True)
            code_ok = True
            if pending is not None and visible.strip():
                pending.append(visible)
            continue
        if line[:1] not in _SPECIAL_FIRST and "<!--" not in line:  # the common case: a plain line
            code_ok = False
            if pending is not None:
                pending.append(line)
            continue
        if not line or line.isspace():
            code_ok = True
            if pending is not None:
                pending.append("")
            continue
        if code_ok and line[0] in " \t" and _indent_width(line) >= 4:
            if pending is not None:
                pending.append(line)
            continue
        lead = _CONTAINER.match(line)
        rest = line[lead.end() :] if lead else line
        if rest.startswith(">"):
            code_ok = False
            if pending is not None:
                pending.append(line)
            continue
        opener = _FENCE.match(rest)
        if opener is not None and (rest[0] == "~" or "`" not in rest[opener.end() :]):
            fence = (rest[0], opener.end(), lead.end() if lead else 0)
            if pending is not None:
                pending.append(line)
            continue
        sec = _SEC.match(line)
        if sec is not None and (sec.end() == len(line) or line[sec.end()].isspace()):
            finish_update()
            if len(commands) >= MAX_COMMANDS:
                break
            visible, in_comment = _strip_html_comments(line[sec.end() :], False)
            code_ok = False
            command = _command(visible, number)
            if command is None:  # "/sec update" alone: the text follows on the next lines
                pending, pending_line = [], number
            else:
                commands.append(command)
            continue
        if "<!--" in line:
            visible, in_comment = _strip_html_comments(line, False)
            code_ok = in_comment or line.lstrip(" \t").startswith("<!--")
        else:
            visible = line
            code_ok = line[0] in "# " and _ATX.match(line) is not None
        if pending is not None and (visible.strip() or not line.lstrip(" \t").startswith("<!--")):
            pending.append(visible)
    finish_update()
    return commands


def _join_block(lines: list[str]) -> str:
    kept = [line.rstrip() for line in lines]
    while kept and not kept[-1]:
        kept.pop()
    while kept and not kept[0]:
        kept.pop(0)
    return "\n".join(kept)


# --- arguments ----------------------------------------------------------------------------------

_VERB_ALIASES = {verb: verb for verb in VERBS - {"unknown"}}
_VERB_ALIASES.update({"notsecurity": "not-security", "not_security": "not-security"})
_REASON_ALIASES = {reason: reason for reason in REJECT_REASONS}
_REASON_ALIASES.update(
    {
        "out_of_scope": "out-of-scope",
        "outofscope": "out-of-scope",
        "not_security": "not-security",
        "notsecurity": "not-security",
        "begbounty": "beg-bounty",
        "beg_bounty": "beg-bounty",
    }
)
_LOGIN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_LOGIN_SPLIT = re.compile(r"[\s,]+")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_-]*")
_DIGIT = re.compile(r"[0-9]")
_DATE = re.compile(r"([0-9]{4})([-/])([0-9]{2})\2([0-9]{2})")


def _command(text: str, line: int) -> Command | None:
    """The command for the text after ``/sec``; None for a bare ``/sec update``."""
    parts = text.split(None, 1)
    if not parts:
        return Command("unknown", {"word": ""}, line=line)
    word = parts[0]
    tail = parts[1].strip() if len(parts) > 1 else ""
    verb = _VERB_ALIASES.get(word.lower()) if word.isascii() else None
    if verb is None:
        return Command("unknown", {"word": word[:MAX_WORD_CHARS].lower()}, line=line)
    if verb == "update" and not tail:
        return None
    return _ARGUMENTS[verb](verb, tail, line)


def _no_args(verb: str, tail: str, line: int) -> Command:
    if tail:
        return Command(verb, error=_ERR_NO_ARGS.format(verb=verb), line=line)
    return Command(verb, line=line)


def _help(verb: str, tail: str, line: int) -> Command:
    return Command(verb, line=line)  # "/sec help accept" still helps


def _severity(verb: str, tail: str, line: int) -> Command:
    tokens = tail.split()
    if len(tokens) != 1:
        return Command(verb, error=_ERR_SEVERITY.format(verb=verb), line=line)
    token = tokens[0]
    if token.lower() in SEVERITIES and token.isascii():
        return Command(verb, {"severity": token.lower(), "cvss": None, "score": None}, line=line)
    if token[:5].lower() == "cvss:":
        parsed = parse_cvss(token)
        if parsed is None:
            return Command(verb, error=_ERR_VECTOR.format(verb=verb), line=line)
        vector, score = parsed
        severity = _band(score) if score is not None else None
        return Command(verb, {"severity": severity, "cvss": vector, "score": score}, line=line)
    return Command(verb, error=_ERR_SEVERITY.format(verb=verb), line=line)


def _reject(verb: str, tail: str, line: int) -> Command:
    parts = tail.split(None, 1)
    word = parts[0].rstrip(":,").lower() if parts else ""
    reason = _REASON_ALIASES.get(word) if word.isascii() else None
    if reason is None:
        return Command(verb, error=_ERR_REJECT, line=line)
    text = parts[1].strip() if len(parts) > 1 else ""
    return Command(verb, {"reason": reason, "text": text}, line=line)


def _assign(verb: str, tail: str, line: int) -> Command:
    users: list[str] = []
    seen: set[str] = set()
    for token in _LOGIN_SPLIT.split(tail):
        if not token:
            continue
        login = token[1:] if token.startswith("@") else token
        if len(login) > _MAX_LOGIN_CHARS or _LOGIN.fullmatch(login) is None:
            return Command(verb, error=_ERR_ASSIGN, line=line)
        if login.lower() not in seen:
            seen.add(login.lower())
            users.append(login)
    if not users:
        return Command(verb, error=_ERR_ASSIGN, line=line)
    if len(users) > MAX_ASSIGNEES:
        return Command(verb, error=_ERR_ASSIGN_MANY, line=line)
    return Command(verb, {"users": tuple(users)}, line=line)


def _eta(verb: str, tail: str, line: int) -> Command:
    when = parse_date(tail)
    if when is None:
        return Command(verb, error=_ERR_ETA, line=line)
    return Command(verb, {"date": when}, line=line)


def _fixed(verb: str, tail: str, line: int) -> Command:
    if (
        len(tail) > _MAX_VERSION_CHARS
        or _VERSION.fullmatch(tail) is None
        or _DIGIT.search(tail) is None
    ):
        return Command(verb, error=_ERR_FIXED, line=line)
    return Command(verb, {"version": tail}, line=line)


def _update(text: str, line: int) -> Command:
    if not text:
        return Command("update", error=_ERR_UPDATE, line=line)
    return Command("update", {"text": text}, line=line)


def _pause(verb: str, tail: str, line: int) -> Command:
    if not tail:
        return Command(verb, {"until": None}, line=line)
    parts = tail.split(None, 1)
    when = parse_date(parts[1]) if len(parts) == 2 and parts[0].lower() == "until" else None
    if when is None:
        return Command(verb, error=_ERR_PAUSE, line=line)
    return Command(verb, {"until": when}, line=line)


_ARGUMENTS = {
    "ack": _no_args,
    "accept": _severity,
    "reject": _reject,
    "assign": _assign,
    "severity": _severity,
    "eta": _eta,
    "fixed": _fixed,
    "update": lambda verb, tail, line: _update(tail, line),
    "pause": _pause,
    "resume": _no_args,
    "status": _no_args,
    "hide": _no_args,
    "not-security": _no_args,
    "help": _help,
    "setup": _no_args,
}


def parse_date(text: object) -> date | None:
    """``YYYY-MM-DD`` or ``YYYY/MM/DD`` (ASCII digits, a real calendar day) as a date, else None."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) != 10:
        return None
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[3]), int(match[4]))
    except ValueError:
        return None


# --- CVSS ---------------------------------------------------------------------------------------

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
    if not isinstance(text, str) or len(text) > _MAX_VECTOR_CHARS or not text.isascii():
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
    return vector, (_cvss3_base_score(seen, version) if version != "4.0" else None)


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


def _cvss3_base_score(m: Mapping[str, str], version: str) -> float:
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


def _band(score: float) -> str | None:
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


# --- who may run what ---------------------------------------------------------------------------

_PRIVILEGED = frozenset({"admin", "maintain", "write", "push"})


def may_run(
    verb: str,
    *,
    permission: str | None,
    login: str,
    team_users: Iterable[str],
    team_member: bool = False,
    private_place: bool = False,
) -> bool:
    """Whether ``login`` may run ``verb``.

    Maintainers (see `is_maintainer`) run anything. Anyone else runs only the read-only verbs
    (status, help, and unknown, which answers with help), and only in a ``private_place`` (the
    private tracker), whose readers see everything in it anyway. On a public issue or an advisory,
    someone else's command runs nothing at all: a status there would go to the maintainers'
    private place at a stranger's bidding, and help would be a comment per line (issue 17,
    findings 2 and 6). Bots run nothing; a verb that is not one of ``VERBS`` is refused to everyone.
    """
    if not isinstance(verb, str) or verb not in VERBS:
        return False
    if is_maintainer(permission=permission, login=login, team_users=team_users, team_member=team_member):
        return True
    name = login.strip().lower() if isinstance(login, str) else ""
    return bool(name) and not name.endswith("[bot]") and private_place is True and verb in _READ_ONLY


def is_maintainer(*, permission: str | None, login: str, team_users: Iterable[str], team_member: bool = False) -> bool:
    """Whether ``login`` steers reports: collaborators with write, maintain or admin permission,
    configured security-team users (case-insensitive, ``@`` optional) and members of the
    configured team. Bots (logins ending in ``[bot]``) never do."""
    name = login.strip().lower() if isinstance(login, str) else ""
    if not name or name.endswith("[bot]"):
        return False
    if isinstance(permission, str) and permission.lower() in _PRIVILEGED:
        return True
    if team_member is True:
        return True
    if isinstance(team_users, str):
        team_users = (team_users,)
    return any(
        isinstance(user, str) and user.strip().lstrip("@").lower() == name for user in team_users or ()
    )


# --- help ---------------------------------------------------------------------------------------

HELP_TEXT = """\
**Secbot commands.** Write one per line, starting the line with `/sec`, in the report's private \
tracker issue or in a comment on its advisory; on a public issue only `hide` and `not-security` \
belong (any other command typed there is carried out, its comment minimized, and answered \
privately). Commands in quotes and code blocks are ignored, and at most ten are read per comment. \
Only maintainers (write access or the security team) can give them; in the private tracker, \
whoever can read it may also ask for `status` and `help`.

| command | what it does | example |
|---|---|---|
| `ack` | acknowledge the report and tell the reporter it is being looked at | `/sec ack` |
| `accept` | accept the report as a vulnerability, with a severity or a CVSS 3.x/4.0 vector | `/sec accept high` or `/sec accept CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H` |
| `reject` | reject the report: invalid, duplicate, out-of-scope, not-security or beg-bounty, with an optional note | `/sec reject duplicate of the report from May` |
| `assign` | assign one or more people to handle the report | `/sec assign @alice @bob` |
| `severity` | set or change the severity, by name or CVSS vector | `/sec severity medium` |
| `eta` | tell the reporter when a fix is expected | `/sec eta 2025-07-01` |
| `fixed` | record the version that contains the fix | `/sec fixed 1.4.2` |
| `update` | send a message to the reporter: the rest of the line, or the lines below up to the next command | `/sec update A fix is in review.` |
| `pause` | pause reminders, for good or until a date | `/sec pause until 2025-07-01` |
| `resume` | resume reminders | `/sec resume` |
| `status` | show where the report stands | `/sec status` |
| `hide` | take a report filed in public out of view, into a draft security advisory | `/sec hide` |
| `not-security` | a false alarm: undo what Secbot did on this issue and remember it | `/sec not-security` |
| `help` | show this help | `/sec help` |
| `setup` | set up Secbot for this repository | `/sec setup` |
"""
