"""bot/heap.py: memory is given back once a burst is over, never during one (and by the SQLite writer)."""

from __future__ import annotations

import ctypes
import ctypes.util
import socket
from typing import Any

import pytest

from bot import heap
from bot.store.database import SQLITE_PRAGMAS
from bot.store.sqlite import writer


def test_memory_is_given_back_after_a_burst_once_it_is_quiet(monkeypatch: Any) -> None:
    given: list[int] = []
    monkeypatch.setattr(heap, "give_back", lambda: given.append(1))
    now = [0.0]
    idle = heap.Idle(every=3, quiet=2.0, clock=lambda: now[0])
    idle.count(2)
    now[0] = 10.0
    assert not idle.give_back()  # too little work for it to be worth a collection
    idle.count()
    assert not idle.give_back()  # the burst may go on
    now[0] = 11.9
    assert not idle.give_back()
    now[0] = 12.0
    assert idle.give_back() and given == [1]
    assert not idle.give_back()  # once per burst
    assert given == [1]


def test_malloc_trim_runs_or_says_there_is_none() -> None:
    assert heap.malloc_trim() in (True, False)
    heap.give_back()


def test_the_sqlite_writer_keeps_few_of_a_bursts_many_row_statements_after_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Each batch size of a burst is a statement of its own (VALUES and IN lists): sqlite3 kept 128.
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
    except OSError:
        pytest.skip("no libsqlite3 to ask how much memory SQLite holds")
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    ours, theirs = socket.socketpair()
    w = writer.Writer(ours)
    w._open(str(tmp_path / "x.db"), SQLITE_PRAGMAS, None)
    assert w.conn is not None
    w.conn.execute("CREATE TABLE t (a, b, c, d, e, f, g, h, i, j)")
    before = lib.sqlite3_memory_used()
    for rows in range(1, 200):
        w.conn.execute(f"INSERT INTO t VALUES {writer._marks(rows, 10)}", [0] * (rows * 10))
    w._give_back()
    assert lib.sqlite3_memory_used() - before < 6 * 1024 * 1024
    w.conn.close()
    ours.close()
    theirs.close()
