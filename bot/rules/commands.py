"""Pure parser for the ``/sec`` comment commands, the verb table, and the rule for who may run them.

Text in, ``list[Command]`` out. Standard library and ``bot.rules.cvss`` only, no I/O, nothing runs
at import apart from compiling the regular expressions below.

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

The verb table
==============

``VERB_TABLE`` (after the argument parsers it names) is the one place a verb is defined: its
name and other spellings, the function that parses its arguments and their usage, who may run
it, whether it changes anything, the report states it applies to and leads to, and its line in
the help. The parser looks verbs up there, ``may_run`` reads who may run them,
``bot.rules.lifecycle.next_state`` reads the moves, templates/command_help.md renders the help
message from it, and tests/test_readme.py checks README's command table against it. Running a
verb is the handlers' business (handlers/commands.py).
"""

from __future__ import annotations

import re
from dataclasses import KW_ONLY, dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from bot.rules.cvss import band, parse_cvss
from bot.rules.states import ACCEPTED, ACKNOWLEDGED, FIXED, NEW, OPEN, POSSIBLE, REJECTED

__all__ = [
    "Command",
    "Verb",
    "parse",
    "is_command_comment",
    "parse_date",
    "parse_cvss",
    "may_run",
    "is_maintainer",
    "VERB_TABLE",
    "VERBS",
    "MUTATING",
    "PUBLIC_VERBS",
    "UNKNOWN",
    "ANYONE",
    "MAINTAINERS",
    "SEVERITIES",
    "REJECT_REASONS",
    "CANNED",
    "NEEDS_INFO",
    "MAX_ASSIGNEES",
    "MAX_COMMANDS",
]

SEVERITIES = ("critical", "high", "medium", "low")
REJECT_REASONS = ("invalid", "duplicate", "out-of-scope", "not-security", "beg-bounty")
# Canned replies for the frequent non-issues (templates/canned_<name>.md, overridable per repository
# as templates.canned_<name>), chosen after a reject reason (`/sec reject beg-bounty spf`) or alone,
# with the reason it implies (`/sec reject spf`).
CANNED = MappingProxyType({
    "headers": "beg-bounty", "spf": "beg-bounty", "clickjacking": "beg-bounty", "version-disclosure": "beg-bounty",
    "self-xss": "not-security", "out-of-scope": "out-of-scope",
})
NEEDS_INFO = ("poc", "versions", "impact", "split")  # what `/sec needs-info` asks the reporter for
MAX_TITLE_CHARS = 256  # GitHub's limit for an issue title
UNKNOWN = "unknown"  # the verb of a word after /sec that is no verb; it is answered with the help
ANYONE, MAINTAINERS = "anyone", "maintainers"  # who may run a verb (see may_run)
# The verbs whose words say nothing about how a report is handled, so they may stay readable on a
# public page. Any other command a maintainer types there (accept with a severity, eta with a date,
# reject with a reason, ...) is carried out, and its comment minimized.
PUBLIC_VERBS = frozenset({"hide", "not-security", "confirm", "setup", "help", "status"})
MAX_ASSIGNEES = 10  # GitHub's own limit per issue
# Commands read per comment; the rest are ignored. The longest comment a maintainer writes in
# earnest steers one report through a step or two (ack, accept, assign, eta, update, status: six),
# so ten leaves room and bounds what one comment costs: at most ten verbs run, answered in one reply.
MAX_COMMANDS = 10
MAX_WORD_CHARS = 30
_MAX_VERSION_CHARS = 64
_MAX_LOGIN_CHARS = 39

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Command:
    verb: str  # one of VERBS: a verb of VERB_TABLE, or UNKNOWN
    args: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False)
    error: str | None = None
    line: int = 0  # 1-based line in the comment

    def __post_init__(self) -> None:
        if not isinstance(self.args, MappingProxyType):
            object.__setattr__(self, "args", MappingProxyType(dict(self.args)))

    @property
    def ok(self) -> bool:
        return self.error is None and self.verb != UNKNOWN


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
_ERR_NEEDS_INFO = "needs-info needs what is missing: " + ", ".join(NEEDS_INFO[:-1]) + " or " + NEEDS_INFO[-1]
_ERR_RECLASSIFY = ("reclassify needs the public issue's title, on its line or the next, and then its text; "
                   "nothing of the report is copied")
