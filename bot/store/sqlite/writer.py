"""SQLite's writer, in a process of its own: the queue's hot paths, group-committed.

Every webhook delivery is committed (WAL, synchronous=FULL) before it is answered. The
transactions that store deliveries, claim jobs and complete them run here, on the one sqlite3
connection of a child process of `secbot serve`, instead of on a thread of the server: a thread
shares the interpreter lock with the event loop, and each of its statements waited for the loop
to let go of it, and made the loop wait in turn. The server's side is
`bot.store.sqlite.client.WriterProcess`; the queue reaches it through
`bot.store.sqlite.backend.WriterBackend`.

The server sends named operations (`OPS`) with plain arguments; everything sent while a
transaction runs goes into the next one, so commits are shared (group commit). A failing
operation rolls back only its own work: the transaction is then run again with each operation
in a savepoint, so an operation may run twice and must do the same work each time.

Messages are frames of a 4-byte big-endian length and a pickle, over a socketpair that only the
server and this process hold:

    to the writer     ("init", database, pragmas[, listen])  ("call", id, op, args, linger)
                      ("pause", id)  ("resume",)  ("stop",)
    from the writer   ("done", [(id, ok, result or error), ...])   after each COMMIT (or failure)
                      ("paused", id)                               nothing is written until "resume"

The writer exits when its socket closes, so a server killed with -9 leaves no writer behind: it
finishes the transaction under way and starts no other (what the dead server sent after it is
dropped; nobody was told it was stored). It ignores SIGINT and SIGTERM, which a terminal or a
service manager also sends to it: the server stops it with "stop" once its own requests are
answered, and the writer commits what it had first. It imports only the standard library, and
`isal` (ISA-L's deflate, `fast_deflate`) from the one directory the server names after the socket,
and is started by path with `python -I -S` (isolated mode, no `site`), so that nothing around it
changes what it imports: PYTHON* variables such as PYTHONPATH are ignored, no site directory is
added (nor the `.pth` files installed there, which other packages run at start: 1-2 MB for
nothing), and neither is the script's own directory (bot/store/sqlite/), where a module of the
package could hide a standard one of the same name.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import io
import os
import pickle
import select
import signal
import socket
import sqlite3
import struct
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

HEADER = struct.Struct("!I")


def malloc_trim() -> None:
    """Give the pages freed after a burst back to the system (glibc's malloc keeps them while a
    few live objects are scattered among them: 10 MB after 10,000 deliveries). ctypes is
    imported then, not before."""
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (ImportError, OSError, AttributeError):  # not glibc
        pass


def pack(message: object) -> memoryview:
    """One frame: the length, then the pickle (written after a gap for the length: no copy)."""
    out = io.BytesIO()
    out.write(bytes(HEADER.size))
    pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
    frame = out.getbuffer()
    HEADER.pack_into(frame, 0, len(frame) - HEADER.size)
    return frame


class Frames:
    """Splits a byte stream back into the messages `pack` made."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self.buf += data
        found = []
        at = 0
        with memoryview(self.buf) as view:
            while len(view) - at >= HEADER.size:
                (size,) = HEADER.unpack_from(view, at)
                if len(view) - at - HEADER.size < size:
                    break
                found.append(pickle.loads(view[at + HEADER.size:at + HEADER.size + size]))
                at += HEADER.size + size
        del self.buf[:at]
        return found


# -- the operations ------------------------------------------------------------------------------
# Each takes the connection, inside an open transaction, and plain arguments. A fixed number of
# statements per call, however many rows: sets of ids come back as one row (group_concat).


def _marks(rows: int, width: int) -> str:
    return ", ".join(["(" + ", ".join("?" * width) + ")"] * rows)


def _ints(found: str | None) -> set[int]:
    return {int(x) for x in found.split(",")} if found else set()


ZLIB = "zlib"  # deliveries.encoding of a body compressed with zlib (migration 0006)


def _deflate(body: bytes) -> bytes:
    return zlib.compress(body, 1)


