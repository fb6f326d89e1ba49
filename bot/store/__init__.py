"""The durable store: an async SQLAlchemy engine on SQLite (the default) or PostgreSQL."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot import logs
from bot.errors import describe_error
from bot.store import tables
from bot.store.sqlite import writer as sqlite_writer
from bot.store.tables import metadata

__all__ = ["Store", "DirectStatement", "WriterGone", "tables", "metadata"]

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
        self._direct = _WriterProcess(database, self._checkpoint_soon) if on_file else None
        self._checkpointer = _Checkpointer(database, self._exclusive) if on_file else None

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


class WriterGone(ConnectionError):
    """The SQLite writer process exited (or could not be reached) before answering."""


class _WriterProcess:
    """The server's side of SQLite's writer process (`bot.store.sqlite.writer`): sends it calls, pauses
    and resumes it, and settles each caller's future when its transaction's results come back.

    Started on first use, on the running event loop; started again on the next use if it died
    (the calls it had not answered fail with `WriterGone`; the intake sends a batch of webhook
    deliveries once more, and a delivery committed after all is recognised as stored).
    """

    BUFFER = 4 * 1024 * 1024  # bytes the socket to the writer may hold (SO_SNDBUF)

    def __init__(self, database: str, committed: Callable[[], None]) -> None:
        self.database = database
        self.committed = committed  # called on the event loop after each transaction
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._frames = sqlite_writer.Frames()
        self._out: collections.deque[memoryview] = collections.deque()  # what the socket did not take yet
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count()
        self._stopping = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._sock is not None else None

    def call(self, op: str, args: Sequence[Any], linger: float) -> "asyncio.Future[Any]":
        return self._send_waiting("call", op, tuple(args), linger)

    def pause(self) -> "asyncio.Future[Any]":
        """Resolves once the writer has committed what it had and holds no transaction; at once
        when no writer runs (a CLI command that only writes through the engine starts none)."""
        if self._sock is None:
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        return self._send_waiting("pause")

    def resume(self) -> None:
        if self._sock is not None:
            self._send(("resume",))

    async def stop(self) -> None:
        if self._sock is None or self._proc is None:
            return
        proc = self._proc
        self._stopping = True
        self._send(("stop",))
        await asyncio.get_running_loop().run_in_executor(None, proc.wait)  # its last answers still arrive
        self._gone(WriterGone("the SQLite writer stopped"))

    def _send_waiting(self, kind: str, *rest: Any) -> "asyncio.Future[Any]":
        try:
            self._start()
        except OSError as exc:  # could not start the process: this call fails, the next one tries again
            fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            fut.set_exception(WriterGone(f"could not start the SQLite writer: {describe_error(exc)}"))
            return fut
        assert self._loop is not None
        fut = self._loop.create_future()
        key = next(self._ids)
        self._waiting[key] = fut
        self._send((kind, key, *rest))
        return fut

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._sock is not None and self._loop is loop:
            return
        if self._sock is not None:  # used from a new event loop (the last one is gone)
            self._gone(WriterGone("the SQLite writer was left by its event loop"))
        ours, theirs = socket.socketpair()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", sqlite_writer.__file__, str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        # Room for a burst's bodies, so that a send rarely stops half way (the system may cap it).
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.BUFFER)
        self._sock, self._loop, self._frames = ours, loop, sqlite_writer.Frames()
        loop.add_reader(ours.fileno(), self._readable)
        self._send(("init", self.database, SQLITE_PRAGMAS + BACKGROUND_CHECKPOINT_PRAGMAS))

    def _send(self, message: tuple[Any, ...]) -> None:
        """Send a frame now, as far as the socket takes it; the rest when it can take more."""
        sock, loop = self._sock, self._loop
        assert sock is not None and loop is not None
        frame = sqlite_writer.pack(message)
        if self._out:
            self._out.append(frame)
            return
        try:
            sent = sock.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            loop.call_soon(self._lost, sock, f"cannot be reached: {exc}")
            return
        if sent < len(frame):
            self._out.append(frame[sent:])
            loop.add_writer(sock.fileno(), self._writable)

    def _writable(self) -> None:
        sock, loop = self._sock, self._loop
        assert sock is not None and loop is not None
        try:
            sent = sock.sendmsg(list(itertools.islice(self._out, 64)))
        except BlockingIOError:
            return
        except OSError as exc:
            self._lost(sock, f"cannot be reached: {exc}")
            return
        while sent and sent >= len(self._out[0]):
            sent -= len(self._out.popleft())
        if sent:
            self._out[0] = self._out[0][sent:]
        if not self._out:
            loop.remove_writer(sock.fileno())

    def _readable(self) -> None:
        assert self._sock is not None
        try:
            data = self._sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError as exc:  # (it exited with messages of ours unread: ECONNRESET)
            self._lost(self._sock, f"cannot be reached: {exc}")
            return
        if not data:
            self._lost(self._sock, "process exited")
            return
        committed = False
        for message in self._frames.feed(data):
            if message[0] == "done":
                committed = True
                for key, ok, value in message[1]:
                    _settle(self._waiting.pop(key, None), ok, value)
            else:  # ("paused", key)
                _settle(self._waiting.pop(message[1], None), True, None)
        if committed:
            self.committed()

    def _lost(self, sock: socket.socket, why: str) -> None:
        """The writer on `sock` went away under us: say so (unless `stop` ended it) and forget it."""
        if sock is not self._sock:  # forgotten already, and maybe replaced (a failed send tells us late)
            return
        if not self._stopping:
            code = self._proc.poll() if self._proc is not None else None
            logs.get("secbot.store").error("the SQLite writer process exited or cannot be reached; the next "
                                           "write starts another", extra={"exit_code": code, "why": why})
        self._gone(WriterGone(f"the SQLite writer {why}"))

    def _gone(self, error: WriterGone) -> None:
        """Forget the process (it exited or is to be replaced): its waiting callers get `error`."""
        if self._sock is not None:
            with contextlib.suppress(Exception):  # the loop may be closed already
                assert self._loop is not None
                self._loop.remove_reader(self._sock.fileno())
                self._loop.remove_writer(self._sock.fileno())
            self._sock.close()  # the process sees EOF and exits
        if self._proc is not None and self._proc.poll() is None:
            threading.Thread(target=self._proc.wait, daemon=True).start()  # reap it when it exits
        self._sock = self._proc = self._loop = None
        self._stopping = False
        self._out.clear()
        waiting, self._waiting = self._waiting, {}
        for fut in waiting.values():
            _settle(fut, False, error)


def _settle(fut: "asyncio.Future[Any] | None", ok: bool, value: Any) -> None:
    if fut is None or fut.done():
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


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
