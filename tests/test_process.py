"""Real `secbot serve` processes: kill -9 and restart, two replicas on one PostgreSQL, hundreds of
held connections, and metrics on a listener of their own."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.clock import SystemClock
from bot.jobs.queue import Queue
from bot.store import Store
from bot.store.migrate import upgrade
from tests.conftest import WEBHOOK_SECRET, delivery_headers, free_port, wait_port
from tests.test_metrics import samples, value

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow


def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class Server:
    def __init__(self, database_url: str, log: Path, *, open_files: tuple[int, int] | None = None, **env: str) -> None:
        self.port = free_port()
        self.log = log
        self.open_files = open_files  # (soft, hard) RLIMIT_NOFILE to start it with
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url,
            "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GITHUB_APP_ID": "1",
            "GITHUB_PRIVATE_KEY": pem(),
            "GITHUB_API_URL": "http://127.0.0.1:9",  # nothing listens: the probe makes no GitHub calls
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_LEVEL": "INFO",
            "SECBOT_METRICS_PORT": "off",  # servers run side by side; a test that wants metrics names a port
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Server":
        out = self.log.open("ab")
        limits = self.open_files
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "serve_with_probe.py")], env=self.env,
                                     cwd=ROOT, stdout=out, stderr=out,
                                     preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, limits))
                                     if limits else None)
        wait_port(self.port, self.proc, self.log)
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def children(self) -> list[int]:
        """Processes this server started (SQLite's writer process), from /proc."""
        assert self.proc is not None
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:  # the field after the state: the parent's pid
                found.append(int(stat.parent.name))
        return found

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for s in started:
        s.stop()


PROBE_TABLES = [
    "CREATE TABLE probe_starts (delivery_id VARCHAR(80) NOT NULL, pid INTEGER NOT NULL)",
    "CREATE TABLE probe_effects (delivery_id VARCHAR(80) NOT NULL UNIQUE, pid INTEGER NOT NULL)",
]


async def prepare(url: str, **kw: Any) -> Store:
    store = Store.open(url, **kw)
    await upgrade(store)
    async with store.engine.begin() as conn:
        for ddl in PROBE_TABLES:
            await conn.execute(sa.text(ddl))
    return store


async def rows(store: Store, sql: str) -> list[Any]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(sa.text(sql))).all())


async def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"  # exited, not yet reaped
    except OSError:
        return True


async def post_probes(port: int, deliveries: list[str]) -> None:
    """One signed `probe` delivery each, to the server on `port`; each answered 202."""
    async with aiohttp.ClientSession() as http:
        for d in deliveries:
            body = orjson.dumps({"action": "run", "n": d})
            async with http.post(f"http://127.0.0.1:{port}/webhook", data=body,
                                 headers=delivery_headers("probe", body, delivery=d)) as resp:
                assert resp.status == 202


