"""The `advisory_poll` and `advisory_sweep` jobs (bot/reports/watch.py does the work)."""

from __future__ import annotations

from typing import Any

from bot.jobs.context import Context
from bot.reports import watch


async def run_poll(payload: Any, ctx: Context) -> None:
    """Follow one report's advisory where GitHub sends no webhook."""
    await watch.poll(ctx, int(payload["report_id"]))


async def run_sweep(payload: Any, ctx: Context) -> None:
    """Find the private reports of an installation that no webhook announced."""
    await watch.sweep(ctx, int(payload["installation_id"]))
