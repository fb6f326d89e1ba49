"""Benchmark: Secbot end to end against the GitHub emulator: deliveries fully processed per second,
a storm with a report behind it, and memory.

What runs, on loopback: the GitHub emulator (bot/emulator, OpenAPI-checked) in this process; a real
`secbot serve` (python -m bot serve, worker processes as `--workers-processes` says, default the
serve default: the cores less one) on a fresh SQLite file; a load generator in a process of its own
(raw HTTP/1.1 over keep-alive connections, from bench/webhook.py), sending deliveries signed as
GitHub signs them, built from the emulator's state as GitHub would send them. Every figure is
printed beside the machine's load (`uptime`), measured when it was taken: the machine may be shared.

1. yardstick: the same load generator sends the storm's deliveries to a bare aiohttp handler
   (reads the body, answers 202), in this same run: how fast deliveries can be sent here at all.
2. idle memory: resident set (RSS) and proportional set (PSS: shared pages divided among the
   processes that share them) of serve, its SQLite writer and its worker processes, summed.
3. end to end (`--e2e N`, default 3,000): a realistic mix, mostly ordinary 8 KB bug reports
   (issues.opened) and comments on them, some public vulnerability reports, some private reports
   (repository_advisory.reported), some `/sec help` commands from a maintainer; all sent as fast
   as the intake takes them; deliveries fully processed per second = N / (seconds from the first
   send until every job is done). Then a check from the emulator: each public report redirected
   once, each private report acknowledged once, each command answered once, no dead job.
4. storm (`--storm N`, default 10,000): ordinary deliveries (label edits, body edits and comments
   on the ordinary issues) sent as fast as the intake takes them; then, at once, one
   `repository_advisory.reported` and one public vulnerability issue (`issues.opened`): seconds
   from each delivery to its acknowledgement on the advisory / its redirect comment at the
   emulator. Then memory again, at once, when the storm's backlog is done, and idle after it; and
   ordinary deliveries fully processed per second = N / (seconds from the storm's first send until
   its backlog is done): the target's measure on ordinary deliveries alone.

Targets (issue 20): storm <= 2 s for both with 10,000 ahead (SQLite, one instance, 2 cores);
>= 1,000 ordinary deliveries fully processed per second; <= 150 MB resident for serve and its
workers together, idle and after the storm.

    .venv/bin/python bench/storm.py [--e2e 3000] [--storm 10000] [--connections 64] [--workers-processes N]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import hmac
import json
import os
import pickle
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator import GitHubState, run_emulator  # noqa: E402
from bot.emulator.server import DELIVERER_KEY  # noqa: E402
from bot.render import find_marker  # noqa: E402

INSTALLATION = 987654
OWNER = "octo-org"
REPO = f"{OWNER}/hello-world"
TRACKER = f"{OWNER}/security-inbox"
MAINTAINER = "maint"

# An ordinary bug report of about 8 KB: what most issues are (a description and a pasted log).
_LOG = "".join(f"2026-12-01 10:{i // 60:02d}:{i % 60:02d},{i * 7 % 1000:03d} INFO  worker-{i % 8} loaded plugin "
               f"'hello.ext.formatter{i % 13}' in {i % 97} ms (cache {'hit' if i % 3 else 'miss'})\n" for i in range(80))
ORDINARY_BODY = ("### What happened\nRunning `hello render --template site/ --out build/` stops half way through the "
                 "site with the traceback below. It worked with 2.2.x; after upgrading to 2.3.1 it fails every time "
                 "on the same page.\n\n### Steps to reproduce\n1. `pip install hello==2.3.1`\n2. Clone the example "
                 "site\n3. `hello render --template site/ --out build/`\n\n### Log\n```\n" + _LOG +
                 "Traceback (most recent call last):\n  File \"hello/render.py\", line 212, in render_page\n"
                 "    out.write(template.render(**context))\nKeyError: 'sidebar'\n```\n\n### Environment\n"
                 "Ubuntu 24.04, Python 3.12.3, hello 2.3.1 (also on macOS 14).\n")
VULN_TITLE = "Path traversal in archive extraction allows writing outside the target dir ({n})"
VULN_BODY = ("Hi, I found a security issue in `extract_all()` (case {n}).\n\n### Steps to reproduce\n"
             "1. Create a tar with a member named `../../home/user/.bashrc`\n"
             "2. Call `hello.extract_all(\"evil.tar\", \"/tmp/out\")`\n"
             "3. The file is written outside `/tmp/out` (arbitrary file write, possible RCE).\n"
             "Affected: 2.3.0 and earlier. CWE-22.\n")
COMMENT = "Same here on 2.3.1 with Python 3.11; downgrading to 2.2.4 makes it go away. ({n})"



# -- the machine -----------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), Python {sys.version.split()[0]}"


def load() -> str:
    """The load averages, as `uptime` shows them."""
    try:
        return "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load ?"


def tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def cpu(pid: int) -> dict[str, float]:
    """CPU seconds used so far by serve and its descendants, by role, and by this process (the emulator).

    Worker processes that have exited (surge workers retired, workers renewed after a burst) count
    too: serve has reaped them, and their seconds are in its children's times (with the short
    `secbot migrate` at start, before any reading)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {"workers": 0.0}
    for p in [*tree(pid), os.getpid()]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        name = ("emulator" if p == os.getpid() else "writer" if any(b"writer.py" in c for c in cmd)
                else "workers" if b"work" in cmd else "serve")
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
        if p == pid:  # (fields 13 and 14: the times of its children that have exited and been waited for)
            used["workers"] += (int(fields[13]) + int(fields[14])) / tick
    return used


