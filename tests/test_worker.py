"""Workers and dispatch: retries, dead letters, handler isolation, shutdown."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from gidgethub import routing, sansio

from bot import heap
from bot.clock import SystemClock
from bot.jobs.context import ConfigCache, Context, Services
from bot.jobs.dispatch import Dispatcher, caused_by_app
from bot.jobs.queue import DEAD, DONE, Queue
from bot.jobs.worker import Workers
from bot.store import Store
from bot.store.tables import deliveries
from tests.conftest import make_settings


def services_for(store: Store, queue: Queue) -> Services:
    clock = SystemClock()
    return Services(settings=make_settings(), store=store, queue=queue, clock=clock, github=None, configs=ConfigCache(clock))


async def run_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def deliver(queue: Queue, event: str, data: dict[str, Any], delivery: str = "d-1") -> None:
    await queue.add_deliveries([queue.delivery_row(delivery, event, None, orjson.dumps(data))])


async def test_a_handler_that_fails_three_times_then_succeeds_completes(store: Store) -> None:
    queue = Queue(store, SystemClock(), max_attempts=5, backoff_base=0.01)
    router = routing.Router()
    calls = []

    @router.register("issues", action="opened")
    async def flaky(event: sansio.Event, ctx: Context) -> None:
        calls.append(ctx.job_id)
        if len(calls) <= 3:
            raise RuntimeError("GitHub hiccup")

    pool = Workers(queue, Dispatcher(services_for(store, queue), [router], {}).run, poll_interval=0.01)
    await deliver(queue, "issues.opened", {"action": "opened"})
    await pool.start()
    try:
        await run_until(lambda: _state_is(queue, DONE))
    finally:
        await pool.stop()
    [job] = await queue.list()
    assert len(calls) == 4 and job.attempts == 4 and job.last_error is None


async def test_a_handler_that_always_fails_ends_dead_and_secbot_retry_revives_it(databases: Any) -> None:
    store, url, _ = await databases.open("sqlite")
    queue = Queue(store, SystemClock(), max_attempts=3, backoff_base=0.01)
    router = routing.Router()
    fail = [True]

    @router.register("issues", action="opened")
    async def broken(event: sansio.Event, ctx: Context) -> None:
        if fail[0]:
            raise KeyError("the secret report text must not be stored")

    pool = Workers(queue, Dispatcher(services_for(store, queue), [router], {}).run, poll_interval=0.01)
    await deliver(queue, "issues.opened", {"action": "opened"})
    await pool.start()
    try:
        await run_until(lambda: _state_is(queue, DEAD))
        [job] = await queue.list()
        assert job.attempts == 3
        assert "KeyError" in job.last_error and "secret report text" not in job.last_error
        listed = subprocess.run(
            [sys.executable, "-m", "bot", "jobs", "--json", "--state", "dead"],
            env={"DATABASE_URL": url.replace("+aiosqlite", ""), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, cwd=Path(__file__).parent.parent, check=True,
        )
        [line] = listed.stdout.splitlines()
        shown = orjson.loads(line)
        assert {k: shown[k] for k in ("id", "kind", "state", "attempts", "delivery_id")} == {
            "id": job.id, "kind": "webhook", "state": "dead", "attempts": 3, "delivery_id": "d-1"
        }
        assert shown["run_at"].endswith("Z") and "KeyError" in shown["last_error"]
        fail[0] = False
        revived = subprocess.run(
            [sys.executable, "-m", "bot", "retry", str(job.id)],
            env={"DATABASE_URL": url.replace("+aiosqlite", ""), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, cwd=Path(__file__).parent.parent,
        )
        assert revived.returncode == 0, revived.stderr
        pool.wake()
        await run_until(lambda: _state_is(queue, DONE))
    finally:
        await pool.stop()


async def test_one_failing_handler_does_not_stop_the_others(store: Store) -> None:
    queue = Queue(store, SystemClock(), max_attempts=1)
    first, second = routing.Router(), routing.Router()
    ran = []

    @first.register("issues")
    async def explodes(event: sansio.Event, ctx: Context) -> None:
        ran.append("explodes")
        raise ValueError("nope")

    @second.register("issues")
    async def records(event: sansio.Event, ctx: Context) -> None:
        ran.append("records")

    dispatcher = Dispatcher(services_for(store, queue), [first, second], {})
    await deliver(queue, "issues.opened", {"action": "opened"})
    [job] = await queue.claim("w", 1)
    try:
        await dispatcher.run(job)
    except Exception as exc:  # noqa: BLE001
        assert "explodes" in str(exc) and "ValueError" in str(exc)
    else:
        raise AssertionError("the failure must fail the job")
    assert ran == ["explodes", "records"]


async def test_shutdown_gives_unfinished_jobs_back(store: Store) -> None:
    queue = Queue(store, SystemClock())
    router = routing.Router()
    started = asyncio.Event()

    @router.register("issues")
    async def slow(event: sansio.Event, ctx: Context) -> None:
        started.set()
        await asyncio.sleep(60)

    pool = Workers(queue, Dispatcher(services_for(store, queue), [router], {}).run, poll_interval=0.01)
    await deliver(queue, "issues.opened", {"action": "opened"})
    await pool.start()
    await asyncio.wait_for(started.wait(), 5)
    await pool.stop(grace=0.1)
    [job] = await queue.list()
    assert job.state == "queued" and job.attempts == 0 and job.lease_owner is None


def test_events_caused_by_the_app_itself_are_recognised() -> None:
    own_comment = {"comment": {"performed_via_github_app": {"id": 99}}, "sender": {"type": "Bot", "login": "x[bot]"}}
    assert caused_by_app(own_comment, "99", None)
    assert caused_by_app({"sender": {"type": "Bot", "login": "secbot[bot]"}}, "99", "secbot[bot]")
    assert not caused_by_app({"sender": {"type": "Bot", "login": "dependabot[bot]"}}, "99", "secbot[bot]")
    assert not caused_by_app({"sender": {"type": "User", "login": "alice"}}, "99", "secbot[bot]")


async def _state_is(queue: Queue, state: str) -> bool:
    return [j.state for j in await queue.list()] == [state]


async def test_jobs_finishing_together_are_all_recorded_done_once(store: Store) -> None:
    queue = Queue(store, SystemClock())
    router = routing.Router()
    ran: list[str] = []

    @router.register("issues")
    async def quick(event: sansio.Event, ctx: Context) -> None:
        ran.append(event.delivery_id)
        await asyncio.sleep(0)

    pool = Workers(queue, Dispatcher(services_for(store, queue), [router], {}).run, concurrency=8, poll_interval=0.01)
    await queue.add_deliveries([queue.delivery_row(f"d-{i}", "issues.opened", None, b'{"action": "opened"}')
                                for i in range(60)])
    await pool.start()
    try:
        await run_until(lambda: _all_done(queue, 60))
    finally:
        await pool.stop()
    assert sorted(ran) == sorted(f"d-{i}" for i in range(60)) and pool.completed == 60
    assert {j.state for j in await queue.list()} == {DONE}


async def _all_done(queue: Queue, n: int) -> bool:
    return (await queue.counts())[DONE] == n


async def test_housekeeping_forgets_old_finished_jobs_and_expired_facts(store: Store) -> None:
    from bot import logs
    from bot.clock import FrozenClock
    from bot.jobs import housekeeping
    from bot.store.facts import Facts

    clock = FrozenClock()
    queue = Queue(store, clock)
    services = Services(settings=make_settings(keep_done_days=30), store=store, queue=queue, clock=clock,
                        github=None, configs=ConfigCache(clock))
    await queue.add_deliveries([queue.delivery_row("old", "issues.opened", None, b'{"secret": "report text"}')])
    [job] = await queue.claim("w", 1)
    await queue.complete(job)
    await Facts(store).remember("perm:o/r:alice", "write", clock.now(), ttl=60)
    clock.advance(31 * 86400)
    await queue.add_deliveries([queue.delivery_row("new", "issues.opened", None, b"{}")])
    await queue.schedule(housekeeping.KIND, {}, singleton_key=housekeeping.KIND)
    [new, house] = await queue.claim("w", 2)
    ctx = Context(event=sansio.Event({}, event="maintenance", delivery_id="x"), services=services, gh=None,
                  log=logs.get("test"))
    await housekeeping.run({}, ctx)
    remaining = {j.delivery_id or j.kind: j.state for j in await queue.list()}
    assert "old" not in remaining and remaining["new"] == "running"
    async with store.engine.connect() as conn:  # the old delivery's body (report text) is gone too
        bodies = (await conn.execute(sa.select(deliveries.c.job_id))).scalars().all()
    assert bodies == [new.id]
    assert await Facts(store).get("perm:o/r:alice", clock.now()) is None
    assert [j.run_at for j in await queue.list(state="queued")] == [clock.now() + housekeeping.EVERY]


async def test_a_delivery_no_handler_takes_finishes_without_its_body_being_read(store: Store) -> None:
    queue = Queue(store, SystemClock())
    router = routing.Router()
    seen: list[str] = []

    @router.register("issues", action="opened")
    async def opened(event: sansio.Event, ctx: Context) -> None:
        seen.append(event.data["action"])

    dispatcher = Dispatcher(services_for(store, queue), [router], {})
    assert dispatcher.may_handle("issues.opened") and not dispatcher.may_handle("issues.labeled")
    assert not dispatcher.may_handle("star.created") and not dispatcher.may_handle("bench")
    # Not JSON: reading it would fail the job. Only the handled one is read.
    await queue.add_deliveries([queue.delivery_row("d-1", "issues.labeled", None, b"<not json>"),
                                queue.delivery_row("d-2", "issues.opened", None, b'{"action": "opened"}')])
    for job in await queue.claim("w", 2):
        await dispatcher.run(job)
        await queue.complete(job)
    assert seen == ["opened"] and {j.state for j in await queue.list()} == {DONE}


async def test_a_route_on_another_field_than_the_action_makes_every_body_read(store: Store) -> None:
    queue = Queue(store, SystemClock())
    router = routing.Router()

    @router.register("check_run", name="secbot")
    async def check(event: sansio.Event, ctx: Context) -> None:
        pass

    dispatcher = Dispatcher(services_for(store, queue), [router], {})
    assert dispatcher.may_handle("check_run.completed") and dispatcher.may_handle("issues.labeled")


async def test_while_webhooks_arrive_back_to_back_claims_wait_but_never_stop(store: Store) -> None:
    queue = Queue(store, SystemClock())
    busy = [True]
    claims: list[float] = []
    real_claim = queue.claim

    async def claim(owner: str, limit: int) -> Any:
        claims.append(asyncio.get_running_loop().time())
        return await real_claim(owner, limit)

    queue.claim = claim  # type: ignore[method-assign]
    ran: list[str] = []

    async def run(job: Any) -> None:
        ran.append(job.delivery_id)

    pool = Workers(queue, run, concurrency=1, poll_interval=0.01, intake_busy=lambda: busy[0])
    pool.DEFER_WHILE_BUSY = 0.2
    for i in range(3):
        await deliver(queue, "issues.opened", {}, delivery=f"d-{i}")
    await pool.start()
    try:
        await run_until(lambda: _ran(ran, 3))  # still busy: one claim every 0.2 s, none skipped
        gaps = [b - a for a, b in zip(claims, claims[1:])]
        assert len(claims) >= 3 and all(g >= 0.19 for g in gaps[:2]), gaps
        busy[0] = False
        for i in range(3, 6):
            await deliver(queue, "issues.opened", {}, delivery=f"d-{i}")
        pool.wake()
        started = asyncio.get_running_loop().time()
        await run_until(lambda: _ran(ran, 6))
        assert asyncio.get_running_loop().time() - started < 0.3  # quiet again: claims at once
    finally:
        await pool.stop()
    assert sorted(ran) == [f"d-{i}" for i in range(6)]


async def _ran(ran: list[str], n: int) -> bool:
    return len(ran) >= n


async def test_worker_processes_are_told_new_work_and_a_burst_apart(tmp_path: Path) -> None:
    """The wake-up byte a worker process gets: BUSY while webhooks arrive back to back (it then
    claims at most every DEFER_WHILE_BUSY seconds), WAKE otherwise."""
    from bot.jobs.process import BUSY, WAKE, WorkerProcesses

    got = tmp_path / "stdin"
    copy = f"import sys; open({str(got)!r}, 'wb').write(sys.stdin.buffer.read())"
    children = WorkerProcesses(1, [sys.executable, "-c", copy], {})
    await children.start()
    children.wake(busy=True)
    children.wake()
    await children.stop()
    assert got.read_bytes() == BUSY + WAKE


async def test_a_retiring_pool_works_its_jobs_then_retires_once_idle_for_long_enough(store: Store) -> None:
    """A surge worker's pool (bot/jobs/process.py): it retires only after `retire_after` seconds
    with nothing to claim and nothing in flight, never while there is work."""
    queue = Queue(store, SystemClock())
    router = routing.Router()
    ran: list[str] = []

    @router.register("issues", action="opened")
    async def slow(event: sansio.Event, ctx: Context) -> None:
        await asyncio.sleep(0.3)
        ran.append(event.delivery_id)

    pool = Workers(queue, Dispatcher(services_for(store, queue), [router], {}).run, poll_interval=0.01,
                   retire_after=0.2)
    for n in range(3):
        await deliver(queue, "issues.opened", {"action": "opened"}, delivery=f"d-{n}")
    await pool.start()
    try:
        await asyncio.wait_for(pool.retired.wait(), 10)
    finally:
        await pool.stop()
    assert sorted(ran) == ["d-0", "d-1", "d-2"]  # every job ran before it retired
    assert all(j.state == DONE for j in await queue.list())


async def test_a_pool_says_when_a_burst_is_over_and_goes_on(store: Store) -> None:
    """A worker process's pool (bot/jobs/process.py): once a burst is over (`heap.Idle`) and its
    memory given back, `after_burst` is called (a worker that grew asks for a fresh one then),
    once per burst, and the pool goes on claiming."""
    queue = Queue(store, SystemClock())
    router = routing.Router()
    ran: list[str] = []

    @router.register("issues", action="opened")
    async def quick(event: sansio.Event, ctx: Context) -> None:
        ran.append(event.delivery_id)

    bursts: list[int] = []
    pool = Workers(queue, Dispatcher(services_for(store, queue), [router], {}).run, poll_interval=0.01,
                   after_burst=lambda: bursts.append(len(ran)))
    pool.idle = heap.Idle(every=3, quiet=0.05)
    for n in range(3):
        await deliver(queue, "issues.opened", {"action": "opened"}, delivery=f"d-{n}")
    await pool.start()
    try:
        await asyncio.sleep(0.5)
        assert bursts == [3]  # once, after the burst
        for n in range(3, 5):
            await deliver(queue, "issues.opened", {"action": "opened"}, delivery=f"d-{n}")
        pool.wake()
        await asyncio.sleep(0.5)
        assert bursts == [3]  # two jobs are no burst
        assert sorted(ran) == [f"d-{n}" for n in range(5)] and not pool.retired.is_set()
    finally:
        await pool.stop()