async def wait_for(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_kill_9_while_jobs_are_leased_then_restart_completes_every_job_once(tmp_path: Path, servers: list[Server]) -> None:
    db = tmp_path / "secbot.db"
    store = await prepare(f"sqlite+aiosqlite:///{db}")
    env = {"PROBE_RUN_SECONDS": "0.4", "SECBOT_LEASE_SECONDS": "2", "SECBOT_WORKERS": "4", "SECBOT_POLL_SECONDS": "0.1"}
    first = Server(f"sqlite:///{db}", tmp_path / "serve.log", **env).start()
    servers.append(first)
    deliveries = [str(uuid.uuid4()) for _ in range(40)]
    await post_probes(first.port, deliveries)
    await wait_for(lambda: _count(store, "SELECT count(*) FROM probe_effects", lambda n: n >= 6), 30)
    [writer] = first.children()
    first.kill9()
    # The SQLite writer process finishes the transaction under way and exits: nothing of the
    # dead server's is committed after this.
    await wait_for(lambda: _gone(writer), 10)
    leased = await rows(store, "SELECT delivery_id FROM jobs WHERE state = 'running'")
    assert leased, "the kill should catch jobs in flight"
    in_flight = {r[0] for r in leased}
    done_before = {r[0] for r in await rows(store, "SELECT delivery_id FROM jobs WHERE state = 'done'")}

    second = Server(f"sqlite:///{db}", tmp_path / "serve.log", **env).start()
    servers.append(second)
    await wait_for(lambda: _count(store, "SELECT count(*) FROM jobs WHERE state = 'done'", lambda n: n == 40), 60)

    starts: dict[str, list[int]] = {}
    for delivery_id, pid in await rows(store, "SELECT delivery_id, pid FROM probe_starts ORDER BY rowid"):
        starts.setdefault(delivery_id, []).append(pid)
    effects = await rows(store, "SELECT delivery_id FROM probe_effects")
    assert sorted(r[0] for r in effects) == sorted(deliveries)  # every job's effect, once
    for d in deliveries:
        if d in in_flight:
            # Leased at the kill: run again, once, by the new process after the lease expired. Its
            # first run had begun (two starts) or not yet (claimed a moment before the kill: one).
            assert len(starts[d]) in (1, 2) and starts[d][-1] == second.proc.pid, starts[d]  # type: ignore[union-attr]
        else:
            assert len(starts[d]) == 1, d  # finished or not yet started at the kill: never run twice
    assert done_before.isdisjoint(in_flight)
    await store.close()


async def test_two_replicas_on_postgresql_run_each_of_1000_jobs_exactly_once(
    tmp_path: Path, servers: list[Server], pg_database: str
) -> None:
    store = await prepare(pg_database)
    queue = Queue(store, SystemClock())
    await queue.add_deliveries(
        [queue.delivery_row(f"d-{i:04}", "probe", None, b'{"action": "run"}') for i in range(1000)]
    )
    env = {"SECBOT_WORKERS": "8", "SECBOT_POLL_SECONDS": "0.05"}
    plain_url = pg_database.replace("postgresql+asyncpg://", "postgresql://")
    try:
        for i in range(2):
            servers.append(Server(plain_url, tmp_path / f"replica{i}.log", **env).start())
        await wait_for(lambda: _count(store, "SELECT count(*) FROM jobs WHERE state = 'done'", lambda n: n == 1000), 120)
        starts = await rows(store, "SELECT delivery_id, count(*) FROM probe_starts GROUP BY delivery_id")
        assert len(starts) == 1000 and all(n == 1 for _, n in starts)
        [(effects,)] = await rows(store, "SELECT count(*) FROM probe_effects")
        assert effects == 1000
        by_pid = dict(await rows(store, "SELECT pid, count(*) FROM probe_starts GROUP BY pid"))
        assert len(by_pid) == 2, by_pid  # both replicas took a share
    finally:
        for s in servers:
            s.stop()  # before the database is dropped
        await store.close()


async def _count(store: Store, sql: str, ok: Any) -> bool:
    [(n,)] = await rows(store, sql)
    return bool(ok(n))


async def test_hundreds_of_held_connections_do_not_keep_a_signed_delivery_from_being_stored(
        tmp_path: Path, servers: list[Server]) -> None:
    """Started with a soft limit of 256 open files, `serve` raises it to the hard limit; 600 idle
    connections and 50 that sent headers and one byte of a body neither keep a delivery out nor
    stay open past the read timeout."""
    hard = min(4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    if hard < 1024:
        pytest.skip(f"the hard limit on open files here is {hard}: too few to hold 650 connections")
    db = tmp_path / "secbot.db"
    server = Server(f"sqlite:///{db}", tmp_path / "serve.log", open_files=(256, hard), SECBOT_READ_TIMEOUT="6").start()
    servers.append(server)
    held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    for _ in range(600):
        held.append(await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port), 5))
    body = orjson.dumps({"action": "run"})
    for _ in range(50):
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port), 5)
        headers = "".join(f"{k}: {v}\r\n" for k, v in delivery_headers("probe", body).items())
        writer.write(f"POST /webhook HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode()
                     + body[:1])
        held.append((reader, writer))
    opened = time.monotonic()
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{server.port}/webhook", data=body,
                             headers=delivery_headers("probe", body, delivery="while-held"),
                             timeout=aiohttp.ClientTimeout(total=10)) as resp:
            assert resp.status == 202
    assert time.monotonic() - started < 4
    store = Store.open(f"sqlite+aiosqlite:///{db}")
    try:
        assert [r[0] for r in await rows(store, "SELECT delivery_id FROM jobs WHERE delivery_id IS NOT NULL")] == ["while-held"]
    finally:
        await store.close()

    async def closed(reader: asyncio.StreamReader) -> None:
        while await reader.read(65536):
            pass

    await asyncio.wait_for(asyncio.gather(*(closed(r) for r, _ in held)), 20)
    assert time.monotonic() - opened < 6 + 8  # the read timeout, and some slack for a busy machine
    for _, writer in held:
        writer.close()
    log = server.log.read_text()
    assert f"open files: soft limit raised from 256 to {hard}" in log


