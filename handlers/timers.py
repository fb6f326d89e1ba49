"""The `report_timer` job (bot/reports/timers.py does the work)."""

from __future__ import annotations

from typing import Any

from bot.jobs.context import Context
from bot.reports import away, timers


async def run_timer(payload: dict[str, Any], ctx: Context) -> None:
    """A report's timer is due."""
    await timers.fire(ctx, int(payload["report_id"]), payload["timer"])


async def run_away_end(payload: dict[str, Any], ctx: Context) -> None:
    """The maintainers' away span is over (bot/reports/away.py): private reporting back, timers set again."""
    repo = str(payload["repo"])
    rctx = ctx.for_repo(repo, int(payload["installation_id"]))
    if await away.end(rctx, repo, int(payload["installation_id"])):
        await timers.retime(rctx, repo)
