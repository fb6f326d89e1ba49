"""The report state machine."""

from __future__ import annotations

import pytest

from bot.rules.lifecycle import ACCEPTED, ACKNOWLEDGED, FIXED, NEW, PUBLISHED, REJECTED, Refused, next_state


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
