"""Group commit for webhook deliveries.

Each delivery must be durable before its webhook is answered, but one transaction per request
would cap throughput at the store's commit rate. Requests that arrive while a commit is under
way wait together and are stored by the next single INSERT ... ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.queue import Queue

MAX_BATCH = 500


class Intake:
    def __init__(self, queue: Queue, on_stored: Callable[[], None] = lambda: None) -> None:
        self.queue = queue
        self.on_stored = on_stored
        self._pending: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, row: dict[str, Any]) -> bool:
        """Store one delivery; True if it is new, False if this delivery id was stored before."""
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, fut))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await fut  # cancelling the wait cancels only this future: the row is still stored

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            seen: dict[str, dict[str, Any]] = {}
            for row, _ in batch:
                seen.setdefault(row["delivery_id"], row)
            try:
                new = await self.queue.add_deliveries(list(seen.values()))
            except Exception as exc:  # noqa: BLE001 - each waiting request answers 503
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for row, fut in batch:
                if not fut.done():
                    first = seen.get(row["delivery_id"]) is row
                    fut.set_result(first and row["delivery_id"] in new)
            if new:
                self.on_stored()

    async def drain(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
