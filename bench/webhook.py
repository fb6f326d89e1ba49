"""Benchmark: signed deliveries into POST /webhook, against a bare aiohttp handler.

Starts two servers as subprocesses on loopback — the real `secbot serve` on a fresh SQLite
file, and a bare aiohttp app whose handler reads the body and answers 202 — and drives both
with the same load generator (aiohttp client, in this process):

  1. throughput: N signed 8 KB deliveries over C concurrent connections, as fast as they go;
  2. steady rate: 200 requests per second for a few seconds, open loop (latency under load).

Prints requests/s, p50 and p99 latency for each server, and Secbot's share of the bare
throughput. Targets (issue 2): at least half the bare handler's throughput, p99 under 20 ms at
200 requests/s.

    .venv/bin/python bench/webhook.py [--requests 5000] [--concurrency 16] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson

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
    """An `issues.opened` delivery of about 8 KB, the size of a typical real one."""
    user = {"login": "reporter", "id": 1, "type": "User", "html_url": "https://github.com/reporter"}
    data = {
        "action": "opened",
        "issue": {"number": 7, "title": "Crash when parsing empty config", "user": user,
                  "body": "Steps to reproduce:\n" + "lorem ipsum dolor sit amet " * 200, "labels": [], "state": "open"},
        "repository": {"id": 1, "full_name": "octo-org/hello-world", "private": False, "owner": user},
        "sender": user,
        "installation": {"id": 1, "node_id": "x"},
    }
    return orjson.dumps(data)


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


async def one(session: aiohttp.ClientSession, url: str, body: bytes, event: str) -> float:
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }
    t0 = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as resp:
        await resp.read()
        if resp.status != 202:
            raise SystemExit(f"unexpected status {resp.status}")
    return time.perf_counter() - t0


async def throughput(url: str, body: bytes, n: int, concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    counter = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            for _ in counter:
                latencies.append(await one(session, url, body, "bench"))

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return n / elapsed, latencies


async def steady(url: str, body: bytes, rate: float, seconds: float) -> list[float]:
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
        start = time.perf_counter()
        tasks = []
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session, url, body, "bench")))
        latencies = list(await asyncio.gather(*tasks))
    return latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def measure(name: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    body = payload()
    await throughput(url, body, 300, args.concurrency)  # warm up
    rps, lat = await throughput(url, body, args.requests, args.concurrency)
    rate_lat = await steady(url, body, args.rate, args.seconds)
    row = {"rps": rps, "p50": pct(lat, 50), "p99": pct(lat, 99),
           "rate_p50": pct(rate_lat, 50), "rate_p99": pct(rate_lat, 99)}
    print(f"{name:<8} {rps:>9.0f} req/s  p50 {row['p50']:6.2f} ms  p99 {row['p99']:6.2f} ms   |  at {args.rate:.0f}/s:"
          f" p50 {row['rate_p50']:6.2f} ms  p99 {row['rate_p99']:6.2f} ms", flush=True)
    return row


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    print(f"{len(payload())} byte deliveries; {args.requests} requests over {args.concurrency} connections;"
          f" then {args.rate:.0f}/s for {args.seconds:.0f} s. Python {sys.version.split()[0]}, {os.cpu_count()} cores.")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        bare_port, bot_port = free_port(), free_port()
        bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)])
        bot = start_secbot(bot_port, Path(tmp) / "bench.db")
        try:
            wait_port(bare_port, bare)
            wait_port(bot_port, bot)
            results["bare"] = await measure("bare", f"http://127.0.0.1:{bare_port}/webhook", args)
            results["secbot"] = await measure("secbot", f"http://127.0.0.1:{bot_port}/webhook", args)
        finally:
            for p in (bare, bot):
                p.terminate()
                p.wait(10)
    ratio = results["secbot"]["rps"] / results["bare"]["rps"]
    print(f"secbot/bare throughput: {ratio:.2f} (target >= 0.50); p99 at {args.rate:.0f}/s: "
          f"{results['secbot']['rate_p99']:.2f} ms (target < 20 ms)")
    print("note: the load generator shares the machine's cores with the server under test.")


if __name__ == "__main__":
    asyncio.run(main())
