"""Security reports filed in public: issues, comments, discussions and their comments, and pull
request descriptions (bot/reports/public.py does the work)."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio

from bot.jobs.context import Context
from bot.reports import public
from bot.rules.commands import is_command_comment
from bot.rules.detect import TextContext

router = routing.Router()


def _context(ctx: Context, source: str, text: dict[str, Any], labels: list[dict[str, Any]] | None) -> TextContext:
    """What GitHub says about a text besides its words."""
    return TextContext(source=source, author_association=text.get("author_association"),
                       author_is_bot=Context.is_bot(text.get("user") or {}),
                       labels=tuple(lb["name"] for lb in labels or () if isinstance(lb, dict) and "name" in lb),
                       repo_full_name=ctx.full_name)


@router.register("issues", action="opened")
@router.register("issues", action="edited")
@router.register("issues", action="reopened")
async def on_issue(event: sansio.Event, ctx: Context) -> None:
    """Catch a security report filed as a public issue (also when edited into one)."""
    issue = event.data["issue"]
    await public.consider(ctx, public.Post(
        source="issue", number=issue["number"], comment_id=None, author=issue["user"], title=issue.get("title") or "",
        body=issue.get("body"), context=_context(ctx, "issue", issue, issue.get("labels")), node_id=issue.get("node_id")))


@router.register("issue_comment", action="created")
@router.register("issue_comment", action="edited")
async def on_comment(event: sansio.Event, ctx: Context) -> None:
    """Catch a security report posted as a comment on a public issue or pull request."""
    issue, comment = event.data["issue"], event.data["comment"]
    if is_command_comment(comment.get("body")):
        return  # a command, not a report (handlers/commands.py); "/security ..." is read as text
    await public.consider(ctx, public.Post(
        source="comment", number=issue["number"], comment_id=comment["id"], author=comment["user"], title="",
        body=comment.get("body"), context=_context(ctx, "comment", comment, issue.get("labels")),
        node_id=comment.get("node_id")))


@router.register("discussion", action="created")
@router.register("discussion", action="edited")
async def on_discussion(event: sansio.Event, ctx: Context) -> None:
    """Catch a security report posted as a public discussion."""
    discussion = event.data["discussion"]
    await public.consider(ctx, public.Post(
        source="discussion", number=discussion["number"], comment_id=None, author=discussion["user"],
        title=discussion.get("title") or "", body=discussion.get("body"),
        context=_context(ctx, "discussion", discussion, discussion.get("labels")),
        node_id=discussion.get("node_id"), thread_node_id=discussion.get("node_id")))


@router.register("discussion_comment", action="created")
@router.register("discussion_comment", action="edited")
async def on_discussion_comment(event: sansio.Event, ctx: Context) -> None:
    """Catch a security report posted as a comment in a public discussion."""
    discussion, comment = event.data["discussion"], event.data["comment"]
    if is_command_comment(comment.get("body")):
        return  # a command, not a report (handlers/commands.py)
    await public.consider(ctx, public.Post(
        source="discussion_comment", number=discussion["number"], comment_id=comment["id"], author=comment["user"],
        title="", body=comment.get("body"),
        context=_context(ctx, "discussion_comment", comment, discussion.get("labels")),
        node_id=comment.get("node_id"), thread_node_id=discussion.get("node_id")))


@router.register("pull_request", action="opened")
@router.register("pull_request", action="edited")
async def on_pull_request(event: sansio.Event, ctx: Context) -> None:
    """A pull request's description by someone without write access: at most a private heads-up
    (a public fix, perhaps with a proof of concept, is never redirected in public)."""
    pull = event.data["pull_request"]
    await public.consider(ctx, public.Post(
        source="pull_request", number=pull["number"], comment_id=None, author=pull["user"],
        title=pull.get("title") or "", body=pull.get("body"),
        context=_context(ctx, "pull_request", pull, pull.get("labels")), node_id=pull.get("node_id")))
