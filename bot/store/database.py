"""The store: one async SQLAlchemy engine, on SQLite (the default) or PostgreSQL.

`Store` opens the engine, runs write transactions (on SQLite one at a time, and never against
the writer process), builds the dialect's INSERT ... ON CONFLICT, and picks the queue's backend
(`bot.store.backend`). On SQLite on a file it owns the writer process's client and the WAL
checkpointer (`bot.store.sqlite`).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event

from bot.store.backend import EngineBackend, QueueBackend
from bot.store.sqlite.backend import WriterBackend
from bot.store.sqlite.checkpointer import Checkpointer
from bot.store.sqlite.client import WriterGone, WriterProcess
from bot.store.sqlite.reader import SINGLE, Reader

T = TypeVar("T")

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def _async_engines() -> ModuleType:
    """SQLAlchemy's async engine (`sqlalchemy.ext.asyncio.engine`) without its package's
    `__init__`, which also imports the ORM's async sessions and with them the whole ORM (45
    modules, 6 MB in every process) that Secbot, on Core only, never uses. The package is
    stood in for while its engine module is imported, then forgotten: a later
    `import sqlalchemy.ext.asyncio` (Alembic's, a test's) runs the real one, which finds this
    same engine module already imported."""
    name = "sqlalchemy.ext.asyncio"
    if name in sys.modules:
        return importlib.import_module(f"{name}.engine")
    spec = importlib.util.find_spec(name)
    assert spec is not None
    sys.modules[name] = importlib.util.module_from_spec(spec)  # (not run: no __init__)
    try:
        return importlib.import_module(f"{name}.engine")
    finally:
        del sys.modules[name]

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

    def __init__(self, engine: AsyncEngine, *, share_writer: str | None = None, attach_writer: str | None = None) -> None:
        """`share_writer` (SQLite on a file): SQLite's writer process also serves worker processes,
        which connect on this Unix socket. `attach_writer`: a worker process's store, whose writes
        go to the writer a server shares there (it runs no writer and no checkpointer of its own;
        the server checkpoints after the workers' commits too)."""
        self.engine = engine
        self.dialect = engine.dialect.name  # "sqlite" or "postgresql"
        # SQLite has one writer at a time. Queueing writers here, in order (and pausing the writer
        # process for them, see `_exclusive`), is far faster than letting them collide
        # and sleep in SQLite's busy handler.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        database = engine.url.database or ""
        on_file = self.dialect == "sqlite" and sqlite_on_file(database)
        self._writer = (WriterProcess(database, SQLITE_PRAGMAS + BACKGROUND_CHECKPOINT_PRAGMAS, self._checkpoint_soon,
                                      listen=share_writer, attach=attach_writer)
                        if on_file else None)
        self._checkpointer = Checkpointer(database, self._exclusive) if on_file and attach_writer is None else None
        self._reader = Reader(database, lambda sync: _tune_sqlite(sync, background_checkpoints=True)) if on_file else None
        # The queue's hot path (bot/store/backend.py), chosen here once.
        self.backend: QueueBackend = (WriterBackend(self._writer, engine.dialect) if self._writer is not None
                                      else EngineBackend(self))

    @property
    def writer_pid(self) -> int | None:
        """The process id of SQLite's writer process while it runs."""
        return self._writer.pid if self._writer is not None else None

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
            if self._writer is None:
                yield
                return
            try:
                with contextlib.suppress(WriterGone):  # no writer process now: nothing to hold off
                    await self._writer.pause()  # the writer has committed what it had and waits for "resume"
                yield
            finally:
                self._writer.resume()

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

    async def read(self, work: Callable[[sa.Connection], T]) -> T:
        """`work(connection)`, synchronous SQLAlchemy calls, in one read transaction; its result.

        On SQLite on a file the whole read runs on a reader thread, handed over once
        (`bot.store.sqlite.reader`); elsewhere on a connection of the engine (`run_sync`)."""
        return await self._read(work)

    async def _read(self, work: Callable[[sa.Connection], T], single: bool = False) -> T:
        if self._reader is not None:
            return await self._reader.run(work, single=single)
        async with self.engine.connect() as conn:
            return await conn.run_sync(work)

    async def execute(self, stmt: Any) -> int:
        """One write statement, its values bound in it, in a transaction of its own; its row count.

        On SQLite on a file it is a call of the writer process, sharing the commit of what else
        is under way (`bot.store.backend`) instead of pausing the writer for a transaction and an
        fsync of its own, as `write` does; elsewhere a `write` of one statement."""
        return await self.backend.execute(stmt)

    async def first(self, stmt: Any, params: dict[str, Any] | None = None) -> Any:
        """The first row of a SELECT (with `params` for its bound parameters), or None (`read`).

        A statement built once with `sa.bindparam` and given its values here costs about half
        as much to run as one built for each call (no new statement, its cache key memoized)."""
        return await self._read(lambda conn: conn.execute(stmt, params).first(), single=True)

    async def point(self, stmt: Any, params: dict[str, Any] | None = None) -> Any:
        """`first` of a SELECT that finds at most one row by its primary key or a unique index.

        On SQLite on a file it runs at once on the event loop's thread (`Reader.point`): such a read
        takes SQLite microseconds, less than the hand-off to a reader thread costs. Only for reads
        an index answers: a scan would hold up the event loop."""
        if self._reader is not None:
            return self._reader.point(lambda conn: conn.execute(stmt, params).first())
        return await self.first(stmt, params)

    async def all(self, stmt: Any) -> list[Any]:
        """Every row of a SELECT (`read`)."""
        return await self._read(lambda conn: list(conn.execute(stmt).all()), single=True)

    async def scalar(self, stmt: Any) -> Any:
        """The first column of the first row of a SELECT, or None (`read`)."""
        return await self._read(lambda conn: conn.execute(stmt).scalar(), single=True)

    @property
    def shares_writer(self) -> bool:
        """Whether worker processes can share this store's SQLite writer (SQLite on a file)."""
        return self.writer_socket is not None

    @property
    def writer_socket(self) -> str | None:
        """Where worker processes connect to this store's SQLite writer, if they can."""
        return self._writer.listen if self._writer is not None else None

    async def start_writer(self) -> None:
        """Start SQLite's writer now, listening for worker processes (when it shares): they can
        connect once this returns. Nothing to do on other stores."""
        if self._writer is not None:
            await self._writer.start()

    @classmethod
    def open(cls, url: str, *, pool_size: int = 5, connect_args: dict[str, Any] | None = None,
             share_writer: str | None = None, attach_writer: str | None = None) -> "Store":
        """Create the engine; `url` is an async SQLAlchemy URL (see settings.async_database_url).
        `share_writer`, `attach_writer`: see `Store.__init__` (ignored but on SQLite on a file)."""
        args = connect_args or {}
        if url.startswith("sqlite"):
            engine = _async_engines().create_async_engine(url, pool_size=pool_size, max_overflow=0, connect_args=args)
            _tune_sqlite(engine.sync_engine, background_checkpoints=sqlite_on_file(engine.url.database or ""))
        else:
            engine = _async_engines().create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, connect_args=args
            )
            share_writer = attach_writer = None
        return cls(engine, share_writer=share_writer, attach_writer=attach_writer)

    async def close(self) -> None:
        if self._checkpointer is not None:  # first: a round holding the writer paused lets it go
            await self._checkpointer.close()
        if self._writer is not None:
            await self._writer.stop()
        if self._reader is not None:
            await asyncio.to_thread(self._reader.close)
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


def _tune_sqlite(engine: sa.Engine, *, background_checkpoints: bool) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE for write transactions (see Store.write), on the
    connections of `engine` (the async engine's synchronous core, or the reader's engine)."""
    pragmas = SQLITE_PRAGMAS + (BACKGROUND_CHECKPOINT_PRAGMAS if background_checkpoints else ())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        for pragma in pragmas:
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(SINGLE):  # one SELECT (Reader): SQLite's transaction of that statement is enough
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("secbot_write") else "BEGIN")