def cpu_between(before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    return "CPU: " + ", ".join(f"{k} {after[k] - before.get(k, 0.0):.1f} s" for k in after) + f" in {seconds:.1f} s"


def rss_of(pid: int) -> dict[int, int]:
    """VmRSS in kB of serve and each of its descendants."""
    found = {}
    for p in tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
            found[p] = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
        except (OSError, StopIteration):
            continue
    return found


async def settled(pid: int, *, at_least: float = 0.0, limit: float = 60.0, processes: int | None = None) -> float:
    """Wait at least `at_least` seconds, and until serve and its processes are steady (no process's
    RSS changed by 256 kB or more in a second, for three seconds running), and, if given, are
    `processes` again (a surge worker process retires a few seconds after a backlog is done):
    on a loaded machine a worker may still be importing after a fixed wait, and its memory would
    be under-counted; after a burst each process gives memory back once it has been idle for 2 s
    (bot/heap.py)."""
    t0 = time.perf_counter()
    before, steady = rss_of(pid), 0
    while ((steady < 3 or time.perf_counter() - t0 < at_least or (processes is not None and len(before) != processes))
           and time.perf_counter() - t0 < limit):
        await asyncio.sleep(1)
        now = rss_of(pid)
        moved = len(now) != len(before) or any(abs(now[p] - before.get(p, 0)) >= 256 for p in now)
        steady = 0 if moved else steady + 1
        before = now
    return time.perf_counter() - t0


def memory(pid: int, before: set[int] | None = None) -> str:
    """RSS and PSS of serve and its descendants (writer, worker processes), summed, in MB; a
    process not among `before` is marked "fresh" (a worker renewed after a burst, bot/jobs/process.py)."""
    rss = pss = 0
    parts = []
    for p in tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
            r = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            s = int(next(line.split()[1] for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()
                         if line.startswith("Pss:")))
        except (OSError, StopIteration):
            continue
        cmd = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        name = "writer" if any(b"writer.py" in c for c in cmd) else "worker" if b"work" in cmd else "serve"
        parts.append(f"{name}{' (fresh)' if before is not None and p not in before else ''} {r / 1024:.0f}")
        rss += r
        pss += s
    return f"RSS {rss / 1024:.0f} MB ({', '.join(parts)}), PSS {pss / 1024:.0f} MB, {len(parts)} processes"


# -- the load generator (its own process: `storm.py --send FILE PORT CONNECTIONS`) ----------------------


def send_main(argv: list[str]) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from webhook import connect  # noqa: PLC0415 - the same raw HTTP/1.1 client as bench/webhook.py

    requests: list[bytes] = pickle.loads(Path(argv[0]).read_bytes())
    port, connections = int(argv[1]), int(argv[2])

    async def go() -> dict[str, Any]:
        conns = await connect(port, connections)
        todo = iter(requests)
        bad = 0

        async def run(conn: Any) -> None:
            nonlocal bad
            for raw in todo:
                if await conn.request(raw.replace(b"__PORT__", str(port).encode())) not in (200, 202):
                    bad += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(run(c) for c in conns))
        elapsed = time.perf_counter() - t0
        for c in conns:
            c.transport.close()
        return {"n": len(requests), "elapsed": elapsed, "bad": bad}

    print(json.dumps(asyncio.run(go())))


