"""Security reports filed in public issues and comments (bot/reports/public.py does the work)."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.jobs.context import Context
from bot.reports import public

router = routing.Router()


@router.register("issues", action="opened")
@router.register("issues", action="edited")
@router.register("issues", action="reopened")
async def on_issue(event: sansio.Event, ctx: Context) -> None:
    """Catch a security report filed as a public issue (also when edited into one)."""
    issue = event.data["issue"]
    await public.consider(ctx, source="issue", number=issue["number"], comment_id=None, author=issue["user"],
                          association=issue.get("author_association"), title=issue.get("title") or "",
                          body=issue.get("body"), labels=[lb["name"] for lb in issue.get("labels") or []])


@router.register("issue_comment", action="created")
@router.register("issue_comment", action="edited")
async def on_comment(event: sansio.Event, ctx: Context) -> None:
    """Catch a security report posted as a comment on a public issue or pull request."""
    issue, comment = event.data["issue"], event.data["comment"]
    if (comment.get("body") or "").lstrip().lower().startswith("/sec"):
        return  # a command, not a report (handlers/commands.py)
    await public.consider(ctx, source="comment", number=issue["number"], comment_id=comment["id"],
                          author=comment["user"], association=comment.get("author_association"), title="",
                          body=comment.get("body"), labels=[lb["name"] for lb in issue.get("labels") or []])
