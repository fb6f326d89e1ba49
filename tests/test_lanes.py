"""bot/rules/lanes.py: which lane a delivery waits in, and which deliveries a handler takes."""

from __future__ import annotations

import pytest

import handlers
from bot.jobs.dispatch import routes_taken
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


def test_the_table_of_deliveries_taken_is_the_handlers_routes() -> None:
    # A delivery that is not in the table is stored as done and never run by `secbot serve`: a
    # route missing from it would lose its deliveries. Read from the routers as the Dispatcher does.
    assert routes_taken(handlers.ROUTERS) == lanes.TAKEN


@pytest.mark.parametrize("event, action, taken", [
    ("issues", "opened", True), ("issues", "labeled", False), ("issues", "closed", False),
    ("installation_repositories", "added", True), ("installation_repositories", None, True),
    ("star", "created", False), ("push", None, False), ("repository_advisory", "reported", True),
])
def test_which_deliveries_a_handler_takes(event: str, action: str | None, taken: bool) -> None:
    assert lanes.taken(event, action) is taken
