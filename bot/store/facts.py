"""Facts learnt from GitHub, kept for a while (a permission for minutes, whether private reporting
is on for an hour, SECURITY.md for a day), so an event costs no extra calls once they are known;
also small per-report memories (what the advisory poll has seen), and counters that end with
their window (`take`: the second opinion's hourly budgets, shared by every replica)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
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
        row = await self.store.point(sa.select(facts.c.value, facts.c.expires_at).where(facts.c.key == key))
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

    async def take(self, counters: Sequence[tuple[str, int]], now: float, until: float) -> bool:
        """Count one use on each counter `(key, limit)`, all kept until `until` (the end of their
        window): True when every one had room; False, and nothing counted, when one was full.

        Each counter is a conditional upsert (INSERT ... ON CONFLICT DO UPDATE SET value = value + 1
        WHERE value < limit RETURNING), all in one transaction, so replicas share the counts and
        two takes never both get the last use; a full counter rolls the others back."""
        if any(limit < 1 for _, limit in counters):
            return False
        stmt = self.store.insert(facts).values(key=sa.bindparam("k"), value="1", expires_at=sa.bindparam("until"))
        as_int = sa.cast(facts.c.value, sa.Integer)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"], set_={"value": sa.cast(as_int + 1, sa.Text)},
            where=as_int < sa.bindparam("limit", type_=sa.Integer),
        ).returning(facts.c.value)
        try:
            async with self.store.write() as conn:
                for key, limit in counters:
                    if (await conn.execute(stmt, {"k": key, "until": until, "limit": limit})).first() is None:
                        raise _Full
        except _Full:
            return False
        return True


    async def forget(self, key: str) -> None:
        async with self.store.write() as conn:
            await conn.execute(sa.delete(facts).where(facts.c.key == key))


class _Full(Exception):
    """A counter had no room left: roll back the others."""
