"""The ledger of once-only writes, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.clock import FrozenClock
from bot.jobs.queue import Queue
from bot.store import Store
from bot.store.ledger import CLAIM_TTL, ActionBusy, Claim, Ledger


async def test_a_once_only_write_is_claimed_by_one_job(store: Store, clock: FrozenClock) -> None:
    ledger = Ledger(store)
    assert await ledger.claim("redirect:1", 10, clock.now()) is None  # job 10 performs it
    with pytest.raises(ActionBusy):
        await ledger.claim("redirect:1", 11, clock.now())  # job 11 must wait
    assert await ledger.claim("redirect:1", 10, clock.now()) is None  # job 10's retry carries on
    assert await ledger.result("redirect:1") is None  # claimed, not done
    await ledger.record("redirect:1", 1, {"comment_id": 5}, clock.now())
    assert await ledger.claim("redirect:1", 11, clock.now()) == {"comment_id": 5}
    assert await ledger.result("redirect:1") == {"comment_id": 5}


async def test_a_claim_abandoned_by_a_dead_job_is_taken_over(store: Store, clock: FrozenClock) -> None:
    ledger = Ledger(store)
    assert await ledger.claim("tracker:9", 1, clock.now()) is None
    clock.advance(CLAIM_TTL + 1)
    assert await ledger.claim("tracker:9", 2, clock.now()) is None  # job 1 never came back
    with pytest.raises(ActionBusy):
        await ledger.claim("tracker:9", 1, clock.now())  # and now job 2 holds it


async def test_a_claim_says_when_an_earlier_try_may_have_made_the_write(store: Store, clock: FrozenClock) -> None:
    ledger = Ledger(store)
    first = clock.now()
    assert await ledger.claim_write("ack:3", 1, first) == Claim(None, None)  # nothing can have been written
    clock.advance(30)
    assert await ledger.claim_write("ack:3", 1, clock.now()) == Claim(None, first)  # job 1's retry: look first
    clock.advance(CLAIM_TTL + 1)
    assert await ledger.claim_write("ack:3", 2, clock.now()) == Claim(None, first)  # taken over: since the first try
    await ledger.record("ack:3", 3, {"comment_id": 8}, clock.now())
    assert await ledger.claim_write("ack:3", 3, clock.now()) == Claim({"comment_id": 8}, None)


async def test_a_claim_is_held_only_while_its_job_runs(store: Store, clock: FrozenClock) -> None:
    """A job that claimed a write and then stopped running (it finished, failed and waits for its
    retry, or its process died and the lease ran out) no longer keeps others out: the next job
    takes the claim over at once, told to look for the write first."""
    queue = Queue(store, clock, lease_seconds=30)
    for n in range(3):
        await queue.schedule("probe", {"n": n}, run_at=clock.now())
    first, second, third = await queue.claim("worker-a", 3)
    ledger = Ledger(store)
    claimed_at = clock.now()
    for job in (first, second, third):
        assert await ledger.claim_write(f"ack:{job.id}", job.id, claimed_at) == Claim(None, None)
    with pytest.raises(ActionBusy):
        await ledger.claim_write(f"ack:{first.id}", 99, clock.now())  # running under a live lease

    await queue.complete(first)  # finished (a sweep that left a report aside) without recording the write
    assert await ledger.claim_write(f"ack:{first.id}", 99, clock.now()) == Claim(None, claimed_at)
    await queue.fail(second, "boom")  # waits for its retry
    assert await ledger.claim_write(f"ack:{second.id}", 98, clock.now()) == Claim(None, claimed_at)
    clock.advance(31)  # its process died: the lease ran out
    assert await ledger.claim_write(f"ack:{third.id}", 97, clock.now()) == Claim(None, claimed_at)
    with pytest.raises(ActionBusy):  # job 97 is none the queue knows: its claim stands for CLAIM_TTL
        await ledger.claim_write(f"ack:{third.id}", 96, clock.now())
