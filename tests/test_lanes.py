"""bot/rules/lanes.py: which lane a delivery waits in."""

from __future__ import annotations

import pytest

from bot.rules import lanes
from bot.rules.commands import parse


@pytest.mark.parametrize("text", [
    "/sec ack", "  /sec severity high", "thanks\n\t/sec accept\nbye", "/sec", "/sec\r\n", "/SEC ack",
    "see /sec ack", "`/sec ack`", "/secure it", "/security", "", "no command here",
])
def test_the_cheap_command_test_never_misses_a_command_the_parser_finds(text: str) -> None:
    if parse(text):
        assert lanes.is_command(text)


def test_ageing_bounds_how_long_a_later_job_can_be_passed() -> None:
    assert lanes.pick_at(1000.0, lanes.REPORTS) < lanes.pick_at(1000.0, lanes.PUBLIC) < lanes.pick_at(1000.0, lanes.LATER)
    # A LATER job waiting longer than the REPORTS head start goes before a fresh report.
    assert lanes.pick_at(1000.0 - lanes.HEAD_START[lanes.REPORTS] - 1, lanes.LATER) < lanes.pick_at(1000.0, lanes.REPORTS)


def test_a_new_installation_waits_in_the_public_lane_and_a_removed_one_later() -> None:
    # The maintainer who just installed the App waits for its onboarding; a removal waits for no one.
    assert lanes.lane_of("installation", "created") == lanes.PUBLIC
    assert lanes.lane_of("installation_repositories", "added") == lanes.PUBLIC
    assert lanes.lane_of("installation", "deleted") == lanes.LATER
    assert lanes.lane_of("installation_repositories", "removed") == lanes.LATER
