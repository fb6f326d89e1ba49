"""Group commit of webhook deliveries (bot/jobs/intake.py) and the SQLite writer it relies on."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.clock import FrozenClock
from bot.jobs.intake import MAX_BATCH, Intake
from bot.jobs.queue import Queue
from bot.store import Store, WriterGone, database
from bot.store.sqlite import client
from bot.store.sqlite import writer as sqlite_writer
from bot.store.sqlite.backend import WriterBackend
from bot.store.tables import jobs
from tests.conftest import Databases


def make_queue(store: Store, clock: FrozenClock) -> Queue:
    return Queue(store, clock, rng=random.Random(7))


def writer_of(store: Store) -> WriterBackend:
    """The store's backend, which sends the queue's operations to SQLite's writer process."""
    assert isinstance(store.backend, WriterBackend)
    return store.backend


async def test_every_delivery_of_a_burst_bigger_than_a_batch_is_stored_once(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    stored: list[None] = []
    intake = Intake(q, on_stored=lambda: stored.append(None))
    ids = [f"d-{i}" for i in range(MAX_BATCH * 2 + 7)]
    rows = [q.delivery_row(d, "issues.opened", 1, b"{}") for d in ids + ids[:5]]  # five redelivered at once
    answers = await asyncio.gather(*(intake.submit(row) for row in rows))
    assert answers == [True] * len(ids) + [False] * 5
    assert sorted(j.delivery_id for j in await q.list(limit=10_000)) == sorted(ids)
    assert stored  # the workers were woken
    assert await intake.submit(q.delivery_row("d-0", "issues.opened", 1, b"{}")) is False


async def test_deliveries_stored_as_done_wake_no_worker(store: Store, clock: FrozenClock) -> None:
    # No handler takes them (a label, an assignee): nothing for a worker to claim.
    q = make_queue(store, clock)
    stored: list[None] = []
    intake = Intake(q, on_stored=lambda: stored.append(None))
    assert await intake.submit(q.delivery_row("label-1", "issues.labeled", 1, b"{}", done=True)) is True
    assert stored == []
    answers = await asyncio.gather(intake.submit(q.delivery_row("label-2", "issues.labeled", 1, b"{}", done=True)),
                                   intake.submit(q.delivery_row("opened-1", "issues.opened", 1, b"{}")))
    assert answers == [True, True] and stored
    await intake.drain()


async def test_deliveries_more_than_the_socket_to_the_writer_holds_are_all_stored(
        databases: Databases, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # A burst of big bodies outruns the socket's buffer: what it does not take waits for the
    # socket to drain (`_writable`), frames cut anywhere, and every delivery is stored once.
    monkeypatch.setattr(client.WriterProcess, "BUFFER", 64 * 1024)
    store, _, _ = await databases.open("sqlite")
    q = make_queue(store, clock)
    intake = Intake(q)
    process = writer_of(store).process
    waited: list[int] = []
    writable = process._writable
    monkeypatch.setattr(process, "_writable", lambda: (waited.append(len(process._out)), writable()))
    bodies = [os.urandom(20_000) for _ in range(MAX_BATCH + 50)]  # 10 MB that do not compress
    answers = await asyncio.gather(*(intake.submit(q.delivery_row(f"d-{i}", "e", None, body))
                                     for i, body in enumerate(bodies)))
    assert answers == [True] * len(bodies)
    assert waited and not process._out
    claimed = await q.claim("w", limit=len(bodies))
    assert sorted((j.delivery_id, j.payload) for j in claimed) == sorted((f"d-{i}", b) for i, b in enumerate(bodies))


async def never_waiting_for_locks(databases: Databases, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A SQLite store whose connections (the writer process's too) fail at once on a lock held
    elsewhere, instead of waiting in SQLite's busy handler."""
    pragmas = tuple(p for p in database.SQLITE_PRAGMAS if "busy_timeout" not in p) + ("PRAGMA busy_timeout=0",)
    monkeypatch.setattr(database, "SQLITE_PRAGMAS", pragmas)
    store, _, _ = await databases.open("sqlite")
    return store


async def test_deliveries_whose_transaction_cannot_begin_fail_and_the_next_ones_are_stored(
        databases: Databases, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Another program holds SQLite's write lock and the writer may not wait for it: BEGIN fails.
    store = await never_waiting_for_locks(databases, monkeypatch)
    q = make_queue(store, clock)
    intake = Intake(q)
    other = sqlite3.connect(store.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        first = await asyncio.gather(*(intake.submit(q.delivery_row(f"a-{i}", "e", None, b"{}")) for i in range(3)),
                                     return_exceptions=True)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert all(isinstance(x, sqlite3.OperationalError) and "locked" in str(x) for x in first)
    assert await intake.submit(q.delivery_row("b", "e", None, b"{}")) is True
    assert [j.delivery_id for j in await q.list()] == ["b"]


async def test_the_writer_process_and_store_write_take_turns_without_the_busy_handler(
        databases: Databases, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # With no busy timeout, a write transaction that found the other side's lock would fail at once
    # ("database is locked"); taking turns, none does.
    store = await never_waiting_for_locks(databases, monkeypatch)
    q = make_queue(store, clock)
    intake = Intake(q)

    async def scheduled(i: int) -> None:
        async with store.write() as conn:
            await q.schedule("tick", {"i": i}, conn=conn)
            await asyncio.sleep(0)  # let deliveries arrive while this transaction is open

    results = await asyncio.gather(
        *(intake.submit(q.delivery_row(f"d-{i}", "e", None, b"{}")) for i in range(300)),
        *(scheduled(i) for i in range(40)),
        *(q.claim("w", 5) for _ in range(20)),
    )
    assert results[:300] == [True] * 300
    async with store.engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(jobs))).scalar() == 340


async def test_deliveries_sharing_a_commit_with_a_failing_call_are_stored_once(databases: Databases, clock: FrozenClock) -> None:
    # The writer runs a failed transaction's calls again, each in a savepoint: the deliveries the
    # intake's call took the first time are stored by the second, once.
    store, _, _ = await databases.open("sqlite")
    q = make_queue(store, clock)
    intake = Intake(q)

    broken = [("INSERT INTO jobs (kind) VALUES ('missing columns')", ())]

    results = await asyncio.gather(
        *(intake.submit(q.delivery_row(f"d-{i}", "e", None, b"{}")) for i in range(5)),
        writer_of(store).write("execute", broken),
        *(intake.submit(q.delivery_row(f"e-{i}", "e", None, b"{}")) for i in range(5)),
        return_exceptions=True,
    )
    assert results[:5] == [True] * 5 and results[6:] == [True] * 5
    assert isinstance(results[5], Exception)
    assert sorted(j.delivery_id for j in await q.list()) == sorted([f"d-{i}" for i in range(5)] + [f"e-{i}" for i in range(5)])


def test_all_or_none_undoes_only_its_own_work_in_a_shared_transaction() -> None:
    # The budget's take (bot/github/budget.py) as a call of the writer: a refused take leaves
    # nothing counted, and the calls sharing its transaction keep their work.
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE n (k TEXT PRIMARY KEY, c INTEGER NOT NULL)")
    conn.execute("INSERT INTO n VALUES ('full', 2)")
    bump = "INSERT INTO n VALUES (?, 1) ON CONFLICT (k) DO UPDATE SET c = c + 1 WHERE c < ? RETURNING c"
    outcomes = sqlite_writer.run(conn, [
        ("execute", ([("INSERT INTO n VALUES ('before', 0)", ())],)),
        ("all_or_none", (bump, [("fresh", 2), ("full", 2)])),  # the second is refused: both undone
        ("all_or_none", (bump, [("other", 2), ("other", 2)])),
        ("execute", ([("INSERT INTO n VALUES ('after', 0)", ())],)),
    ])
    assert [result for _, result in outcomes] == [[1], 1, None, [1]]
    assert dict(conn.execute("SELECT k, c FROM n")) == {"full": 2, "before": 0, "other": 2, "after": 0}


async def test_the_intake_is_busy_while_deliveries_arrive_back_to_back(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    intake = Intake(q)
    assert not intake.busy()
    await intake.submit(q.delivery_row("one", "e", None, b"{}"))
    assert not intake.busy()  # one delivery is not a burst
    both = [intake.submit(q.delivery_row(f"d-{i}", "e", None, b"{}")) for i in range(2)]
    assert intake.busy()
    await asyncio.gather(*both)
    await asyncio.sleep(intake.BACK_TO_BACK * 2)
    assert not intake.busy()


async def intake_with_writer(databases: Databases, clock: FrozenClock) -> tuple[Store, Queue, Intake, int]:
    """A SQLite store with its queue and intake; delivery "a" is stored, so its writer runs (pid)."""
    store, _, _ = await databases.open("sqlite")
    q = make_queue(store, clock)
    intake = Intake(q)
    assert await intake.submit(q.delivery_row("a", "e", None, b"{}")) is True
    pid = store.writer_pid
    assert pid is not None
    return store, q, intake, pid


async def test_a_batch_whose_writer_process_dies_is_sent_once_more_to_a_new_one(
        databases: Databases, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # GitHub does not redeliver a webhook answered 503 by itself: a batch the writer died under
    # goes to the writer the next call starts, once.
    store, q, intake, first = await intake_with_writer(databases, clock)
    async with store._exclusive():  # the writer is paused: it holds what arrives
        held = intake.submit(q.delivery_row("b", "e", None, b"{}"))
        await asyncio.sleep(0.05)
        os.kill(first, signal.SIGKILL)
        assert await held is True
    second = store.writer_pid
    assert second not in (None, first)
    async with store._exclusive():  # once only: when the second writer cannot start, the call fails
        held = intake.submit(q.delivery_row("c", "e", None, b"{}"))
        await asyncio.sleep(0.05)
        monkeypatch.setattr(client.sys, "executable", "/nonexistent/python")
        os.kill(second, signal.SIGKILL)
        with pytest.raises(WriterGone, match="could not start"):
            await held
    monkeypatch.undo()
    assert await intake.submit(q.delivery_row("c", "e", None, b"{}")) is True
    third = store.writer_pid
    assert third not in (None, first, second)
    os.kill(third, signal.SIGKILL)  # and a write through the engine does not wait for it
    async with store.write() as conn:
        await q.schedule("tick", {}, conn=conn)
    assert sorted(j.delivery_id or j.kind for j in await q.list()) == ["a", "b", "c", "tick"]
    await intake.drain()


class _WriterDiesAfterCommit:
    """A queue whose writer commits a batch, then dies before answering: the second try finds it stored."""

    class backend:  # noqa: N801 - stands in for WriterBackend
        pipelined = True

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def submit_deliveries(self, rows: list[dict[str, Any]]) -> "asyncio.Future[set[str]]":
        fut: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
        self.calls.append([row["delivery_id"] for row in rows])
        if len(self.calls) == 1:
            fut.set_exception(WriterGone("the SQLite writer process exited"))
        else:
            fut.set_result(set())
        return fut


async def test_a_batch_committed_before_its_writer_died_is_answered_as_stored_and_the_workers_woken() -> None:
    queue = _WriterDiesAfterCommit()
    woken: list[None] = []
    intake = Intake(queue, on_stored=lambda: woken.append(None))  # type: ignore[arg-type]
    answers = await asyncio.gather(intake.submit({"delivery_id": "x"}), intake.submit({"delivery_id": "y"}))
    assert answers == [False, False]  # stored (by the first try): answered 2xx, not 503
    assert queue.calls == [["x", "y"], ["x", "y"]]
    assert woken == [None]
    await intake.drain()


async def test_a_writer_that_dies_with_calls_unread_is_logged_and_replaced(
        databases: Databases, clock: FrozenClock, caplog: pytest.LogCaptureFixture) -> None:
    # A writer that exits with messages of ours unread resets the socket (ECONNRESET, not EOF):
    # that death is logged as the other is, once, and the next call starts another writer.
    store, q, intake, first = await intake_with_writer(databases, clock)
    os.kill(first, signal.SIGSTOP)  # it reads nothing more
    held = intake.submit(q.delivery_row("b", "e", None, b"{}"))
    await asyncio.sleep(0.05)
    os.kill(first, signal.SIGKILL)
    assert await held is True  # sent once more, to the writer that call started
    lost = [r for r in caplog.records if r.name == "secbot.store" and r.levelname == "ERROR"]
    assert [r.getMessage() for r in lost] == [
        "the SQLite writer process exited or cannot be reached; the next write starts another"]
    assert store.writer_pid not in (None, first)


async def test_a_send_that_failed_on_a_dead_writer_does_not_end_its_successor(databases: Databases) -> None:
    # A failed send forgets its writer on the next turn of the loop; by then the death may have
    # been seen another way and a new writer started, which must be left alone.
    store, _, _ = await databases.open("sqlite")
    writer = writer_of(store)
    assert await writer.submit("execute", [("SELECT 1", ())]) == [-1]
    first = store.writer_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    os.waitpid(first, 0)  # without letting the event loop see the socket close
    failed = writer.submit("execute", [("SELECT 1", ())])  # EPIPE: forgotten on the next turn
    writer.process._gone(WriterGone("seen closed"))  # as `_readable` would
    with pytest.raises(WriterGone):
        await failed
    assert await writer.submit("execute", [("SELECT 1", ())]) == [-1]
    assert store.writer_pid not in (None, first)


async def test_a_write_through_the_engine_starts_no_writer_process(databases: Databases, clock: FrozenClock) -> None:
    # `secbot retry`, `migrate` and other commands write only through the engine: nothing to pause.
    store, _, _ = await databases.open("sqlite")
    q = make_queue(store, clock)
    async with store.write() as conn:
        await q.schedule("tick", {}, conn=conn)
    assert store.writer_pid is None
    assert await q.add_deliveries([q.delivery_row("a", "e", None, b"{}")]) == {"a"}
    assert store.writer_pid is not None
    assert sorted(j.delivery_id or j.kind for j in await q.list()) == ["a", "tick"]


async def test_the_writer_process_ignores_terminal_signals_and_commits_what_it_has_when_stopped(
        databases: Databases, clock: FrozenClock) -> None:
    # Ctrl-C in a terminal, or a service manager stopping `serve`, signals the writer too; it
    # keeps going until the server, once its requests are answered, stops it.
    store, _, _ = await databases.open("sqlite")
    q = make_queue(store, clock)
    assert await q.add_deliveries([q.delivery_row("a", "e", None, b"{}")]) == {"a"}
    pid = store.writer_pid
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    os.kill(pid, signal.SIGINT)
    await asyncio.sleep(0.1)
    assert await q.add_deliveries([q.delivery_row("b", "e", None, b"{}")]) == {"b"}
    assert store.writer_pid == pid
    last = asyncio.create_task(q.add_deliveries([q.delivery_row("c", "e", None, b"{}")]))
    await asyncio.sleep(0)  # sent
    await writer_of(store).process.stop()
    assert await last == {"c"}
    assert store.writer_pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


class _WriterOnThread:
    """The writer process's own loop, on a thread, on a fresh database with a table `t (x)`
    (created by call 1); the test speaks for the server on `sock`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock, self.theirs = socket.socketpair()
        self.sock.settimeout(5)
        self.writer = sqlite_writer.Writer(self.theirs)
        self.thread = threading.Thread(target=self.writer.serve)
        self.frames = sqlite_writer.Frames()
        self.answers: list[Any] = []

    def __enter__(self) -> "_WriterOnThread":
        self.thread.start()
        self.send(("init", str(self.path), ("PRAGMA journal_mode=WAL",)))
        self.send(("call", 1, "execute", ([("CREATE TABLE t (x)", ())],), 0.0))
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
        self.thread.join(5)
        self.theirs.close()  # (the writer process's end: its exit closes it there)
        if self.writer.conn is not None:
            self.writer.conn.close()

    def send(self, message: tuple[Any, ...]) -> None:
        self.sock.sendall(sqlite_writer.pack(message))

    def send_in_pieces(self, message: tuple[Any, ...], gap: float) -> None:
        frame = bytes(sqlite_writer.pack(message))
        for piece in (frame[:3], frame[3:10], frame[10:]):
            self.sock.sendall(piece)
            time.sleep(gap)

    def read_until(self, enough: Callable[[], bool]) -> None:
        while not enough():
            self.answers.extend(self.frames.feed(self.sock.recv(1 << 16)))

    def answered(self) -> list[tuple[Any, ...]]:
        """(key, ok, value) of each call answered so far."""
        return [tuple(answer) for kind, *rest in self.answers if kind == "done" for answer in rest[0]]

    def stop(self, calls: int) -> list[tuple[Any, ...]]:
        """Stop the writer; `answered()` once `calls` calls are; the table's rows in `rows`."""
        self.send(("stop",))
        self.thread.join(5)
        assert not self.thread.is_alive()
        self.read_until(lambda: len(self.answered()) >= calls)
        with contextlib.closing(sqlite3.connect(self.path)) as check:
            self.rows = check.execute("SELECT x FROM t").fetchall()
        check.close()
        return self.answered()


def test_the_writer_takes_a_message_that_comes_in_pieces(tmp_path: Path) -> None:
    # A frame split across reads (as a big one is, or any under load) is run once it is whole,
    # and "stop" commits before the writer exits.
    with _WriterOnThread(tmp_path / "w.db") as w:
        w.send_in_pieces(("call", 2, "execute", ([("INSERT INTO t VALUES (?)", (7,))],), 0.0),
                         gap=0.005)  # within Writer.LIVELY of the last call
        assert w.stop(calls=2) == [(1, True, [-1]), (2, True, [1])]
        assert w.rows == [(7,)]


def test_a_paused_writer_takes_a_message_that_comes_in_pieces(tmp_path: Path) -> None:
    # While paused (Store.write, or a checkpoint holding writes off) the writer reads on until
    # "resume"; a read that holds only part of a frame is no message yet. It used to end the
    # writer process (IndexError), and every webhook waiting on it was answered 503.
    with _WriterOnThread(tmp_path / "w.db") as w:
        w.send(("pause", 2))
        w.read_until(lambda: any(m[0] == "paused" for m in w.answers))
        w.send_in_pieces(("call", 3, "execute", ([("INSERT INTO t VALUES (?)", (7,))],), 0.0),
                         gap=0.05)  # the writer reads each piece on its own
        w.send(("resume",))
        assert w.stop(calls=2) == [(1, True, [-1]), (3, True, [1])]
        assert w.rows == [(7,)]


async def test_a_writer_that_cannot_start_fails_the_call_and_the_next_call_starts_one(
        databases: Databases, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    store, _, _ = await databases.open("sqlite")
    await writer_of(store).process.stop()  # (the migration started one)
    q = make_queue(store, clock)
    monkeypatch.setattr(client.sys, "executable", "/nonexistent/python")
    with pytest.raises(WriterGone, match="could not start the SQLite writer"):
        await q.add_deliveries([q.delivery_row("a", "e", None, b"{}")])
    monkeypatch.undo()
    assert await q.add_deliveries([q.delivery_row("a", "e", None, b"{}")]) == {"a"}


async def test_the_writer_process_compresses_bodies_with_isal_in_zlibs_format(databases: Databases, clock: FrozenClock) -> None:
    # The SQLite writer process runs without site directories; the server gives it the one that
    # holds `isal`, whose deflate takes a third of zlib's time in every delivery's commit. Its
    # output differs from zlib's byte for byte, which shows which one stored the body, and zlib
    # reads it back all the same.
    isal_zlib = pytest.importorskip("isal.isal_zlib")
    import zlib

    store, _, _ = await databases.open("sqlite")
    q = make_queue(store, clock)
    body = (b'{"action":"opened","issue":{"body":"' + b"the quick brown fox jumps over the lazy dog " * 300 + b'"}}')
    assert await q.add_deliveries([q.delivery_row("big", "issues.opened", 1, body)]) == {"big"}
    from bot.store.tables import deliveries

    stored, encoding = (await store.first(sa.select(deliveries.c.body, deliveries.c.encoding)))
    assert encoding == sqlite_writer.ZLIB
    assert stored == isal_zlib.compress(body, level=1) and stored != zlib.compress(body, 1)
    assert sqlite_writer.decode(stored, encoding) == body
    (job,) = await q.claim("w", 1)
    assert job.payload == body


def test_without_isal_the_writer_compresses_with_zlib(tmp_path: Path) -> None:
    # (a platform without its wheel): run as the server runs it, without site directories, and
    # pointed at a directory with no `isal`, the writer keeps zlib, and what it stores reads back.
    import subprocess
    import sys

    script = f"""
import importlib.util, sqlite3, sys, zlib
spec = importlib.util.spec_from_file_location("w", {sqlite_writer.__file__!r})
w = importlib.util.module_from_spec(spec); spec.loader.exec_module(w)
assert w.fast_deflate({str(tmp_path)!r}) is False
conn = sqlite3.connect(":memory:", isolation_level=None)
conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, delivery_id TEXT UNIQUE, event TEXT)")
conn.execute("CREATE TABLE deliveries (job_id INTEGER PRIMARY KEY, body BLOB, encoding TEXT)")
body = b'{{"x": "' + b"y" * 5000 + b'"}}'
w.run(conn, [("add_deliveries", (("delivery_id", "event"), [("a", "e")], [body]))])
(stored,) = conn.execute("SELECT body FROM deliveries").fetchone()
assert stored == zlib.compress(body, 1) and zlib.decompress(stored) == body
print("zlib")
"""
    out = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "zlib", out.stderr
