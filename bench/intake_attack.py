"""Attack bench: what held connections cost a real `secbot serve`, and what a real delivery takes meanwhile.

Starts `python -m bot serve` from this checkout on loopback (a fresh SQLite file in a temporary
directory, workers running, metrics off) with its soft limit on open files lowered to
`--soft-nofile` (default 1024, a common default; serve raises it to the hard limit, which
`--hard-nofile` can lower too), then, one phase after the other:

  gzip   `--gzip` connections (default 40) each send the headers of a webhook with
         `Content-Encoding: gzip`, a well-formed but wrong signature and a gzip body that
         inflates to 24 MB (about 24 KB on the wire), and then hold the connection open;
  idle   `--idle` connections (default 1,000) that connect and send nothing, and hold;

and in each phase, once the connections are open, one correctly signed delivery on a connection
of its own: its answer and the seconds it took. The yardstick, printed beside each phase's figures,
is the same serve in the same run before any attack: its memory and one delivery's time. Printed per phase: serve's resident memory
before, at its highest while the phase ran (sampled every 50 ms), its high-water mark from
/proc, how many of the held connections the server had closed by the end of the phase, and
the delivery's answer and time. The SQLite writer process is not counted (it holds no request).

Loopback only; bounded: at most `--gzip` + `--idle` + 2 connections, each phase at most
`--hold` seconds (default 15) after its connections are open; serve is stopped at the end.
Linux only (it reads /proc).

    .venv/bin/python bench/intake_attack.py [--gzip 40] [--idle 1000] [--soft-nofile 1024] [--hold 15]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import hmac
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
INFLATED = 24 * 1024 * 1024  # under GitHub's 25 MB, as an attacker would choose


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_serve(port: int, tmp: Path, soft_nofile: int, hard_nofile: int | None) -> subprocess.Popen[bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"sqlite:///{tmp / 'secbot.db'}", "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_APP_ID": "1",
           "GITHUB_PRIVATE_KEY": key, "GITHUB_API_URL": "http://127.0.0.1:9", "HOST": "127.0.0.1",
           "PORT": str(port), "LOG_LEVEL": "INFO", "LOG_FORMAT": "text", "SECBOT_METRICS_PORT": "off",
           "SECBOT_ENV_FILE": str(tmp / "none.env")}
    hard = hard_nofile or resource.getrlimit(resource.RLIMIT_NOFILE)[1]

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft_nofile, hard))

    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT, stdout=log, stderr=log,
                            preexec_fn=limit)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited:\n{(tmp / 'serve.log').read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("serve did not start")


def signed_headers(event: str, body: bytes, *, signature: str | None = None) -> dict[str, str]:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()), "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/bench",
            "X-Hub-Signature-256": signature or "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


def request(headers: dict[str, str], body: bytes) -> bytes:
    lines = ["POST /webhook HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items()),
             f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def delivery(port: int, timeout: float) -> tuple[str, float]:
    """One correctly signed `issues.opened` delivery on a new connection: (answer, seconds)."""
    data = json.loads((ROOT / "tests" / "fixtures" / "webhooks" / "issues.opened.json").read_text())
    data["installation"] = {"id": 1}
    body = json.dumps(data, separators=(",", ":")).encode()
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request(signed_headers("bench", body), body))
            status = (await reader.readline()).decode().split(" ", 2)[1]
            writer.close()
    except (TimeoutError, OSError, IndexError) as exc:
        return f"none ({type(exc).__name__})", time.monotonic() - started
    return status, time.monotonic() - started


class Held:
    """A connection the bench opened and keeps open; `closed_at` is when the server closed it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.closed_at: float | None = None
        self.task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        try:
            while await self.reader.read(65536):
                pass
        except OSError:
            pass
        self.closed_at = time.monotonic()

    def close(self) -> None:
        self.task.cancel()
        self.writer.close()


async def open_held(port: int, n: int, first: bytes) -> tuple[list[Held], int]:
    held, failed = [], 0
    for _ in range(n):
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 3)
        except (TimeoutError, OSError):
            failed += 1
            continue
        if first:
            writer.write(first)
        held.append(Held(reader, writer))
    return held, failed


