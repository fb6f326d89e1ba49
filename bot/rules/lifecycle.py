"""The life of a report, as a pure state machine.

    new ──ack──▶ acknowledged ──accept──▶ accepted ──fixed──▶ fixed ──publish──▶ published
     │               │                       │                  │
     └──accept───────┼───────────────────────┘                  │
     └───────────────┴──reject──▶ rejected ◀──reject────────────┘ (not after publication)

`publish` comes from GitHub (the advisory was published) and is accepted from any open state.
Everything else is a maintainer's `/sec` command. An invalid transition raises `Refused` with a
fixed message that names the command and the state, never anyone's text.
"""

from __future__ import annotations

NEW, ACKNOWLEDGED, ACCEPTED, FIXED, PUBLISHED, REJECTED = "new", "acknowledged", "accepted", "fixed", "published", "rejected"
STATES = (NEW, ACKNOWLEDGED, ACCEPTED, FIXED, PUBLISHED, REJECTED)
OPEN = (NEW, ACKNOWLEDGED, ACCEPTED, FIXED)

_MOVES: dict[str, dict[str, str]] = {
    "ack": {NEW: ACKNOWLEDGED},
    "accept": {NEW: ACCEPTED, ACKNOWLEDGED: ACCEPTED},
    "fixed": {ACCEPTED: FIXED, FIXED: FIXED},
    "reject": {NEW: REJECTED, ACKNOWLEDGED: REJECTED, ACCEPTED: REJECTED, FIXED: REJECTED},
    "not-security": {NEW: REJECTED, ACKNOWLEDGED: REJECTED, ACCEPTED: REJECTED, FIXED: REJECTED},
    "publish": {NEW: PUBLISHED, ACKNOWLEDGED: PUBLISHED, ACCEPTED: PUBLISHED, FIXED: PUBLISHED},
}
# Commands that change a report without moving it: allowed while it is open.
_WHILE_OPEN = {"severity", "eta", "update", "pause", "resume", "assign", "hide"}

_NEEDS = {
    "ack": "a new report",
    "accept": "a new or acknowledged report",
    "fixed": "an accepted report (accept it first, with a severity)",
    "reject": "an open report",
    "not-security": "an open report",
    "publish": "an open report",
}


class Refused(Exception):
    """The command does not fit the report's state; the message says why."""


def next_state(state: str, verb: str) -> str:
    """The state after `verb`, or `Refused`."""
    if verb in _MOVES:
        after = _MOVES[verb].get(state)
        if after is None:
            raise Refused(f"/sec {verb} applies to {_NEEDS[verb]}; this report is {state}")
        return after
    if verb in _WHILE_OPEN:
        if state not in OPEN:
            raise Refused(f"/sec {verb} applies to an open report; this report is {state}")
        return state
    return state


def is_open(state: str) -> bool:
    return state in OPEN
