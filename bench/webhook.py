"""Benchmark: signed deliveries into POST /webhook, against a bare aiohttp handler.

Starts three servers as subprocesses on loopback and drives each with the same load:

  bare    an aiohttp app whose handler reads the body and answers 202 (the issue's yardstick);
  floor   the least any intake that keeps GitHub's deliveries durable must do: check the
          signature, parse the JSON, append the body to a file and fdatasync it before
          answering, with commits grouped the way Secbot groups them; no database, no queue;
  secbot  the real `secbot serve`, workers running, on a fresh SQLite file.

For each number of connections (`--concurrency`, default 16, 64 and 256):

  1. throughput: C keep-alive connections, each sending its next signed delivery as soon as
     the last was answered, for a few seconds (closed loop); the three servers take turns,
     `--rounds` times (default 3), and each ratio printed is the median of the rounds' ratios:
     on a shared machine the speed of all three drifts by a third within minutes, and only
     runs taken side by side compare. After each of Secbot's runs the next run waits until
     Secbot's workers have finished the jobs it stored (the times are printed): those jobs
     take seconds of both cores, and a bare or floor run that shared the machine with them
     would be slowed, and Secbot's ratio raised;

and, on Linux, the CPU each server spent per request in those runs (read from /proc; Secbot's
`serve` and its SQLite writer process apart) and how many cores' worth each kept busy. An event
loop is one thread: a server whose loop spends more than twice the bare handler's CPU on each
request cannot reach half the bare handler's throughput, however the rest of its work is arranged;

and each server's peak: the best of its medians over the numbers of connections. The bare
handler answers at once and peaks with few connections; an intake that answers only once the
disk has the delivery keeps each connection waiting a commit, and needs many to be kept busy.
The ratio at one number of connections compares the two under that load; the ratio of the
peaks compares what each can take at all;

then, with Secbot's workers idle again:

  2. steady rate: 200 requests per second for a few seconds, open loop: latency counts from
     the moment each request was due, so a stalled server cannot hide its stalls.

The delivery is GitHub's `issues.opened` example from @octokit/webhooks-examples 7.6.1
(tests/fixtures/webhooks/issues.opened.json, 11.6 KB, with the `installation` an App receives),
sent as X-GitHub-Event `bench`, which no handler takes: Secbot stores each as a job already done,
which no worker claims (bot/rules/lanes.py `TAKEN`; `--real` sends deliveries the workers run).
Every request carries a new X-GitHub-Delivery; the run checks that Secbot stored one job per
request.

The closed loop runs on `wrk` when it is installed (Debian: `apt-get install wrk`): it costs
a few microseconds per request, so the servers get the cores. Without it a Python load
generator (raw HTTP/1.1 on asyncio, in its own process) is used; it costs about as much per
request as the bare server, shares the machine's two cores with the server under test and
so understates whatever uses a second core (Secbot's SQLite writer process). The output says
which was used. The open loop always uses the Python generator (200/s costs it little).

Targets (issue 2): at least half the bare handler's throughput, checked on the ratio of the
peaks (a server's throughput being the most it can take); p99 under 20 ms at 200/s. At a fixed,
small number of connections a durable intake is bound by its latency, not by its work: there the
floor's ratio shows what the machine's disk flush allows, and secbot/floor compares Secbot with it.

    .venv/bin/python bench/webhook.py [--seconds 5] [--concurrency 16,64,256] [--rounds 3] [--rate 200] [--rate-seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
EVENT = "bench"  # no handler takes it
# --real: what bench/storm.py's emulator process wrote (its URL, the App's credentials, an
# `issues.opened` body); inherited by the load generator's processes.
REAL = json.loads(Path(os.environ["BENCH_WEBHOOK_REAL"]).read_text()) if os.environ.get("BENCH_WEBHOOK_REAL") else None
if REAL is not None:
    SECRET, EVENT = REAL["secret"], "issues"

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

# The floor: what every durable intake does, and nothing else. The same signature check and JSON
# validation (simdjson) as Secbot, and commits grouped the same way (requests arriving while a
# write is under way share the next one), but the "store" is one append-only file, written and
# fdatasync'd on a thread: no database, no compression, no second process.
FLOOR = """
import asyncio, hashlib, hmac, os, sys
from concurrent.futures import ThreadPoolExecutor
import simdjson
from aiohttp import web
parser = simdjson.Parser()
SECRET = sys.argv[3].encode()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
thread = ThreadPoolExecutor(1)
pending, flusher = [], None
def append(bodies):
    os.writev(fd, bodies)
    os.fdatasync(fd)
