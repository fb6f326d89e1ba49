"""The busiest writes behind one small interface: storing webhook deliveries, claiming jobs,
completing them, and counting the content-creation budget (`bot.github.budget`).

The store picks the implementation once, when it opens: `WriterBackend`
(`bot.store.sqlite.backend`) sends the operations to SQLite's writer process (SQLite on a file),
`EngineBackend` runs them as SQLAlchemy statements on the engine (PostgreSQL, and SQLite in
memory). `bot.jobs.queue.Queue` builds the statements and names the job states; a backend runs
them and knows nothing of the queue.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from bot.store.sqlite.writer import decode
from bot.store.tables import deliveries, jobs

if TYPE_CHECKING:
    from bot.store.database import Store


class QueueBackend(abc.ABC):
    """How the busiest writes reach the database. `linger`: seconds a call nobody waits
    on to answer a request may wait to share a commit with webhook intake (where calls share
    commits; others ignore it)."""

    # True when calls go out at once and those made while a commit is under way share the next
    # one: the intake then hands over each turn's deliveries without waiting for the last batch.
    pipelined = False

    def prepare(self, stmt: Any) -> Any:
        """A statement for `claim`, made ready once to run many times."""
        return stmt

    @abc.abstractmethod
    async def add_deliveries(self, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> set[str]:
        """In one transaction, the jobs (each row's `columns`) of the deliveries whose delivery id
        is not stored yet, and their bodies (each row's "body") in `deliveries`; returns those
        delivery ids."""

    @abc.abstractmethod
    def submit_deliveries(self, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> asyncio.Future[set[str]]:
        """`add_deliveries`, under way at once: the future of its result."""

    @abc.abstractmethod
    async def claim(self, stmt: Any, params: dict[str, Any], webhook: str, *, linger: float) -> list[dict[str, Any]]:
        """Run the claim `stmt` (from `prepare`: an UPDATE ... RETURNING) with `params`; returns
        the claimed rows as mappings, each job of kind `webhook` with its body from `deliveries`,
        as received, as its payload."""

    @abc.abstractmethod
    async def complete_many(self, owners: dict[str | None, list[int]], running: str, done: dict[str, Any], *,
                            linger: float) -> set[int]:
        """In one transaction, set the `done` values on the jobs each owner still holds (state
        `running` under its lease); returns their ids."""

    @abc.abstractmethod
    async def execute(self, stmt: Any) -> int:
        """One write statement (values bound in it) in a transaction; its row count."""

    @abc.abstractmethod
    async def all_or_none(self, stmt: Any, rows: Sequence[dict[str, Any]]) -> int | None:
        """In one transaction, `stmt` (from `prepare`: a conditional INSERT or UPDATE ...
        RETURNING) with each of `rows` in order: None when each returned a row; else the index of
        the first that returned none, and nothing of this call is kept."""


class _NoRow(Exception):
    """A statement of `all_or_none` returned no row: its transaction is rolled back."""

    def __init__(self, index: int) -> None:
        self.index = index


class EngineBackend(QueueBackend):
    """The operations as SQLAlchemy statements, each in a write transaction of the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def add_deliveries(self, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> set[str]:
        """The jobs: INSERT ... ON CONFLICT (delivery_id) DO NOTHING RETURNING; then the new ones' bodies."""
        stmt = self.store.insert_ignore(jobs, ["delivery_id"]).returning(jobs.c.id, jobs.c.delivery_id)
        body_of = {row["delivery_id"]: row["body"] for row in rows}
        async with self.store.write() as conn:
            result = await conn.execute(stmt, [{k: row[k] for k in columns} for row in rows])
            new = {delivery_id: job_id for job_id, delivery_id in result}
            if new:
                await conn.execute(sa.insert(deliveries), [{"job_id": job_id, "body": body_of[d]}
                                                           for d, job_id in new.items()])
            return set(new)

    def submit_deliveries(self, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> asyncio.Future[set[str]]:
        return asyncio.ensure_future(self.add_deliveries(columns, rows))

    async def claim(self, stmt: Any, params: dict[str, Any], webhook: str, *, linger: float) -> list[dict[str, Any]]:
        async with self.store.write() as conn:
            found = [dict(r._mapping) for r in (await conn.execute(stmt, params)).all()]
            if webhooks := [m["id"] for m in found if m["kind"] == webhook]:
                select = sa.select(deliveries.c.job_id, deliveries.c.body, deliveries.c.encoding).where(
                    deliveries.c.job_id.in_(webhooks))
                bodies = {job_id: decode(body, encoding) for job_id, body, encoding in await conn.execute(select)}
                for m in found:
                    m["payload"] = bodies.get(m["id"], m["payload"])
        return found

    async def complete_many(self, owners: dict[str | None, list[int]], running: str, done: dict[str, Any], *,
                            linger: float) -> set[int]:
        won: set[int] = set()
        async with self.store.write() as conn:
            for owner, ids in owners.items():
                stmt = (
                    sa.update(jobs)
                    .where(jobs.c.id.in_(ids), jobs.c.state == running, jobs.c.lease_owner == owner)
                    .values(**done)
                    .returning(jobs.c.id)
                )
                won.update(r[0] for r in await conn.execute(stmt))
        return won

    async def execute(self, stmt: Any) -> int:
        async with self.store.write() as conn:
            return int((await conn.execute(stmt)).rowcount)

    async def all_or_none(self, stmt: Any, rows: Sequence[dict[str, Any]]) -> int | None:
        try:
            async with self.store.write() as conn:
                for i, row in enumerate(rows):
                    if (await conn.execute(stmt, row)).first() is None:
                        raise _NoRow(i)
        except _NoRow as refused:
            return refused.index
        return None
