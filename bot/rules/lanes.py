"""Which lane a job waits in: decided at intake from the event's name and action (and, for a
comment, whether it holds a `/sec` command), never from the rest of the body. Pure, no I/O.

Claims take jobs in order of `pick_at`: the time a job is due, less its lane's head start. A job
of a sooner lane goes before the jobs of later lanes that became due less than the difference
between their head starts before it, and after the older ones: that is the ageing that keeps
every lane moving (no job waits more than `HEAD_START[REPORTS]` seconds longer than it would
first come, first served).

    REPORTS  what a person waits on: private reports (repository_advisory), new public issues,
             discussions and pull requests (where public reports arrive), `/sec` commands
    PUBLIC   other public text written or changed: comments, edits of issues, discussions and
             pull requests (each may be a report too, so they go before housekeeping),
             and a new installation (a maintainer who just installed the App waits for its onboarding)
    LATER    everything else: labels, assignees, closing, removed installations, scheduled jobs
             (timers, polls, installation sweeps, housekeeping)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

REPORTS, PUBLIC, LATER = 0, 1, 2
LANES = (REPORTS, PUBLIC, LATER)
NAMES = {REPORTS: "reports", PUBLIC: "public", LATER: "later"}
# Seconds of head start each lane has over LATER.
# 30 s: far more than a storm of 10,000 deliveries takes to arrive (about 4 s), so a report sent after
# one goes first; and little enough that housekeeping and onboarding are never held up for long.
HEAD_START = {REPORTS: 30.0, PUBLIC: 10.0, LATER: 0.0}

# Public texts: the event types whose payload carries a text a person wrote, and the actions that
# make one appear or change.
_TEXTS = {"issues", "discussion", "pull_request"}
_COMMENTS = {"issue_comment", "discussion_comment", "pull_request_review_comment", "pull_request_review"}
_WRITTEN = {"opened", "created", "edited", "reopened", "submitted"}
# /sec followed by whitespace or the end (bot/rules/commands.py has the full rule). A pattern that
# starts with a literal is scanned for it quickly; `^[ \t]*/sec` with MULTILINE tried every
# position and took 42 us on an 8 KB comment, this 3 us (bench/README.md).
_SEC = re.compile(r"/[sS][eE][cC](?![^ \t\r\n])")


def is_command(text: object) -> bool:
    """Whether a comment's text holds a line that starts with `/sec` (after spaces or tabs): the
    cheap test at intake; the parser decides what the command is."""
    if not isinstance(text, str):
        return False
    for found in _SEC.finditer(text):
        start = found.start()
        line = text.rfind("\n", 0, start) + 1
        if not text[line:start].strip(" \t"):
            return True
    return False


# The deliveries some handler takes (the routes of handlers/*), by event type: the actions taken,
# or None for every action. tests/test_lanes.py checks it against the routers. `secbot serve`,
# which never imports the handlers, is given it (bot/web/app.py `create_app(taken=...)`): a
# delivery of any other name (a label, an assignee, a closed issue) is stored as done at intake,
# kept like every delivery, never claimed, its body never read. A server with other handlers is
# not given it, and queues every delivery.
TAKEN: dict[str, frozenset[str] | None] = {
    "discussion": frozenset({"created", "edited"}),
    "discussion_comment": frozenset({"created", "edited"}),
    "installation": frozenset({"created", "deleted", "suspend", "unsuspend"}),
    "installation_repositories": None,
    "issue_comment": frozenset({"created", "edited"}),
    "issues": frozenset({"opened", "edited", "reopened"}),
    "pull_request": frozenset({"opened", "edited"}),
    "repository": frozenset({"privatized", "publicized"}),
    "repository_advisory": frozenset({"reported", "published"}),
}


def taken(event: str, action: str | None, table: Mapping[str, frozenset[str] | None] = TAKEN) -> bool:
    """Whether a handler takes a delivery of `event` with `action` (by `table`: TAKEN, or another
    router set's, `bot.jobs.dispatch.routes_taken`)."""
    if event not in table:
        return False
    actions = table[event]
    return actions is None or action in actions


def lane_of(event: str, action: str | None, *, command: bool = False) -> int:
    """The lane of a delivery of `event` with `action`; `command`: a comment holding a `/sec` line."""
    if event == "repository_advisory":
        return REPORTS
    if (event, action) in (("installation", "created"), ("installation_repositories", "added")):
        return PUBLIC
    if event in _TEXTS:
        if action in ("opened", "created"):
            return REPORTS
        return PUBLIC if action in _WRITTEN else LATER
    if event in _COMMENTS:
        if command and action in ("created", "edited"):
            return REPORTS
        return PUBLIC if action in _WRITTEN else LATER
    return LATER


def pick_at(run_at: float, lane: int) -> float:
    """When a job due at `run_at` in `lane` takes its turn among the others."""
    return run_at - HEAD_START.get(lane, 0.0)
