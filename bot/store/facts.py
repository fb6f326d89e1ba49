"""Facts learnt from GitHub, kept for a while (a permission for minutes, whether private reporting
is on for an hour, SECURITY.md for a day), so an event costs no extra calls once they are known;
also small per-report memories (what the advisory poll has seen)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import sqlalchemy as sa

from bot.store import Store
from bot.store.tables import facts


class Facts:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, key: str, now: float) -> Any:
        """The fact `key`, or None when unknown or expired."""
        async with self.store.engine.connect() as conn:
            row = (await conn.execute(sa.select(facts.c.value, facts.c.expires_at).where(facts.c.key == key))).first()
        if row is None or row[1] <= now:
            return None
        return orjson.loads(row[0])

    async def remembered(self, key: str, now: float, ttl: float, compute: Callable[[], Awaitable[Any]]) -> Any:
        """The cached fact `key`, or `compute()`'s answer, kept for `ttl` seconds."""
        known = await self.get(key, now)
        if known is not None:
            return known
        value = await compute()
        await self.remember(key, value, now, ttl)
        return value

    async def forget_expired(self, now: float) -> int:
        """Delete the facts that expired by `now`; returns how many."""
        async with self.store.write() as conn:
            return (await conn.execute(sa.delete(facts).where(facts.c.expires_at < now))).rowcount

    async def remember(self, key: str, value: Any, now: float, ttl: float) -> None:
        stmt = self.store.upsert(facts, ["key"], ["value", "expires_at"]).values(
            key=key, value=orjson.dumps(value).decode(), expires_at=now + ttl)
        async with self.store.write() as conn:
            await conn.execute(stmt)

    async def forget(self, key: str) -> None:
        async with self.store.write() as conn:
            await conn.execute(sa.delete(facts).where(facts.c.key == key))
