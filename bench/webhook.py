"""Benchmark: signed deliveries into POST /webhook, against a bare aiohttp handler.

Starts two servers as subprocesses on loopback — the real `secbot serve` (workers running) on
a fresh SQLite file, and a bare aiohttp app whose handler reads the body and answers 202 — and
drives both, one after the other, with the same load generator:

  1. throughput: C keep-alive connections, each sending its next signed 8 KB delivery as soon
     as the last was answered, for a few seconds (closed loop);
  2. steady rate: 200 requests per second for a few seconds, open loop: latency is measured
     from the moment each request was due, so a stalled server cannot hide its stalls.

Between the two, Secbot's workers are given time to finish the backlog the burst left (the
bench deliveries match no handler, so each job is a claim and a completion), and that time is
printed too: the steady phase then measures a server that is keeping up, as in production.

The load generator is a separate process (`--generators` of them) speaking HTTP/1.1 over raw
asyncio transports: the body and its signature are built once, each request carries a new
X-GitHub-Delivery. It costs a fraction of what the servers spend per request, so it is not the
bottleneck for either; it still shares the machine's cores with the server under test, which
the output says.

Prints requests/s, p50 and p99 latency for each server, and Secbot's share of the bare
throughput. Targets (issue 2): at least half the bare handler's throughput, p99 under 20 ms at
200 requests/s.

    .venv/bin/python bench/webhook.py [--seconds 5] [--concurrency 16] [--rate 200] [--rate-seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"

BARE = """
import sys
from aiohttp import web
async def hook(request):
    await request.read()
    return web.json_response({"queued": True}, status=202)
app = web.Application(client_max_size=25 * 1024 * 1024)
app.router.add_post("/webhook", hook)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def payload() -> bytes:
    """An `issues.opened` delivery of about 6 KB, the size of a typical real one."""
    user = {"login": "reporter", "id": 1, "type": "User", "html_url": "https://github.com/reporter"}
    data = {
        "action": "opened",
        "issue": {"number": 7, "title": "Crash when parsing empty config", "user": user,
                  "body": "Steps to reproduce:\n" + "lorem ipsum dolor sit amet " * 200, "labels": [], "state": "open"},
        "repository": {"id": 1, "full_name": "octo-org/hello-world", "private": False, "owner": user},
        "sender": user,
        "installation": {"id": 1, "node_id": "x"},
    }
    return json.dumps(data, separators=(",", ":")).encode()


def start_secbot(port: int, db: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_APP_ID": "1",
           "GITHUB_PRIVATE_KEY": key, "GITHUB_API_URL": "http://127.0.0.1:9", "HOST": "127.0.0.1",
           "PORT": str(port), "LOG_LEVEL": "WARNING"}
    return subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# -- the load generator (runs in its own process: `webhook.py --drive ...`) ----------------------


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time; reads status and body length."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[int] | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        at = head.find(b"content-length:")
        length = int(head[at + 15:head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None]) if at >= 0 else 0
        if len(self.buf) < end + 4 + length:
            return
        status = int(self.buf[9:12])
        del self.buf[:end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("server closed the connection"))

    async def request(self, data: bytes) -> int:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


class Requests:
    """Signed deliveries, identical but for X-GitHub-Delivery (the signature covers the body only)."""

    def __init__(self, port: int, body: bytes) -> None:
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        self.head = (
            f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"User-Agent: GitHub-Hookshot/bench\r\nX-GitHub-Event: bench\r\nX-Hub-Signature-256: {signature}\r\n"
            f"Content-Length: {len(body)}\r\nX-GitHub-Delivery: "
        ).encode()
        self.body = body

    def next(self) -> bytes:
        return b"".join((self.head, uuid.uuid4().hex.encode(), b"\r\n\r\n", self.body))


async def connect(port: int, n: int) -> list[Connection]:
    loop = asyncio.get_running_loop()
    conns = []
    for _ in range(n):
        _, proto = await loop.create_connection(Connection, "127.0.0.1", port)
        conns.append(proto)
    return conns


async def closed_loop(port: int, body: bytes, connections: int, seconds: float) -> dict[str, Any]:
    reqs = Requests(port, body)
    conns = await connect(port, connections)
    latencies: list[float] = []
    bad = 0
    deadline = time.perf_counter() + seconds

    async def run(conn: Connection) -> None:
        nonlocal bad
        while (t0 := time.perf_counter()) < deadline:
            if await conn.request(reqs.next()) != 202:
                bad += 1
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(run(c) for c in conns))
    elapsed = time.perf_counter() - t0
    for c in conns:
        c.transport.close()
    return {"n": len(latencies), "elapsed": elapsed, "latencies": latencies, "bad": bad}


