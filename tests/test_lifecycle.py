"""The report state machine."""

from __future__ import annotations

import pytest

from bot.rules.commands import VERB_TABLE
from bot.rules.lifecycle import (
    ACCEPTED,
    ACKNOWLEDGED,
    FIXED,
    NEW,
    OPEN,
    PUBLISHED,
    REJECTED,
    STATES,
    Refused,
    next_state,
)


def test_the_happy_path() -> None:
    state = NEW
    for verb, expected in (("ack", ACKNOWLEDGED), ("accept", ACCEPTED), ("fixed", FIXED), ("publish", PUBLISHED)):
        state = next_state(state, verb)
        assert state == expected


def test_accept_may_skip_the_acknowledgement_and_publication_may_come_any_time() -> None:
    assert next_state(NEW, "accept") == ACCEPTED
    assert next_state(NEW, "publish") == PUBLISHED


@pytest.mark.parametrize(
    ("state", "verb"),
    [(ACCEPTED, "ack"), (NEW, "fixed"), (REJECTED, "accept"), (PUBLISHED, "reject"), (PUBLISHED, "eta"),
     (REJECTED, "update"), (ACKNOWLEDGED, "fixed")],
)
def test_invalid_transitions_are_refused_with_a_reason(state: str, verb: str) -> None:
    with pytest.raises(Refused) as caught:
        next_state(state, verb)
    assert f"/sec {verb}" in str(caught.value) and state in str(caught.value)


def test_any_open_report_can_be_rejected_and_fixed_again_with_another_version() -> None:
    for state in (NEW, ACKNOWLEDGED, ACCEPTED, FIXED):
        assert next_state(state, "reject") == REJECTED
    assert next_state(FIXED, "fixed") == FIXED


@pytest.mark.parametrize("verb", ["severity", "eta", "update", "pause", "resume", "assign", "hide"])
def test_verbs_that_change_a_report_without_moving_it_apply_while_it_is_open(verb: str) -> None:
    for state in OPEN:
        assert next_state(state, verb) == state
    for state in (PUBLISHED, REJECTED):
        with pytest.raises(Refused, match=f"^/sec {verb} applies to an open report; this report is {state}$"):
            next_state(state, verb)


def test_refusals_say_which_reports_a_verb_applies_to() -> None:
    with pytest.raises(Refused, match=r"^/sec fixed applies to an accepted report \(accept it first, with a "
                                      r"severity\); this report is acknowledged$"):
        next_state(ACKNOWLEDGED, "fixed")
    with pytest.raises(Refused, match="^/sec publish applies to an open report; this report is rejected$"):
        next_state(REJECTED, "publish")


@pytest.mark.parametrize("verb", ["status", "help", "setup", "unknown", "no-such-verb"])
def test_verbs_that_do_not_touch_a_report_leave_any_state_as_it_is(verb: str) -> None:
    for state in STATES:
        assert next_state(state, verb) == state


@pytest.mark.parametrize("verb", [v for v in VERB_TABLE.values() if v.moves is not None], ids=lambda v: v.name)
def test_the_verb_tables_moves_lead_from_open_states_to_known_ones(verb) -> None:
    # ... or from "possible": a heads-up a maintainer confirms or calls a false alarm (issue 16)
    assert verb.needs and set(verb.moves) <= {*OPEN, "possible"} and set(verb.moves.values()) <= set(STATES)
