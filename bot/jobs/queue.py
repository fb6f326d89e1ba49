"""The durable job queue: webhook deliveries and scheduled work live in one table until done.

A job is claimed under a lease (owner + expiry). A worker that dies leaves its lease to expire,
and another worker takes the job over. Every state change after a claim is fenced on the lease
owner, so a worker that lost its lease cannot complete or fail a job someone else now holds.

Claiming: on PostgreSQL the due rows are picked with ``FOR UPDATE SKIP LOCKED`` so replicas do
not wait on each other; on SQLite (one process; SKIP LOCKED locks nothing there) the claim is
one conditional UPDATE inside a ``BEGIN IMMEDIATE`` transaction, and the returned rows are the
ones this worker won.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from bot.clock import Clock, iso
from bot.rules import lanes
from bot.store import Store
from bot.store.sqlite.writer import decode
from bot.store.tables import deliveries, jobs

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"
STATES = (QUEUED, RUNNING, DONE, DEAD)
WEBHOOK = "webhook"
DELIVERY_COLUMNS = ("kind", "delivery_id", "event", "installation_id", "payload", "state", "attempts", "run_at",
                    "finished_at", "lane", "pick_at", "created_at", "updated_at")


@dataclasses.dataclass(frozen=True)
class Job:
    id: int
    kind: str
    state: str
    attempts: int
    run_at: float
    payload: bytes
    delivery_id: str | None = None
    singleton_key: str | None = None
    event: str | None = None
    installation_id: int | None = None
    lease_owner: str | None = None
    lease_until: float | None = None
    last_error: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    finished_at: float | None = None
    lane: int = lanes.LATER
    pick_at: float = 0.0

    @classmethod
    def from_row(cls, row: Any) -> "Job":
        """A row of `Queue._select_jobs`: a webhook body comes back as it was received."""
        m = dict(row._mapping)
        m["payload"] = decode(m["payload"], m.pop("encoding"))
        return cls.from_mapping(m)

    @classmethod
    def from_mapping(cls, m: Any) -> "Job":
        return cls(**{f.name: m[f.name] for f in _FIELDS})

    def data(self) -> Any:
        return orjson.loads(self.payload)

    def summary(self) -> dict[str, Any]:
        """What `secbot jobs --json` prints: never the payload."""
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "attempts": self.attempts,
            "run_at": iso(self.run_at),
            "delivery_id": self.delivery_id,
            "event": self.event,
            "lane": lanes.NAMES.get(self.lane, str(self.lane)),
            "installation_id": self.installation_id,
            "singleton_key": self.singleton_key,
            "last_error": self.last_error,
            "created_at": iso(self.created_at),
            "finished_at": iso(self.finished_at),
        }


_FIELDS = dataclasses.fields(Job)


def _pick_at(run_at: Any) -> Any:
    """SQL: the `pick_at` of a job moved to `run_at`, after its lane (bot/rules/lanes.pick_at)."""
    return run_at - sa.case({lane: head for lane, head in lanes.HEAD_START.items()}, value=jobs.c.lane, else_=0.0)


class Queue:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        max_attempts: int = 8,
        lease_seconds: float = 120.0,
        backoff_base: float = 5.0,
        backoff_cap: float = 3600.0,
        rng: random.Random | None = None,
        linger: float = 0.002,
    ) -> None:
        self.store = store
        self.backend = store.backend  # the hot path: deliveries, claims, completions (bot/store/backend.py)
        self.clock = clock
        self.max_attempts = max_attempts
        self.lease_seconds = lease_seconds
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._rng = rng or random.Random()
        # How long claims and completions may wait to share a commit with webhook intake (SQLite).
        self.linger = linger
        self._claim = self._claim_statement()
        self._claim_ready = self.backend.prepare(self._claim)  # (compiled once for SQLite's writer process)

    # -- adding work -------------------------------------------------------------------------

    def delivery_row(self, delivery_id: str, event: str, installation_id: int | None, body: bytes,
                     lane: int | None = None, *, done: bool = False) -> dict[str, Any]:
        """A delivery's row; its lane from the webhook (bot/rules/lanes.py), else from its name alone.
        `done`: no handler takes it (`lanes.taken`): stored as done, never claimed."""
        now = self.clock.now()
        if lane is None:
            kind, _, action = event.partition(".")
            lane = lanes.lane_of(kind, action or None)
        return {
            "kind": WEBHOOK,
            "delivery_id": delivery_id,
            "event": event,
            "installation_id": installation_id,
            "payload": b"",  # the body goes to `deliveries`, beside the job's row
            "body": body,
            "state": DONE if done else QUEUED,
            "attempts": 0,
            "run_at": now,
            "finished_at": now if done else None,
            "lane": lane,
            "pick_at": lanes.pick_at(now, lane),
            "created_at": now,
            "updated_at": now,
        }

    async def add_deliveries(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Insert webhook deliveries (rows of `delivery_row`) in one transaction; returns the
        delivery ids that were new.

        The job: INSERT ... ON CONFLICT (delivery_id) DO NOTHING; for each new one, its body into
        `deliveries` (`bot.store.backend.QueueBackend.add_deliveries`; SQLite's writer process
        also compresses the bodies).
        """
        if not rows:
            return set()
        return await self.backend.add_deliveries(DELIVERY_COLUMNS, rows)

    def submit_deliveries(self, rows: Sequence[dict[str, Any]]) -> "asyncio.Future[set[str]]":
        """`add_deliveries`, under way at once: the future of its result (the intake's path when
        the backend is pipelined)."""
        return self.backend.submit_deliveries(DELIVERY_COLUMNS, rows)

    async def schedule(
        self,
        kind: str,
        payload: Any,
        *,
        run_at: float | None = None,
        singleton_key: str | None = None,
        installation_id: int | None = None,
        event: str | None = None,
        conn: Any = None,
        sooner_only: bool = False,
        lane: int = lanes.LATER,
    ) -> None:
        """Add a job (in `lane`: scheduled work is LATER unless said otherwise). With `singleton_key`, a queued job of that key is moved to the new time
        and payload instead of adding a second one (a running one is left alone); with
        `sooner_only`, it is moved only if the new time is earlier ("no later than")."""
        now = self.clock.now()
        run_at = now if run_at is None else run_at
        row = {
            "kind": kind,
            "singleton_key": singleton_key,
            "event": event,
            "installation_id": installation_id,
            "payload": payload if isinstance(payload, bytes) else orjson.dumps(payload),
            "state": QUEUED,
            "attempts": 0,
            "run_at": run_at,
            "lane": lane,
            "pick_at": lanes.pick_at(run_at, lane),
            "created_at": now,
            "updated_at": now,
        }
        if singleton_key is None:
            stmt: Any = sa.insert(jobs).values(**row)
        else:
            insert = self.store.insert(jobs).values(**row)
            where = jobs.c.state == QUEUED
            if sooner_only:
                where = sa.and_(where, jobs.c.run_at > insert.excluded.run_at)
            stmt = insert.on_conflict_do_update(
                index_elements=["singleton_key"],
                set_={c: insert.excluded[c] for c in ("payload", "run_at", "lane", "pick_at", "updated_at", "event")},
                where=where,
            )
        await self._write(stmt, conn)

    async def cancel(self, singleton_key: str, *, conn: Any = None) -> None:
        """Drop the queued job of a key (a running one finishes)."""
        stmt = sa.delete(jobs).where(jobs.c.singleton_key == singleton_key, jobs.c.state == QUEUED)
        await self._write(stmt, conn)

    # -- working -----------------------------------------------------------------------------

    async def due(self, limit: int) -> int:
        """How many queued jobs are due now, counted up to `limit` (a bounded scan of the
        (state, pick_at) index: a backlog's size, cheaply)."""
        now = self.clock.now()
        due = (sa.select(sa.literal(1)).where(jobs.c.state == QUEUED, jobs.c.pick_at <= now, jobs.c.run_at <= now)
               .limit(limit).subquery())
        return int(await self.store.scalar(sa.select(sa.func.count()).select_from(due)) or 0)

    async def claim(self, owner: str, limit: int) -> list[Job]:
        """Lease up to `limit` due jobs (queued and due, or running with an expired lease)."""
        if limit <= 0:
            return []
        now = self.clock.now()
        params = {"now": now, "until": now + self.lease_seconds, "owner": owner, "limit": limit}
        found = await self.backend.claim(self._claim_ready, params, WEBHOOK, linger=self.linger)
        return sorted((Job.from_mapping(m) for m in found), key=lambda j: (j.pick_at, j.id))

    def _claim_statement(self) -> Any:
        """UPDATE ... RETURNING that leases the due jobs, sooner lanes first (`pick_at`, see
        bot/rules/lanes.py); binds now, until, owner and limit.

        A due job's `pick_at` is never after `now` (it is `run_at` less a head start), so
        `pick_at <= now` bounds the scan of the (state, pick_at) index without leaving one out."""
        now = sa.bindparam("now", type_=sa.Float)
        queued_due = (jobs.c.state == QUEUED, jobs.c.pick_at <= now, jobs.c.run_at <= now)
        due = sa.or_(
            sa.and_(*queued_due),
            sa.and_(jobs.c.state == RUNNING, jobs.c.lease_until < now),
        )
        limit = sa.bindparam("limit", type_=sa.Integer)
        if self.store.dialect == "postgresql":
            # A materialised CTE runs the locking pick exactly once (an IN-subquery may be re-run
            # by the planner and lock more rows than asked for).
            pick = sa.select(jobs.c.id).where(due).order_by(jobs.c.pick_at, jobs.c.id).limit(limit)
            picked = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
            where: Any = jobs.c.id == picked.c.id
        else:
            # The same pick as a union of the two kinds of due job, each read in index order and
            # cut at `limit`: with one OR, SQLite sorted every due job on each claim, and a
            # burst's backlog made each claim slower. No re-check of `due` outside the pick:
            # inside BEGIN IMMEDIATE nothing else writes between the pick and the update (and a
            # re-check made SQLite scan the due jobs again instead of looking the ids up).
            def first(*cond: Any) -> Any:
                return sa.select(jobs.c.id, jobs.c.pick_at).where(*cond).order_by(jobs.c.pick_at, jobs.c.id).limit(limit)

            both = sa.union_all(
                sa.select(first(*queued_due).subquery()),
                sa.select(first(jobs.c.state == RUNNING, jobs.c.lease_until < now).subquery()),
            ).subquery()
            pick = sa.select(both.c.id).order_by(both.c.pick_at, both.c.id).limit(limit)
            where = jobs.c.id.in_(pick.scalar_subquery())
        return (
            sa.update(jobs)
            .where(where)
            .values(
                state=RUNNING,
                lease_owner=sa.bindparam("owner", type_=sa.String),
                lease_until=sa.bindparam("until", type_=sa.Float),
                attempts=jobs.c.attempts + 1,
                updated_at=now,
                # A started job gives up its singleton key, so it (or anyone) can schedule its
                # successor under the same key while it runs.
                singleton_key=None,
            )
            .returning(*jobs.c)
        )

    def _fenced(self, job: Job) -> Any:
        return sa.update(jobs).where(
            jobs.c.id == job.id, jobs.c.state == RUNNING, jobs.c.lease_owner == job.lease_owner
        )

    async def complete(self, job: Job, *, conn: Any = None) -> bool:
        """Mark done; False when this worker no longer holds the lease."""
        now = self.clock.now()
        stmt = self._fenced(job).values(**self._done_values(now))
        return await self._write(stmt, conn) == 1

    async def complete_many(self, done: Sequence[Job]) -> set[int]:
        """Mark many jobs done in one transaction; returns the ids whose lease was still held.

        Fenced like `complete`: each job only if it is running under the owner that claimed it.
        """
        if not done:
            return set()
        now = self.clock.now()
        by_owner: dict[str | None, list[int]] = {}
        for job in done:
            by_owner.setdefault(job.lease_owner, []).append(job.id)
        return await self.backend.complete_many(by_owner, RUNNING, self._done_values(now), linger=self.linger)

    @staticmethod
    def _done_values(now: Any) -> dict[str, Any]:
        return dict(state=DONE, finished_at=now, updated_at=now, lease_owner=None, lease_until=None,
                    singleton_key=None, last_error=None)

    def backoff(self, attempts: int) -> float:
        """Exponential back-off with jitter: half fixed, half random."""
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        return delay / 2 + self._rng.uniform(0, delay / 2)

    async def fail(self, job: Job, error: str) -> str:
        """Record a failed attempt: back to the queue with back-off, or dead after the last one."""
        now = self.clock.now()
        if job.attempts >= self.max_attempts:
            values: dict[str, Any] = dict(state=DEAD, finished_at=now, singleton_key=None)
        else:
            run_at = now + self.backoff(job.attempts)
            values = dict(state=QUEUED, run_at=run_at, pick_at=_pick_at(run_at))
        stmt = self._fenced(job).values(
            **values, last_error=error[:2000], lease_owner=None, lease_until=None, updated_at=now
        )
        await self._write(stmt)
        return values["state"]

    async def defer(self, job: Job, until: float, reason: str) -> None:
        """Put a job back until `until` without counting the attempt (rate limits)."""
        stmt = self._fenced(job).values(
            state=QUEUED, run_at=until, pick_at=_pick_at(until), attempts=jobs.c.attempts - 1, last_error=reason[:2000],
            lease_owner=None, lease_until=None, updated_at=self.clock.now(),
        )
        await self._write(stmt)

    async def release(self, job: Job) -> None:
        """Give a job back untouched (shutdown): it runs again at once, the attempt not counted."""
        stmt = self._fenced(job).values(
            state=QUEUED, attempts=jobs.c.attempts - 1, lease_owner=None, lease_until=None,
            updated_at=self.clock.now(),
        )
        await self._write(stmt)

    async def extend(self, owner: str, job_ids: Iterable[int]) -> None:
        """Renew the leases a live worker holds."""
        ids = list(job_ids)
        if not ids:
            return
        now = self.clock.now()
        stmt = (
            sa.update(jobs)
            .where(jobs.c.id.in_(ids), jobs.c.state == RUNNING, jobs.c.lease_owner == owner)
            .values(lease_until=now + self.lease_seconds, updated_at=now)
        )
        await self._write(stmt)

    # -- operating ---------------------------------------------------------------------------

    async def retry(self, job_id: int) -> bool:
        """Re-queue a dead job with a fresh count of attempts."""
        now = self.clock.now()
        stmt = (
            sa.update(jobs)
            .where(jobs.c.id == job_id, jobs.c.state == DEAD)
            .values(state=QUEUED, attempts=0, run_at=now, pick_at=_pick_at(now), finished_at=None, updated_at=now)
        )
        return await self._write(stmt) == 1

    @staticmethod
    def _select_jobs() -> Any:
        """Jobs with their payload: a webhook job's body from `deliveries`, else `jobs.payload`."""
        payload = sa.func.coalesce(deliveries.c.body, jobs.c.payload).label("payload")
        return sa.select(*(c for c in jobs.c if c.name != "payload"), payload, deliveries.c.encoding).select_from(
            jobs.outerjoin(deliveries, deliveries.c.job_id == jobs.c.id))

    async def get(self, job_id: int) -> Job | None:
        row = await self.store.first(self._select_jobs().where(jobs.c.id == job_id))
        return Job.from_row(row) if row else None

    async def list(self, state: str | None = None, limit: int = 1000, kind: str | None = None) -> list[Job]:
        stmt = self._select_jobs().order_by(jobs.c.id).limit(limit)
        if state is not None:
            stmt = stmt.where(jobs.c.state == state)
        if kind is not None:
            stmt = stmt.where(jobs.c.kind == kind)
        return [Job.from_row(r) for r in await self.store.all(stmt)]

    async def counts(self) -> dict[str, int]:
        stmt = sa.select(jobs.c.state, sa.func.count()).group_by(jobs.c.state)
        found = dict(await self.store.all(stmt))
        return {s: int(found.get(s, 0)) for s in STATES}

    async def busy(self) -> int:
        """Jobs running or due now (not those waiting for a later time or a back-off)."""
        now = self.clock.now()
        stmt = sa.select(sa.func.count()).where(
            sa.or_(jobs.c.state == RUNNING, sa.and_(jobs.c.state == QUEUED, jobs.c.run_at <= now)))
        return int(await self.store.scalar(stmt) or 0)

    async def oldest_due_age(self) -> float:
        """Seconds the oldest due, unclaimed job has waited (0 when none)."""
        now = self.clock.now()
        stmt = sa.select(sa.func.min(jobs.c.run_at)).where(jobs.c.state == QUEUED, jobs.c.run_at <= now)
        oldest = await self.store.scalar(stmt)
        return max(0.0, now - oldest) if oldest is not None else 0.0

    async def forget_done(self, before: float) -> int:
        """Delete jobs that finished before `before`, with their deliveries' bodies; dead jobs stay
        (someone may retry them). Returns how many jobs went."""
        old = sa.select(jobs.c.id).where(jobs.c.state == DONE, jobs.c.finished_at < before)
        async with self.store.write() as conn:
            # The bodies first, explicitly: their foreign key would cascade, but only where the
            # database enforces foreign keys.
            await conn.execute(sa.delete(deliveries).where(deliveries.c.job_id.in_(old.scalar_subquery())))
            done = await conn.execute(sa.delete(jobs).where(jobs.c.state == DONE, jobs.c.finished_at < before))
        return done.rowcount

    async def _write(self, stmt: Any, conn: Any = None) -> int:
        if conn is not None:
            return (await conn.execute(stmt)).rowcount
        return await self.store.execute(stmt)
