"""`/sec` commands in issue comments and in discussion comments (bot/reports/verbs.py runs them)."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.jobs.context import Context
from bot.reports import verbs

router = routing.Router()


@router.register("issue_comment", action="created")
async def on_command_comment(event: sansio.Event, ctx: Context) -> None:
    """Run the `/sec` commands of a new comment, once each."""
    await verbs.from_issue_comment(ctx, event.data["comment"], event.data["issue"]["number"])


@router.register("discussion_comment", action="created")
async def on_discussion_command_comment(event: sansio.Event, ctx: Context) -> None:
    """Run the `/sec` commands of a new comment in a discussion, once each."""
    await verbs.from_discussion_comment(ctx, event.data["comment"], event.data["discussion"])