async def phase(name: str, pid: int, port: int, held_request: bytes, n: int, hold: float) -> dict[str, Any]:
    before = rss_mb(pid)
    peak = before
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_mb(pid))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    held, failed = await open_held(port, n, held_request)
    opened = time.monotonic()
    await asyncio.sleep(0.5)  # what the held connections sent has arrived
    answer, took = await delivery(port, timeout=min(hold, 15.0))
    while time.monotonic() - opened < hold and any(h.closed_at is None for h in held):
        await asyncio.sleep(0.1)
    stop.set()
    await sampler
    closed = [h.closed_at - opened for h in held if h.closed_at is not None]
    result = {
        "phase": name, "connections": n, "not_opened": failed, "open_seconds": round(opened - started, 2),
        "rss_before_mb": round(before, 1), "rss_peak_mb": round(peak, 1), "rss_hwm_mb": round(rss_mb(pid, "VmHWM"), 1),
        "closed_by_server": len(closed), "last_closed_after_s": round(max(closed), 1) if closed else None,
        "delivery": answer, "delivery_seconds": round(took, 3),
    }
    for h in held:
        h.close()
    await asyncio.sleep(1.0)  # let serve see them go before the next phase
    return result


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the bench itself holds every connection
    bomb = gzip.compress(b"{" + b" " * (INFLATED - 2) + b"}", compresslevel=9)
    gzip_request = request({**signed_headers("issues", bomb, signature="sha256=" + "0" * 64),
                            "Content-Encoding": "gzip"}, bomb)
    results = []
    with tempfile.TemporaryDirectory(prefix="secbot-attack-") as tmp:
        port = free_port()
        proc = start_serve(port, Path(tmp), args.soft_nofile, args.hard_nofile)
        try:
            await asyncio.sleep(1.0)
            answer, took = await delivery(port, timeout=15)
            quiet = {"phase": "quiet", "rss_mb": round(rss_mb(proc.pid), 1), "delivery": answer,
                     "delivery_seconds": round(took, 3), "gzip_bytes_per_connection": len(bomb)}
            results.append(quiet)
            # Each attacked phase carries the quiet figures of this same run beside its own.
            yardstick = {"quiet_rss_mb": quiet["rss_mb"], "quiet_delivery_seconds": quiet["delivery_seconds"]}
            if args.gzip:
                results.append({**await phase("gzip", proc.pid, port, gzip_request, args.gzip, args.hold), **yardstick})
            if args.idle:
                results.append({**await phase("idle", proc.pid, port, b"", args.idle, args.hold), **yardstick})
            log = (Path(tmp) / "serve.log").read_text()
            results.append({"phase": "serve's log", "open_files": [line.split("secbot.serve: ", 1)[-1]
                                                                   for line in log.splitlines() if "open files" in line]})
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gzip", type=int, default=40, help="held connections sending a gzip body")
    ap.add_argument("--idle", type=int, default=1000, help="held connections sending nothing")
    ap.add_argument("--soft-nofile", type=int, default=1024, help="soft RLIMIT_NOFILE serve is started with")
    ap.add_argument("--hard-nofile", type=int, help="hard RLIMIT_NOFILE serve is started with (default: this process's)")
    ap.add_argument("--hold", type=float, default=15.0,
                    help="seconds each phase lasts at most once its connections are open")
    args = ap.parse_args()
    if not Path("/proc/self/status").exists():
        print("bench/intake_attack.py reads /proc: Linux only; skipped")
        return
    if args.gzip + args.idle > 20000 or args.hold > 120:
        raise SystemExit("bounded: at most 20,000 connections and 120 s a phase")
    print("$ " + " ".join([Path(sys.executable).name, *sys.argv]))
    hard = args.hard_nofile or resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    print(f"serve from {ROOT}, started with limits of {args.soft_nofile} (soft) and {hard} (hard) open files; Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for result in asyncio.run(run(args)):
        print(json.dumps(result))


if __name__ == "__main__":
    main()
