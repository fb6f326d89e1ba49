"""The content-creation budget: fixed windows in the store, atomic takes, deferral not loss."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.github.budget import (
    COURTESY,
    HOUR,
    MINUTE,
    REPLY,
    SECURITY,
    Budget,
    current_class,
    is_content_creation,
    share,
    spending,
)
from bot.jobs.queue import QUEUED
from bot.store import Store
from tests.e2e import REPO, REPORTER, Harness

START = 1_790_000_040.0  # 40 s into a minute (1_790_000_000 is 20 s past a minute boundary)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


async def test_the_81st_write_in_a_minute_waits_for_the_next_minute_and_counts_nowhere(store: Store, clock: FrozenClock) -> None:
    budget = Budget(store, clock, per_minute=80, per_hour=500)
    for _ in range(80):
        assert await budget.take(1) is None
        clock.advance(0.1)
    next_minute = (START // 60 + 1) * 60
    assert await budget.take(1) == next_minute
    assert await budget.used(1) == {HOUR: 80, MINUTE: 80}  # the refused one is in neither window
    assert await budget.take(2) is None  # other installations have their own budget
    clock.set(next_minute)
    assert await budget.take(1) is None
    assert await budget.used(1) == {HOUR: 81, MINUTE: 1}


async def test_the_hour_limit_defers_to_the_next_hour(store: Store, clock: FrozenClock) -> None:
    budget = Budget(store, clock, per_minute=80, per_hour=500)
    hour_end = (START // 3600 + 1) * 3600
    taken = 0
    while taken < 500:
        for _ in range(60):
            if taken == 500:
                break
            assert await budget.take(7) is None, taken
            taken += 1
        clock.advance(60)
        if clock.now() >= hour_end:  # keep all 500 inside one hour
            pytest.fail("test set-up crossed the hour")
    assert await budget.take(7) == hour_end
    assert (await budget.used(7))[HOUR] == 500
    clock.set(hour_end)
    assert await budget.take(7) is None


async def test_a_full_minute_does_not_spend_the_hour(store: Store, clock: FrozenClock) -> None:
    budget = Budget(store, clock, per_minute=3, per_hour=100)
    results = [await budget.take(1) for _ in range(10)]
    assert results[:3] == [None] * 3 and all(r == (START // 60 + 1) * 60 for r in results[3:])
    assert await budget.used(1) == {HOUR: 3, MINUTE: 3}


async def test_concurrent_takes_never_exceed_the_limit(store: Store, clock: FrozenClock) -> None:
    budget = Budget(store, clock, per_minute=80, per_hour=500)
    other = Budget(store, clock, per_minute=80, per_hour=500)  # a second replica on the same store
    results = await asyncio.gather(*(b.take(1) for b in [budget, other] * 100))
    assert sum(r is None for r in results) == 80
    assert await budget.used(1) == {HOUR: 80, MINUTE: 80}


async def test_ended_windows_are_pruned(store: Store, clock: FrozenClock) -> None:
    budget = Budget(store, clock, per_minute=5, per_hour=50)
    await budget.take(1)
    clock.advance(120)
    assert await budget.prune() == 1  # the old minute; the hour is still running
    assert await budget.used(1) == {HOUR: 1, MINUTE: 0}
    clock.advance(3600)
    assert await budget.prune() == 1


async def test_command_replies_leave_a_third_of_each_window_to_security_work(store: Store, clock: FrozenClock) -> None:
    """Issue 17, finding 6: command traffic spent the hour and a report stayed public for half an hour."""
    budget = Budget(store, clock, per_minute=72, per_hour=450)
    replies = [await budget.take(1, REPLY) for _ in range(60)]
    assert replies.count(None) == 48  # two thirds of the minute; the rest wait for the next one
    assert set(replies[48:]) == {(START // 60 + 1) * 60}
    assert await budget.take(1, COURTESY) == (START // 60 + 1) * 60  # past a third: no more courtesy
    assert [await budget.take(1, SECURITY) for _ in range(25)].count(None) == 24  # the reserved third
    assert await budget.used(1) == {HOUR: 72, MINUTE: 72}


async def test_the_hour_keeps_its_reserve_too(store: Store, clock: FrozenClock) -> None:
    budget = Budget(store, clock, per_minute=1000, per_hour=450)
    assert [await budget.take(1, COURTESY) for _ in range(200)].count(None) == 150
    assert [await budget.take(1, REPLY) for _ in range(200)].count(None) == 150  # up to 300 in all
    assert [await budget.take(1) for _ in range(200)].count(None) == 150  # security: up to 450
    assert (await budget.used(1))[HOUR] == 450


def test_shares_of_small_limits_keep_at_least_one_write() -> None:
    assert [share(72, c) for c in (SECURITY, REPLY, COURTESY)] == [72, 48, 24]
    assert [share(450, c) for c in (SECURITY, REPLY, COURTESY)] == [450, 300, 150]
    assert [share(1, c) for c in (SECURITY, REPLY, COURTESY)] == [1, 1, 1]


async def test_the_class_is_the_callers_for_the_block_and_its_task_only(store: Store, clock: FrozenClock) -> None:
    budget = Budget(store, clock, per_minute=3, per_hour=100)
    seen: dict[str, str] = {}

    async def job(name: str, write_class: str | None) -> None:
        if write_class is None:
            await asyncio.sleep(0.01)  # runs while the other job is inside its block
            seen[name] = current_class()
            return
        with spending(write_class):
            await asyncio.sleep(0.02)
            seen[name] = current_class()

    await asyncio.gather(job("reply", REPLY), job("plain", None))
    assert seen == {"reply": REPLY, "plain": SECURITY} and current_class() == SECURITY
    with spending(COURTESY):
        assert await budget.take(1) is None  # courtesy may use one of three
        assert await budget.take(1) is not None
        with spending(SECURITY):
            assert await budget.take(1) is None
    assert current_class() == SECURITY
    with pytest.raises(ValueError):
        with spending("urgent"):
            pass


@pytest.mark.parametrize(("method", "path", "counts"), [
    ("POST", "/repos/o/r/issues", True),
    ("POST", "/repos/o/r/issues/3/comments", True),
    ("POST", "/repos/o/r/issues/comments/9/reactions", True),
    ("POST", "/repos/o/r/issues/3/reactions", True),
    ("POST", "/repos/o/r/pulls", True),
    ("POST", "/repos/o/r/pulls/4/reviews", True),
    ("POST", "/repos/o/r/security-advisories", True),
    ("POST", "/repos/o/r/security-advisories/GHSA-abcd-efgh-ijkl/comments", True),
    ("POST", "/repos/o/r/issues/3/labels", False),
    ("POST", "/repos/o/r/issues/3/assignees", False),
    ("POST", "/repos/o/r/git/refs", False),
    ("POST", "/app/installations/1/access_tokens", False),
    ("PATCH", "/repos/o/r/issues/3", False),
    ("DELETE", "/repos/o/r/issues/comments/9", False),
    ("GET", "/repos/o/r/issues", False),
])
def test_which_requests_create_content(method: str, path: str, counts: bool) -> None:
    assert is_content_creation(method, path) is counts


def test_graphql_mutations_count_and_queries_do_not() -> None:
    assert is_content_creation("POST", "/graphql", b'{"query": "mutation($i: ID!) { transferIssue }"}')
    assert not is_content_creation("POST", "/graphql", b'{"query": "query { viewer { login } }"}')


VULN = ("SQL injection in search endpoint",
        "The `q` parameter of /api/search is concatenated into the SQL query.\n"
        "Payload: `' OR 1=1 --` dumps every user's password hash. Attacker needs no login.")


async def test_a_comment_over_budget_is_deferred_to_the_next_window_then_posted(tmp_path: Path) -> None:
    async with Harness(tmp_path, frozen=True, writes_per_minute=2, writes_per_hour=100) as h:
        assert h.clock is not None
        queue = h.services.queue
        issues = []
        for n in range(3):
            issue = h.state.open_issue(REPO, title=f"{VULN[0]} ({n})", body=VULN[1], user=REPORTER)
            issues.append(issue["number"])
            assert await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER)) == 202
        await h.settle()  # all ran once; what waits is not due yet
        counts = await queue.counts()
        assert counts["dead"] == 0, counts
        assert sorted(len(h.state.comments(REPO, n)) for n in issues) == [0, 1, 1]
        [waiting] = await queue.list(state=QUEUED, kind="webhook")  # (the daily housekeeping job waits too)
        next_minute = (h.clock.now() // 60 + 1) * 60
        assert waiting.run_at == next_minute
        assert waiting.attempts == 0  # a deferral is not a failed attempt
        assert "content-creation budget" in (waiting.last_error or "")

        await h.advance(next_minute - h.clock.now() - 1)  # not yet
        assert len([n for n in issues if h.state.comments(REPO, n)]) == 2
        await h.advance(1)
        assert all(len(h.state.comments(REPO, n)) == 1 for n in issues)
        done = await queue.get(waiting.id)
        assert done is not None and done.state == "done" and done.attempts == 1
    h.state.assert_no_violations()
