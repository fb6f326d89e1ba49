"""The ledger of once-only writes: each write Secbot must not repeat (a comment, an issue, a
command's effect) is claimed under a key before it is made and recorded with what it created.

A retry, a redelivery or a second replica finds the record and skips the write. A claim is held
while its job runs: once that job is no longer running under a live lease (it finished, failed and
waits for its retry, or its process died and the lease ran out) another job may take the claim
over, and, told `since`, looks for the write before making it. A claim whose job is unknown is
held for CLAIM_TTL.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import sqlalchemy as sa

from bot.errors import ReportableError
from bot.store import Store
from bot.store.tables import actions, jobs

CLAIM_TTL = 900.0  # a claim of an unknown job older than this was abandoned; another may take it over
# Built once: the ledger is read before most writes (see `Store.first`).
_RESULT = sa.select(actions.c.result).where(actions.c.key == sa.bindparam("key"))


class ActionBusy(ReportableError):
    """Another job is performing the same once-only write right now; try again later."""


@dataclasses.dataclass(frozen=True)
class Claim:
    """The outcome of `Ledger.claim_write`."""

    done: dict[str, Any] | None  # what the write recorded, if it was made before: do not make it
    since: float | None  # when an earlier try under this claim began (it may have made the write), or None


class Ledger:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def result(self, key: str) -> dict[str, Any] | None:
        """What the write `key` recorded, or None when it was not done (or is being done now)."""
        row = await self.store.point(_RESULT, {"key": key})
        if row is None:
            return None
        found = orjson.loads(row[0]) if row[0] else {}
        return None if "_claimed_by" in found else found

    async def claim(self, key: str, job_id: int | None, now: float) -> dict[str, Any] | None:
        """Take the right to perform the write `key`.

        Returns None when the caller should perform it (first claim, its own earlier claim on a
        retry, or a claim abandoned by a job that is not running), the recorded result when it
        was done before, and raises `ActionBusy` while another job holds a live claim (that job is
        doing it now; the caller's retry will see the result).
        """
        return (await self.claim_write(key, job_id, now)).done

    async def claim_write(self, key: str, job_id: int | None, now: float) -> Claim:
        """`claim`, saying also whether an earlier try may have made the write: a claim taken over
        (this job's earlier attempt, or one abandoned by a job that died) has `since`, the time
        that first try began; a write to GitHub it made before it could record is to be looked for.

        A key claimed for the first time (most) takes one statement, which shares a commit
        (`Store.execute`); one claimed before is looked at in a transaction of its own."""
        fresh = self.store.insert_ignore(actions, ["key"]).values(
            key=key, report_id=None, result=_claim(job_id, now, now), at=now)
        if await self.store.execute(fresh) == 1:
            return Claim(None, None)
        async with self.store.write() as conn:
            if (await conn.execute(fresh)).rowcount == 1:  # forgotten meanwhile (`forget`)
                return Claim(None, None)
            row = (await conn.execute(sa.select(actions.c.result, actions.c.at).where(actions.c.key == key))).one()
            found = orjson.loads(row[0]) if row[0] else {}
            if "_claimed_by" not in found:
                return Claim(found, None)
            holder = found["_claimed_by"]
            if holder == job_id or not await _held(conn, holder, row[1], now):
                since = float(found.get("_since", row[1]))
                # Only if the claim is still the one read: two jobs taking over at once cannot both win.
                taken = await conn.execute(sa.update(actions).where(actions.c.key == key, actions.c.result == row[0])
                                           .values(result=_claim(job_id, now, since), at=now))
                if taken.rowcount == 1:
                    return Claim(None, since)
        raise ActionBusy(f"another job is performing {key.split(':', 1)[0]}")

    async def record(self, key: str, report_id: int | None, result: dict[str, Any], now: float) -> None:
        """The write `key` was made (for `report_id`); `result` is what a later look finds."""
        stmt = self.store.upsert(actions, ["key"], ["report_id", "result", "at"]).values(
            key=key, report_id=report_id, result=orjson.dumps(result).decode(), at=now)
        await self.store.execute(stmt)

    async def forget(self, key: str) -> None:
        """The write `key` was not made after all (a dry run, a refusal): a later try may make it."""
        await self.store.execute(sa.delete(actions).where(actions.c.key == key))


def _claim(job_id: int | None, now: float, since: float) -> str:
    return orjson.dumps({"_claimed_by": job_id, "_at": now, "_since": since}).decode()


async def _held(conn: Any, job_id: int | None, claimed_at: float, now: float) -> bool:
    """Whether the claim of `job_id`, made at `claimed_at`, still stands: its job runs under a live
    lease, or (a job the queue does not know) the claim is younger than CLAIM_TTL."""
    row = None
    if job_id is not None:
        row = (await conn.execute(sa.select(jobs.c.state, jobs.c.lease_until).where(jobs.c.id == job_id))).first()
    if row is None:
        return claimed_at >= now - CLAIM_TTL
    return row[0] == "running" and row[1] is not None and row[1] >= now
