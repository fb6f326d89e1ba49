"""Turns to send a request to GitHub, security work first.

Many jobs run at once (SECBOT_WORKERS), but at most `SECBOT_GITHUB_CONCURRENCY` requests of one
installation are in flight at once (bot/github/client.py). When more want to go, they wait for a
turn, and the turns go by the lane of the job that asks (bot/rules/lanes.py): a private report's
acknowledgement or a public report's redirect goes before the label edits and polls that were
waiting already, as the job itself was claimed before them. Within a lane, first come, first
served.

The lane travels in a context variable, set around each job by the dispatcher (`in_lane`): a
job is one asyncio task, so concurrent jobs never see each other's lane. A request made outside
any job (the server learning its own identity) waits in the last lane.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
from collections.abc import Iterator
from types import TracebackType

from bot.rules.lanes import LATER

_LANE: contextvars.ContextVar[int] = contextvars.ContextVar("secbot_github_lane", default=LATER)


@contextlib.contextmanager
def in_lane(lane: int) -> Iterator[None]:
    """The GitHub requests made inside this block wait for their turns in `lane`."""
    token = _LANE.set(lane)
    try:
        yield
    finally:
        _LANE.reset(token)


class Turns:
    """At most `size` holders at once; those waiting are let in by lane (sooner lanes first), then
    in the order they came. `async with turns:` holds one turn."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("turns: size must be at least 1")
        self.free = size
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def __aenter__(self) -> None:
        if self.free > 0 and not self._waiting:
            self.free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (_LANE.get(), next(self._order), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # given a turn just as it was cancelled: pass it on
                self._release()
            raise

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._release()

    def _release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():  # (one whose waiter was cancelled is skipped)
                turn.set_result(None)
                return
        self.free += 1
