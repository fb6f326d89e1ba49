"""SQLite's WAL checkpoints, on a connection and thread of their own, beside the commits."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot import logs
from bot.errors import describe_error


class Checkpointer:
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