async def test_metrics_are_served_on_their_own_loopback_listener_and_not_on_the_webhook_port(
        tmp_path: Path, servers: list[Server]) -> None:
    metrics_port = free_port()
    server = Server(f"sqlite:///{tmp_path / 'secbot.db'}", tmp_path / "serve.log",
                    SECBOT_METRICS_PORT=str(metrics_port)).start()
    servers.append(server)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{server.port}/metrics") as resp:
            assert resp.status == 404
        async with http.get(f"http://127.0.0.1:{metrics_port}/metrics") as resp:
            assert resp.status == 200 and "secbot_reports" in await resp.text()
        async with http.post(f"http://127.0.0.1:{metrics_port}/webhook", data=b"{}") as resp:
            assert resp.status == 404
    assert f'"metrics_url":"http://127.0.0.1:{metrics_port}/metrics"' in server.log.read_text()


def _descendants(pid: int) -> dict[int, str]:
    """The children of `pid`: their pid and command line."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(stat.parent.name)] = cmdline
    return found


async def test_kill_9_of_a_worker_process_on_sqlite_loses_nothing_and_runs_no_job_twice(
        tmp_path: Path, servers: list[Server]) -> None:
    db = tmp_path / "secbot.db"
    await _kill_a_worker_process(await prepare(f"sqlite+aiosqlite:///{db}"), f"sqlite:///{db}", tmp_path, servers)


async def test_kill_9_of_a_worker_process_on_postgresql_loses_nothing_and_runs_no_job_twice(
        tmp_path: Path, servers: list[Server], pg_database: str) -> None:
    await _kill_a_worker_process(await prepare(pg_database), pg_database.replace("postgresql+asyncpg://", "postgresql://"),
                                 tmp_path, servers)


async def _kill_a_worker_process(store: Store, url: str, tmp_path: Path, servers: list[Server]) -> None:
    """`serve` with two worker processes; one is killed with -9 while it holds jobs."""
    env = {"PROBE_RUN_SECONDS": "0.3", "SECBOT_LEASE_SECONDS": "2", "SECBOT_WORKERS": "4", "SECBOT_POLL_SECONDS": "0.1",
           "PROBE_WORKER_PROCESSES": "2"}
    server = Server(url, tmp_path / "serve.log", **env).start()
    servers.append(server)
    assert server.proc is not None
    workers = _worker_pids(server.proc.pid)
    assert len(workers) == 2
    deliveries = [str(uuid.uuid4()) for _ in range(40)]
    await post_probes(server.port, deliveries)
    victim = workers[0]
    await wait_for(lambda: _count(store, f"SELECT count(*) FROM probe_starts WHERE pid = {victim}", lambda n: n >= 4), 30)
    os.kill(victim, signal.SIGKILL)
    leased = {r[0] for r in await rows(store, f"SELECT delivery_id FROM jobs WHERE state = 'running' AND lease_owner LIKE '%:{victim}:%'")}
    assert leased, "the kill should catch jobs in flight"
    await wait_for(lambda: _count(store, "SELECT count(*) FROM jobs WHERE state = 'done'", lambda n: n == 40), 60)
    effects = await rows(store, "SELECT delivery_id FROM probe_effects")
    assert sorted(r[0] for r in effects) == sorted(deliveries)  # every job's effect, once
    starts = await _starts(store)
    for d in deliveries:
        # Only a job the killed worker held runs again (after its lease expired), and once.
        assert len(starts[d]) == 1 or (d in leased and len(starts[d]) == 2 and starts[d].count(victim) == 1), (d, starts[d])
    # The server put another worker in its place; killing the server (-9) ends every child.
    await wait_for(lambda: _has(lambda: len(_worker_pids(server.proc.pid)) == 2), 10)  # type: ignore[union-attr]
    children = list(_descendants(server.proc.pid))
    server.kill9()
    for pid in children:
        await wait_for(lambda: _gone(pid), 15)
    await store.close()


async def _has(predicate: Any) -> bool:
    return bool(predicate())


def _worker_pids(server_pid: int) -> list[int]:
    """The worker processes of the server `server_pid`."""
    return [p for p, cmd in _descendants(server_pid).items() if cmd.endswith(" work ")]


async def _starts(store: Any) -> dict[str, list[int]]:
    """Each probe delivery's handler runs: the pids of the processes it ran in."""
    starts: dict[str, list[int]] = {}
    for delivery_id, ran_in in await rows(store, "SELECT delivery_id, pid FROM probe_starts"):
        starts.setdefault(delivery_id, []).append(ran_in)
    return starts


