"""The durable store: an async SQLAlchemy engine on SQLite (the default) or PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot import logs
from bot.errors import describe_error
from bot.store import tables
from bot.store.tables import metadata

__all__ = ["Store", "DirectStatement", "tables", "metadata"]

T = TypeVar("T")
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
        # SQLite has one writer at a time. Queueing writers here, in order (and pausing the direct
        # writer's thread for them, see `_exclusive`), is far faster than letting them collide
        # and sleep in SQLite's busy handler.
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        database = engine.url.database or ""
        on_file = self.dialect == "sqlite" and sqlite_on_file(database)
        self._direct = _DirectWriter(database, self._checkpoint_soon) if on_file else None
        self._checkpointer = _Checkpointer(database, self._exclusive) if on_file else None

    @property
    def direct(self) -> bool:
        """True when `write_direct` is available (SQLite on a file)."""
        return self._direct is not None

    def compile_direct(self, stmt: Any, column_keys: Sequence[str] | None = None) -> "DirectStatement":
        """Compile a SQLAlchemy statement once, for running it on the direct writer."""
        return DirectStatement(stmt, self.engine.dialect, column_keys)

    async def write_direct(self, fn: Callable[[sqlite3.Connection], T], *, linger: float = 0.0) -> T:
        """Run `fn(connection)` in a write transaction on SQLite's dedicated writer thread.

        For the queue's hot paths (intake, claims, completions): no SQLAlchemy on the way and one
        thread round trip per transaction instead of one per statement. Calls that arrive while
        a transaction is under way are run together in the next one (group commit); one failing
        call rolls back only its own work (see `_DirectWriter.run`: `fn` may run twice, and must
        do the same work each time). Every result is handed out only after the COMMIT, with the
        same PRAGMAs as the engine's connections (WAL, synchronous=FULL). The thread starts the
        next transaction as soon as one is committed, without waiting for the event loop;
        `write` pauses it, so the two never wait on each other in SQLite's busy handler.

        With `linger`, work that nobody is waiting on to answer a request (the workers' claims and
        completions) waits up to that many seconds for a call without one to share its commit,
        instead of spending an fsync of its own, while webhooks are arriving (not otherwise).
        """
        return await self.submit_direct(fn, linger=linger)  # a cancelled caller's work still runs

    def submit_direct(self, fn: Callable[[sqlite3.Connection], T], *, linger: float = 0.0) -> "asyncio.Future[T]":
        """`write_direct` without the wait: the future of `fn`'s result."""
        assert self._direct is not None, "SQLite on a file only (see `direct`)"
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._direct.put(_Call(fn, fut, linger))
        return fut

    def _checkpoint_soon(self) -> None:
        """After a commit: have the checkpointer copy the WAL back, at most every `EVERY` seconds.

        SQLite's own automatic checkpoint runs inside the COMMIT that crosses its threshold, and
        every request waiting on that commit waits for megabytes of copying and an fsync of the
        database file: the worst latencies of the webhook. Here the copying runs on a thread
        and connection of its own (a PASSIVE checkpoint needs no write lock), so commits go on
        (see `_Checkpointer._checkpoint` for how the WAL is kept from growing without end).
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
            resume = threading.Event()
            paused: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._direct.put(_Pause(paused, resume))
            try:
                await paused  # the writer thread has committed what it had and waits for `resume`
                yield
            finally:
                resume.set()

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


class DirectStatement:
    """A statement built with SQLAlchemy, compiled once to SQLite's SQL and positional parameters.

    The same statement object runs through the engine elsewhere (PostgreSQL), so both paths
    execute the same SQL; here the values come from `args(params)` in the compiled order.
    """

    def __init__(self, stmt: Any, dialect: Any, column_keys: Sequence[str] | None = None) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None)
        self.sql = str(compiled)
        self.keys = tuple(compiled.positiontup or ())
        self._defaults = dict(compiled.params)  # values the statement fixed itself

    def args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(params[k] if k in params else self._defaults[k] for k in self.keys)

    def rows(self, conn: sqlite3.Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Execute and return the rows (RETURNING) as dicts."""
        cur = conn.execute(self.sql, self.args(params))
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, row)) for row in cur.fetchall()]


