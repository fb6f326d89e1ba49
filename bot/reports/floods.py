"""Floods: a reporter who sends an installation more reports in a day than `floods.reports_per_day`
gets one polite note a day (on the advisory of the first report beyond it) that their reports will be
handled in order, and that report's timeline records the rate, for the maintainers and the triage
card (`rate` is the query the card asks)."""

from __future__ import annotations

from bot.jobs.context import Context
from bot.reports import outreach
from bot.rules.config import RepoConfig
from bot.rules.floods import DAY, Rate, window_start
from bot.store.reports import Report

NOTE_EVERY = DAY  # at most one note per reporter and installation in this time


async def rate(ctx: Context, report: Report, cfg: RepoConfig) -> Rate:
    """This reporter's reports to this report's installation in the last day (this one included),
    against the repository's `floods.reports_per_day`."""
    count = await ctx.reports.count_from_reporter(report.installation_id, report.reporter,
                                                  window_start(report.created_at))
    return Rate(count=count, limit=cfg.floods.reports_per_day)


async def check(ctx: Context, report: Report, cfg: RepoConfig) -> Rate:
    """After a private report arrived: if its reporter is beyond the rate, tell them once that their
    reports will be handled in order, and record it on the report's timeline."""
    found = await rate(ctx, report, cfg)
    if not found.over or outreach.advisory_of(report) is None:
        return found
    now = ctx.clock.now()
    # One note per reporter and installation per (UTC) day: claimed in the ledger, so two of their
    # reports arriving at once on two replicas do not both send it.
    episode = f"flood:{report.installation_id}:{report.reporter.lower()}:{int(now // NOTE_EVERY)}"
    earlier = await ctx.ledger.claim(episode, ctx.job_id, now)
    if earlier is not None and earlier.get("report") != report.id:
        return found  # told already today, on another report
    await outreach.tell_reporter(ctx, report, key=f"flood-note:{report.id}", template="flood_note", count=found.count)
    await ctx.ledger.record(episode, report.id, {"report": report.id}, now)
    if not any(e["kind"] == "flood" for e in await ctx.reports.timeline(report.id)):
        await ctx.reports.update(report.id, now=now, event="flood", actor="secbot",
                                 detail={"reports_today": found.count, "limit": found.limit})
    ctx.log.info("reporter over the flood rate: told once that reports are handled in order",
                 extra={"report": report.id, "reports_today": found.count, "limit": found.limit})
    return found