_ERR_RECLASSIFY_LONG = f"reclassify takes a title of at most {MAX_TITLE_CHARS} characters"
_ERR_AWAY = "away needs until YYYY-MM-DD (and an optional note for reporters), or off"
_MAX_REWARD_CHARS = 200
_ERR_REWARD = f"reward needs an amount or a few words (at most {_MAX_REWARD_CHARS} characters), like $500 or a T-shirt"
_ERR_EMBARGO = "embargo needs until YYYY-MM-DD, or off"

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
    pending: list[str] | None = None  # lines of a multi-line command ("/sec update", "/sec reclassify")
    pending_line = 0
    pending_head: tuple[str, str] = ("update", "")  # its verb and the text on its own line

    def finish_update() -> None:
        nonlocal pending
        if pending is not None:
            verb, tail = pending_head
            block = VERB_TABLE[verb].block
            assert block is not None
            commands.append(block(verb, tail, _join_block(pending), pending_line))
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
            if command is None:  # "/sec update" alone, "/sec reclassify": text follows on the next lines
                pending, pending_line, pending_head = [], number, _head(visible)
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


def is_command_comment(body: str | None) -> bool:
    """Whether a comment is a command comment: its first line with anything on it is a `/sec`
    command. A comment that starts with `/security ...`, or holds a command further down below a
    report, is not: it is read as text too."""
    if not isinstance(body, str):
        return False
    first = next((n for n, line in enumerate(body.replace("\r\n", "\n").split("\n"), 1) if line.strip()), 0)
    return any(command.line == first for command in parse(body))


def _head(text: str) -> tuple[str, str]:
    """The verb and the rest of the line of a command whose text continues on the lines below."""
    parts = text.split(None, 1)
    return _SPELLINGS[parts[0].lower()], (parts[1].strip() if len(parts) > 1 else "")


def _join_block(lines: list[str]) -> str:
    kept = [line.rstrip() for line in lines]
    while kept and not kept[-1]:
        kept.pop()
    while kept and not kept[0]:
        kept.pop(0)
    return "\n".join(kept)


# --- arguments ----------------------------------------------------------------------------------

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
        return Command(UNKNOWN, {"word": ""}, line=line)
    word = parts[0]
    tail = parts[1].strip() if len(parts) > 1 else ""
    verb = _SPELLINGS.get(word.lower()) if word.isascii() else None
    if verb is None:
        return Command(UNKNOWN, {"word": word[:MAX_WORD_CHARS].lower()}, line=line)
    return VERB_TABLE[verb].arguments(verb, tail, line)


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
        severity = band(score) if score is not None else None
        return Command(verb, {"severity": severity, "cvss": vector, "score": score}, line=line)
    return Command(verb, error=_ERR_SEVERITY.format(verb=verb), line=line)


def _reject(verb: str, tail: str, line: int) -> Command:
    parts = tail.split(None, 1)
    word = parts[0].rstrip(":,").lower() if parts else ""
    reason = _REASON_ALIASES.get(word) if word.isascii() else None
    canned = _canned(word)
    if reason is None and canned is None:
        return Command(verb, error=_ERR_REJECT, line=line)
    text = parts[1].strip() if len(parts) > 1 else ""
    if reason is None:  # "/sec reject spf": the canned reply names its reason
        reason = CANNED[canned or ""]
    elif canned is None or word != canned:  # "/sec reject beg-bounty spf ...": a canned reply may follow
        rest = text.split(None, 1)
        canned = _canned(rest[0].rstrip(":,").lower()) if rest else None
        if canned is not None:
            text = rest[1].strip() if len(rest) > 1 else ""
    if canned == reason:  # "/sec reject out-of-scope": the reason alone, not its canned reply
        canned = None
    args = {"reason": reason, "text": text} | ({"canned": canned} if canned else {})
    return Command(verb, args, line=line)


_CANNED_ALIASES = {name: name for name in CANNED}
_CANNED_ALIASES.update({"dmarc": "spf", "spf-dmarc": "spf", "missing-headers": "headers", "version": "version-disclosure",
                        "selfxss": "self-xss", "self_xss": "self-xss", "version_disclosure": "version-disclosure",
                        "out_of_scope": "out-of-scope"})


