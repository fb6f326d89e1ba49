"""The busiest writes on SQLite on a file: their operations run in SQLite's writer process.

Each operation of `bot.store.backend.QueueBackend` is one call of an operation of
`bot.store.sqlite.writer.OPS`, sent through the store's `WriterProcess`: no SQLAlchemy on the
way, and no thread of the server sharing the interpreter lock with the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bot.store.backend import QueueBackend
from bot.store.sqlite import writer as sqlite_writer
from bot.store.sqlite.client import DirectStatement, WriterProcess


class WriterBackend(QueueBackend):
    """The operations as calls to the writer process, which shares commits among them."""

    pipelined = True

    def __init__(self, process: WriterProcess, dialect: Any) -> None:
        self.process = process
        self.dialect = dialect

    def prepare(self, stmt: Any, column_keys: Sequence[str] | None = None) -> DirectStatement:
        """Compile a SQLAlchemy statement once, for running it in the writer process."""
        return DirectStatement(stmt, self.dialect, column_keys)

    async def write(self, op: str, *args: Any, linger: float = 0.0) -> Any:
        """Run the operation `op` of `bot.store.sqlite.writer.OPS` with `args` in a write transaction
        of SQLite's writer process, and return its result once it is committed.

        Calls that arrive while a transaction is under way are run together in the next one (group
        commit); one failing call rolls back only its own work (an operation may run twice, see
        `bot.store.sqlite.writer.run`). Results are handed out only after the COMMIT, with the same
        PRAGMAs as the engine's connections (WAL, synchronous=FULL). `Store.write` pauses the
        writer, so the two never wait on each other in SQLite's busy handler.

        With `linger`, work that nobody is waiting on to answer a request (the workers' claims and
        completions) waits up to that many seconds for a call without one to share its commit,
        instead of spending an fsync of its own, while webhooks are arriving (not otherwise).
        """
        return await self.submit(op, *args, linger=linger)  # a cancelled caller's work still runs

    def submit(self, op: str, *args: Any, linger: float = 0.0) -> asyncio.Future[Any]:
        """`write` without the wait: the future of the result."""
        assert op in sqlite_writer.OPS, op
        return self.process.call(op, args, linger)

    async def add_deliveries(self, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> set[str]:
        return await self.submit_deliveries(columns, rows)

    def submit_deliveries(self, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> asyncio.Future[set[str]]:
        """One call to the writer, which also compresses the bodies (`bot.store.sqlite.writer.add_deliveries`)."""
        return self.submit("add_deliveries", columns, [tuple(row[c] for c in columns) for row in rows],
                           [row["body"] for row in rows])

    async def claim(self, stmt: DirectStatement, params: dict[str, Any], webhook: str, *,
                    linger: float) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.write("claim", stmt.sql, stmt.args(params), webhook, linger=linger)
        for m in found:  # bodies come as stored (sqlite_writer.claim)
            if "encoding" in m:
                m["payload"] = sqlite_writer.decode(m["payload"], m.pop("encoding"))
        return found

    async def complete_many(self, owners: dict[str | None, list[int]], running: str, done: dict[str, Any], *,
                            linger: float) -> set[int]:
        won: set[int] = await self.write("complete_many", owners, running, done, linger=linger)
        return won

    async def execute(self, stmt: Any) -> int:
        """One call in the writer's next transaction, sharing its commit."""
        direct = DirectStatement(stmt, self.dialect)
        (count,) = await self.write("execute", [(direct.sql, direct.args({}))])
        return int(count)

    async def all_or_none(self, stmt: DirectStatement, rows: Sequence[dict[str, Any]]) -> int | None:
        """One call in the writer's next transaction, sharing its commit (a savepoint of its own)."""
        refused: int | None = await self.write("all_or_none", stmt.sql, [stmt.args(row) for row in rows])
        return refused
