"""Give memory back to the system after a burst.

CPython frees the objects of a burst (10,000 deliveries and their jobs), but glibc's malloc
keeps the pages they were on while a few live objects are scattered among them: a process
stayed 10-15 MB larger than before the burst until it stopped. `give_back` collects what
cycles hold and asks malloc to return every free page (`malloc_trim(0)`); the long-running
processes call it once a burst is over and they are idle (`Idle`), never in the middle of one.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from typing import Any

_trim: Callable[[int], Any] | None | bool = False  # False: not looked up yet; None: no malloc_trim here


def malloc_trim() -> bool:
    """glibc's malloc_trim(0): True if there is one to call (Linux with glibc)."""
    global _trim
    if _trim is False:
        try:
            import ctypes  # (here: about 1 MB a process that never has a burst does without)

            _trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):  # macOS, musl
            _trim = None
    if _trim is None:
        return False
    _trim(0)  # type: ignore[operator]
    return True


def resident() -> int | None:
    """This process's resident memory in bytes (Linux: /proc/self/statm), or None."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def give_back() -> None:
    """Collect garbage, then return free pages to the system (a few ms to ~50 ms: call it idle)."""
    gc.collect()
    malloc_trim()


class Idle:
    """Counts work; `due()` once `every` pieces were done since the memory was last given back
    and none for `quiet` seconds."""

    def __init__(self, every: int = 500, quiet: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.quiet = quiet
        self.clock = clock
        self.done = 0
        self.last = float("-inf")

    def count(self, n: int = 1) -> None:
        self.done += n
        self.last = self.clock()

    def due(self) -> bool:
        return self.done >= self.every and self.clock() - self.last >= self.quiet

    def give_back(self) -> bool:
        """`give_back()` if due; True if it ran."""
        if not self.due():
            return False
        self.done = 0
        give_back()
        return True