def _canned(word: str) -> str | None:
    return _CANNED_ALIASES.get(word) if word.isascii() else None


def _needs_info(verb: str, tail: str, line: int) -> Command:
    parts = tail.split(None, 1)
    what = parts[0].rstrip(":,").lower() if parts else ""
    if what not in NEEDS_INFO:
        return Command(verb, error=_ERR_NEEDS_INFO, line=line)
    return Command(verb, {"what": what, "text": parts[1].strip() if len(parts) > 1 else ""}, line=line)


def _block_follows(verb: str, tail: str, line: int) -> None:
    """Always None: the command's text follows on the lines below (see `Verb.block`)."""
    return None


def _reclassify(verb: str, tail: str, text: str, line: int) -> Command:
    """The public issue's title (on the command's line, else the first line below) and its text."""
    lines = text.split("\n") if text else []
    title = tail
    if not title and lines:
        title, lines = lines[0].strip(), lines[1:]
    body = _join_block(lines)
    if not title:
        return Command(verb, error=_ERR_RECLASSIFY, line=line)
    if len(title) > MAX_TITLE_CHARS:
        return Command(verb, error=_ERR_RECLASSIFY_LONG, line=line)
    return Command(verb, {"title": title, "body": body}, line=line)


def _away(verb: str, tail: str, line: int) -> Command:
    parts = tail.split(None, 2)
    if len(parts) == 1 and parts[0].lower() == "off":
        return Command(verb, {"until": None, "text": ""}, line=line)
    when = parse_date(parts[1]) if len(parts) >= 2 and parts[0].lower() == "until" else None
    if when is None:
        return Command(verb, error=_ERR_AWAY, line=line)
    return Command(verb, {"until": when, "text": parts[2].strip() if len(parts) > 2 else ""}, line=line)


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


def _update_line(verb: str, tail: str, line: int) -> Command | None:
    """The text on the command's line; None when there is none: it follows on the lines below."""
    return _update(tail, line) if tail else None


def _update_block(verb: str, tail: str, text: str, line: int) -> Command:
    return _update(text, line)


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


def _reward(verb: str, tail: str, line: int) -> Command:
    text = " ".join(tail.split())
    if not text or len(text) > _MAX_REWARD_CHARS:
        return Command(verb, error=_ERR_REWARD, line=line)
    return Command(verb, {"text": text}, line=line)


def _embargo(verb: str, tail: str, line: int) -> Command:
    parts = tail.split(None, 1)
    if len(parts) == 1 and parts[0].lower() in ("off", "lift", "none"):
        return Command(verb, {"until": None}, line=line)
    when = parse_date(parts[1]) if len(parts) == 2 and parts[0].lower() == "until" else None
    if when is None:
        return Command(verb, error=_ERR_EMBARGO, line=line)
    return Command(verb, {"until": when}, line=line)


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


# --- the verb table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verb:
    """One ``/sec`` verb: all that the parser, the permission rule and the state machine know of it."""

    name: str
    arguments: Callable[[str, str, int], Command | None]  # (verb, text after it, line) -> the command;
    # None only for "update" with nothing after it: its text follows on the lines below
    usage: str  # its arguments as README shows them: "" for none, <fill in>, [optional], a|b for one of
    who: str  # ANYONE, or MAINTAINERS: write access or more, or the security team (see may_run)
    _: KW_ONLY
    mutating: bool  # running it changes something: a report, an advisory, the repository
    moves: Mapping[str, str] | None  # report state -> state after it; None: any state, unchanged
    needs: str = ""  # the states ``moves`` starts from, in words, for lifecycle's refusal
    help: str  # what it does, a line of the help message (templates/command_help.md)
    examples: tuple[str, ...]  # whole command lines, shown in the help message
    aliases: tuple[str, ...] = ()  # other spellings the parser accepts
    # For a verb whose text may continue on the lines below (when `arguments` returns None): the
    # command from (verb, text on its line, the lines below up to the next command, line).
    block: Callable[[str, str, str, int], Command] | None = None

    def __post_init__(self) -> None:
        if self.moves is not None and not isinstance(self.moves, MappingProxyType):
            object.__setattr__(self, "moves", MappingProxyType(dict(self.moves)))


