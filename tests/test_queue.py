"""The durable queue, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import sqlite3

import pytest
import sqlalchemy as sa
from alembic import command

from bot.clock import FrozenClock
from bot.rules import lanes
from bot.jobs.queue import DEAD, DELIVERY_COLUMNS, DONE, QUEUED, RUNNING, WEBHOOK, Queue
from bot.store import Store, migrate
from bot.store.backend import EngineBackend
from bot.store.migrate import upgrade
from bot.store.sqlite.backend import WriterBackend
from bot.store.sqlite.checkpointer import Checkpointer
from bot.store.sqlite.writer import decode
from bot.store.tables import deliveries, jobs
from tests.conftest import Databases


def make_queue(store: Store, clock: FrozenClock, **kw: object) -> Queue:
    return Queue(store, clock, rng=random.Random(7), **kw)  # type: ignore[arg-type]


async def test_a_redelivered_delivery_id_is_stored_once(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    row = q.delivery_row("d-1", "issues.opened", 1, b"{}")
    assert await q.add_deliveries([row]) == {"d-1"}
    assert await q.add_deliveries([q.delivery_row("d-1", "issues.opened", 1, b"{}")]) == set()
    assert len(await q.list()) == 1


async def test_claim_leases_due_jobs_in_order_and_not_twice(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    await q.add_deliveries([q.delivery_row(f"d-{i}", "issues.opened", 1, b"{}") for i in range(5)])
    first = await q.claim("w1", 3)
    second = await q.claim("w2", 10)
    assert [j.delivery_id for j in first] == ["d-0", "d-1", "d-2"]
    assert [j.delivery_id for j in second] == ["d-3", "d-4"]
    assert all(j.state == RUNNING and j.attempts == 1 for j in first + second)
    assert await q.claim("w3", 10) == []


async def test_future_jobs_wait_for_their_time(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    await q.schedule("reminder", {"x": 1}, run_at=clock.now() + 60)
    assert await q.claim("w", 5) == []
    clock.advance(61)
    assert [j.kind for j in await q.claim("w", 5)] == ["reminder"]


async def test_due_counts_the_queued_jobs_due_now_up_to_its_limit(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    for n in range(3):
        await q.schedule("reminder", {"n": n}, run_at=clock.now())
    await q.schedule("reminder", {"n": "later"}, run_at=clock.now() + 60)
    assert await q.due(10) == 3  # not the one due later
    assert await q.due(2) == 2  # counted up to the limit
    await q.claim("w", 1)
    assert await q.due(10) == 2  # a claimed job is no longer waiting
    clock.advance(61)
    assert await q.due(10) == 3


async def test_complete_is_fenced_on_the_lease_owner(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock, lease_seconds=30)
    await q.schedule("k", {})
    [job] = await q.claim("w1", 1)
    clock.advance(31)  # w1 stalls; its lease expires and w2 takes the job over
    [again] = await q.claim("w2", 1)
    assert again.id == job.id and again.attempts == 2
    assert not await q.complete(job)  # the stale worker cannot finish it
    assert await q.complete(again)
    assert (await q.get(job.id)).state == DONE  # type: ignore[union-attr]


async def test_failures_back_off_then_die_and_retry_revives(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock, max_attempts=3, backoff_base=10)
    await q.schedule("k", {})
    delays = []
    for _ in range(2):
        [job] = await q.claim("w", 1)
        assert await q.fail(job, "BadRequest: GitHub answered 502") == QUEUED
        after = await q.get(job.id)
        assert after is not None and after.last_error == "BadRequest: GitHub answered 502"
        delays.append(after.run_at - clock.now())
        assert await q.claim("w", 1) == []  # not before its back-off
        clock.advance(delays[-1])
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20  # exponential, jittered
    [job] = await q.claim("w", 1)
    assert await q.fail(job, "boom") == DEAD
    assert await q.claim("w", 1) == []
    assert [j.id for j in await q.list(state=DEAD)] == [job.id]
    assert await q.retry(job.id)
    assert not await q.retry(job.id)  # only dead jobs
    [revived] = await q.claim("w", 1)
    assert revived.attempts == 1


async def test_defer_and_release_do_not_count_an_attempt(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    await q.schedule("k", {})
    [job] = await q.claim("w", 1)
    await q.defer(job, clock.now() + 600, "rate limited")
    assert await q.claim("w", 1) == []
    clock.advance(600)
    [job] = await q.claim("w", 1)
    assert job.attempts == 1
    await q.release(job)
    [job] = await q.claim("w", 1)
    assert job.attempts == 1


async def test_a_singleton_key_keeps_one_pending_job(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    await q.schedule("update", {"n": 1}, run_at=clock.now() + 100, singleton_key="update:7")
    await q.schedule("update", {"n": 2}, run_at=clock.now() + 50, singleton_key="update:7")
    [job] = await q.list()
    assert job.data() == {"n": 2} and job.run_at == clock.now() + 50
    clock.advance(50)
    [running] = await q.claim("w", 1)
    await q.complete(running)
    await q.schedule("update", {"n": 3}, run_at=clock.now() + 10, singleton_key="update:7")
    assert [j.state for j in await q.list()] == [DONE, QUEUED]
    await q.cancel("update:7")
    assert [j.state for j in await q.list()] == [DONE]


async def test_concurrent_claims_never_hand_out_a_job_twice(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    await q.add_deliveries([q.delivery_row(f"d-{i}", "e", None, b"{}") for i in range(200)])
    claimed = await asyncio.gather(*(q.claim(f"w{i}", 7) for i in range(40)))
    ids = [j.id for batch in claimed for j in batch]
    assert len(ids) == len(set(ids)) == 200


async def test_complete_many_finishes_only_the_jobs_each_owner_still_holds(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock, lease_seconds=30)
    await q.add_deliveries([q.delivery_row(f"d-{i}", "e", None, b"{}") for i in range(4)])
    stale = await q.claim("w1", 2)
    clock.advance(31)  # w1's leases expire; w2 takes its two jobs over and the other two as well
    fresh = await q.claim("w2", 4)
    assert {j.id for j in fresh} == {j.id for j in stale} | {j.id for j in fresh}
    assert await q.complete_many(stale) == set()  # fenced: w1 no longer holds them
    assert await q.complete_many(fresh) == {j.id for j in fresh}
    assert await q.complete_many(fresh) == set()  # already done
    assert {j.state for j in await q.list()} == {DONE}


async def test_a_batch_with_a_repeated_delivery_id_stores_it_once(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    rows = [q.delivery_row(d, "e", None, b"{}") for d in ("a", "b", "a")]
    assert await q.add_deliveries(rows) == {"a", "b"}
    assert sorted(j.delivery_id for j in await q.list()) == ["a", "b"]


async def test_the_queue_backend_is_the_writer_process_on_a_sqlite_file_and_the_engine_otherwise(store: Store) -> None:
    assert type(store.backend) is (WriterBackend if store.dialect == "sqlite" else EngineBackend)


async def test_sqlite_calls_sharing_a_commit_fail_alone(databases: object, clock: FrozenClock) -> None:
    store, _, _ = await databases.open("sqlite")  # type: ignore[attr-defined]
    writer = store.backend
    assert isinstance(writer, WriterBackend)
    q = make_queue(store, clock)

    results = await asyncio.gather(
        q.add_deliveries([q.delivery_row("a", "e", None, b"{}")]),
        writer.write("execute", [("INSERT INTO jobs (kind) VALUES ('missing columns')", ())]),
        q.add_deliveries([q.delivery_row("b", "e", None, b"{}")]),
        return_exceptions=True,
    )
    assert results[0] == {"a"} and results[2] == {"b"} and isinstance(results[1], Exception)
    assert sorted(j.delivery_id for j in await q.list()) == ["a", "b"]


async def test_a_sqlite_call_alone_in_its_commit_that_fails_leaves_nothing_behind(databases: Databases, clock: FrozenClock) -> None:
    store, _, _ = await databases.open("sqlite")
    writer = store.backend
    assert isinstance(writer, WriterBackend)
    q = make_queue(store, clock)
    insert = writer.prepare(store.insert_ignore(jobs, ["delivery_id"]), DELIVERY_COLUMNS)
    half_then_fail = [(insert.sql, insert.args(q.delivery_row("half", "e", None, b"{}"))),
                      ("INSERT INTO jobs (kind) VALUES ('missing columns')", ())]

    with pytest.raises(sqlite3.IntegrityError):
        await writer.write("execute", half_then_fail)
    assert await q.add_deliveries([q.delivery_row("next", "e", None, b"{}")]) == {"next"}
    assert [j.delivery_id for j in await q.list()] == ["next"]


async def test_sooner_only_never_moves_a_pending_job_later(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    await q.schedule("house", {}, run_at=clock.now() + 100, singleton_key="house", sooner_only=True)
    await q.schedule("house", {}, run_at=clock.now() + 500, singleton_key="house", sooner_only=True)
    [job] = await q.list()
    assert job.run_at == clock.now() + 100
    await q.schedule("house", {}, run_at=clock.now() + 10, singleton_key="house", sooner_only=True)
    [job] = await q.list()
    assert job.run_at == clock.now() + 10


async def test_a_delivery_body_is_stored_once_beside_its_job_and_comes_back_with_it(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    body = b'{"action": "opened", "issue": {"body": "' + b"x" * 20000 + b'"}}'
    await q.add_deliveries([q.delivery_row("d-1", "issues.opened", 1, body)])
    async with store.engine.connect() as conn:
        assert (await conn.execute(sa.select(jobs.c.payload))).scalar_one() == b""  # claims rewrite a small row
        stored, encoding = (await conn.execute(sa.select(deliveries.c.body, deliveries.c.encoding))).one()
    assert decode(stored, encoding) == body
    if isinstance(store.backend, WriterBackend):  # SQLite's writer process compresses bodies (migration 0006)
        assert encoding == "zlib" and len(stored) < len(body) // 10
    [job] = await q.claim("w", 5)
    assert job.payload == body and job.data()["action"] == "opened"
    assert (await q.get(job.id)).payload == body  # type: ignore[union-attr]
    assert [j.payload for j in await q.list()] == [body]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_migration_0005_moves_webhook_bodies_out_of_the_job_rows(databases: Databases, kind: str) -> None:
    store, _, _ = await databases.open(kind, revision="0004")
    row = {"state": QUEUED, "attempts": 0, "run_at": 1.0, "created_at": 1.0, "updated_at": 1.0}
    async with store.write() as conn:
        await conn.execute(sa.insert(jobs), [
            {**row, "kind": WEBHOOK, "delivery_id": "d-1", "singleton_key": None, "payload": b'{"action": "opened"}'},
            {**row, "kind": "report_timer", "delivery_id": None, "singleton_key": "t-1", "payload": b'{"report": 7}'},
        ])
    await upgrade(store)
    q = Queue(store, FrozenClock())
    claimed = {j.kind: j.payload for j in await q.claim("w", 5)}
    assert claimed == {WEBHOOK: b'{"action": "opened"}', "report_timer": b'{"report": 7}'}
    async with store.engine.connect() as conn:
        inline = dict((await conn.execute(sa.select(jobs.c.kind, jobs.c.payload))).all())
    assert inline == {WEBHOOK: b"", "report_timer": b'{"report": 7}'}


async def test_migration_0006_undone_gives_back_the_bodies_as_received(databases: Databases) -> None:
    store, _, _ = await databases.open("sqlite")
    q = Queue(store, FrozenClock())
    body = b'{"action": "opened", "issue": {"body": "' + b"y" * 5000 + b'"}}'
    await q.add_deliveries([q.delivery_row("d-1", "issues.opened", 1, body)])
    async with store.write() as conn:
        await conn.run_sync(lambda c: command.downgrade(migrate._config(c), "0005"))
    async with store.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT body FROM deliveries"))).scalar_one() == body
    await upgrade(store)
    [job] = await q.claim("w", 5)
    assert job.payload == body


async def test_sqlite_wal_is_copied_back_beside_the_commits_and_kept_short(
    databases: Databases, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Checkpointer, "EVERY", 0.005)
    monkeypatch.setattr(Checkpointer, "MAX_FRAMES", 300)
    store, _, _ = await databases.open("sqlite")
    async with store.engine.connect() as conn:  # no connection of ours checkpoints inside its COMMIT
        assert (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar() == 0
    q = make_queue(store, clock)
    body = b'{"issue": {"body": "' + b"x" * 12000 + b'"}}'  # about 4 pages: 40 x 25 bodies, over 4,000 frames
    for i in range(40):
        await q.add_deliveries([q.delivery_row(f"d-{i}-{j}", "e", None, body) for j in range(25)])
        await asyncio.sleep(0.002)
    for _ in range(200):  # the checkpointer's last round
        await asyncio.sleep(0.01)
        if store._checkpointer is not None and store._checkpointer.task is not None and store._checkpointer.task.done():
            break
    await q.add_deliveries([q.delivery_row("last", "e", None, body)])
    async with store.engine.connect() as conn:
        busy, in_wal, copied = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")).one()
        count = (await conn.execute(sa.select(sa.func.count()).select_from(deliveries))).scalar()
    assert count == 1001
    assert in_wal < 1000  # the WAL started again from its beginning rather than growing to hold every write


async def test_claims_take_sooner_lanes_first_and_in_order_within_a_lane(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    await q.schedule("housekeeping", {})
    await q.add_deliveries([q.delivery_row(f"label-{i}", "issues.labeled", 1, b"{}") for i in range(3)])
    await q.add_deliveries([q.delivery_row(f"comment-{i}", "issue_comment.created", 1, b"{}") for i in range(2)])
    clock.advance(1)
    await q.add_deliveries([q.delivery_row("advisory", "repository_advisory.reported", 1, b"{}"),
                            q.delivery_row("new-issue", "issues.opened", 1, b"{}")])
    got = [j.delivery_id or j.kind for j in await q.claim("w", 3)]
    assert got == ["advisory", "new-issue", "comment-0"]
    got += [j.delivery_id or j.kind for j in await q.claim("w", 10)]
    assert got[3:] == ["comment-1", "housekeeping", "label-0", "label-1", "label-2"]


async def test_a_later_lane_job_ages_past_fresh_jobs_of_sooner_lanes(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock)
    await q.add_deliveries([q.delivery_row("old-label", "issues.labeled", 1, b"{}")])
    clock.advance(lanes.HEAD_START[lanes.REPORTS] + 1)  # it has waited longer than any head start
    await q.add_deliveries([q.delivery_row("advisory", "repository_advisory.reported", 1, b"{}"),
                            q.delivery_row("comment", "issue_comment.created", 1, b"{}")])
    assert [j.delivery_id for j in await q.claim("w", 3)] == ["old-label", "advisory", "comment"]


async def test_a_retried_job_keeps_its_lane_and_its_head_start(store: Store, clock: FrozenClock) -> None:
    q = make_queue(store, clock, max_attempts=1)
    await q.add_deliveries([q.delivery_row("advisory", "repository_advisory.reported", 1, b"{}")])
    [job] = await q.claim("w", 1)
    assert job.lane == lanes.REPORTS and job.pick_at == job.run_at - lanes.HEAD_START[lanes.REPORTS]
    assert await q.fail(job, "boom") == DEAD
    assert await q.retry(job.id)
    [again] = [j for j in await q.list() if j.id == job.id]
    assert again.pick_at == again.run_at - lanes.HEAD_START[lanes.REPORTS]
    assert again.summary()["lane"] == "reports"


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_migration_0009_puts_stored_jobs_in_their_lanes(databases: Databases, kind: str) -> None:
    store, _, _ = await databases.open(kind, revision="0008")
    async with store.write() as conn:
        for i, event in enumerate(("issues.labeled", "issue_comment.created", "repository_advisory.reported")):
            await conn.execute(sa.text(
                "INSERT INTO jobs (kind, delivery_id, event, payload, state, attempts, run_at, created_at, updated_at) "
                "VALUES ('webhook', :d, :e, :p, 'queued', 0, 1000, 1000, 1000)"), {"d": f"d-{i}", "e": event, "p": b""})
    await upgrade(store)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(sa.select(jobs.c.event, jobs.c.lane, jobs.c.pick_at).order_by(jobs.c.id))).all()
    assert [tuple(r) for r in rows] == [("issues.labeled", 2, 1000.0), ("issue_comment.created", 1, 990.0),
                                        ("repository_advisory.reported", 0, 970.0)]


async def test_worker_processes_share_the_sqlite_writer_and_one_that_leaves_mid_pause_holds_nobody_up(
        tmp_path: object, clock: FrozenClock) -> None:
    from pathlib import Path

    db = Path(str(tmp_path)) / "shared.db"
    sock = str(Path(str(tmp_path)) / "writer.sock")
    server = Store.open(f"sqlite+aiosqlite:///{db}", share_writer=sock)
    await upgrade(server)
    await server.start_writer()
    worker = Store.open(f"sqlite+aiosqlite:///{db}", attach_writer=sock)
    try:
        intake, claims = make_queue(server, clock), make_queue(worker, clock)
        await intake.add_deliveries([intake.delivery_row(f"d-{i}", "issues.opened", 1, b"{}") for i in range(3)])
        got = await claims.claim("worker-1", 5)  # through the server's writer
        assert [j.delivery_id for j in got] == ["d-0", "d-1", "d-2"]
        assert await claims.complete_many(got) == {j.id for j in got}
        # A worker's own write transaction pauses the shared writer; the worker dies holding it.
        assert worker._writer is not None
        await worker._writer.pause()
        worker._writer._sock.close()  # type: ignore[union-attr]  # (as kill -9 closes it)
        stored = await asyncio.wait_for(intake.add_deliveries([intake.delivery_row("d-9", "issues.opened", 1, b"{}")]), 10)
        assert stored == {"d-9"}
        assert server.writer_pid is not None  # the writer outlives a worker; only the server ends it
    finally:
        await worker.close()
        await server.close()