@dataclasses.dataclass
class _Call:
    fn: Callable[[sqlite3.Connection], Any]
    fut: "asyncio.Future[Any]"
    linger: float


@dataclasses.dataclass
class _Pause:
    paused: "asyncio.Future[None]"  # set once the writer holds no transaction
    resume: threading.Event


class _Stop:
    pass


class _DirectWriter:
    """One sqlite3 connection owned by one thread, which runs the queued calls' transactions.

    The thread takes every call queued since its last transaction into the next one, so the
    next batch starts the moment a commit ends, however busy the event loop is; results go back
    to the loop with one `call_soon_threadsafe` per transaction. Started on first use.
    """

    LIVELY = 0.05  # calls may linger while a call that may not arrived this recently (seconds)

    def __init__(self, database: str, committed: Callable[[], None]) -> None:
        self.database = database
        self.committed = committed  # called on the event loop after each commit
        self.queue: queue.SimpleQueue[_Call | _Pause | _Stop] = queue.SimpleQueue()
        self.last_now = float("-inf")  # time.monotonic() of the last call that may not linger
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    def put(self, item: "_Call | _Pause") -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="secbot-sqlite-writer", daemon=True)
            self._thread.start()
        if isinstance(item, _Call) and not item.linger:
            self.last_now = time.monotonic()
        self.queue.put(item)

    async def stop(self) -> None:
        if self._thread is not None:
            self.queue.put(_Stop())
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
            self._thread = None

    # -- on the writer thread ---------------------------------------------------------------

    def _serve(self) -> None:
        try:
            while True:
                items = self._take()
                calls: list[_Call] = []
                for item in items:
                    if isinstance(item, _Call):
                        calls.append(item)
                        continue
                    self._commit(calls)
                    calls = []
                    if isinstance(item, _Stop):
                        return
                    _to_loop(item.paused.get_loop(), _settle, [item.paused], [(True, None)])
                    item.resume.wait()
                self._commit(calls)
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _take(self) -> list["_Call | _Pause | _Stop"]:
        """Wait for work; then everything queued, and, if it may all linger while webhooks are
        arriving, what comes within the shortest linger or until a call that may not."""
        items = [self.queue.get()]
        items.extend(self._drain())
        lingering = [i.linger for i in items if isinstance(i, _Call)]
        if len(lingering) == len(items) and all(lingering) and time.monotonic() - self.last_now < self.LIVELY:
            deadline = time.monotonic() + min(lingering)
            while (left := deadline - time.monotonic()) > 0:
                try:
                    item = self.queue.get(timeout=left)
                except queue.Empty:
                    break
                items.append(item)
                if not (isinstance(item, _Call) and item.linger):
                    break
            items.extend(self._drain())
        return items

    def _drain(self) -> list["_Call | _Pause | _Stop"]:
        found = []
        while True:
            try:
                found.append(self.queue.get_nowait())
            except queue.Empty:
                return found

    def _commit(self, calls: list[_Call]) -> None:
        if not calls:
            return
        try:
            outcomes = self.run([c.fn for c in calls])
        except BaseException as exc:  # noqa: BLE001 - BEGIN or COMMIT failed: nobody's work is stored
            outcomes = [(False, exc)] * len(calls)
        loops: dict[asyncio.AbstractEventLoop, tuple[list[Any], list[tuple[bool, Any]]]] = {}
        for call, outcome in zip(calls, outcomes):
            futs, results = loops.setdefault(call.fut.get_loop(), ([], []))
            futs.append(call.fut)
            results.append(outcome)
        first = calls[0].fut.get_loop()
        for loop, (futs, results) in loops.items():  # one wake-up of each loop per transaction
            _to_loop(loop, _settle, futs, results, self.committed if loop is first else None)

    def run(self, calls: Sequence[Callable[[sqlite3.Connection], Any]]) -> list[tuple[bool, Any]]:
        """One transaction for all `calls`: (True, result) or (False, error) for each.

        The calls first run one after another with nothing between them (a SAVEPOINT and a
        RELEASE around each would be two more statements, each one more wait for the GIL). If
        one fails, the transaction is rolled back and run again with each call in a savepoint,
        so that the failing call rolls back only its own work: a call may run twice, and must
        do the same work each time (the first time's is rolled back).
        """
        if self._conn is None:
            conn = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
            for pragma in SQLITE_PRAGMAS + BACKGROUND_CHECKPOINT_PRAGMAS:
                conn.execute(pragma)
            self._conn = conn
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            try:
                outcomes: list[tuple[bool, Any]] = [(True, fn(conn)) for fn in calls]
            except Exception as exc:  # noqa: BLE001 - handed to the caller (alone, below)
                conn.execute("ROLLBACK")
                if len(calls) == 1:
                    return [(False, exc)]
                conn.execute("BEGIN IMMEDIATE")
                outcomes = []
                for fn in calls:
                    conn.execute("SAVEPOINT call")
                    try:
                        outcomes.append((True, fn(conn)))
                    except Exception as exc:  # noqa: BLE001 - handed to that caller alone
                        conn.execute("ROLLBACK TO call")
                        outcomes.append((False, exc))
                    conn.execute("RELEASE call")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return outcomes