def fast_deflate(where: str) -> bool:
    """Compress bodies with ISA-L's deflate (the `isal` package, found in the directory `where`)
    instead of zlib's: the same zlib format, read back by `zlib.decompress` as before, in a third
    of the time (an 18 KB delivery: 30 us against 68 us, about the same size), and that time is
    in every delivery's commit. Only `isal` is imported from there, after the standard library.
    False (zlib stays) if it cannot be imported, whatever the reason: a writer that cannot start
    would stop the server."""
    global _deflate
    if where not in sys.path:
        sys.path.append(where)
    probe = b'{"zen":"Design for failure."}' * 16
    try:
        from isal import isal_zlib

        deflate = functools.partial(isal_zlib.compress, level=1)
        if zlib.decompress(deflate(probe)) != probe:  # (what zlib cannot read back is never stored)
            return False
    except Exception:  # noqa: BLE001 - not there, or its library cannot load here: zlib stays
        return False
    _deflate = deflate
    return True


def decode(body: bytes, encoding: str | None) -> bytes:
    """A body as received, from what `deliveries` holds."""
    if encoding is None:
        return body
    if encoding == ZLIB:
        return zlib.decompress(body)
    raise ValueError(f"unknown encoding of a stored body: {encoding!r}")


def add_deliveries(conn: sqlite3.Connection, columns: Sequence[str], values: Sequence[Sequence[Any]],
                   bodies: Sequence[bytes]) -> set[str]:
    """Insert the jobs (`values`, one tuple in `columns` order each) and bodies of the deliveries
    not stored before; returns their delivery ids. A delivery id given twice: its first row.

    Bodies are stored compressed (zlib, level 1; GitHub's JSON compresses well). Every byte
    stored is written twice, to the WAL before the webhook is answered and to the database when
    the WAL is copied back; under a burst those writes were what webhooks waited for."""
    at = list(columns).index("delivery_id")
    first: dict[str, int] = {}
    for i, row in enumerate(values):
        first.setdefault(row[at], i)
    unique = list(first.values())
    per_statement = max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(columns))
    new: set[str] = set()
    for start in range(0, len(unique), per_statement):
        chunk = unique[start:start + per_statement]
        new |= _add_chunk(conn, columns, [values[i] for i in chunk], [(values[i][at], bodies[i]) for i in chunk])
    return new


def _add_chunk(conn: sqlite3.Connection, columns: Sequence[str], values: list[Sequence[Any]],
               pairs: list[tuple[str, bytes]]) -> set[str]:
    # Inside the writer's transaction nothing else writes, so the deliveries the first statement
    # finds are exactly the ones to skip.
    indexed = [x for i, (delivery_id, _) in enumerate(pairs) for x in (i, delivery_id)]
    (found,) = conn.execute(f"SELECT group_concat(v.column1) FROM (VALUES {_marks(len(pairs), 2)}) AS v "
                            "JOIN jobs ON jobs.delivery_id = v.column2", indexed).fetchone()
    seen = _ints(found)
    fresh = [i for i in range(len(pairs)) if i not in seen]
    if not fresh:
        return set()
    conn.execute(f"INSERT INTO jobs ({', '.join(columns)}) VALUES {_marks(len(fresh), len(columns))}",
                 [x for i in fresh for x in values[i]])
    conn.execute("INSERT INTO deliveries (job_id, body, encoding) SELECT jobs.id, v.column2, ? "
                 f"FROM (VALUES {_marks(len(fresh), 2)}) AS v JOIN jobs ON jobs.delivery_id = v.column1",
                 [ZLIB, *(x for i in fresh for x in (pairs[i][0], _deflate(pairs[i][1])))])
    return {pairs[i][0] for i in fresh}


def claim(conn: sqlite3.Connection, sql: str, args: Sequence[Any], webhook: str) -> list[dict[str, Any]]:
    """Run the queue's claim (an UPDATE ... RETURNING); each claimed `webhook` job's body from
    `deliveries` goes in its `payload` as stored, with its `encoding`: the claimer decodes it
    (`decode`), not this process, which every delivery and claim waits for (and a compressed body
    is a fifth of the bytes to send)."""
    cur = conn.execute(sql, args)
    names = [d[0] for d in cur.description or ()]
    found = [dict(zip(names, row)) for row in cur.fetchall()]
    if webhooks := [m["id"] for m in found if m["kind"] == webhook]:
        bodies = {job_id: (body, encoding) for job_id, body, encoding in conn.execute(
            f"SELECT job_id, body, encoding FROM deliveries WHERE job_id IN ({','.join('?' * len(webhooks))})", webhooks)}
        for m in found:
            if m["id"] in bodies:
                m["payload"], m["encoding"] = bodies[m["id"]]
    return found


