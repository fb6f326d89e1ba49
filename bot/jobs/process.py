"""Workers in processes of their own, beside `secbot serve` (`--workers-processes N`).

The server's event loop then only answers webhooks: the handlers, the classifier and the GitHub
calls run in N worker processes, one per core, each claiming from the same store with its own
pool (`bot.jobs.worker.Workers`). Nothing is handed from the server to a worker but a wake-up:
jobs live in the store, under leases, so a worker killed with -9 loses nothing (its leases
expire and another worker takes its jobs over), and the server starts another in its place.

The server holds each worker's standard input, a pipe: a byte on it means "new work was
stored" (the worker claims at once instead of at its next poll), and its end (the server
stopped or died, even with -9) means "stop": the worker gives its jobs back and exits. The byte
`BUSY` says so too, and that webhooks are arriving back to back: the worker then claims at most
every `Workers.DEFER_WHILE_BUSY` seconds until the server stops saying it, as workers in the
server's own process do, so that a burst's deliveries are stored and answered first (the
worker's claims and completions share the SQLite writer's commits with them, and niceness alone
left the intake a quarter less throughput with 32 jobs in flight: bench/README.md). The
workers ignore SIGINT and SIGTERM, which a terminal or a service manager sends to the whole
group: the server stops them once its own requests are answered.

A second pipe goes the other way: once it is ready to claim, every `TALLY_EVERY` seconds, and when
it stops, a worker writes its tally (bot/jobs/tally.py: job times, GitHub calls, rate limits, second opinions) as one line
of JSON, and the server's GET /metrics shows them with its own (bot/web/metrics.py). A worker
never waits on it: a line that does not fit in the pipe's buffer is dropped, the next one
carries the same counts and more.

Surge: when `surge` more processes are allowed (`SECBOT_SURGE_PROCESSES`, default 1) and, once
webhooks no longer arrive back to back, at least `SECBOT_SURGE_BACKLOG` jobs are due at once (a
storm's backlog, `watch_backlog` looks every second), the server starts that many more worker
processes. Each retires by itself, exit code 0, once it has had nothing to claim and nothing in
flight for `SURGE_IDLE` seconds, and is not replaced: the backlog is worked off on every core
(the server's own too, idle once the storm has been taken in), and the memory of the extra
processes is given back when it is done. A surge worker that dies is not replaced either; its
leased jobs go to the others when their leases expire.

Renewal: a worker process's memory grows in a burst and does not all come back (Python's and
malloc's arenas keep pages that a few live objects pin, caches fill): about 10 MB after a storm of
10,000 deliveries, for as long as it runs. So once a burst is over (`bot.heap.Idle`: at least 500
jobs, then 2 s with none) and its memory has been given back, a worker that still holds more than
`SECBOT_WORKER_RENEW_MB` (default 4) MB more than when it became ready writes `RENEW` on its tally
pipe and goes on working. The server starts a fresh worker in its slot and, once that one says it
started, closes the old one's standard input: the old one stops as at any stop (its jobs in
flight finish or go back), so there is no moment without a worker. A fresh worker that cannot
start leaves the old one in its place. What it costs: a start (about 1-2 s of CPU, at the workers'
niceness) once per burst at most, and the process's caches (installation tokens, configs, ETags),
read again as they are next needed. Surge workers never renew; they retire.

The first line says the worker started. A worker that exits before it has said so could not
start (a broken handler module, a bad setting only the workers read): it is replaced after a
delay that doubles with each such failure in a row (`RESTART_AFTER` up to `RESTART_MAX`), so a
broken deployment does not spin a core on restarts; and when the first `GIVE_UP` workers the
server starts all fail so, no worker has ever run and none will, so the server stops
(`on_broken`) with exit code 1 rather than take webhooks nobody will handle.

On SQLite (on a file) the workers write through the server's SQLite writer process
(`bot.store.sqlite.writer`), which listens on a Unix socket in a directory only this user can
read: their claims and completions share commits with the deliveries, and one writer orders
everyone's transactions, so neither the intake nor a worker waits in SQLite's busy handler.
On PostgreSQL each worker simply opens its own connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp
import orjson

from bot import heap, logs
from bot.clock import Clock, SystemClock
from bot.errors import describe_error
from bot.github.budget import Budget
from bot.github.client import GitHubApp
from bot.jobs import housekeeping
from bot.jobs.context import ConfigCache, Services
from bot.jobs.dispatch import Dispatcher, JobHandler
from bot.jobs.queue import Queue
from bot.jobs.tally import Tally
from bot.jobs.worker import Workers
from bot.llm.client import ChatClient
from bot.settings import Settings

log = logs.get("secbot.processes")

# How much less CPU a worker process asks for than the server (nice(2)): when both want the cores,
# the server, which answers GitHub within its 10 s and stores each delivery before answering,
# gets most of them, and the workers take up the jobs of a burst as soon as it ends. When the
# server is idle the workers have the cores all the same.
WORKER_NICENESS = 10
# The environment variable that gives a worker process the SQLite writer's socket.
WRITER_SOCKET = "SECBOT_SQLITE_WRITER_SOCKET"
WAKE = b"w"
BUSY = b"b"
# The environment variable that makes a worker process a surge worker (the seconds it stays idle
# before it retires), and that time.
RETIRE = "SECBOT_WORKER_RETIRE"
SURGE_IDLE = 5.0
# The line a worker process that grew in a burst writes on its tally pipe: a fresh one, please.
RENEW = b'{"renew":true}\n'
# The environment variable that gives a worker process the pipe for its tally, and how often it writes one.
TALLY_FD = "SECBOT_TALLY_FD"
TALLY_EVERY = 5.0
TALLY_LINE_MAX = 4 * 1024 * 1024  # (a line per installation's rate limit: far more than the server will see)
# Added to the worker processes' environment: glibc's malloc keeps at most two arenas (instead of
# eight per core), so memory freed after a burst by the threads of a worker (DNS lookups, config
# parsing) is reused instead of held in arenas of their own. An operator's own setting wins.
CHILD_ENV = {"MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}


def default_processes() -> int:
    """The cores this process may run on, less one for the server; at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


