"""Benchmark: a scheduler pass over a store with 100,000 open reports, on SQLite and PostgreSQL.

For each database: a fresh store (a temporary SQLite file; a new PostgreSQL schema, dropped
afterwards) brought to the newest schema, then 100,000 open reports, each with one queued
`status_update` job (singleton key ``update:<report id>``) whose run_at is spread over the next
90 days, 1,000 of them due now (run_at in the last hour). Then, timed:

  * due pass: `Queue.claim(owner, 1000)` must return exactly the 1,000 due jobs; between runs
    they are put back (queued, no lease, attempts 0), outside the timing;
  * empty pass: `Queue.claim(owner, 1000)` at a moment when nothing is due (the same 100,000
    queued jobs, the clock two hours earlier) must return nothing.

Both run through the real `Queue.claim` (the statement, the store's write transaction, the row
mapping), as a worker's claim loop calls it. Targets (issue): a due pass under 1 s, an empty pass
under 10 ms.

Then the reads of reports a `/sec` command and a new report make, through `bot.store.reports.Reports`
on the same 100,000 reports (one in a hundred has a tracker issue and an advisory, the rest none,
as most reports do): `for_tracker` and `for_issue` (a command), `count_from_reporter`, `recent`,
`from_reporter`, `latest_public_unlinked` (a new report), `by_ghsa` (an advisory event). Each
compares names without regard to case; target 5 ms each (ours: the work a command or a report
waits for must not grow with the store; migration 0011). Yardstick, same store and run:
`Reports.get`, a report by its primary key, the cheapest read of one.

Prints its command and the machine, then one row per database and pass or read: rows, median and
p95 in ms, target, pass/fail, and for each read its median against the yardstick's; with
--explain, the plans of the claim's pick.

    .venv/bin/python bench/scheduler.py [--pg URL] [--no-sqlite] [--reports 100000] [--due 1000] [--explain]

PostgreSQL runs when --pg or TEST_DATABASE_URL is given.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import FrozenClock  # noqa: E402
from bot.jobs.queue import QUEUED, RUNNING, Queue  # noqa: E402
from bot.rules.lifecycle import OPEN as OPEN_STATES  # noqa: E402
from bot.settings import async_database_url  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.migrate import upgrade  # noqa: E402
from bot.store.reports import Reports  # noqa: E402
from bot.store.tables import jobs, reports  # noqa: E402
from storm import load, machine  # noqa: E402  (bench/storm.py, beside this script)

NOW = 1_790_000_000.0
DAY = 86400.0
CHUNK = 5000
DUE_TARGET_MS = 1000.0
EMPTY_TARGET_MS = 10.0
LOOKUP_TARGET_MS = 5.0


def report_rows(n: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(1, n + 1):
        repo = f"org{i % 97}/project{i % 1013}"
        created = NOW - rng.uniform(0, 180 * DAY)
        tracked = i % 100 == 0  # a tracker issue and an advisory; the others have neither
        rows.append({
            "id": i, "source_key": f"issue:{repo}#{i}", "source": "issue", "installation_id": 1000 + i % 97,
            "repo": repo, "issue_number": i, "reporter": f"user{i % 5003}", "verdict": "vulnerability",
            "score": round(rng.uniform(0.6, 1.0), 3), "reasons": '["exploit","impact"]',
            "state": OPEN_STATES[i % len(OPEN_STATES)], "created_at": created, "updated_at": created,
            "tracker_repo": f"org{i % 97}/security" if tracked else None, "tracker_number": i if tracked else None,
            "ghsa_id": _ghsa(i) if tracked else None,
        })
    return rows


def _ghsa(i: int) -> str:
    return f"GHSA-{i:04x}-abcd-efgh"


async def time_lookups(store: Store, n: int, runs: int) -> dict[str, list[float]]:
    """Each read of reports a command, a new report or an advisory event makes, `runs` times with
    different reports (names in another case than stored)."""
    reports = Reports(store)
    reads = {
        "get": lambda i: reports.get(i),  # the yardstick: by primary key
        "for_tracker": lambda i: reports.for_tracker(f"ORG{i % 97}/Security", i),
        "for_issue": lambda i: reports.for_issue(f"Org{i % 97}/Project{i % 1013}", i),
        "count_from_reporter": lambda i: reports.count_from_reporter(1000 + i % 97, f"User{i % 5003}", NOW - 30 * DAY),
        "recent": lambda i: reports.recent(f"ORG{i % 97}/project{i % 1013}", since=NOW - 30 * DAY, besides=i),
        "from_reporter": lambda i: reports.from_reporter(1000 + i % 97, f"USER{i % 5003}", besides=i),
        "latest_public_unlinked": lambda i: reports.latest_public_unlinked(
            f"org{i % 97}/PROJECT{i % 1013}", f"user{i % 5003}", NOW - 30 * DAY, besides=i),
        "by_ghsa": lambda i: reports.by_ghsa(_ghsa(i).lower()),
    }
    times: dict[str, list[float]] = {}
    for name, read in reads.items():
        found = 0
        times[name] = []
        for k in range(runs + 2):
            i = 100 * (1 + k * 37 % max(1, n // 100 - 1))
            t0 = time.perf_counter()
            found += bool(await read(i))
            if k >= 2:  # (the first two warm the statement cache)
                times[name].append((time.perf_counter() - t0) * 1000)
        if name in ("get", "for_tracker", "for_issue", "by_ghsa"):
            assert found == runs + 2, f"{name} found {found} of {runs + 2}"
    return times


def job_rows(n: int, due: int, rng: random.Random) -> list[dict[str, Any]]:
    due_ids = set(rng.sample(range(1, n + 1), due))
    rows = []
    for i in range(1, n + 1):
        run_at = NOW - rng.uniform(0, 3600) if i in due_ids else NOW + 60 + rng.uniform(0, 90 * DAY)
        rows.append({
            "kind": "status_update", "singleton_key": f"update:{i}", "installation_id": 1000 + i % 97,
            "payload": orjson.dumps({"report_id": i}), "state": QUEUED, "attempts": 0, "run_at": run_at,
            # as `Queue.schedule` stores scheduled work: lane 2, no head start (bot/rules/lanes.py)
            "lane": 2, "pick_at": run_at,
            "created_at": NOW - DAY, "updated_at": NOW - DAY,
        })
    return rows


async def fill(store: Store, n: int, due: int) -> float:
    rng = random.Random(42)
    started = time.perf_counter()
    for table, rows in ((reports, report_rows(n, rng)), (jobs, job_rows(n, due, rng))):
        for at in range(0, len(rows), CHUNK):
            async with store.write() as conn:
                await conn.execute(sa.insert(table), rows[at:at + CHUNK])
    async with store.write() as conn:
        await conn.execute(sa.text("ANALYZE"))  # fresh statistics, as autovacuum / a long-lived store would have
    return time.perf_counter() - started


async def requeue(store: Store) -> None:
    async with store.write() as conn:
        # As they were: a claim may clear the singleton key (job ids = report ids here).
        await conn.execute(sa.update(jobs).where(jobs.c.state == RUNNING).values(
            state=QUEUED, lease_owner=None, lease_until=None, attempts=0,
            singleton_key=sa.literal("update:") + sa.cast(jobs.c.id, sa.String)))


async def time_pass(queue: Queue, expect: int, runs: int, store: Store) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        claimed = await queue.claim("bench", 1000)
        times.append((time.perf_counter() - t0) * 1000)
        assert len(claimed) == expect, f"claimed {len(claimed)}, expected {expect}"
        if claimed:
            await requeue(store)
    return times


async def explain(queue: Queue) -> str:
    """The plan of the statement `claim` runs (its private `_claim` when there is one, else the pick
    the queue documents); on PostgreSQL executed (EXPLAIN ANALYZE) and rolled back."""
    store, now = queue.store, queue.clock.now()
    stmt = getattr(queue, "_claim", None)
    if stmt is None:
        due = sa.or_(sa.and_(jobs.c.state == QUEUED, jobs.c.run_at <= now),
                     sa.and_(jobs.c.state == RUNNING, jobs.c.lease_until < now))
        stmt = sa.select(jobs.c.id).where(due).order_by(jobs.c.run_at, jobs.c.id).limit(1000)
    compiled = stmt.compile(dialect=store.engine.dialect)
    values = compiled.construct_params({"now": now, "until": now + 120, "owner": "bench", "limit": 1000})
    args = tuple(values[k] for k in compiled.positiontup or ())
    prefix = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    async with store.engine.connect() as conn:  # never committed: rolled back on leaving
        rows = (await conn.exec_driver_sql(prefix + str(compiled), args)).all()
        await conn.rollback()
    return "\n".join("    " + " ".join(str(c) for c in r) for r in rows)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def run(name: str, url: str, args: argparse.Namespace, connect_args: dict[str, Any] | None = None) -> list[tuple]:
    store = Store.open(url, connect_args=connect_args)
    try:
        await upgrade(store)
        fill_s = await fill(store, args.reports, args.due)
        print(f"{name}: filled {args.reports:,} reports and {args.reports:,} jobs in {fill_s:.1f} s", flush=True)
        due_queue = Queue(store, FrozenClock(NOW))
        empty_queue = Queue(store, FrozenClock(NOW - 7200))
        await time_pass(due_queue, args.due, 2, store)  # warm caches and the statement cache
        due_ms = await time_pass(due_queue, args.due, args.runs, store)
        await time_pass(empty_queue, 0, 5, store)
        empty_ms = await time_pass(empty_queue, 0, args.runs * 5, store)
        if args.explain:
            print(f"{name} plan, due pass:\n{await explain(due_queue)}")
            print(f"{name} plan, empty pass:\n{await explain(empty_queue)}")
        lookups = await time_lookups(store, args.reports, args.runs * 2)
        yardstick = statistics.median(lookups.pop("get"))
        return [
            (name, f"due pass ({args.due:,} due)", args.reports, due_ms, DUE_TARGET_MS, None),
            (name, "empty pass", args.reports, empty_ms, EMPTY_TARGET_MS, None),
            *((name, f"Reports.{read}", args.reports, ms, LOOKUP_TARGET_MS, yardstick) for read, ms in lookups.items()),
        ]
    finally:
        await store.close()


async def run_pg(pg_url: str, args: argparse.Namespace) -> list[tuple]:
    url = async_database_url(pg_url)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = Store.open(url, pool_size=1)
    async with admin.engine.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        return await run("postgresql", url, args, {"server_settings": {"search_path": schema}})
    finally:
        async with admin.engine.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL URL (default: TEST_DATABASE_URL)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15, help="timed due passes (empty passes: 5 times as many)")
    parser.add_argument("--explain", action="store_true", help="print the plans of the claim's pick")
    args = parser.parse_args()
    print("$ " + " ".join([".venv/bin/python", "bench/scheduler.py", *sys.argv[1:]]))
    print(f"machine: {machine()}; {load()}", flush=True)
    results: list[tuple] = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            results += await run("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args)
    if args.pg:
        results += await run_pg(args.pg, args)
    print()
    print(f"{'database':<11} {'what':<30} {'reports':>8} {'runs':>5} {'median ms':>10} {'p95 ms':>8} {'target ms':>10}  "
          "result  yardstick")
    ok = True
    for name, what, rows, times, target, yardstick in results:
        med, p95 = statistics.median(times), pct(times, 0.95)
        passed = p95 < target
        ok &= passed
        beside = f"  {med / yardstick:.1f} x Reports.get ({yardstick:.2f} ms)" if yardstick else ""
        print(f"{name:<11} {what:<30} {rows:>8,} {len(times):>5} {med:>10.2f} {p95:>8.2f} {target:>10.0f}  "
              f"{'pass' if passed else 'FAIL'}{beside}")
    print(f"\n(pass = p95 under the target; yardstick: a report by its primary key, same store and run) [{load()}]")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