def raw_request(event: str, body: bytes, secret: str) -> bytes:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return (f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:__PORT__\r\nContent-Type: application/json\r\n"
            f"User-Agent: GitHub-Hookshot/bench\r\nX-GitHub-Event: {event}\r\nX-GitHub-Delivery: {uuid.uuid4()}\r\n"
            f"X-Hub-Signature-256: {signature}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def send(requests: list[bytes], port: int, connections: int, tmp: Path) -> dict[str, Any]:
    file = tmp / f"requests-{uuid.uuid4().hex}.pickle"
    file.write_bytes(pickle.dumps(requests))
    proc = await asyncio.create_subprocess_exec(sys.executable, __file__, "--send", str(file), str(port),
                                                str(connections), stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    file.unlink()
    if proc.returncode:
        raise SystemExit("the load generator failed")
    result: dict[str, Any] = json.loads(out)
    if result["bad"]:
        raise SystemExit(f"{result['bad']} deliveries were not answered 2xx")
    return result


# -- GitHub, and the deliveries --------------------------------------------------------------------


def seeded_state() -> GitHubState:
    state = GitHubState()
    state.add_installation(INSTALLATION, OWNER)
    state.add_repo(REPO, installation_id=INSTALLATION, pvr_enabled=True)
    state.add_repo(TRACKER, installation_id=INSTALLATION, private=True, pvr_enabled=False)
    for repo in (REPO, TRACKER):
        state.set_permission(repo, MAINTAINER, "maintain")
    state.put_file(REPO, ".github/secbot.yml", f"security_team:\n  users: [{MAINTAINER}]\ntracker:\n  repo: security-inbox\n")
    return state


class Builder:
    """Deliveries as GitHub sends them just after someone acted, made on the emulator's state."""

    def __init__(self, emu: Any) -> None:
        self.emu, self.state = emu, emu.state
        self.rewrite = emu.app[DELIVERER_KEY].rewrite
        self.n = 0

    def raw(self, event: str, payload: dict[str, Any]) -> bytes:
        return raw_request(event, self.rewrite(json.dumps(payload)).encode(), self.state.webhook_secret)

    def ordinary_issue(self) -> tuple[str, dict[str, Any], int]:
        self.n += 1
        who = f"user-{self.n}"
        issue = self.state.open_issue(REPO, title=f"render stops with KeyError 'sidebar' ({self.n})", body=ORDINARY_BODY,
                                      user=who)
        return "issues", self.emu.payloads.issues("opened", REPO, issue["number"], who), issue["number"]

    def comment(self, number: int, user: str | None = None, body: str | None = None) -> tuple[str, dict[str, Any]]:
        self.n += 1
        who = user or f"user-{self.n}"
        c = self.state.add_comment(REPO, number, body=body or COMMENT.format(n=self.n), user=who)
        return "issue_comment", self.emu.payloads.issue_comment("created", REPO, number, c["id"], who)

    def vulnerability_issue(self) -> tuple[str, dict[str, Any], int]:
        self.n += 1
        who = f"reporter-{self.n}"
        issue = self.state.open_issue(REPO, title=VULN_TITLE.format(n=self.n), body=VULN_BODY.format(n=self.n), user=who)
        return "issues", self.emu.payloads.issues("opened", REPO, issue["number"], who), issue["number"]

    def private_report(self) -> tuple[str, dict[str, Any], str]:
        self.n += 1
        who = f"reporter-{self.n}"
        self.state.add_user(who)
        adv = self.state.report_vulnerability(REPO, summary=VULN_TITLE.format(n=self.n),
                                              description=VULN_BODY.format(n=self.n), user=who)
        return "repository_advisory", self.emu.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], who), \
            adv["ghsa_id"]