def github_app(settings: Settings, session: aiohttp.ClientSession, clock: Clock, store: Any, *,
               sign_apart: bool = False) -> GitHubApp | None:
    """The App, if configured; `sign_apart`: see `GitHubApp`."""
    if not (settings.app_id and settings.private_key):
        return None
    github = GitHubApp(session, app_id=settings.app_id, private_key_pem=settings.private_key.get(),
                       base_url=settings.api_url, clock=clock, dry_run=settings.dry_run, sign_apart=sign_apart,
                       concurrency=settings.github_concurrency)
    github.budget = Budget(store, clock, per_minute=settings.writes_per_minute, per_hour=settings.writes_per_hour)
    return github


def services(settings: Settings, store: Any, clock: Clock, session: aiohttp.ClientSession,
             github: GitHubApp | None) -> Services:
    """What handlers get: the same in the server and in a worker process."""
    queue = Queue(store, clock, max_attempts=settings.max_attempts, lease_seconds=settings.lease_seconds,
                  backoff_base=settings.retry_seconds)
    return Services(
        settings=settings, store=store, queue=queue, clock=clock, github=github, configs=ConfigCache(clock),
        llm=ChatClient(session, url=settings.llm_url, model=settings.llm_model, key=settings.llm_key,
                       timeout=settings.llm_timeout) if settings.llm_url else None,
    )


async def learn_bot_login(found: Services) -> None:
    """The app's own bot account, so the app can ignore events it caused (not fatal if unknown:
    comments made through the app are still recognised)."""
    assert found.github is not None
    try:
        data = await asyncio.wait_for(found.github.app_client().getitem("/app"), timeout=10)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not read the app's own identity", extra={"error": describe_error(exc)})
        return
    if found.bot_login is None:
        found.bot_login = f"{data['slug']}[bot]"


