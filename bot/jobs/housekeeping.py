"""Daily housekeeping: forget what is no longer needed.

Finished webhook jobs keep their delivery's body (table `deliveries`), which can hold a report's text. Keeping them for ever
would grow the database and keep that text longer than anyone needs: done jobs are deleted
`keep_done_days` after they finished (dead jobs stay until someone retries or deletes them, so
nothing unprocessed is lost). Expired cached facts go too.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.jobs.context import Context
from bot.jobs.queue import DONE
from bot.store.tables import deliveries, facts, jobs

KIND = "maintenance"
EVERY = 86400.0
DAY = 86400.0


async def run(payload: dict[str, Any], ctx: Context) -> None:
    """Delete old finished jobs and expired facts, then come back tomorrow."""
    now = ctx.clock.now()
    keep = ctx.services.settings.keep_done_days * DAY
    old = sa.select(jobs.c.id).where(jobs.c.state == DONE, jobs.c.finished_at < now - keep)
    async with ctx.store.write() as conn:
        # The bodies first, explicitly: their foreign key would cascade, but only where the
        # database enforces foreign keys.
        await conn.execute(sa.delete(deliveries).where(deliveries.c.job_id.in_(old.scalar_subquery())))
        done = await conn.execute(sa.delete(jobs).where(jobs.c.state == DONE, jobs.c.finished_at < now - keep))
        expired = await conn.execute(sa.delete(facts).where(facts.c.expires_at < now))
    ctx.log.info("housekeeping", extra={"jobs_deleted": done.rowcount, "facts_deleted": expired.rowcount})
    await schedule(ctx.queue, now + EVERY)


async def schedule(queue: Any, run_at: float | None = None) -> None:
    """Make sure housekeeping runs no later than `run_at` (one pending job for all replicas)."""
    await queue.schedule(KIND, {}, run_at=run_at, singleton_key=KIND, sooner_only=True)