async def test_the_worker_processes_jobs_are_on_the_servers_metrics_and_stay_when_one_is_replaced(
        tmp_path: Path, servers: list[Server]) -> None:
    db = tmp_path / "secbot.db"
    store = await prepare(f"sqlite+aiosqlite:///{db}")
    metrics_port = free_port()
    server = Server(f"sqlite:///{db}", tmp_path / "serve.log", PROBE_RUN_SECONDS="0", SECBOT_POLL_SECONDS="0.1",
                    PROBE_WORKER_PROCESSES="1", SECBOT_METRICS_PORT=str(metrics_port)).start()
    servers.append(server)
    assert server.proc is not None
    async with aiohttp.ClientSession() as http:
        for _ in range(12):
            d = str(uuid.uuid4())
            body = orjson.dumps({"action": "run", "n": d})
            async with http.post(f"http://127.0.0.1:{server.port}/webhook", data=body,
                                 headers=delivery_headers("probe", body, delivery=d)) as resp:
                assert resp.status == 202
        await wait_for(lambda: _count(store, "SELECT count(*) FROM jobs WHERE state = 'done'", lambda n: n == 12), 30)

        async def done_jobs() -> float:
            async with http.get(f"http://127.0.0.1:{metrics_port}/metrics") as resp:
                return value(samples(await resp.text()), "secbot_job_duration_seconds_count", kind="webhook", outcome="done")

        async def shown(n: float) -> bool:
            return await done_jobs() == n

        # The jobs ran in the worker process; its tally reaches the server's /metrics within seconds.
        await wait_for(lambda: shown(12), 20)
        [worker] = _worker_pids(server.proc.pid)
        os.kill(worker, signal.SIGKILL)
        await wait_for(lambda: _has(lambda: [c for p, c in _descendants(server.proc.pid).items()  # type: ignore[union-attr]
                                             if c.endswith(" work ") and p != worker]), 10)
        await asyncio.sleep(1.0)
        assert await done_jobs() == 12  # the replaced worker's jobs are still counted, not counted twice
    await store.close()


async def test_serve_stops_with_exit_code_1_when_no_worker_process_can_start(tmp_path: Path, servers: list[Server]) -> None:
    """A broken deployment (here: every worker exits at once) stops the server instead of taking
    webhooks nobody will handle, after a few tries spaced out rather than a restart loop."""
    server = Server(f"sqlite:///{tmp_path / 'secbot.db'}", tmp_path / "serve.log", PROBE_WORKER_PROCESSES="1",
                    PROBE_WORKER_FAILS="1").start()
    servers.append(server)
    assert server.proc is not None
    assert server.proc.wait(60) == 1
    log = server.log.read_text()
    assert "worker processes exit before they start" in log
    assert log.count("probe: a worker process that cannot start") == 3  # GIVE_UP tries, not a loop
    assert '"in_seconds":1.0' in log and '"in_seconds":2.0' in log  # each try waits longer



async def test_a_backlog_starts_a_surge_worker_process_that_runs_jobs_once_and_retires_when_done(
        tmp_path: Path, servers: list[Server]) -> None:
    """With one worker process, SECBOT_SURGE_BACKLOG due jobs start a second one; it shares the
    backlog (no job runs twice) and exits by itself once nothing is left, and is not replaced."""
    db = tmp_path / "secbot.db"
    store = await prepare(f"sqlite+aiosqlite:///{db}")
    server = Server(f"sqlite:///{db}", tmp_path / "serve.log", PROBE_RUN_SECONDS="0.3", SECBOT_WORKERS="2",
                    SECBOT_POLL_SECONDS="0.1", PROBE_WORKER_PROCESSES="1", SECBOT_SURGE_BACKLOG="20").start()
    servers.append(server)
    assert server.proc is not None
    pid = server.proc.pid

    [first] = _worker_pids(pid)
    deliveries = [str(uuid.uuid4()) for _ in range(60)]
    await post_probes(server.port, deliveries)
    await wait_for(lambda: _has(lambda: len(_worker_pids(pid)) == 2), 15)
    [surge] = [p for p in _worker_pids(pid) if p != first]
    await wait_for(lambda: _count(store, "SELECT count(*) FROM jobs WHERE state = 'done'", lambda n: n == 60), 60)
    starts = await _starts(store)
    assert sorted(starts) == sorted(deliveries) and all(len(p) == 1 for p in starts.values())  # each once
    assert {p for [p] in starts.values()} == {first, surge}  # both worked the backlog
    effects = await rows(store, "SELECT delivery_id FROM probe_effects")
    assert sorted(r[0] for r in effects) == sorted(deliveries)
    await wait_for(lambda: _gone(surge), 20)  # retired (SURGE_IDLE seconds idle) ...
    await asyncio.sleep(1.5)
    assert _worker_pids(pid) == [first]  # ... and not replaced
    log = server.log.read_text()
    assert "surge worker processes started" in log and "a surge worker process retired" in log
    await store.close()