async def flush():
    global pending
    loop = asyncio.get_running_loop()
    while pending:
        batch, pending = pending, []
        await loop.run_in_executor(thread, append, [b for b, _ in batch])
        for _, fut in batch:
            fut.set_result(None)
async def hook(request):
    global flusher
    body = await request.read()
    signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, request.headers.get("X-Hub-Signature-256", "")):
        return web.json_response({"error": "signature"}, status=401)
    parser.parse(body)  # validates the whole body; the document is dropped at once
    fut = asyncio.get_running_loop().create_future()
    pending.append((request.headers["X-GitHub-Delivery"].encode() + b" " + body + b"\\n", fut))
    if flusher is None or flusher.done():
        flusher = asyncio.create_task(flush())
    await fut
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
    """GitHub's `issues.opened` example, compact as GitHub sends it, with an App's `installation`;
    with --real, an ordinary 8 KB bug report opened on the emulator's repository."""
    if REAL is not None:
        return REAL["body"].encode()
    data = json.loads((ROOT / "tests" / "fixtures" / "webhooks" / "issues.opened.json").read_text())
    data["installation"] = {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
    return json.dumps(data, separators=(",", ":")).encode()


def start_secbot(port: int, db: Path, log: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_APP_ID": "1",
           "GITHUB_PRIVATE_KEY": key, "GITHUB_API_URL": "http://127.0.0.1:9", "HOST": "127.0.0.1",
           "PORT": str(port), "LOG_LEVEL": "WARNING", "SECBOT_METRICS_PORT": "off"}
    if REAL is not None:  # the emulator's App: the workers' GitHub calls are answered
        env.update(GITHUB_APP_ID=str(REAL["app_id"]), GITHUB_PRIVATE_KEY=REAL["private_key"], GITHUB_API_URL=REAL["base_url"])
    with log.open("wb") as out:  # its log, shown if the bench fails
        return subprocess.Popen([sys.executable, "-m", "bot", "serve", *SERVE_ARGS], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=out)


SERVE_ARGS: list[str] = []


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
            f"User-Agent: GitHub-Hookshot/bench\r\nX-GitHub-Event: {EVENT}\r\nX-Hub-Signature-256: {signature}\r\n"
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


def cpu_times(pid: int) -> dict[int, float] | None:
    """CPU seconds (user and system, all threads) used so far by a process and by each of its
    children (Secbot's SQLite writer), by process id; None where /proc cannot tell (not Linux)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def used(p: int) -> float | None:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / tick  # utime and stime, in clock ticks

    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return None
    times = {p: t for p in (pid, *children) if (t := used(p)) is not None}
    return times if pid in times else None


def cpu_per_request(pid: int, before: dict[int, float] | None, after: dict[int, float] | None,
                    answered: int) -> tuple[float, float] | None:
    """Microseconds of CPU per answered request between two `cpu_times`: (the server's own
    process, its children); children that were not there both times are left out."""
    if before is None or after is None or not answered:
        return None
    children = sum(after[p] - before[p] for p in after if p != pid and p in before)
    return (after[pid] - before[pid]) / answered * 1e6, children / answered * 1e6


def backlog(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM jobs WHERE kind = 'webhook' AND state <> 'done'").fetchone()[0]


def drain(db: Path, limit: float = 120.0) -> float:
    """Wait until Secbot's workers have finished every webhook job; the seconds that took."""
    t0 = time.perf_counter()
    while backlog(db):
        if time.perf_counter() - t0 > limit:
            raise SystemExit(f"secbot: {backlog(db)} jobs still open {limit:.0f} s after a run")
        time.sleep(0.05)
    return time.perf_counter() - t0


def stored(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM jobs WHERE kind = 'webhook'").fetchone()[0]


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "GitHub-Hookshot/bench"
wrk.headers["X-GitHub-Event"] = "%(event)s"
wrk.headers["X-Hub-Signature-256"] = "%(signature)s"
local f = assert(io.open("%(body)s", "rb")); wrk.body = f:read("*a"); f:close()
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local prefix, n = "", 0
function init(args) prefix = args[1] .. "-" .. tostring(tid) .. "-" end
function request()
  n = n + 1
  wrk.headers["X-GitHub-Delivery"] = prefix .. n
  return wrk.format()
end
"""


class Wrk:
    """The closed loop on wrk: a Lua script that gives each request a delivery id never used before."""

    def __init__(self, tmp: Path, body: bytes) -> None:
        (tmp / "body.json").write_bytes(body)
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        self.script = tmp / "deliveries.lua"
        self.script.write_text(WRK_SCRIPT % {"signature": signature, "body": tmp / "body.json", "event": EVENT})

    def run(self, port: int, connections: int, seconds: float) -> dict[str, Any]:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(self.script),
             f"http://127.0.0.1:{port}/webhook", "--", uuid.uuid4().hex],
            capture_output=True, text=True, check=True).stdout
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors = re.search(r"Socket errors: (.*)", out)
        return {"n": int(re.search(r"(\d+) requests in", out).group(1)),
                "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                "p50": _wrk_ms(out, "50%"), "p99": _wrk_ms(out, "99%"),
                "bad": int(bad.group(1)) if bad else 0, "errors": errors.group(1) if errors else ""}


def _wrk_ms(out: str, which: str) -> float:
    value, unit = re.search(rf"^\s+{which}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def burst(name: str, pid: int, port: int, connections: int, args: argparse.Namespace,
          wrk: Wrk | None) -> dict[str, Any]:
    """Warm up for a second, then the closed loop; requests/s, p50, p99, requests answered, and
    the server's CPU per request during the closed loop (`cpu_per_request`)."""
    if wrk is not None:
        warm = wrk.run(port, connections, 1)
        before = cpu_times(pid)
        result = wrk.run(port, connections, args.seconds)
        cpu = cpu_per_request(pid, before, cpu_times(pid), result["n"])
        if warm["bad"] or result["bad"] or result["errors"]:
            raise SystemExit(f"{name}: {warm['bad'] + result['bad']} answers were not 202 {result['errors']}")
        return {**result, "sent": warm["n"] + result["n"], "cpu": cpu}
    warm = drive("closed", port, connections, 1.0, args.generators)
    before = cpu_times(pid)
    result = drive("closed", port, connections, args.seconds, args.generators)
    cpu = cpu_per_request(pid, before, cpu_times(pid), result["n"])
    if warm["bad"] or result["bad"]:
        raise SystemExit(f"{name}: {warm['bad'] + result['bad']} answers were not 202")
    return {"n": result["n"], "rps": result["n"] / result["elapsed"], "p50": pct(result["latencies"], 50),
            "p99": pct(result["latencies"], 99), "sent": warm["n"] + result["n"], "cpu": cpu}


def steady(name: str, port: int, args: argparse.Namespace) -> dict[str, float]:
    result = drive("open", port, args.rate, args.rate_seconds, 1)
    if result["bad"]:
        raise SystemExit(f"{name}: {result['bad']} answers were not 202")
    return {"p50": pct(result["latencies"], 50), "p99": pct(result["latencies"], 99),
            "max": max(result["latencies"]) * 1000, "sent": result["n"]}


def _machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU") if Path("/proc/cpuinfo").exists() else "unknown CPU"
    return f"{os.cpu_count()} cores ({model})"


def _load() -> str:
    return "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else ""


def _with_emulator() -> int:
    """--real: this bench again, beside the GitHub emulator (bench/storm.py --emulator) in a process of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "real.json"
        emu = subprocess.Popen([sys.executable, str(ROOT / "bench" / "storm.py"), "--emulator", str(spec)], cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while not spec.exists():
                if emu.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the emulator did not start")
                time.sleep(0.1)
            return subprocess.run([sys.executable, __file__, *sys.argv[1:]],
                                  env={**os.environ, "BENCH_WEBHOOK_REAL": str(spec)}).returncode
        finally:
            emu.terminate()
            emu.wait(10)


def main() -> None:
    if sys.argv[1:2] == ["--drive"]:
        drive_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each throughput run")
    ap.add_argument("--concurrency", default="16,64,256", help="connections in the throughput runs, comma-separated")
    ap.add_argument("--rounds", type=int, default=3,
                    help="throughput runs of each server per level, interleaved; ratios are the median of each round's")
    ap.add_argument("--generators", type=int, default=1, help="Python load-generator processes (without wrk)")
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second in the steady phase")
    ap.add_argument("--rate-seconds", type=float, default=10.0, help="length of the steady phase")
    ap.add_argument("--no-wrk", action="store_true", help="use the Python load generator even if wrk is installed")
    ap.add_argument("--real", action="store_true",
                    help="send real issues.opened deliveries (an ordinary 8 KB bug report) to Secbot pointed at the "
                         "GitHub emulator (in a process of its own), so its workers do their real work during its runs")
    ap.add_argument("--workers-processes", type=int, help="passed to secbot serve (default: serve's default)")
    args = ap.parse_args()
    if args.workers_processes is not None:
        SERVE_ARGS[:] = ["--workers-processes", str(args.workers_processes)]
    if args.real and REAL is None:
        sys.exit(_with_emulator())
    print("$ " + " ".join([".venv/bin/python", "bench/webhook.py", *sys.argv[1:]]))
    print(f"machine: {_machine()}; {_load()} at the start")
    levels = [int(c) for c in args.concurrency.split(",")]
    body = payload()
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    print(f"{len(body)} byte signed deliveries ("
          + ("issues.opened, an ordinary bug report, sent as `issues` to Secbot pointed at the GitHub emulator: "
             "its workers do their real work during its runs" if REAL is not None else
             "issues.opened, @octokit/webhooks-examples, sent as `bench`, which no handler takes")
          + f"); {args.seconds:g} s per run; "
          f"then {args.rate:.0f}/s for {args.rate_seconds:g} s. Python {sys.version.split()[0]}, {os.cpu_count()} cores.")
    print("load: " + ("wrk, one thread" if use_wrk else
                      f"Python generator, {args.generators} process(es), which shares the cores with the server "
                      "(install wrk for a truer figure)") + "; servers and load on the same machine.", flush=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "bench.db"
        ports = {name: free_port() for name in ("bare", "floor", "secbot")}
        procs = {
            "bare": subprocess.Popen([sys.executable, "-c", BARE, str(ports["bare"])]),
            "floor": subprocess.Popen([sys.executable, "-c", FLOOR, str(ports["floor"]), str(tmp / "floor.log"), SECRET]),
            "secbot": start_secbot(ports["secbot"], db, tmp / "secbot.log"),
        }
        wrk = Wrk(tmp, body) if use_wrk else None
        try:
            for name, proc in procs.items():
                wait_port(ports[name], proc)
            runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
            drains: list[float] = []
            sent = 0
            print(f"\n{'connections':<12}" + "".join(f"{n:<34}" for n in procs))
            for c in levels:
                for _ in range(args.rounds):  # interleaved: each round's three runs are minutes apart at most
                    for name in procs:
                        runs.setdefault((name, c), []).append(burst(name, procs[name].pid, ports[name], c, args, wrk))
                        if name == "secbot":
                            drains.append(drain(db))
                    sent += runs["secbot", c][-1]["sent"]
                    print(f"{c:<12}" + "".join(
                        f"{r['rps']:>7.0f}/s p50 {r['p50']:5.1f} p99 {r['p99']:5.1f} ms   "
                        for r in (runs[name, c][-1] for name in procs)) + f"[{_load()}]", flush=True)
            print(f"Secbot's workers finished each run's jobs {min(drains):.1f}-{max(drains):.1f} s after it ended; "
                  "the next run waited for them")
            calm = {name: steady(name, ports[name], args) for name in ("bare", "secbot")}
            sent += calm["secbot"]["sent"]
            jobs = stored(db)
            # wrk counts the answers it read; a request in flight when a run ends may be stored too.
            if not sent <= jobs <= sent + sum(levels) * 2 * args.rounds:
                raise SystemExit(f"secbot stored {jobs} jobs for {sent} deliveries")
        except SystemExit:
            lines = (tmp / "secbot.log").read_text(errors="replace").splitlines(keepends=True)
            # The first lines say what went wrong; the last, how it ended.
            shown = "".join(lines) if len(lines) <= 30 else "".join(lines[:20]) + "...\n" + "".join(lines[-10:])
            print(f"Secbot's log (WARNING and above, {len(lines)} lines):\n{shown}", file=sys.stderr)
            raise
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(10)
    print(f"at {args.rate:.0f}/s: " + "; ".join(f"{name} p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, max {r['max']:.1f} ms"
                                               for name, r in calm.items()))
    print(f"secbot stored one job per delivery ({jobs} for {sent} answered requests)")
    for c in levels:
        def ratio(a: str, b: str) -> str:
            each = [x["rps"] / y["rps"] for x, y in zip(runs[a, c], runs[b, c])]
            return f"{statistics.median(each):.2f}" + (f" ({min(each):.2f}-{max(each):.2f})" if len(each) > 1 else "")

        print(f"{c} connections: secbot/bare {ratio('secbot', 'bare')}; "
              f"floor/bare {ratio('floor', 'bare')}; secbot/floor {ratio('secbot', 'floor')}")
        if all(r["cpu"] for name in procs for r in runs[name, c]):
            def cpu(name: str, i: int) -> float:
                return statistics.median(r["cpu"][i] for r in runs[name, c])

            def cores(name: str) -> float:
                return statistics.median(sum(r["cpu"]) * r["rps"] / 1e6 for r in runs[name, c])

            print(f"  CPU per request (median): bare {cpu('bare', 0):.0f} us; floor {cpu('floor', 0):.0f} us "
                  f"(its fdatasync thread included); secbot {cpu('secbot', 0):.0f} us in serve "
                  f"+ {cpu('secbot', 1):.0f} us in its child processes (the SQLite writer and the worker processes, whose "
                  f"work on the jobs stored meanwhile counts here too); cores kept busy: bare "
                  f"{cores('bare'):.2f}, floor {cores('floor'):.2f}, secbot {cores('secbot'):.2f} (load not counted)")
    peaks = {name: max((statistics.median(r["rps"] for r in runs[name, c]), c) for c in levels) for name in procs}
    print("peak (the best median over the numbers of connections): " + "; ".join(
        f"{name} {rps:.0f}/s at {c}" for name, (rps, c) in peaks.items())
        + f"; secbot/bare {peaks['secbot'][0] / peaks['bare'][0]:.2f} (target >= 0.50), "
        f"floor/bare {peaks['floor'][0] / peaks['bare'][0]:.2f}")
    print(f"p99 at {args.rate:.0f}/s: {calm['secbot']['p99']:.2f} ms (target < 20 ms) [{_load()}]")


if __name__ == "__main__":
    main()
