"""Benchmark: the public response-time figures (issue 19) on a real `secbot serve`, against yardsticks.

Starts `secbot serve` (workers running, fresh SQLite file) and a bare aiohttp app as subprocesses
on loopback, stores one repository's figures the way a closed report leaves them (a fact computed
by bot/rules/transparency.py from 40 synthetic closed reports), then drives, taking turns over
`--rounds` rounds, closed-loop keep-alive GETs from `--connections` connections for `--seconds`:

  secbot /badge/OWNER/REPO.svg   the SVG badge of one repository (kept CACHE_SECONDS per process)
  secbot /badge/OWNER/REPO-{i}.svg  badges of 5,000 repositories in turn, more than the process keeps,
                                 so each request is one primary-key read of the store, the SVG drawn
  secbot /badge/OWNER/REPO.json  the shields.io endpoint JSON
  secbot /stats/OWNER/REPO.json  the figures
  secbot /healthz                the same server's cheapest store read (SELECT 1): the yardstick
                                 for "at the intake's speed"
  bare   /badge.svg              an aiohttp handler answering a constant SVG: the ceiling

For each: requests per second (median of the rounds) and p50/p99 latency (of all rounds' requests).
It checks that every answer was 200 and that serve made no request to GitHub (its API URL points at
a port nothing listens on; a call would fail and be logged). The load generator is Python (raw
HTTP/1.1 on asyncio) in its own process, sharing the machine's cores with the server.

    .venv/bin/python bench/badge.py [--seconds 5] [--connections 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REPO = "octo-org/hello-world"
BARE = '''
import sys
from aiohttp import web
SVG = open(sys.argv[2], "rb").read()
async def badge(request):
    return web.Response(body=SVG, content_type="image/svg+xml", headers={"Cache-Control": "public, max-age=300"})
app = web.Application()
app.router.add_get("/badge.svg", badge)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen, log: Path | None = None) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:] if log else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("server did not start")


def figures() -> dict[str, Any]:
    from bot.rules.config import RepoConfig
    from bot.rules.policy import Policy
    from bot.rules.transparency import compute

    hour, now = 3600.0, time.time()
    closed = [SimpleNamespace(state="published" if i % 3 else "rejected", created_at=now - (300 - i * 7) * 86400,
                              acknowledged_at=now - (300 - i * 7) * 86400 + (i % 9 + 1) * 5 * hour,
                              accepted_at=now - (300 - i * 7) * 86400 + (i % 7 + 2) * 11 * hour,
                              fixed_at=None, closed_at=now - (300 - i * 7) * 86400 + (i % 5 + 3) * 86400)
              for i in range(40)]
    cfg = RepoConfig.default()
    return compute(closed, Policy.from_config(cfg.policy), "2 working days").as_dict(REPO)


MANY = 5000  # repositories whose badges are asked for in turn: more than bot/web/badge.py keeps


def seed(db: Path) -> None:
    value = json.dumps(figures())
    rows = [(f"public-stats:{REPO}", value)] + [(f"public-stats:{REPO}-{i}", value) for i in range(MANY)]
    with sqlite3.connect(db) as conn:
        conn.executemany("INSERT OR REPLACE INTO facts (key, value, expires_at) VALUES (?, ?, ?)",
                         [(k, v, time.time() + 86400 * 365) for k, v in rows])


def start_secbot(port: int, db: Path, log: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "GITHUB_WEBHOOK_SECRET": "bench-secret",
           "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": key, "GITHUB_API_URL": "http://127.0.0.1:9",
           "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "WARNING", "SECBOT_METRICS_PORT": "off"}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=out)


# -- the load generator (its own process: `badge.py --drive PORT PATH CONNECTIONS SECONDS`) ------


class Connection(asyncio.Protocol):
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

    async def get(self, data: bytes) -> int:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


async def closed_loop(port: int, path: str, connections: int, seconds: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    conns = [(await loop.create_connection(Connection, "127.0.0.1", port))[1] for _ in range(connections)]
    requests = [f"GET {path.format(i=i)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
                for i in range(MANY if "{i}" in path else 1)]
    turn = 0
    latencies: list[float] = []
    bad = 0
    end = time.perf_counter() + seconds

    async def worker(c: Connection) -> None:
        nonlocal bad, turn
        while time.perf_counter() < end:
            t = time.perf_counter()
            turn += 1
            status = await c.get(requests[turn % len(requests)])
            latencies.append(time.perf_counter() - t)
            bad += status != 200

    began = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    took = time.perf_counter() - began
    for c in conns:
        c.transport.close()
    return {"rps": len(latencies) / took, "latencies": latencies, "bad": bad}


def drive(port: int, path: str, connections: int, seconds: float) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--drive", str(port), path, str(connections), str(seconds)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        port, path, conns, secs = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        print(json.dumps(asyncio.run(closed_loop(port, path, conns, secs))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from bot.rules.transparency import svg
    from bot.web.badge import _as_figures

    with tempfile.TemporaryDirectory() as tmp:
        db, log = Path(tmp) / "bench.db", Path(tmp) / "serve.log"
        svg_file = Path(tmp) / "badge.svg"
        svg_file.write_text(svg(_as_figures(figures())))
        sport, bport = free_port(), free_port()
        secbot = start_secbot(sport, db, log)
        bare = subprocess.Popen([sys.executable, "-c", BARE, str(bport), str(svg_file)], cwd=ROOT)
        try:
            wait_port(sport, secbot, log)
            wait_port(bport, bare)
            seed(db)
            targets = [("secbot", sport, f"/badge/{REPO}.svg"), ("secbot", sport, f"/badge/{REPO}-{{i}}.svg"),
                       ("secbot", sport, f"/badge/{REPO}.json"),
                       ("secbot", sport, f"/stats/{REPO}.json"), ("secbot", sport, "/healthz"),
                       ("bare", bport, "/badge.svg")]
            for _, port, path in targets:  # warm up
                drive(port, path, 4, 0.5)
            results: dict[str, list[dict[str, Any]]] = {path: [] for _, _, path in targets}
            for _ in range(args.rounds):
                for _, port, path in targets:
                    results[path].append(drive(port, path, args.connections, args.seconds))
            print(f"$ .venv/bin/python bench/badge.py --seconds {args.seconds:g} --connections {args.connections} "
                  f"--rounds {args.rounds}")
            print(f"{'server':<7} {'path':<36} {'req/s (median)':>15} {'p50 ms':>8} {'p99 ms':>8} {'non-200':>8}")
            for name, _, path in targets:
                runs = results[path]
                lat = [x for r in runs for x in r["latencies"]]
                print(f"{name:<7} {path:<36} {statistics.median(r['rps'] for r in runs):>15,.0f} "
                      f"{pct(lat, 50) * 1000:>8.2f} {pct(lat, 99) * 1000:>8.2f} {sum(r['bad'] for r in runs):>8}")
            health = statistics.median(r["rps"] for r in results["/healthz"])
            for path in (f"/badge/{REPO}.svg", f"/badge/{REPO}-{{i}}.svg"):
                rate = statistics.median(r["rps"] for r in results[path])
                print(f"{path} / healthz (same serve, same run): {rate / health:.2f}")
            calls = [line for line in log.read_text().splitlines() if "127.0.0.1:9" in line]
            print(f"serve's log lines about GitHub calls: {len(calls)}")
        finally:
            for proc in (secbot, bare):
                proc.terminate()
                proc.wait(timeout=20)


if __name__ == "__main__":
    main()
