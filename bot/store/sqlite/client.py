"""The server's side of SQLite's writer process (`bot.store.sqlite.writer`): the client that
starts it and talks to it (`WriterProcess`), the error its callers get when it dies
(`WriterGone`), and statements compiled once for it (`DirectStatement`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import importlib.util
import itertools
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from bot import logs
from bot.errors import describe_error
from bot.store.sqlite import writer as sqlite_writer


class DirectStatement:
    """A statement built with SQLAlchemy, compiled once to SQLite's SQL and positional parameters.

    The same statement object runs through the engine elsewhere (PostgreSQL), so both paths
    execute the same SQL; here the values come from `args(params)` in the compiled order (a list
    given to `in_` is one placeholder per item). Values go to sqlite3 as they are, without
    SQLAlchemy's type processing: the tables hold numbers, strings and bytes only.
    """

    def __init__(self, stmt: Any, dialect: Any, column_keys: Sequence[str] | None = None) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(column_keys) if column_keys else None,
                                compile_kwargs={"render_postcompile": True})
        self.sql = str(compiled)
        self.keys = tuple(compiled.positiontup or ())
        self._defaults = dict(compiled.params)  # values the statement fixed itself

    def args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(params[k] if k in params else self._defaults[k] for k in self.keys)


def _isal_home() -> list[str]:
    """The directory that holds the `isal` package, for the writer to compress bodies with
    (`bot.store.sqlite.writer.fast_deflate`), or nothing if it is not installed. The writer runs
    without site directories; it imports `isal` alone from there."""
    spec = importlib.util.find_spec("isal")
    if spec is None or not spec.submodule_search_locations:
        return []
    return [os.path.dirname(next(iter(spec.submodule_search_locations)))]


class WriterGone(ConnectionError):
    """The SQLite writer process exited (or could not be reached) before answering."""


class WriterProcess:
    """The server's side of SQLite's writer process (`bot.store.sqlite.writer`): sends it calls, pauses
    and resumes it, and settles each caller's future when its transaction's results come back.

    Started on first use, on the running event loop; started again on the next use if it died
    (the calls it had not answered fail with `WriterGone`; the intake sends a batch of webhook
    deliveries once more, and a delivery committed after all is recognised as stored).
    """

    BUFFER = 4 * 1024 * 1024  # bytes the socket to the writer may hold (SO_SNDBUF)
    RESTART = 0.05  # seconds after a shared writer is lost before another is started

    def __init__(self, database: str, pragmas: Sequence[str], committed: Callable[[], None], *,
                 listen: str | None = None, attach: str | None = None) -> None:
        """`listen`: the writer also takes worker processes' connections on this Unix socket
        (and is started again at once if it dies, for them). `attach`: a worker process's side:
        connect to the writer a server started there instead of starting one."""
        self.database = database
        self.listen = listen
        self.attach = attach
        self.pragmas = tuple(pragmas)  # run by the writer on its connection, as the engine's run on theirs
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
        if self._sock is None and self.attach is None and self.listen is None:
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        return self._send_waiting("pause")

    def resume(self) -> None:
        if self._sock is not None:
            self._send(("resume",))

    async def start(self) -> None:
        """Start the writer now (not on first use) and wait until it has opened the database (and
        listens, for worker processes)."""
        await self.pause()  # answered once "init" is done
        self.resume()

    async def stop(self) -> None:
        if self.attach is not None:  # a worker's connection: the server stops the writer
            if self._sock is not None:
                self._stopping = True
                self._gone(WriterGone("the connection to the SQLite writer was closed"))
            return
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
        if self.attach is not None:
            self._connect(loop, self.attach)
            return
        ours, theirs = socket.socketpair()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", sqlite_writer.__file__, str(theirs.fileno()), *_isal_home()],
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
        self._send(("init", self.database, self.pragmas) + ((self.listen,) if self.listen else ()))

    def _connect(self, loop: asyncio.AbstractEventLoop, path: str) -> None:
        """A worker process: connect to the writer the server started (OSError if none listens)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except BaseException:
            sock.close()
            raise
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.BUFFER)
        self._sock, self._loop, self._frames = sock, loop, sqlite_writer.Frames()
        loop.add_reader(sock.fileno(), self._readable)

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
        loop = self._loop
        if not self._stopping:
            code = self._proc.poll() if self._proc is not None else None
            logs.get("secbot.store").error("the SQLite writer process exited or cannot be reached; the next "
                                           "write starts another", extra={"exit_code": code, "why": why})
        restart = self.listen is not None and not self._stopping
        self._gone(WriterGone(f"the SQLite writer {why}"))
        if restart and loop is not None:  # worker processes wait for it: start it again now
            loop.call_later(self.RESTART, self._restart)

    def _restart(self) -> None:
        if self._sock is not None or self._stopping:
            return
        try:
            self._start()
        except OSError as exc:
            logs.get("secbot.store").error("could not start the SQLite writer again", extra={"error": describe_error(exc)})

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

