"""The durable store: an async SQLAlchemy engine on SQLite (the default) or PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store import tables
from bot.store.tables import metadata

__all__ = ["Store", "tables", "metadata"]

T = TypeVar("T")
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=10000",
                  "PRAGMA foreign_keys=ON")


class Store:
    """One engine per process, shared by the webhook view, the workers and the CLI."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name  # "sqlite" or "postgresql"
        # SQLite has one writer at a time. Queueing writers here, in order, is far faster than
        # letting them collide and sleep in SQLite's busy handler.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        database = engine.url.database or ""
        # An in-memory database is private to its connection: a second connection would see another.
        on_file = self.dialect == "sqlite" and database not in ("", ":memory:") and not database.startswith("file:")
        self._direct = _DirectWriter(database) if on_file else None

    @property
    def direct(self) -> bool:
        """True when `write_direct` is available (SQLite on a file)."""
        return self._direct is not None

    async def write_direct(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` in one write transaction on SQLite's dedicated writer thread.

        For hot paths (webhook intake): one thread round trip per transaction instead of one
        per statement, and no SQLAlchemy on the way. Queued behind the same lock as `write`, so
        the two never wait on each other in SQLite's busy handler. Same PRAGMAs, so a commit
        is as durable as one made through the engine (WAL, synchronous=FULL).
        """
        assert self._direct is not None and self._write_lock is not None, "SQLite on a file only"
        async with self._write_lock:
            fut = asyncio.get_running_loop().run_in_executor(self._direct.thread, self._direct.run, fn)
            try:
                return await asyncio.shield(fut)
            except asyncio.CancelledError:
                # Keep the lock until the thread is done with the transaction.
                with contextlib.suppress(Exception):
                    await fut
                raise

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed on leaving the block."""
        if self._write_lock is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._write_lock:
            async with self.engine.connect() as conn:
                await conn.execution_options(secbot_write=True)
                async with conn.begin():
                    yield conn

    @classmethod
    def open(cls, url: str, *, pool_size: int = 5, connect_args: dict[str, Any] | None = None) -> "Store":
        """Create the engine; `url` is an async SQLAlchemy URL (see settings.async_database_url)."""
        args = connect_args or {}
        if url.startswith("sqlite"):
            engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, connect_args=args)
            _tune_sqlite(engine)
        else:
            engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, connect_args=args
            )
        return cls(engine)

    async def close(self) -> None:
        if self._direct is not None:
            await asyncio.get_running_loop().run_in_executor(self._direct.thread, self._direct.close)
            self._direct.thread.shutdown()
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


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE for write transactions (see Store.write)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("secbot_write") else "BEGIN")


class _DirectWriter:
    """One sqlite3 connection owned by one thread, opened on first use."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="secbot-sqlite-writer")
        self._conn: sqlite3.Connection | None = None

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            conn = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
            for pragma in SQLITE_PRAGMAS:
                conn.execute(pragma)
            self._conn = conn
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