async def test_a_worker_process_that_grew_in_a_burst_is_replaced_by_a_fresh_one_once_it_is_over(
        tmp_path: Path, servers: list[Server]) -> None:
    """A worker that holds more than SECBOT_WORKER_RENEW_MB more than when it started, once a burst
    is over, asks for a fresh one; the fresh one starts, then the old one stops, and the fresh one
    runs what comes next; no job runs twice; a worker that did not grow stays."""
    db = tmp_path / "secbot.db"
    store = await prepare(f"sqlite+aiosqlite:///{db}")
    server = Server(f"sqlite:///{db}", tmp_path / "serve.log", SECBOT_POLL_SECONDS="0.1", PROBE_WORKER_PROCESSES="1",
                    SECBOT_SURGE_PROCESSES="0", SECBOT_WORKER_RENEW_MB="8", PROBE_GROW_MB="1",
                    PROBE_BURST="16").start()
    servers.append(server)
    assert server.proc is not None
    pid = server.proc.pid

    [first] = _worker_pids(pid)
    burst = [str(uuid.uuid4()) for _ in range(16)]  # 16 MB kept: more than 8
    await post_probes(server.port, burst)
    await wait_for(lambda: _gone(first), 30)
    [fresh] = _worker_pids(pid)  # started before the old one stopped
    assert fresh != first
    after = [str(uuid.uuid4()) for _ in range(4)]
    await post_probes(server.port, after)
    await wait_for(lambda: _count(store, "SELECT count(*) FROM jobs WHERE state = 'done'", lambda n: n == 20), 30)
    starts = await _starts(store)
    assert sorted(starts) == sorted(burst + after) and all(len(p) == 1 for p in starts.values())  # each once
    assert {starts[d][0] for d in burst} == {first} and {starts[d][0] for d in after} == {fresh}
    await asyncio.sleep(1.5)
    assert _worker_pids(pid) == [fresh]  # 4 jobs are no burst: it stays
    log = server.log.read_text()
    assert log.count("a fresh worker process took the place of one that grew in a burst") == 1
    assert "holds more memory than when it started" in log
    assert "a worker process exited" not in log  # a renewal, not a crash
    await store.close()


async def test_a_worker_that_grew_goes_on_when_no_fresh_one_can_start(tmp_path: Path, servers: list[Server]) -> None:
    """A renewal never leaves the slot empty: when the fresh worker exits before it started, the
    old one keeps working."""
    db = tmp_path / "secbot.db"
    store = await prepare(f"sqlite+aiosqlite:///{db}")
    server = Server(f"sqlite:///{db}", tmp_path / "serve.log", SECBOT_POLL_SECONDS="0.1", PROBE_WORKER_PROCESSES="1",
                    SECBOT_SURGE_PROCESSES="0", SECBOT_WORKER_RENEW_MB="8", PROBE_GROW_MB="1", PROBE_BURST="16",
                    PROBE_ONLY_FIRST_WORKER=str(tmp_path / "first-worker")).start()
    servers.append(server)
    assert server.proc is not None
    pid = server.proc.pid
    [first] = _worker_pids(pid)
    await post_probes(server.port, [str(uuid.uuid4()) for _ in range(16)])
    await wait_for(lambda: _has(lambda: "the old one goes on" in server.log.read_text()), 30)
    await post_probes(server.port, [str(uuid.uuid4()) for _ in range(3)])
    await wait_for(lambda: _count(store, "SELECT count(*) FROM jobs WHERE state = 'done'", lambda n: n == 19), 30)
    assert {p for [p] in await rows(store, "SELECT pid FROM probe_starts")} == {first}
    assert _worker_pids(pid) == [first]
    assert "a fresh worker process took the place" not in server.log.read_text()
    await store.close()
