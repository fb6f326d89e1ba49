"""bot/heap.py: memory is given back once a burst is over, never during one."""

from __future__ import annotations

from typing import Any

from bot import heap


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
