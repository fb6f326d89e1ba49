"""Reads of SQLite on a file, each run whole on a thread of its own: one hand-off per read.

Through the async engine (aiosqlite) every step of a read crosses to aiosqlite's thread and back
(BEGIN; a cursor, its execute, its fetch, its close; ROLLBACK): nine hand-offs for a one-row
SELECT, each a wake-up of that thread and of the event loop, about 1.2 ms of CPU in all
(bench/README.md). Here the same SQLAlchemy statements run on a synchronous engine (the standard
library's sqlite3, the same PRAGMAs) in a small pool of threads: the event loop hands the whole
read over once and is woken once with its result. Each read is still one transaction of its
own, so reads of several statements see one snapshot, as before.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

T = TypeVar("T")


class Reader:
    """A synchronous engine on the same database file, and the threads its reads run on."""

    THREADS = 2  # a long read (a listing) does not hold up the point reads of the jobs

    def __init__(self, database: str, tune: Callable[[sa.Engine], None]) -> None:
        """`tune`: sets the engine's connections up as the async engine's are (PRAGMAs, BEGIN)."""
        self.engine = sa.create_engine(sa.URL.create("sqlite", database=database), pool_size=self.THREADS,
                                       max_overflow=0, connect_args={"check_same_thread": False})
        tune(self.engine)
        self._threads = concurrent.futures.ThreadPoolExecutor(self.THREADS, thread_name_prefix="secbot-read")

    async def run(self, work: Callable[[sa.Connection], T]) -> T:
        """`work(connection)` in one read transaction, on a reader thread."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._read, work)

    def _read(self, work: Callable[[sa.Connection], T]) -> T:
        with self.engine.connect() as conn:
            return work(conn)

    def close(self) -> Any:
        self._threads.shutdown(wait=True)
        self.engine.dispose()