class WorkerProcesses:
    """The server's side: starts `count` worker processes, wakes them, starts another in place of
    one that exits, and stops them (closing their standard input) when the server stops."""

    RESTART_AFTER = 0.5  # seconds before a worker that exited is replaced; doubled for each failed start in a row
    RESTART_MAX = 30.0
    GIVE_UP = 3  # failed starts in a row, before any worker was ever ready, after which the server stops

    def __init__(self, count: int, command: Sequence[str], env: Mapping[str, str], *,
                 on_tally: Callable[[int, bytes], None] = lambda _worker, _line: None,
                 on_exit: Callable[[int], None] = lambda _worker: None,
                 on_broken: Callable[[], None] = lambda: None, surge: int = 0) -> None:
        self.count = count
        self.surge_slots = surge  # (slots count .. count + surge - 1: started by `surge`, never replaced)
        self.command = list(command)
        self.env = dict(env)
        self.procs: list[asyncio.subprocess.Process | None] = [None] * (count + surge)
        self._watchers: list[asyncio.Task[None]] = []
        self._stopping = False
        self.started = 0  # processes started, replacements included
        # Each worker process's tally lines, and its end (the pipe closes when the process exits),
        # by the number it was started as: a replacement's lines never mix with its predecessor's.
        self.on_tally = on_tally
        self.on_exit = on_exit
        self.on_broken = on_broken
        self._readers: dict[int, asyncio.Task[None]] = {}
        self._numbers: list[int] = [0] * (count + surge)  # the number each slot's process was started as
        self._ready: set[int] = set()  # numbers of the processes that said they started
        self.ever_ready = False
        self.failed_starts = 0  # workers in a row that exited before they were ready
        self.broken = False  # gave up: no worker could start (the server's exit code says so)
        self.surges = 0  # surge worker processes started
        # Renewals under way: a fresh worker's number -> its slot and process, until it is ready
        # and takes the slot (the old one runs until then); the slots concerned; and each
        # process's number, by pid.
        self._replacing: dict[int, tuple[int, asyncio.subprocess.Process]] = {}
        self._starting: set[int] = set()
        self._number_of: dict[int, int] = {}

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._running()]

    def _running(self) -> list[asyncio.subprocess.Process]:
        """Every worker process still running, those being replaced included."""
        fresh = [proc for _, proc in self._replacing.values()]
        return [p for p in [*self.procs, *fresh] if p is not None and p.returncode is None]

    async def start(self) -> None:
        for slot in range(self.count):
            await self._spawn(slot)
            self._watchers.append(asyncio.create_task(self._watch(slot), name=f"secbot-worker-process-{slot}"))
        log.info("worker processes started", extra={"processes": self.count, "pids": self.pids})

    async def _spawn(self, slot: int) -> None:
        self.procs[slot], self._numbers[slot] = await self._start(slot)

    async def _start(self, slot: int) -> tuple[asyncio.subprocess.Process, int]:
        """A worker process for `slot`, and the number it was started as."""
        read, write = os.pipe()
        env = {**self.env, TALLY_FD: str(write)}
        if slot >= self.count:
            env[RETIRE] = str(SURGE_IDLE)
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command, stdin=subprocess.PIPE, env=env, pass_fds=(write,), start_new_session=False)
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)  # the worker holds its end: the pipe ends when the worker does
        self.started += 1
        number = self._number_of[proc.pid] = self.started
        self._readers[number] = asyncio.create_task(self._tallies(number, read), name=f"secbot-worker-tally-{number}")
        return proc, number

    async def _tallies(self, worker: int, fd: int) -> None:
        """Read a worker process's tally lines until it exits."""
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(limit=TALLY_LINE_MAX, loop=loop)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), os.fdopen(fd, "rb", 0))
        try:
            while True:
                try:
                    line = await stream.readline()
                except ValueError:  # a line over the limit: not a tally
                    continue
                if not line:
                    break
                if worker not in self._ready:
                    self._ready.add(worker)
                    self.ever_ready = True
                    self._replaced(worker)
                if line == RENEW:
                    self._renew(worker)
                    continue
                self.on_tally(worker, line)
        finally:
            transport.close()
            self.on_exit(worker)

    def _renew(self, worker: int) -> None:
        """Worker `worker` grew in a burst: start a fresh one in its slot (see the module's docstring)."""
        slot = next((s for s in range(self.count) if self._numbers[s] == worker), None)
        if self._stopping or slot is None or slot in self._starting:
            return  # a surge worker, one being replaced already, or a fresh one being started
        self._starting.add(slot)

        async def start() -> None:
            try:
                fresh, number = await self._start(slot)
            except OSError as exc:
                self._starting.discard(slot)
                log.error("could not start a fresh worker process; the old one goes on", extra={"error": describe_error(exc)})
                return
            self._replacing[number] = (slot, fresh)
            log.info("a worker process grew in a burst; starting a fresh one in its place", extra={"pid": fresh.pid})
            code = await fresh.wait()
            if self._stopping or self._replacing.pop(number, None) is None:
                return  # it took the old one's place (`_replaced`), and `_watch` watches it now
            self._starting.discard(slot)
            await self._reaped(self._number_of.pop(fresh.pid, number))
            log.error("a fresh worker process exited before it started (its messages are above); the old one goes on",
                      extra={"pid": fresh.pid, "exit_code": code})

        self._watchers = [t for t in self._watchers if not t.done()]
        self._watchers.append(asyncio.create_task(start(), name=f"secbot-renew-{slot}"))

    def _replaced(self, worker: int) -> None:
        """Worker `worker` is ready: if it is a fresh one, it takes its slot, and the process it
        replaces stops (its standard input closed: it finishes or gives back its jobs)."""
        entry = self._replacing.pop(worker, None)
        if entry is None:
            return
        slot, fresh = entry
        self._starting.discard(slot)
        old = self.procs[slot]
        self.procs[slot], self._numbers[slot] = fresh, worker
        if old is not None and old.stdin is not None:
            old.stdin.close()
        log.info("a fresh worker process took the place of one that grew in a burst",
                 extra={"pid": fresh.pid, "replaced": old.pid if old is not None else None})

    async def _watch(self, slot: int) -> None:
        while not self._stopping:
            proc = self.procs[slot]
            assert proc is not None
            code = await proc.wait()
            if self._stopping:
                return
            if self.procs[slot] is not proc:  # renewed: a fresh worker runs in its slot
                await self._reaped(self._number_of.pop(proc.pid, 0))
                continue
            ready = await self._reaped(self._number_of.pop(proc.pid, self._numbers[slot]))
            if ready:
                self.failed_starts = 0
                log.error("a worker process exited; starting another (its leased jobs go to the others when their "
                          "leases expire)", extra={"pid": proc.pid, "exit_code": code})
            else:
                self.failed_starts += 1
                if not self.ever_ready and self.failed_starts >= self.GIVE_UP:
                    log.critical("worker processes exit before they start (their messages are above): no job would "
                                 "ever run; stopping", extra={"exit_code": code, "failed_starts": self.failed_starts})
                    self.broken = True
                    self.on_broken()
                    return
                log.error("a worker process exited before it started (its messages are above); starting another",
                          extra={"pid": proc.pid, "exit_code": code, "failed_starts": self.failed_starts,
                                 "in_seconds": self._delay()})
            await asyncio.sleep(self._delay())
            if self._stopping:
                return
            try:
                await self._spawn(slot)
            except OSError as exc:
                log.error("could not start a worker process", extra={"error": describe_error(exc)})
                await asyncio.sleep(5)

    async def _reaped(self, number: int) -> bool:
        """After the process started as `number` exited: its last tally lines read (the pipe ends
        with the process); whether it had said it started."""
        reader = self._readers.pop(number, None)
        if reader is not None:
            await asyncio.wait({reader}, timeout=2.0)
        ready = number in self._ready
        self._ready.discard(number)
        return ready

    @property
    def surging(self) -> bool:
        """Whether a surge worker process is running."""
        return any(p is not None and p.returncode is None for p in self.procs[self.count:])

    async def surge(self) -> int:
        """Start the surge worker processes that are not running; how many were started."""
        if self._stopping:
            return 0
        started = 0
        for slot in range(self.count, self.count + self.surge_slots):
            proc = self.procs[slot]
            if proc is not None and proc.returncode is None:
                continue
            try:
                await self._spawn(slot)
            except OSError as exc:
                log.error("could not start a surge worker process", extra={"error": describe_error(exc)})
                break
            started += 1
            self.surges += 1
            self._watchers = [t for t in self._watchers if not t.done()]
            self._watchers.append(asyncio.create_task(self._watch_surge(slot), name=f"secbot-surge-process-{slot}"))
        if started:
            log.info("a backlog: surge worker processes started", extra={"processes": started, "pids": self.pids})
        return started

    async def _watch_surge(self, slot: int) -> None:
        proc = self.procs[slot]
        assert proc is not None
        code = await proc.wait()
        ready = await self._reaped(self._number_of.pop(proc.pid, self._numbers[slot]))
        if self._stopping:
            return
        if code == 0 and ready:
            log.info("a surge worker process retired: no work left", extra={"pid": proc.pid})
        else:
            log.error("a surge worker process exited (not replaced; its leased jobs go to the others when their "
                      "leases expire)", extra={"pid": proc.pid, "exit_code": code, "started": ready})

    async def watch_backlog(self, due: Callable[[int], Awaitable[int]], backlog: int, *,
                            busy: Callable[[], bool] = lambda: False, every: float = 1.0) -> None:
        """Every `every` seconds, once webhooks no longer arrive back to back (`busy`), start the
        surge worker processes if at least `backlog` jobs are due (`due(backlog)`, counted up to
        that)."""
        while not self._stopping:
            await asyncio.sleep(every)
            if self.surging or busy():
                continue
            try:
                if await due(backlog) >= backlog:
                    await self.surge()
            except Exception as exc:  # noqa: BLE001 - the store may be briefly away; look again later
                log.warning("could not count the jobs due", extra={"error": describe_error(exc)})

    def _delay(self) -> float:
        """Seconds before a worker that exited is replaced: longer for each failed start in a row."""
        return min(self.RESTART_MAX, self.RESTART_AFTER * 2 ** min(self.failed_starts, 10))

    def wake(self, busy: bool = False) -> None:
        """New work was stored: each worker claims now instead of at its next poll; with `busy`,
        webhooks are arriving back to back (see the module's docstring)."""
        for proc in self.procs:
            if proc is None or proc.stdin is None or proc.returncode is not None:
                continue
            transport = proc.stdin.transport
            if transport.is_closing() or transport.get_write_buffer_size() > 64:  # woken already
                continue
            with contextlib.suppress(Exception):
                proc.stdin.write(BUSY if busy else WAKE)

    async def stop(self, grace: float = 15.0) -> None:
        """Close every worker's standard input (they give their jobs back and exit); kill those
        still running after `grace` seconds."""
        self._stopping = True
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        running = self._running()
        for proc in running:
            if proc.stdin is not None:
                proc.stdin.close()
        if not running:
            return
        done, late = await asyncio.wait([asyncio.ensure_future(p.wait()) for p in running], timeout=grace)
        for proc in running:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._readers:  # their last tallies, up to the end of their pipes
            await asyncio.wait(self._readers.values(), timeout=2.0)
        log.info("worker processes stopped", extra={"processes": len(running), "late": len(late)})


