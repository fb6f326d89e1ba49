"""The store: one async SQLAlchemy engine, on SQLite (the default) or PostgreSQL.

`Store` opens the engine, runs write transactions (on SQLite one at a time, and never against
the writer process), builds the dialect's INSERT ... ON CONFLICT, and on SQLite on a file owns
the writer process's client and the WAL checkpointer (`bot.store.sqlite`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store.sqlite import writer as sqlite_writer
from bot.store.sqlite.checkpointer import Checkpointer
from bot.store.sqlite.client import DirectStatement, WriterGone, WriterProcess

SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=10000",
                  "PRAGMA foreign_keys=ON")
# With a background checkpointer (SQLite on a file), no connection of ours checkpoints inside its
# own COMMIT; a WAL left bigger than this by a burst is cut back to it when it is next reset.
BACKGROUND_CHECKPOINT_PRAGMAS = ("PRAGMA wal_autocheckpoint=0", f"PRAGMA journal_size_limit={64 * 1024 * 1024}")


def sqlite_on_file(database: str) -> bool:
    """A database other connections and threads can open (an in-memory one is private to its connection)."""
    return database not in ("", ":memory:") and not database.startswith("file:")


class Store:
    """One engine per process, shared by the webhook view, the workers and the CLI."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name  # "sqlite" or "postgresql"
        # SQLite has one writer at a time. Queueing writers here, in order (and pausing the writer
        # process for them, see `_exclusive`), is far faster than letting them collide
        # and sleep in SQLite's busy handler.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        database = engine.url.database or ""
        on_file = self.dialect == "sqlite" and sqlite_on_file(database)
        self._direct = (WriterProcess(database, SQLITE_PRAGMAS + BACKGROUND_CHECKPOINT_PRAGMAS, self._checkpoint_soon)
                        if on_file else None)
        self._checkpointer = Checkpointer(database, self._exclusive) if on_file else None

    @property
    def direct(self) -> bool:
        """True when `write_direct` is available (SQLite on a file)."""
        return self._direct is not None

    def compile_direct(self, stmt: Any, column_keys: Sequence[str] | None = None) -> "DirectStatement":
        """Compile a SQLAlchemy statement once, for running it in the writer process (`write_direct`)."""
        return DirectStatement(stmt, self.engine.dialect, column_keys)

    @property
    def writer_pid(self) -> int | None:
        """The process id of SQLite's writer process while it runs."""
        return self._direct.pid if self._direct is not None else None

    async def write_direct(self, op: str, *args: Any, linger: float = 0.0) -> Any:
        """Run the operation `op` of `bot.store.sqlite.writer.OPS` with `args` in a write transaction
        of SQLite's writer process, and return its result once it is committed.

        For the queue's hot paths (intake, claims, completions): no SQLAlchemy on the way, and no
        thread of this process sharing the interpreter lock with the event loop. Calls that
        arrive while a transaction is under way are run together in the next one (group
        commit); one failing call rolls back only its own work (an operation may run twice, see
        `bot.store.sqlite.writer.run`). Results are handed out only after the COMMIT, with the same
        PRAGMAs as the engine's connections (WAL, synchronous=FULL). `write` pauses the writer,
        so the two never wait on each other in SQLite's busy handler.

        With `linger`, work that nobody is waiting on to answer a request (the workers' claims and
        completions) waits up to that many seconds for a call without one to share its commit,
        instead of spending an fsync of its own, while webhooks are arriving (not otherwise).
        """
        return await self.submit_direct(op, *args, linger=linger)  # a cancelled caller's work still runs

    def submit_direct(self, op: str, *args: Any, linger: float = 0.0) -> "asyncio.Future[Any]":
        """`write_direct` without the wait: the future of the result."""
        assert self._direct is not None, "SQLite on a file only (see `direct`)"
        assert op in sqlite_writer.OPS, op
        return self._direct.call(op, args, linger)

    def _checkpoint_soon(self) -> None:
        """After a commit: have the checkpointer copy the WAL back, at most every `EVERY` seconds.

        SQLite's own automatic checkpoint runs inside the COMMIT that crosses its threshold, and
        every request waiting on that commit waits for megabytes of copying and an fsync of the
        database file: the worst latencies of the webhook. Here the copying runs on a thread
        and connection of its own (a PASSIVE checkpoint needs no write lock), so commits go on
        (see `Checkpointer._checkpoint` for how the WAL is kept from growing without end).
        """
        cp = self._checkpointer
        if cp is None or cp.closed or (cp.task is not None and not cp.task.done()):
            return
        loop = asyncio.get_running_loop()
        wait = cp.last + cp.EVERY - loop.time()
        cp.task = asyncio.create_task(cp.after(max(0.0, wait)), name="secbot-sqlite-checkpoint")

    @contextlib.asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        """Hold SQLite's write side: the other writers of this process wait until the block ends."""
        assert self._write_lock is not None
        async with self._write_lock:
            if self._direct is None:
                yield
                return
            try:
                with contextlib.suppress(WriterGone):  # no writer process now: nothing to hold off
                    await self._direct.pause()  # the writer has committed what it had and waits for "resume"
                yield
            finally:
                self._direct.resume()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed on leaving the block."""
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._exclusive():
            async with self.engine.connect() as conn:
                await conn.execution_options(secbot_write=True)
                async with conn.begin():
                    yield conn
        self._checkpoint_soon()

    @classmethod
    def open(cls, url: str, *, pool_size: int = 5, connect_args: dict[str, Any] | None = None) -> "Store":
        """Create the engine; `url` is an async SQLAlchemy URL (see settings.async_database_url)."""
        args = connect_args or {}
        if url.startswith("sqlite"):
            engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, connect_args=args)
            _tune_sqlite(engine, background_checkpoints=sqlite_on_file(engine.url.database or ""))
        else:
            engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, connect_args=args
            )
        return cls(engine)

    async def close(self) -> None:
        if self._checkpointer is not None:  # first: a round holding the writer paused lets it go
            await self._checkpointer.close()
        if self._direct is not None:
            await self._direct.stop()
        await self.engine.dispose()

    def insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which knows ON CONFLICT."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def insert_ignore(self, table: sa.Table, conflict: Sequence[str]) -> Any:
        """INSERT ... ON CONFLICT (conflict) DO NOTHING."""
        return self.insert(table).on_conflict_do_nothing(index_elements=list(conflict))

    def upsert(self, table: sa.Table, conflict: Sequence[str], update: Sequence[str], where: Any = None) -> Any:
        """INSERT ... ON CONFLICT (conflict) DO UPDATE SET the `update` columns from the new row."""
        stmt = self.insert(table)
        return stmt.on_conflict_do_update(
            index_elements=list(conflict), set_={c: stmt.excluded[c] for c in update}, where=where
        )

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health check reports, never raises
            return False


def _tune_sqlite(engine: AsyncEngine, *, background_checkpoints: bool) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE for write transactions (see Store.write)."""
    pragmas = SQLITE_PRAGMAS + (BACKGROUND_CHECKPOINT_PRAGMAS if background_checkpoints else ())

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        for pragma in pragmas:
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("secbot_write") else "BEGIN")