def _to_loop(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
        loop.call_soon_threadsafe(fn, *args)


def _settle(futs: Sequence["asyncio.Future[Any]"], outcomes: Sequence[tuple[bool, Any]],
            then: Callable[[], None] | None = None) -> None:
    """On the event loop: hand each waiting caller its result or error; then call `then`."""
    for fut, (ok, value) in zip(futs, outcomes):
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)
    if then is not None:
        then()


class _Checkpointer:
    """PASSIVE WAL checkpoints on a connection and thread of their own (see Store._checkpoint_soon)."""

    # Seconds between checkpoints while there are writes. Each checkpoint ends with an fsync of
    # the database file, and the writer's WAL fsyncs queue behind it on the disk: under a burst
    # (3,000 deliveries/s write about 70 MB/s to the WAL) a quarter of a second's copying made
    # that fsync, and the webhooks waiting on a commit, take 100 ms and more (strace); a
    # twentieth of a second's keeps each one small.
    EVERY = 0.05
    # Pages (64 MB) the WAL may hold before commits wait for the last of it to be copied: about
    # 15 s of writes at 200 deliveries/s (1,100 pages a second), one second at 3,000/s.
    MAX_FRAMES = 16000

    def __init__(self, database: str, exclusive: Callable[[], contextlib.AbstractAsyncContextManager[None]]) -> None:
        self.database = database
        self.exclusive = exclusive  # holds off the store's writers (Store._exclusive)
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="secbot-sqlite-checkpoint")
        self.task: asyncio.Task[None] | None = None
        self.last = float("-inf")
        self.closed = False
        self._conn: sqlite3.Connection | None = None

    async def after(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        loop = asyncio.get_running_loop()
        try:
            in_wal = await loop.run_in_executor(self.thread, self._checkpoint)
            if in_wal > self.MAX_FRAMES:
                # Writes never paused at the right moment (see _checkpoint): make them wait once,
                # for the little left to copy; the next one then restarts the WAL. Under a burst
                # this also keeps the writers from outrunning the copying.
                async with self.exclusive():
                    await asyncio.shield(loop.run_in_executor(self.thread, self._checkpoint))
        except Exception as exc:  # noqa: BLE001 - the next commit asks again; SQLite checkpoints at close
            logs.get("secbot.store").warning("WAL checkpoint failed", extra={"error": describe_error(exc)})
        finally:
            self.last = loop.time()

    def _checkpoint(self) -> int:
        """Copy the WAL back until none of it is left to copy, or three rounds have run; returns
        the number of frames (pages) the WAL holds.

        The WAL starts again from its beginning only when a write transaction begins while it
        is wholly copied; under steady writes one round always leaves the frames committed while
        it ran, and a WAL that never restarts only grows. The rounds after the first copy only
        those few frames, and between commits one of them usually catches up. Under a burst none
        does: once the WAL is over `MAX_FRAMES`, the caller runs a round under the write lock.
        """
        if self._conn is None:
            conn = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=10000")
            self._conn = conn
        in_wal = 0
        for _ in range(3):
            _busy, in_wal, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0]
            if copied >= in_wal:
                break
        return in_wal

    async def close(self) -> None:
        self.closed = True
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self.thread, self._close)
        self.thread.shutdown()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