def complete_many(conn: sqlite3.Connection, owners: dict[str | None, list[int]], running: str,
                  done: dict[str, Any]) -> set[int]:
    """Set `done` on the jobs each owner still holds (state `running`, its lease); returns their ids."""
    won: set[int] = set()
    for owner, ids in owners.items():
        (found,) = conn.execute(f"SELECT group_concat(id) FROM jobs WHERE id IN ({', '.join('?' * len(ids))}) "
                                "AND state = ? AND lease_owner = ?", [*ids, running, owner]).fetchone()
        held = sorted(_ints(found))
        if held:
            conn.execute(f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in done)} "
                         f"WHERE id IN ({', '.join('?' * len(held))})", [*done.values(), *held])
            won.update(held)
    return won


def all_or_none(conn: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int | None:
    """Run `sql` (a conditional INSERT or UPDATE ... RETURNING) with each of `rows` in order: None
    when each returned a row; else the index of the first that returned none, with the work of
    those before it undone (a savepoint of its own: the other calls of the transaction stay)."""
    conn.execute("SAVEPOINT all_or_none")
    for i, args in enumerate(rows):
        if not conn.execute(sql, args).fetchall():
            conn.execute("ROLLBACK TO all_or_none")
            conn.execute("RELEASE all_or_none")
            return i
    conn.execute("RELEASE all_or_none")
    return None


def execute(conn: sqlite3.Connection, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
    """Run each (sql, parameters) in order; returns their row counts."""
    return [conn.execute(sql, params).rowcount for sql, params in statements]


OPS: dict[str, Callable[..., Any]] = {f.__name__: f for f in (add_deliveries, claim, complete_many, all_or_none,
                                                                execute)}


def run(conn: sqlite3.Connection, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[tuple[bool, Any]]:
    """One transaction for all `calls` (op name, args): (True, result) or (False, error) for each.

    The calls first run one after another with nothing between them; if one fails, the
    transaction is rolled back and run again with each call in a savepoint, so that the failing
    call rolls back only its own work. A lone call that fails rolls back the whole transaction.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        try:
            outcomes: list[tuple[bool, Any]] = [(True, OPS[op](conn, *args)) for op, args in calls]
        except Exception as exc:  # noqa: BLE001 - handed to the caller (alone, below)
            conn.execute("ROLLBACK")
            if len(calls) == 1:
                return [(False, exc)]
            conn.execute("BEGIN IMMEDIATE")
            outcomes = []
            for op, args in calls:
                conn.execute("SAVEPOINT call")
                try:
                    outcomes.append((True, OPS[op](conn, *args)))
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


# -- the process -----------------------------------------------------------------------------------


class Writer:
    """Reads the server's messages, runs the calls transaction by transaction, and sends each
    transaction's results back; one thread, so that nothing waits on a hand-over between threads.

    With worker processes (`secbot serve --workers-processes N`), "init" also names a Unix socket
    to listen on: the workers connect there and send the same messages as the server (but
    "init" and "stop"), so their claims and completions share commits with the server's
    deliveries, and their own write transactions ("pause" ... "resume") take turns with
    everyone's in the order they asked. A worker that goes away while it holds the writer
    paused lets it go; one that goes away with calls unanswered has them committed all the same
    (each is idempotent or fenced on its lease). Only the server's socket closing ends the writer.
    """

    LIVELY = 0.05  # calls may linger while a call that may not arrived this recently (seconds)
    OWNER = 0  # the server's connection; the workers' are numbered from 1
    WORKER_SEND_TIMEOUT = 5.0  # seconds
    # After this many messages, the first quiet spell this long (seconds) gives memory back
    # (`malloc_trim`): none comes in a burst, idle workers poll about once a second.
    TRIM_AFTER = 500
    TRIM_QUIET = 0.5
    # Prepared statements kept by the connection (sqlite3's default: 128). Those of a few rows
    # come back again and again (BEGIN, COMMIT, savepoints, the claim, the workers' statements);
    # those of a burst's many rows (a VALUES list or an IN list per batch size) are large, rarely
    # run twice, and 128 of them held 5-20 MB of SQLite's memory after a storm.
    CACHED_STATEMENTS = 32

    def __init__(self, sock: socket.socket) -> None:
        self.clients: dict[int, tuple[socket.socket, Frames]] = {self.OWNER: (sock, Frames())}
        self.listener: socket.socket | None = None
        self.listen_path: str | None = None
        self.next_client = self.OWNER + 1
        # (client, message) arrived, not yet taken
        self.held: collections.deque[tuple[int, tuple[Any, ...]]] = collections.deque()
        self.gone = False  # the server closed its end
        self.last_now = float("-inf")  # time.monotonic() of the last call that may not linger
        self.conn: sqlite3.Connection | None = None
        self.since_trim = 0  # messages taken since memory was last given back

    @property
    def sock(self) -> socket.socket:
        return self.clients[self.OWNER][0]

    def serve(self) -> None:
        while True:
            items = collections.deque(self._take())
            calls: list[tuple[int, tuple[Any, ...]]] = []
            while items:
                client, item = items.popleft()
                kind = item[0]
                if kind == "call":
                    calls.append((client, item))
                    continue
                if kind == "gone":
                    return
                if kind in ("resume", "left"):  # of a pause that was never seen through: nothing to do
                    continue
                if client != self.OWNER and kind in ("init", "stop"):
                    continue  # only the server opens and stops the writer
                self._commit(calls)
                calls = []
                if kind == "stop":
                    return
                if kind == "init":
                    self._open(item[1], item[2], item[3] if len(item) > 3 else None)
                elif kind == "pause":
                    if self._reply(client, ("paused", item[1])):
                        self._hold_until_resumed(client, items)
            self._commit(calls)

    def _open(self, database: str, pragmas: Sequence[str], listen: str | None) -> None:
        conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False,
                               cached_statements=self.CACHED_STATEMENTS)
        for pragma in pragmas:
            conn.execute(pragma)
        self.conn = conn
        if listen is not None and self.listener is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(listen)  # left by a writer before this one
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(listen)
            listener.listen(64)
            listener.setblocking(False)
            self.listener, self.listen_path = listener, listen

    def _hold_until_resumed(self, holder: int, items: collections.deque[tuple[int, tuple[Any, ...]]]) -> None:
        """Paused for `holder`: write nothing until it sends "resume" (or goes away); what arrives
        meanwhile waits behind `items`. On "stop" or "gone" that comes first, it goes at the end
        of `items`, with what came before it."""
        later: list[tuple[int, tuple[Any, ...]]] = []
        while True:
            while not self.held:  # (a frame may come in pieces: a read can hold none whole)
                self._fill(None)
            client, item = self.held.popleft()
            if client == holder and item[0] in ("resume", "left"):
                self.held.extendleft(reversed(later))
                return
            later.append((client, item))
            if item[0] in ("stop", "gone") and client == self.OWNER:
                items.extend(later)
                return

    def _fill(self, wait: float | None) -> None:
        """Read every message the sockets hold into `held`, having waited up to `wait` seconds
        (None: as long as it takes) for one to come; accept workers that connect."""
        if self.gone:
            self.held.append((self.OWNER, ("gone",)))
            return
        if wait is None or wait > 0:
            watched = [s for s, _ in self.clients.values()] + ([self.listener] if self.listener is not None else [])
            ready, _, _ = select.select(watched, [], [], wait)
            if not ready:
                return
            if self.listener is not None and self.listener in ready:
                self._accept()
        for client in list(self.clients):
            self._read(client)
            if self.gone:
                return

    def _accept(self) -> None:
        assert self.listener is not None
        while True:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            # A worker that stops reading (stopped, stuck) must not hold up the writer, and the
            # server's deliveries with it: an answer it cannot take within this time drops it.
            # (SO_SNDTIMEO, not settimeout: a socket with a timeout waits for data even in a
            # recv with MSG_DONTWAIT, and every read of the workers' sockets would wait.)
            sock.setblocking(True)
            seconds = int(self.WORKER_SEND_TIMEOUT)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", seconds, 0))
            self.clients[self.next_client] = (sock, Frames())
            self.next_client += 1

    def _read(self, client: int) -> None:
        sock, frames = self.clients[client]
        while True:
            try:
                data = sock.recv(1 << 20, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:  # that side is gone (or stopped us and closed the socket)
                if client == self.OWNER:
                    self.gone = True
                    self.held.append((client, ("gone",)))
                else:
                    self._drop(client)
                return
            for message in frames.feed(data):
                if message[0] == "call" and not message[4]:
                    self.last_now = time.monotonic()
                self.held.append((client, message))

    def _drop(self, client: int) -> None:
        """A worker went away: forget its socket; a pause it held ends ("left")."""
        sock, _ = self.clients.pop(client)
        sock.close()
        self.held.append((client, ("left",)))

    def _take(self) -> list[tuple[int, tuple[Any, ...]]]:
        """Wait for work; then everything that has arrived, and, if it may all linger while
        webhooks are arriving, what comes within the shortest linger or until a call that may not."""
        self._fill(0)
        while not self.held:  # (a frame may come in pieces)
            if self.since_trim >= self.TRIM_AFTER:  # a burst is over once nothing comes for a while
                self._fill(self.TRIM_QUIET)
                if not self.held:
                    self._give_back()
                    self.since_trim = 0
                continue
            self._fill(None)
        items = list(self.held)
        self.since_trim += len(items)
        self.held.clear()
        lingering = [m[4] for _, m in items if m[0] == "call"]
        if len(lingering) == len(items) and all(lingering) and time.monotonic() - self.last_now < self.LIVELY:
            deadline = time.monotonic() + min(lingering)
            while (left := deadline - time.monotonic()) > 0 and all(m[0] == "call" and m[4] for _, m in items):
                self._fill(left)
                items.extend(self.held)
                self.held.clear()
        return items

    def _give_back(self) -> None:
        """After a burst: SQLite frees what its connection can (its page cache, up to 2 MB,
        refilled as pages are read again), then malloc returns the free pages (`malloc_trim`)."""
        if self.conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("PRAGMA shrink_memory")
        malloc_trim()

    def _reply(self, client: int, message: tuple[Any, ...]) -> bool:
        """Send to one side; False if a worker is gone (dropped). The server gone: OSError."""
        if client not in self.clients:
            return False
        try:
            self.clients[client][0].sendall(pack(message))
        except OSError:
            if client == self.OWNER:
                raise
            self._drop(client)
            return False
        return True

    def _commit(self, calls: list[tuple[int, tuple[Any, ...]]]) -> None:
        if not calls:
            return
        try:
            if self.conn is None:
                raise sqlite3.OperationalError("the writer got no database to open")
            outcomes = run(self.conn, [(c[2], c[3]) for _, c in calls])
        except Exception as exc:  # noqa: BLE001 - BEGIN or COMMIT failed: nobody's work is stored
            outcomes = [(False, exc)] * len(calls)
        answers: dict[int, list[tuple[Any, bool, Any]]] = {self.OWNER: []}  # the server hears of every commit
        for (client, c), (ok, value) in zip(calls, outcomes):
            answers.setdefault(client, []).append((c[1], ok, _portable(value) if not ok else value))
        for client, done in answers.items():
            if done or len(self.clients) > 1:  # (an empty one: a worker's commit, for the checkpointer)
                self._reply(client, ("done", done))


def _portable(exc: BaseException) -> BaseException:
    """An error the server can unpickle (a standard one as it is, anything else as its text)."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any failure to round-trip
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def main(argv: Sequence[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sock = socket.socket(fileno=int(argv[1]))
    sock.setblocking(True)
    if len(argv) > 2:
        fast_deflate(argv[2])
    writer = Writer(sock)
    try:
        writer.serve()
    except OSError:  # the server is gone: nobody to answer
        pass
    finally:
        if writer.conn is not None:
            writer.conn.close()
        if writer.listen_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(writer.listen_path)


if __name__ == "__main__":
    main(sys.argv)