def _verbs(*verbs: Verb) -> Mapping[str, Verb]:
    return MappingProxyType({verb.name: verb for verb in verbs})


_SEVERITY_USAGE = "<" + "|".join(SEVERITIES) + "|CVSS vector>"
_TO_REJECTED = MappingProxyType({state: REJECTED for state in OPEN})
_NOT_SECURITY = MappingProxyType({state: REJECTED for state in (*OPEN, POSSIBLE)})
_STAYS_OPEN = MappingProxyType({state: state for state in OPEN})  # changes a report, does not move it
_AFTER_ACCEPT = MappingProxyType({ACCEPTED: ACCEPTED, FIXED: FIXED})  # an advisory past triage, still open

# Every /sec verb, once, in the order the help lists them. The parser, may_run, lifecycle's
# next_state and the help message (templates/command_help.md) read it; tests/test_readme.py
# holds README's command table to it.
VERB_TABLE: Mapping[str, Verb] = _verbs(
    Verb("ack", _no_args, "", MAINTAINERS, mutating=True, moves={NEW: ACKNOWLEDGED}, needs="a new report",
         help="acknowledge the report and tell the reporter it is being looked at", examples=("/sec ack",)),
    Verb("accept", _severity, _SEVERITY_USAGE, MAINTAINERS, mutating=True,
         moves={NEW: ACCEPTED, ACKNOWLEDGED: ACCEPTED}, needs="a new or acknowledged report",
         help="accept the report as a vulnerability, with a severity or a CVSS 3.x/4.0 vector",
         examples=("/sec accept high", "/sec accept CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")),
    Verb("reject", _reject, "<" + "|".join(REJECT_REASONS) + "> [" + "|".join(CANNED) + "] [text]", MAINTAINERS,
         mutating=True, moves=_TO_REJECTED, needs="an open report",
         help="reject the report: " + ", ".join(REJECT_REASONS[:-1]) + " or " + REJECT_REASONS[-1]
         + ", with an optional canned reply for a frequent non-issue (" + ", ".join(CANNED) + ") and a note",
         examples=("/sec reject duplicate of the report from May", "/sec reject beg-bounty spf")),
    Verb("assign", _assign, "@login [@login ...]", MAINTAINERS, mutating=True,
         moves=_STAYS_OPEN, needs="an open report",
         help="assign one or more people to handle the report", examples=("/sec assign @alice @bob",)),
    Verb("severity", _severity, _SEVERITY_USAGE, MAINTAINERS, mutating=True,
         moves=_STAYS_OPEN, needs="an open report",
         help="set or change the severity, by name or CVSS vector", examples=("/sec severity medium",)),
    Verb("eta", _eta, "YYYY-MM-DD", MAINTAINERS, mutating=True, moves=_STAYS_OPEN, needs="an open report",
         help="tell the reporter when a fix is expected", examples=("/sec eta 2025-07-01",)),
    Verb("fixed", _fixed, "<version>", MAINTAINERS, mutating=True,
         moves={ACCEPTED: FIXED, FIXED: FIXED}, needs="an accepted report (accept it first, with a severity)",
         help="record the version that contains the fix", examples=("/sec fixed 1.4.2",)),
    Verb("update", _update_line, "<text>", MAINTAINERS, mutating=True, moves=_STAYS_OPEN, needs="an open report",
         help="send a message to the reporter: the rest of the line, or the lines below up to the next command",
         examples=("/sec update A fix is in review.",), block=_update_block),
    Verb("pause", _pause, "[until YYYY-MM-DD]", MAINTAINERS, mutating=True,
         moves=_STAYS_OPEN, needs="an open report",
         help="pause reminders, for good or until a date", examples=("/sec pause until 2025-07-01",)),
    Verb("resume", _no_args, "", MAINTAINERS, mutating=True, moves=_STAYS_OPEN, needs="an open report",
         help="resume reminders", examples=("/sec resume",)),
    Verb("status", _no_args, "", ANYONE, mutating=False, moves=None,
         help="show where the report stands", examples=("/sec status",)),
    Verb("hide", _no_args, "", MAINTAINERS, mutating=True, moves=_STAYS_OPEN, needs="an open report",
         help="take a report filed in public out of view, into a draft security advisory", examples=("/sec hide",)),
    Verb("not-security", _no_args, "", MAINTAINERS, mutating=True, moves=_NOT_SECURITY, needs="an open or possible report",
         help="a false alarm: undo what Secbot did on this issue and remember it", examples=("/sec not-security",),
         aliases=("notsecurity", "not_security")),
    Verb("confirm", _no_args, "", MAINTAINERS, mutating=True, moves={POSSIBLE: NEW}, needs="a possible report",
         help="a possible report Secbot told you about privately is a real one: handle it like any report filed "
         "in public (redirect, or hide with `public_reports.action: hide`)", examples=("/sec confirm",)),
    Verb("help", _help, "", ANYONE, mutating=False, moves=None,
         help="show this help", examples=("/sec help",)),
    Verb("setup", _no_args, "", MAINTAINERS, mutating=True, moves=None,
         help="set up Secbot for this repository", examples=("/sec setup",)),
    Verb("needs-info", _needs_info, "<" + "|".join(NEEDS_INFO) + "> [text]", MAINTAINERS, mutating=True,
         moves=_STAYS_OPEN, needs="an open report",
         help="ask the reporter for what is missing (a proof of concept, the affected versions, the impact, or "
         "one vulnerability per report); the response targets wait until they answer on the advisory",
         examples=("/sec needs-info poc", "/sec needs-info versions Which release did you test?"),
         aliases=("needsinfo", "needs_info")),
    Verb("reclassify", _block_follows, "<public title> (the public text on the lines below)", MAINTAINERS,
         mutating=True, moves=_TO_REJECTED, needs="an open report",
         help="not a vulnerability: open a public issue with your title and text (nothing of the report is "
         "copied), close the advisory and tell the reporter where it went",
         examples=("/sec reclassify Crash on empty config file",), block=_reclassify),
    Verb("away", _away, "until YYYY-MM-DD [text]|off", MAINTAINERS, mutating=True, moves=None,
         help="the maintainers are away: tell new reporters when to expect an answer and hold the response "
         "targets until that day (off: back early)",
         examples=("/sec away until 2027-01-10 Back after the holidays.", "/sec away off")),
    Verb("cve", _no_args, "", MAINTAINERS, mutating=True, moves=_AFTER_ACCEPT, needs="an accepted report",
         help="ask GitHub for a CVE for the advisory; the tracker and the reporter show it once assigned",
         examples=("/sec cve",)),
    Verb("reward", _reward, "<amount or text>", MAINTAINERS, mutating=True, moves=None,
         help="record a bounty or swag for the reporter and tell them privately how to claim it",
         examples=("/sec reward $500", "/sec reward a T-shirt and stickers")),
    Verb("embargo", _embargo, "until YYYY-MM-DD|off", MAINTAINERS, mutating=True, moves=_STAYS_OPEN,
         needs="an open report",
         help="hold the publish-when-fixed reminders until a date (a coordinated disclosure)",
         examples=("/sec embargo until 2027-03-01",)),
)
VERBS = frozenset(VERB_TABLE) | {UNKNOWN}
MUTATING = frozenset(verb.name for verb in VERB_TABLE.values() if verb.mutating)
_SPELLINGS = {spelling: verb.name for verb in VERB_TABLE.values() for spelling in (verb.name, *verb.aliases)}


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

    Maintainers (see `is_maintainer`) run anything. Anyone else runs only the verbs ``VERB_TABLE``
    says ANYONE may run (status, help, and UNKNOWN, which is answered with the help), and only in
    a ``private_place`` (the private tracker), whose readers see everything in it anyway. On a
    public issue or an advisory, someone else's command runs nothing at all: a status there would
    go to the maintainers' private place at a stranger's bidding, and help would be a comment per
    line (issue 17, findings 2 and 6). Bots run nothing; a verb that is not one of ``VERBS`` is
    refused to everyone.
    """
    if not isinstance(verb, str) or verb not in VERBS:
        return False
    if is_maintainer(permission=permission, login=login, team_users=team_users, team_member=team_member):
        return True
    name = login.strip().lower() if isinstance(login, str) else ""
    anyone_may = VERB_TABLE["help" if verb == UNKNOWN else verb].who == ANYONE
    return bool(name) and not name.endswith("[bot]") and private_place is True and anyone_may


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
