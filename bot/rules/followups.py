"""Pure rules for what follows a public text once Secbot has acted on it: an edit that changes its
verdict, a maintainer's answer to a heads-up given from the private tracker, and how phishing is
taken out of view on each kind of public text. Standard library and other rules only, no I/O.
"""

from __future__ import annotations

from bot.rules.states import OPEN, POSSIBLE

__all__ = ["KEEP", "UPGRADE", "NOTE_HARMLESS", "after_edit", "HEADS_UP_ANSWERS", "PUBLIC_SOURCES",
           "may_answer_from_tracker", "spam_action"]

KEEP, UPGRADE, NOTE_HARMLESS = "keep", "upgrade", "note-harmless"
CONFIDENT = ("vulnerability", "beg_bounty")  # the verdicts that were answered in public
# The answers to a heads-up, and the sources a report filed in public comes from.
HEADS_UP_ANSWERS = frozenset({"confirm", "hide", "not-security"})
PUBLIC_SOURCES = frozenset({"issue", "comment", "discussion", "discussion_comment", "pull_request"})
_WRITE = frozenset({"admin", "maintain", "write"})


def after_edit(*, state: str, verdict_then: str, kind_now: str, source: str, hidden: bool) -> str:
    """What an edit of a public text Secbot acted on calls for, given the report's state, the
    verdict it was acted on and the verdict on the edited text:

    - UPGRADE: a possible report (a private heads-up, nothing public) edited into a confident
      report: the public redirect now, once, and the heads-up brought up to date. Never for a pull
      request (a public fix is never redirected in public).
    - NOTE_HARMLESS: a text acted on (redirected, or a heads-up) edited into something harmless:
      nothing public is undone (the reporter may have removed the details because of the
      redirect), the record notes it for the maintainers.
    - KEEP: keep the latest text privately, nothing else. Whatever a maintainer answered stays
      (a rejected or spam report is never acted on again), and a hidden report stays hidden.
    """
    if hidden:
        return KEEP
    if state == POSSIBLE:
        if kind_now == "vulnerability" and source != "pull_request":
            return UPGRADE
        return NOTE_HARMLESS if kind_now == "none" else KEEP
    if state in OPEN and verdict_then in CONFIDENT and kind_now == "none":
        return NOTE_HARMLESS
    return KEEP


def may_answer_from_tracker(verb: str, *, source: str, permission_on_public_repo: str | None) -> bool:
    """Whether a `/sec confirm|hide|not-security` typed in a report's private tracker issue acts on
    the public text the report came from: only for a report filed in public, and only for someone
    with write access (write, maintain, admin) on the public repository itself; a seat in the
    tracker repository is not enough."""
    return (verb in HEADS_UP_ANSWERS and source in PUBLIC_SOURCES
            and isinstance(permission_on_public_repo, str) and permission_on_public_repo.lower() in _WRITE)


def spam_action(source: str) -> str:
    """How a phishing post is taken out of view, the least destructive way GitHub lets an App:
    "minimize" a comment (issue, pull request or discussion comment: folded as spam, kept for
    the maintainers), "close" an issue (closed and locked as spam: an App can neither delete nor
    hide one), "lock" a discussion (locked as spam: no more replies or mentions; deleting it
    would delete everyone's replies too, so that is left to the maintainers), "none" otherwise."""
    return {"comment": "minimize", "discussion_comment": "minimize", "issue": "close",
            "discussion": "lock"}.get(source, "none")