def _bot(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["user"]["login"].endswith("[bot]")]


def redirected(state: GitHubState, number: int) -> int:
    return len([c for c in _bot(state.comments(REPO, number)) if find_marker(c["body"], "redirect")])


def acknowledged(state: GitHubState, ghsa: str) -> int:
    return len([c for c in _bot(state.advisory_comments(REPO, ghsa)) if find_marker(c["body"], "to-reporter")])


def backlog(db: Path) -> tuple[int, int]:
    """(webhook jobs not done, dead jobs)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        open_, dead = conn.execute("SELECT sum(state <> 'done'), sum(state = 'dead') FROM jobs WHERE kind = 'webhook'"
                                   ).fetchone()
    return int(open_ or 0), int(dead or 0)


async def drained(db: Path, limit: float) -> float:
    t0 = time.perf_counter()
    while (await asyncio.to_thread(backlog, db))[0]:
        if time.perf_counter() - t0 > limit:
            raise SystemExit(f"jobs still open {limit:.0f} s later: {backlog(db)}")
        await asyncio.sleep(0.05)
    return time.perf_counter() - t0


# -- the run ---------------------------------------------------------------------------------------


async def follow_wall_clock(state: GitHubState) -> None:
    while True:
        state.set_now(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
        await asyncio.sleep(0.5)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_port(port: int, proc: Any, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:] if log.exists() else ''}")
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise SystemExit("server did not start")


async def run(args: argparse.Namespace, tmp: Path) -> None:
    state = seeded_state()
    clock = asyncio.create_task(follow_wall_clock(state))
    async with run_emulator(state) as emu:
        build = Builder(emu)
        # 1. the yardstick: the storm's requests (made up front, on issues of their own) to a bare handler
        ordinary = [build.ordinary_issue() for _ in range(200)]
        comments = {number: build.comment(number)[1]["comment"]["id"] for _, _, number in ordinary}
        storm = []
        for i in range(args.storm):
            _, payload, number = ordinary[i % len(ordinary)]
            kind = i % 3
            if kind == 0:
                storm.append(build.raw("issues", {**payload, "action": "labeled",
                                                  "label": {"id": 1, "name": "bug", "color": "d73a4a"}}))
            elif kind == 1:
                storm.append(build.raw("issues", {**payload, "action": "edited",
                                                  "changes": {"body": {"from": ORDINARY_BODY[:200]}}}))
            else:
                storm.append(build.raw("issue_comment", emu.payloads.issue_comment(
                    "created", REPO, number, comments[number], f"user-{i}")))
        bare_port = free_port()
        sys.path.insert(0, str(ROOT / "bench"))
        from webhook import BARE  # noqa: PLC0415 - the same bare yardstick as bench/webhook.py

        bare = await asyncio.create_subprocess_exec(sys.executable, "-c", BARE, str(bare_port))
        try:
            await wait_port(bare_port, bare, tmp / "none")
            yard = await send(storm, bare_port, args.connections, tmp)
        finally:
            bare.terminate()
            await bare.wait()
        print(f"yardstick: a bare aiohttp handler took the {args.storm:,} storm deliveries in {yard['elapsed']:.2f} s "
              f"({yard['n'] / yard['elapsed']:,.0f}/s, {args.connections} connections) [{load()}]", flush=True)

        port = free_port()
        db = tmp / "secbot.db"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite:///{db}", "GITHUB_APP_ID": str(state.app_id),
            "GITHUB_PRIVATE_KEY": state.private_key_pem, "GITHUB_WEBHOOK_SECRET": state.webhook_secret,
            "GITHUB_API_URL": emu.base_url, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "WARNING",
            "SECBOT_METRICS_PORT": "off",
            # One installation here stands for the many a real instance serves: GitHub's limit on
            # content-creating requests is per installation, and the mix's replies would wait for
            # the next minute's budget (72 a minute by default) instead of being measured; so are
            # the requests in flight at once (SECBOT_GITHUB_CONCURRENCY, 8 per installation by
            # default), which for many installations would not queue behind each other.
            "SECBOT_WRITES_PER_MINUTE": "10000", "SECBOT_WRITES_PER_HOUR": "1000000",
            "SECBOT_GITHUB_CONCURRENCY": "100",
        }
        overrides = {k: v for k, v in os.environ.items() if k.startswith("SECBOT_")}  # (printed with the command)
        env.update(overrides)
        state.webhook_url = f"http://127.0.0.1:{port}/webhook"
        serve_args = [] if args.workers_processes is None else ["--workers-processes", str(args.workers_processes)]
        log = tmp / "serve.log"
        with log.open("wb") as out:
            server = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "serve", *serve_args, env=env,
                                                          cwd=ROOT, stdout=out, stderr=out)
        try:
            await wait_port(port, server, log)
            waited = await settled(server.pid)  # started: imports done, workers connected
            idle_pids = set(rss_of(server.pid))
            idle_processes = len(idle_pids)
            print(f"idle: {memory(server.pid)} (steady after {waited:.0f} s) [{load()}]", flush=True)

            # 3. end to end
            mix, vulns, reports, commands = [], [], [], []
            issues: list[int] = []
            for i in range(args.e2e):
                roll = i % 20
                if roll < 11:
                    event, payload, number = build.ordinary_issue()
                    issues.append(number)
                elif roll < 16 and issues:
                    event, payload = build.comment(issues[i % len(issues)])
                elif roll < 17:
                    event, payload, number = build.vulnerability_issue()
                    vulns.append(number)
                elif roll < 18:
                    event, payload, ghsa = build.private_report()
                    reports.append(ghsa)
                else:
                    number = issues[i % len(issues)] if issues else build.ordinary_issue()[2]
                    event, payload = build.comment(number, user=MAINTAINER, body="/sec help")
                    commands.append(number)
                mix.append(build.raw(event, payload))
            requests_before = len(state.requests)
            used = cpu(server.pid)
            t0 = time.perf_counter()
            sent = await send(mix, port, args.connections, tmp)
            await drained(db, 600)
            took = time.perf_counter() - t0
            e2e_cpu = cpu_between(used, cpu(server.pid), took)
            _, dead = backlog(db)
            missing = ([n for n in vulns if redirected(state, n) != 1] + [g for g in reports if acknowledged(state, g) != 1]
                       + [n for n in commands if not any("help" in c["body"].lower() for c in _bot(state.comments(REPO, n)))])
            print(f"end to end: {args.e2e:,} deliveries ({args.e2e - len(vulns) - len(reports) - len(commands):,} ordinary "
                  f"issues and comments, {len(vulns)} public reports, {len(reports)} private reports, {len(commands)} "
                  f"commands) fully processed in {took:.2f} s: {args.e2e / took:,.0f} deliveries/s (intake took them "
                  f"in {sent['elapsed']:.2f} s; {len(state.requests) - requests_before:,} GitHub requests; "
                  f"{len(missing)} reports or commands not answered exactly once; {dead} dead jobs; {e2e_cpu}) [{load()}]", flush=True)

            if not args.storm:
                return
            # 4. the storm
            t_storm = time.perf_counter()
            used = cpu(server.pid)
            sent = await send(storm, port, args.connections, tmp)
            event_a, advisory, ghsa = build.private_report()
            event_i, issue, number = build.vulnerability_issue()
            t_a = t_i = time.perf_counter()
            done: dict[str, float] = {}

            async def watch() -> None:
                while len(done) < 2 and time.perf_counter() - t_a < 300:
                    if "ack" not in done and acknowledged(state, ghsa):
                        done["ack"] = time.perf_counter() - t_a
                    if "redirect" not in done and redirected(state, number):
                        done["redirect"] = time.perf_counter() - t_i
                    await asyncio.sleep(0.005)

            watching = asyncio.create_task(watch())
            statuses = await asyncio.gather(emu.deliver(event_a, advisory), emu.deliver(event_i, issue))
            await watching
            left, _ = backlog(db)
            at_end = memory(server.pid)
            print(f"storm: {args.storm:,} ordinary deliveries (label edits, body edits, comments) taken in "
                  f"{sent['elapsed']:.2f} s ({args.storm / sent['elapsed']:,.0f}/s; bare {yard['elapsed']:.2f} s); "
                  f"then the private report acknowledged {done.get('ack', float('nan')):.2f} s and the public report "
                  f"redirected {done.get('redirect', float('nan')):.2f} s after their deliveries (answered {statuses}; "
                  f"{left:,} jobs still queued behind them) [{load()}]", flush=True)
            print(f"end of storm: {at_end}", flush=True)
            rest = await drained(db, 900)
            whole = time.perf_counter() - t_storm
            print(f"storm backlog done {rest:.1f} s later: {memory(server.pid)} [{load()}]", flush=True)
            # The target's own measure: ordinary deliveries only (a third of them label edits, which
            # no handler takes), from the storm's first send until its last job is done.
            print(f"ordinary deliveries: the storm's {args.storm:,} (and the two reports) fully processed in {whole:.2f} s: "
                  f"{args.storm / whole:,.0f} deliveries/s ({cpu_between(used, cpu(server.pid), whole)}) [{load()}]",
                  flush=True)
            waited = await settled(server.pid, at_least=5.0, processes=idle_processes)
            print(f"idle after the storm ({waited:.0f} s later): {memory(server.pid, idle_pids)} [{load()}]", flush=True)
            print("targets: storm <= 2 s for both; >= 1,000 deliveries/s end to end; <= 150 MB resident in all")
        except BaseException:
            print(f"serve's log:\n{log.read_text()[-3000:]}", file=sys.stderr)
            raise
        finally:
            if server.returncode is None:
                server.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(server.wait(), 30)
                except asyncio.TimeoutError:
                    server.kill()
    clock.cancel()


async def emulator_main(spec: Path) -> None:
    """`storm.py --emulator FILE`: the emulator, seeded, until terminated; FILE gets its URL, the
    App's credentials and an ordinary issue's `issues.opened` body (for bench/webhook.py --real)."""
    state = seeded_state()
    clock = asyncio.create_task(follow_wall_clock(state))
    async with run_emulator(state) as emu:
        build = Builder(emu)
        _, payload, _ = build.ordinary_issue()
        body = build.rewrite(json.dumps(payload, separators=(",", ":")))
        tmp = spec.with_suffix(".tmp")
        tmp.write_text(json.dumps({"base_url": emu.base_url, "app_id": state.app_id, "private_key": state.private_key_pem,
                                   "secret": state.webhook_secret, "body": body}))
        tmp.rename(spec)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
    clock.cancel()


def main() -> None:
    if sys.argv[1:2] == ["--send"]:
        send_main(sys.argv[2:])
        return
    if sys.argv[1:2] == ["--emulator"]:
        asyncio.run(emulator_main(Path(sys.argv[2])))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--e2e", type=int, default=3000, help="deliveries in the end-to-end run")
    ap.add_argument("--storm", type=int, default=10000, help="ordinary deliveries ahead of the two reports")
    ap.add_argument("--connections", type=int, default=64, help="connections of the load generator")
    ap.add_argument("--workers-processes", type=int, help="passed to secbot serve (default: serve's default)")
    args = ap.parse_args()
    given = [f"{k}={shlex.quote(v)}" for k, v in os.environ.items() if k.startswith("SECBOT_")]
    print("$ " + " ".join([*given, shlex.join([".venv/bin/python", "bench/storm.py", *sys.argv[1:]])]))
    print(f"machine: {machine()}; Secbot on SQLite, the emulator and the load generator on the same machine; "
          "one installation standing for many: its write budget raised to 10,000 a minute (SECBOT_WRITES_PER_MINUTE), "
          "its requests in flight to 100 (SECBOT_GITHUB_CONCURRENCY)")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
