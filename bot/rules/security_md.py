"""SECURITY.md, read as a reporter would: is there a working private channel? Pure, no I/O.

`diagnose` names the problems that keep reporters from reaching maintainers privately (used by
the daily channel check, bot/reports/onboarding.py); `contact_from` finds the address a
redirect comment gives (bot/reports/channel.py).
"""

from __future__ import annotations

import re

from bot.rules.config import Duration

# Written by the SECURITY.md template when there is no private-reporting form to link; never an
# address, so nothing (the redirect comment included) can mistake it for a real contact.
PLACEHOLDER = "REPLACE-WITH-YOUR-SECURITY-CONTACT"

# Problem kinds, in the order the onboarding issue lists them.
NO_CHANNEL = "no-channel"             # PVR off and no SECURITY.md
FORM_404 = "form-404"                 # SECURITY.md links the PVR form while PVR is off
PUBLIC_ISSUES = "public-issues"       # SECURITY.md says to open an issue, and gives no private contact
PLACEHOLDER_LEFT = "placeholder"      # our template's placeholder contact was never filled in
KINDS = (NO_CHANNEL, FORM_404, PUBLIC_ISSUES, PLACEHOLDER_LEFT)

_FORM_LINK = re.compile(r"(?:https?://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+))?/security/advisories/new\b",
                        re.IGNORECASE)
# An e-mail address. Each part is bounded (RFC 5321's lengths) and a match starts only where a run
# of local-part characters starts, so a long run without an address costs linear time, not
# quadratic: SECURITY.md is a repository's text, read on the event loop.
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
_ISSUE_INSTRUCTION = re.compile(
    r"\b(?:open|opening|file|filing|create|creating|submit|submitting|raise|raising|post|posting|log|add)\s+"
    r"(?:an?\s+|the\s+)?(?:new\s+)?(?:public\s+)?(?:github\s+)?(?:issue|bug\s+report|ticket)s?\b"
    r"|\b(?:report|post|submit|raise)\b[^.!?\n]{0,60}\b(?:in|on|via|through|to|as)\s+(?:an?\s+|the\s+|our\s+)?"
    r"(?:public\s+)?(?:github\s+)?(?:issues?|issue\s+tracker|bug\s+tracker)\b"
    r"|\buse\s+(?:the\s+|our\s+)?(?:github\s+)?(?:issue|bug)\s+tracker\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|never|no|avoid|instead\s+of|rather\s+than|without)\b|n't\b|n’t\b", re.IGNORECASE)
_SECURITY_WORDS = re.compile(r"vulnerab|security|exploit|\bcve\b", re.IGNORECASE)
_PRIVATE_HINTS = re.compile(
    r"private\s+vulnerability\s+reporting|report\s+a\s+vulnerability|security\s+tab|security\s+advisor"
    r"|hackerone\.com|bugcrowd\.com|huntr\.(?:dev|com)|intigriti\.com|yeswehack\.com",
    re.IGNORECASE,
)


def links_to_form(text: str, full_name: str) -> bool:
    """Does the policy send reporters to this repository's private-reporting form?"""
    for m in _FORM_LINK.finditer(text):
        if m["owner"] is None or f"{m['owner']}/{m['repo']}".lower() == full_name.lower():
            return True
    return False


def has_private_contact(text: str) -> bool:
    """An e-mail address, the private-reporting form, or a bug-bounty platform."""
    emails = [e for e in EMAIL.findall(text) if "noreply" not in e.lower()]
    return bool(emails) or bool(_FORM_LINK.search(text)) or bool(_PRIVATE_HINTS.search(text))


def tells_to_open_issue(text: str) -> bool:
    """Does the policy tell people to report vulnerabilities in a (public) issue?

    A sentence counts when it gives the instruction without a negation before it ("do not open an
    issue" is the advice we want) and it, its paragraph or the heading above speaks of security.
    """
    heading = ""
    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.strip().splitlines()
        if lines and lines[0].lstrip().startswith("#"):
            heading = lines[0]
        about_security = bool(_SECURITY_WORDS.search(paragraph) or _SECURITY_WORDS.search(heading))
        for sentence in re.split(r"(?<=[.!?])\s+|\n", paragraph):
            for m in _ISSUE_INSTRUCTION.finditer(sentence):
                if not _NEGATION.search(sentence[: m.start()]) and about_security:
                    return True
    return False


def diagnose(full_name: str, pvr: bool, policy: dict[str, str] | None) -> list[str]:
    """The problem kinds that keep reporters from reaching the maintainers privately."""
    if policy is None:
        return [] if pvr else [NO_CHANNEL]
    text = policy.get("text") or ""
    found = []
    if not pvr and links_to_form(text, full_name):
        found.append(FORM_404)
    if tells_to_open_issue(text) and not has_private_contact(text):
        found.append(PUBLIC_ISSUES)
    if PLACEHOLDER in text:
        found.append(PLACEHOLDER_LEFT)
    return found


def human_duration(text: str) -> str:
    """A config duration as people write it: "2 working days", "90 days", "36 hours"."""
    d = Duration.parse(text)
    if d.working_days:
        n = d.working_days
        return f"{n:g} working day{'' if n == 1 else 's'}"
    for unit, seconds in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if d.seconds >= seconds and d.seconds % seconds == 0 or unit == "minute":
            n = d.seconds / seconds
            return f"{n:g} {unit}{'' if n == 1 else 's'}"
    return text  # pragma: no cover - the loop always returns


def contact_from(text: str) -> str | None:
    """An e-mail address the policy gives for private reports, if any."""
    m = EMAIL.search(text)
    return m.group(0) if m else None
