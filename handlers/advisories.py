"""Private reports: `repository_advisory` webhooks (bot/reports/private.py does the work)."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.jobs.context import Context
from bot.reports import private

router = routing.Router()


@router.register("repository_advisory", action="reported")
async def on_advisory_reported(event: sansio.Event, ctx: Context) -> None:
    """Record a private report, thank the reporter at once, and bring in the security team."""
    await private.receive(ctx, event.data["repository_advisory"], sender=event.data.get("sender"))


@router.register("repository_advisory", action="published")
async def on_advisory_published(event: sansio.Event, ctx: Context) -> None:
    """Mark published, thank and credit the reporter, close the public issue, announce, stop timers."""
    adv = event.data["repository_advisory"]
    report = await private.find(ctx, event.data["repository"]["full_name"], adv["ghsa_id"])
    if report is None:
        return  # an advisory the maintainers wrote themselves: nothing to follow
    await private.mark_published(ctx, report, adv, actor=(adv.get("publisher") or {}).get("login"))
