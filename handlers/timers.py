"""The `report_timer` job (bot/reports/timers.py does the work)."""

from __future__ import annotations

from typing import Any

from bot.jobs.context import Context
from bot.reports import timers


async def run_timer(payload: dict[str, Any], ctx: Context) -> None:
    """A report's timer is due."""
    await timers.fire(ctx, int(payload["report_id"]), payload["timer"])
