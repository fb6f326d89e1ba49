"""Reads of SQLite on a file, each run whole on a thread of its own: one hand-off per read.

Through the async engine (aiosqlite) every step of a read crosses to aiosqlite's thread and back
(BEGIN; a cursor, its execute, its fetch, its close; ROLLBACK): nine hand-offs for a one-row
SELECT, each a wake-up of that thread and of the event loop, about 1.2 ms of CPU in all
(bench/README.md). Here the same SQLAlchemy statements run on a synchronous engine (the standard
library's sqlite3, the same PRAGMAs) in a small pool of threads: the event loop hands the whole
read over once and is woken once with its result. Each read is still one transaction of its
own, so reads of several statements see one snapshot, as before; a read of one statement
(`single`) needs no BEGIN and ROLLBACK around it (one SELECT is a snapshot by itself in SQLite),
which takes about a fifth off a point read's CPU (bench/README.md). A read of one row by a unique
key (`point`) is not handed over at all: it runs on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")

SINGLE = "secbot_single"  # the execution option of a connection that runs one read statement


class Reader:
    """A synchronous engine on the same database file, and the threads its reads run on."""

    THREADS = 2  # a long read (a listing) does not hold up the point reads of the jobs

    def __init__(self, database: str, tune: Callable[[sa.Engine], None]) -> None:
        """`tune`: sets the engine's connections up as the async engine's are (PRAGMAs, BEGIN)."""
        # One connection per thread, and one for the point reads run on the event loop's thread
        # (`point`), which therefore never waits for the pool.
        self.engine = sa.create_engine(sa.URL.create("sqlite", database=database), pool_size=self.THREADS + 1,
                                       max_overflow=0, connect_args={"check_same_thread": False})
        tune(self.engine)
        self._threads = concurrent.futures.ThreadPoolExecutor(self.THREADS, thread_name_prefix="secbot-read")

    async def run(self, work: Callable[[sa.Connection], T], *, single: bool = False) -> T:
        """`work(connection)` in one read transaction, on a reader thread; with `single`, `work`
        runs one statement, in SQLite's own transaction of that statement (no BEGIN)."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._read, work, single)

    def point(self, work: Callable[[sa.Connection], T]) -> T:
        """`work(connection)`, one statement that finds at most one row by a unique key, run here,
        on the caller's thread: SQLite answers such a read in microseconds, less than the hand-off
        to a thread and back costs (about 85 us of CPU, half of a point read's; bench/README.md).
        A read in WAL mode never waits for the writer."""
        return self._read(work, True)

    def _read(self, work: Callable[[sa.Connection], T], single: bool) -> T:
        with self.engine.connect() as conn:
            if single:
                conn.execution_options(**{SINGLE: True})  # read by the engine's "begin" listener
            return work(conn)

    def close(self) -> Any:
        self._threads.shutdown(wait=True)
        self.engine.dispose()
