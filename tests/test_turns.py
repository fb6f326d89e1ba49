"""Turns to send a request to GitHub: at most `size` at once, security work first."""

from __future__ import annotations

import asyncio

import pytest

from bot.github.turns import Turns, in_lane
from bot.rules.lanes import LATER, PUBLIC, REPORTS


async def test_waiting_requests_get_their_turns_by_lane_then_in_order() -> None:
    turns = Turns(1)
    went: list[str] = []

    async def request(name: str, lane: int) -> None:
        with in_lane(lane):
            async with turns:
                went.append(name)
                await asyncio.sleep(0)

    async with turns:  # the one turn is taken: everyone below waits
        tasks = []
        for name, lane in (("label-1", LATER), ("comment", PUBLIC), ("label-2", LATER), ("redirect", REPORTS)):
            tasks.append(asyncio.create_task(request(name, lane)))
            await asyncio.sleep(0)  # (they arrive in this order)
    await asyncio.gather(*tasks)
    assert went == ["redirect", "comment", "label-1", "label-2"]


async def test_no_more_than_size_at_once_and_a_cancelled_waiter_passes_its_turn_on() -> None:
    turns = Turns(2)
    inside = peak = 0

    async def request() -> None:
        nonlocal inside, peak
        async with turns:
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    holder = asyncio.create_task(request())
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(request()) for _ in range(6)]
    await asyncio.sleep(0)
    waiting[1].cancel()  # gave up while waiting: skipped, nobody's turn lost
    results = await asyncio.gather(holder, *waiting, return_exceptions=True)
    assert peak == 2
    assert sum(isinstance(r, asyncio.CancelledError) for r in results) == 1
    assert turns.free == 2  # every turn back


def test_at_least_one_turn() -> None:
    with pytest.raises(ValueError):
        Turns(0)
