"""Daily housekeeping: forget what is no longer needed.

Finished webhook jobs keep their delivery's body (table `deliveries`), which can hold a report's
text. Keeping them for ever would grow the database and keep that text longer than anyone needs:
done jobs are deleted `keep_done_days` after they finished (dead jobs stay until someone retries
or deletes them, so nothing unprocessed is lost). Expired cached facts go too, and so does the
text kept with maintainers' feedback (`secbot feedback export`) after the same `keep_done_days`:
its labels and feature names stay for the per-repository memory.
"""

from __future__ import annotations

from typing import Any

from bot.jobs.context import Context

KIND = "maintenance"
EVERY = 86400.0
DAY = 86400.0


async def run(payload: dict[str, Any], ctx: Context) -> None:
    """Delete old finished jobs and expired facts, then come back tomorrow."""
    now = ctx.clock.now()
    jobs_deleted = await ctx.queue.forget_done(now - ctx.services.settings.keep_done_days * DAY)
    facts_deleted = await ctx.facts.forget_expired(now)
    texts_deleted = await ctx.feedback.forget_text(now - ctx.services.settings.keep_done_days * DAY)
    ctx.log.info("housekeeping", extra={"jobs_deleted": jobs_deleted, "facts_deleted": facts_deleted,
                                        "feedback_texts_deleted": texts_deleted})
    await schedule(ctx.queue, now + EVERY)


async def schedule(queue: Any, run_at: float | None = None) -> None:
    """Make sure housekeeping runs no later than `run_at` (one pending job for all replicas)."""
    await queue.schedule(KIND, {}, run_at=run_at, singleton_key=KIND, sooner_only=True)
