"""Timers of a report (status updates, reminders, disclosure countdown): set by handlers/schedule."""

from __future__ import annotations

from bot.context import Context
from bot.reports import Report


async def reschedule(ctx: Context, report: Report) -> None:
    """Set or clear the report's pending jobs after a change that matters."""
    return None


async def describe(ctx: Context, report: Report) -> list[str]:
    """Human lines about the report's pending timers."""
    return []
