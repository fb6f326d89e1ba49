"""Group commit for webhook deliveries.

Each delivery must be durable before its webhook is answered, but one transaction per request
would cap throughput at the store's commit rate. Requests that arrive while a commit is under
way wait together and are stored by the next single INSERT.

On SQLite (on a file) the deliveries that arrive in one turn of the event loop go to the store's
writer process as one call, and the writer puts every call that arrived while it was committing
into its next transaction (the queue's backend is pipelined, see
`bot.store.sqlite.backend.WriterBackend.write`): the event loop, however busy, is not on the way
between one commit and the next. If the writer process dies under a batch, the batch goes once
more to the writer the next call starts: GitHub does not redeliver a webhook answered 503.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from typing import Any

from bot import heap
from bot.jobs.queue import DONE, Queue
from bot.store.sqlite.client import WriterGone

MAX_BATCH = 500

Waiting = tuple[dict[str, Any], "asyncio.Future[bool]"]


class Intake:
    # Two deliveries this close together (seconds): webhooks are arriving back to back.
    BACK_TO_BACK = 0.005

    def __init__(self, queue: Queue, on_stored: Callable[[], None] = lambda: None) -> None:
        self.queue = queue
        self.on_stored = on_stored
        self._arrivals = (float("-inf"), float("-inf"))  # time.monotonic() of the last two
        self._pending: list[Waiting] = []
        self._flusher: asyncio.Task[None] | None = None
        # A pipelined backend: deliveries of this turn of the event loop, and whether a call to send them is queued.
        self._arrived: collections.deque[Waiting] = collections.deque()
        self._posted = False
        self._taking: set[asyncio.Future[Any]] = set()
        # Memory given back once a burst of deliveries is over (bot/heap.py), looked at by one timer.
        self.idle = heap.Idle()
        self._idle_timer: asyncio.TimerHandle | None = None

    def submit(self, row: dict[str, Any]) -> "asyncio.Future[bool]":
        """Store one delivery. The future: True if it is new, False if this delivery id was
        stored before. Cancelling it cancels only the wait: the row is still stored."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        self._arrivals = (self._arrivals[1], time.monotonic())
        self.idle.count()
        if self._idle_timer is None:
            self._idle_timer = loop.call_later(self.idle.quiet, self._after_burst)
        if self.queue.backend.pipelined:
            self._arrived.append((row, fut))
            if not self._posted:
                self._posted = True
                loop.call_soon(self._post)
        else:
            self._pending.append((row, fut))
            if self._flusher is None or self._flusher.done():
                self._flusher = asyncio.create_task(self._flush())
        return fut

    def _after_burst(self) -> None:
        self._idle_timer = None
        if not self.idle.give_back() and self.idle.done >= self.idle.every:  # still arriving: look again
            self._idle_timer = asyncio.get_running_loop().call_later(self.idle.quiet, self._after_burst)

    def busy(self) -> bool:
        """True while webhooks arrive back to back: the last two came within `BACK_TO_BACK`
        seconds of now (the workers then leave the store and the event loop to them)."""
        return time.monotonic() - self._arrivals[0] < self.BACK_TO_BACK

    # -- a pipelined backend (SQLite's writer process): what arrived in this turn of the loop -------

    def _post(self) -> None:
        self._posted = False
        while self._arrived:
            self._send([self._arrived.popleft() for _ in range(min(MAX_BATCH, len(self._arrived)))], retry=True)

    def _send(self, batch: list[Waiting], *, retry: bool) -> None:
        call = self.queue.submit_deliveries([row for row, _ in batch])
        self._taking.add(call)
        call.add_done_callback(lambda done: self._taken(done, batch, retry))

    def _taken(self, call: "asyncio.Future[set[str]]", batch: list[Waiting], retry: bool) -> None:
        self._taking.discard(call)
        if call.cancelled():  # only `drain` being cancelled cancels it; its requests answer 503
            _answer(batch, None, ConnectionError("the store closed"))
            return
        error = call.exception()
        if isinstance(error, WriterGone) and retry:
            # The writer process died under this batch: its transaction rolled back, or it
            # committed and died before answering. Once more, on the writer the next call starts:
            # GitHub does not redeliver a webhook answered 503 by itself. What the first
            # transaction committed comes back as stored before, and is answered so.
            self._send(batch, retry=False)
            return
        new = None if error is not None else call.result()
        _answer(batch, new, error)
        # (a second try may find them all stored by the first)
        if (new or (error is None and not retry)) and _wakes(batch):
            self.on_stored()

    # -- other stores: one batch at a time, from the event loop ----------------------------------

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                new = await self.queue.add_deliveries([row for row, _ in batch])
            except Exception as exc:  # noqa: BLE001 - each waiting request answers 503
                _answer(batch, None, exc)
                continue
            _answer(batch, new, None)
            if new and _wakes(batch):
                self.on_stored()

    async def drain(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._arrived:  # not sent yet: send now rather than in this turn's callback
            self._post()
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        while self._taking:  # (a batch whose writer died is sent once more meanwhile)
            await asyncio.gather(*self._taking, return_exceptions=True)


def _wakes(batch: list[Waiting]) -> bool:
    """Whether a batch holds work for the workers: deliveries no handler takes, stored as done
    (bot/rules/lanes.py `TAKEN`), wake none of them."""
    return any(row.get("state") != DONE for row, _ in batch)


def _answer(batch: list[Waiting], new: set[str] | None, error: BaseException | None) -> None:
    """Each waiting request: True for the first row of a delivery id that was new, else False."""
    first: set[str] = set()
    for row, fut in batch:
        delivery_id = row["delivery_id"]
        if fut.done():
            first.add(delivery_id)
            continue
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(delivery_id in new and delivery_id not in first)  # type: ignore[operator]
        first.add(delivery_id)