async def run_worker_process(settings: Settings, *, routers: Sequence[Any], jobs: Mapping[str, JobHandler],
                             writer_socket: str | None, control: int = 0) -> None:
    """A worker process's life: claim and run jobs until `control` (standard input) ends; its tally
    to the pipe the server gave it (`TALLY_FD`, see the module's docstring), and there too its
    wish for a fresh worker in its place once it grew in a burst (`RENEW`)."""
    from bot.store import Store

    loop = asyncio.get_running_loop()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides (see the module's docstring)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    stop = asyncio.Event()
    store = Store.open(settings.database_url, attach_writer=writer_socket)
    clock = SystemClock()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=10))
    github = github_app(settings, session, clock, store, sign_apart=True)  # (serve checked the key)
    found = services(settings, store, clock, session, github)
    learning = loop.create_task(learn_bot_login(found)) if github is not None else None
    counted = Tally()
    busy_until = 0.0  # (loop time) the server said webhooks arrive back to back
    retire = os.environ.get(RETIRE)
    started_with: int | None = None  # bytes resident once ready

    def after_burst() -> None:
        """Ask for a fresh worker in this one's place if this one grew (see the module's docstring)."""
        now = heap.resident()
        if (report is None or retire or not settings.worker_renew_mb or now is None or started_with is None
                or now - started_with <= settings.worker_renew_mb * 2**20):
            return
        log.info("a burst is over and this worker process holds more memory than when it started: asking for a "
                 "fresh one", extra={"grown_mb": round((now - started_with) / 2**20, 1)})
        report.renew()

    pool = Workers(found.queue, counted.timed(Dispatcher(found, routers, jobs).run), concurrency=settings.workers,
                   poll_interval=settings.poll_interval, intake_busy=lambda: loop.time() < busy_until,
                   retire_after=float(retire) if retire else None, after_burst=after_burst)
    given = os.environ.get(TALLY_FD, "")
    report = await _TallyPipe.open(int(given), lambda: counted.snapshot(github, found.llm)) if given.isdigit() else None

    def readable() -> None:
        nonlocal busy_until
        try:
            data = os.read(control, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            if BUSY in data:
                busy_until = loop.time() + Workers.DEFER_WHILE_BUSY
            pool.wake()
        else:
            loop.remove_reader(control)
            stop.set()

    os.set_blocking(control, False)
    loop.add_reader(control, readable)
    try:
        if housekeeping.KIND in jobs:  # as the server does when it runs the jobs itself (bot/web/app.py)
            await housekeeping.schedule(found.queue, clock.now() + housekeeping.EVERY)
        await pool.start()
        started_with = heap.resident()
        if report is not None:
            report.send()  # the first line: started
        stopped, retired = asyncio.ensure_future(stop.wait()), asyncio.ensure_future(pool.retired.wait())
        await asyncio.wait({stopped, retired}, return_when=asyncio.FIRST_COMPLETED)  # (retired: a surge worker)
        for waiting in (stopped, retired):
            waiting.cancel()
        await pool.stop()
    finally:
        if report is not None:
            await report.close()  # with the last tally
        if learning is not None:
            learning.cancel()
            await asyncio.gather(learning, return_exceptions=True)
        await session.close()
        await store.close()


class _TallyPipe:
    """A worker process's side of the tally pipe: a line every `TALLY_EVERY` seconds, one at the end."""

    def __init__(self, transport: asyncio.WriteTransport, snapshot: Callable[[], dict[str, Any]]) -> None:
        self.transport = transport
        self.snapshot = snapshot
        self._task = asyncio.create_task(self._every(), name="secbot-tally")

    @classmethod
    async def open(cls, fd: int, snapshot: Callable[[], dict[str, Any]]) -> "_TallyPipe":
        loop = asyncio.get_running_loop()
        transport, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(fd, "wb", 0))
        return cls(transport, snapshot)

    def send(self) -> None:
        if self.transport.is_closing() or self.transport.get_write_buffer_size():
            return  # the server has not read the last one yet: this one would only queue behind it
        self.transport.write(orjson.dumps(self.snapshot()) + b"\n")

    def renew(self) -> None:
        """Ask the server for a fresh worker in this one's place (never dropped, unlike a tally)."""
        if not self.transport.is_closing():
            self.transport.write(RENEW)

    async def _every(self) -> None:
        while True:
            await asyncio.sleep(TALLY_EVERY)
            self.send()

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.send()
        self.transport.close()


def worker_command() -> list[str]:
    """How the server starts a worker process: this interpreter, `secbot work`."""
    return [sys.executable, "-m", "bot", "work"]
