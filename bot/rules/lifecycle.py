"""The life of a report, as a pure state machine.

    new ──ack──▶ acknowledged ──accept──▶ accepted ──fixed──▶ fixed ──publish──▶ published
     │               │                       │                  │
     └──accept───────┼───────────────────────┘                  │
     └───────────────┴──reject──▶ rejected ◀──reject────────────┘ (not after publication)

`publish` comes from GitHub (the advisory was published) and is accepted from any open state.
Everything else is a maintainer's `/sec` command, and where each may be given and where it leads
is in its entry of the verb table (`moves`, `needs` in bot/rules/commands.py): verbs that change a
report without moving it (severity, eta, update, pause, resume, assign, hide) are allowed while it
is open. An invalid transition raises `Refused` with a fixed message that names the command and
the state, never anyone's text. The states themselves are in bot/rules/states.py.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from bot.rules.commands import VERB_TABLE
from bot.rules.states import ACCEPTED, ACKNOWLEDGED, FIXED, NEW, OPEN, PUBLISHED, REJECTED, STATES

__all__ = ["NEW", "ACKNOWLEDGED", "ACCEPTED", "FIXED", "PUBLISHED", "REJECTED", "STATES", "OPEN",
           "Refused", "next_state", "is_open"]

# Moves that come from GitHub, not from a /sec verb (those are in VERB_TABLE).
_EVENTS: Mapping[str, tuple[Mapping[str, str], str]] = {
    "publish": (MappingProxyType({state: PUBLISHED for state in OPEN}), "an open report"),
}


class Refused(Exception):
    """The command does not fit the report's state; the message says why."""


def next_state(state: str, verb: str) -> str:
    """The state after `verb`, or `Refused`. A verb the state machine does not know leaves the state."""
    entry = VERB_TABLE.get(verb)
    moves, needs = (entry.moves, entry.needs) if entry is not None else _EVENTS.get(verb, (None, ""))
    if moves is None:
        return state
    after = moves.get(state)
    if after is None:
        raise Refused(f"/sec {verb} applies to {needs}; this report is {state}")
    return after


def is_open(state: str) -> bool:
    return state in OPEN