async def open_loop(port: int, body: bytes, rate: float, seconds: float) -> dict[str, Any]:
    """Send at fixed times; latency counts from when a request was due, not when it was sent."""
    reqs = Requests(port, body)
    idle = await connect(port, 64)
    latencies: list[float] = []
    bad = 0

    async def send(due: float) -> None:
        nonlocal bad
        conn = idle.pop() if idle else (await connect(port, 1))[0]
        if await conn.request(reqs.next()) != 202:
            bad += 1
        latencies.append(time.perf_counter() - due)
        idle.append(conn)

    start = time.perf_counter()
    tasks = []
    for i in range(int(rate * seconds)):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(due)))
    await asyncio.gather(*tasks)
    for c in idle:
        c.transport.close()
    return {"n": len(latencies), "elapsed": time.perf_counter() - start, "latencies": latencies, "bad": bad}


def drive_main(argv: list[str]) -> None:
    mode, port, a, b = argv[0], int(argv[1]), float(argv[2]), float(argv[3])
    body = payload()
    coro = closed_loop(port, body, int(a), b) if mode == "closed" else open_loop(port, body, a, b)
    print(json.dumps(asyncio.run(coro)))


def drive(mode: str, port: int, a: float, b: float, processes: int) -> dict[str, Any]:
    """Run the load generator in `processes` separate processes and merge what they measured."""
    if mode == "open" or processes == 1:
        split = [(a, b)]
    else:
        split = [(max(1, round(a / processes)), b) for _ in range(processes)]
    procs = [subprocess.Popen([sys.executable, __file__, "--drive", mode, str(port), str(x), str(y)],
                              stdout=subprocess.PIPE, cwd=ROOT) for x, y in split]
    outs = [json.loads(p.communicate()[0]) for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit("a load generator failed")
    return {"n": sum(o["n"] for o in outs), "elapsed": max(o["elapsed"] for o in outs),
            "latencies": [x for o in outs for x in o["latencies"]], "bad": sum(o["bad"] for o in outs)}


# -- the run -----------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def backlog(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM jobs WHERE kind = 'webhook' AND state <> 'done'").fetchone()[0]


def measure(name: str, port: int, args: argparse.Namespace, db: Path | None = None) -> dict[str, float]:
    drive("closed", port, args.concurrency, 1.0, args.generators)  # warm up
    burst = drive("closed", port, args.concurrency, args.seconds, args.generators)
    drained = ""
    if db is not None:
        t0 = time.perf_counter()
        while backlog(db) and time.perf_counter() - t0 < 60:
            time.sleep(0.05)
        left = backlog(db)
        drained = f"   (workers then finished the backlog in {time.perf_counter() - t0:.1f} s" + (
            f"; {left} jobs still open)" if left else ")")
    steady = drive("open", port, args.rate, args.rate_seconds, 1)
    if burst["bad"] or steady["bad"]:
        raise SystemExit(f"{name}: {burst['bad'] + steady['bad']} requests were not answered 202")
    rps = burst["n"] / burst["elapsed"]
    row = {"rps": rps, "p50": pct(burst["latencies"], 50), "p99": pct(burst["latencies"], 99),
           "rate_p50": pct(steady["latencies"], 50), "rate_p99": pct(steady["latencies"], 99)}
    print(f"{name:<8} {rps:>7.0f} req/s  p50 {row['p50']:6.2f} ms  p99 {row['p99']:6.2f} ms   |  at {args.rate:.0f}/s:"
          f" p50 {row['rate_p50']:6.2f} ms  p99 {row['rate_p99']:6.2f} ms{drained}", flush=True)
    return row


def main() -> None:
    if sys.argv[1:2] == ["--drive"]:
        drive_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="length of the throughput phase")
    ap.add_argument("--concurrency", type=int, default=16, help="connections in the throughput phase")
    ap.add_argument("--generators", type=int, default=1, help="load-generator processes (connections split)")
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second in the steady phase")
    ap.add_argument("--rate-seconds", type=float, default=10.0, help="length of the steady phase")
    args = ap.parse_args()
    print(f"{len(payload())} byte signed deliveries; {args.concurrency} connections for {args.seconds:.0f} s, then "
          f"{args.rate:.0f}/s for {args.rate_seconds:.0f} s. Python {sys.version.split()[0]}, {os.cpu_count()} cores.")
    print(f"load generator: {args.generators} separate process(es), raw HTTP/1.1 keep-alive; it shares the cores "
          f"with the server under test.", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        bare_port, bot_port = free_port(), free_port()
        bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)])
        bot = start_secbot(bot_port, db)
        try:
            wait_port(bare_port, bare)
            wait_port(bot_port, bot)
            results["bare"] = measure("bare", bare_port, args)
            results["secbot"] = measure("secbot", bot_port, args, db)
        finally:
            for p in (bare, bot):
                p.terminate()
                p.wait(10)
    ratio = results["secbot"]["rps"] / results["bare"]["rps"]
    print(f"secbot/bare throughput: {ratio:.2f} (target >= 0.50); p99 at {args.rate:.0f}/s: "
          f"{results['secbot']['rate_p99']:.2f} ms (target < 20 ms)")


if __name__ == "__main__":
    main()
