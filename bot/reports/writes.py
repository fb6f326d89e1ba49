"""Every write Secbot makes to GitHub for a report, each done once.

A write that must not repeat is named by a key and recorded in the store (`actions`) with what
it created. A retry finds the record and skips the write. If a crash fell between the write and
the record, the retry finds the bot's comment by its hidden marker before posting again. Only
what this app wrote is trusted: anyone can type a marker into a comment (`own`).
"""

from __future__ import annotations

from typing import Any

import gidgethub

from bot.jobs.context import Context
from bot.render import find_marker, marker


def _vars(ctx: Context, repo: str | None, **extra: Any) -> dict[str, Any]:
    """URL variables for `repo` ("owner/name"), or for the event's repository."""
    if repo is None:
        return ctx.repo(**extra)
    owner, _, name = repo.partition("/")
    return {"owner": owner, "repo": name, **extra}


async def comment_once(ctx: Context, *, key: str, kind: str, report_id: int, body: str, number: int | None = None,
                       ghsa_id: str | None = None, repo: str | None = None) -> dict[str, Any]:
    """Post a marked comment on an issue (`number`) or an advisory (`ghsa_id`) unless it was posted
    before; returns {"comment_id"}."""
    done = await ctx.ledger.claim(key, ctx.job_id, ctx.clock.now())
    if done is not None:
        return done
    assert ctx.gh is not None
    if ghsa_id is not None:
        url = "/repos/{owner}/{repo}/security-advisories/{ghsa_id}/comments"
        url_vars = _vars(ctx, repo, ghsa_id=ghsa_id)
    else:
        url = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
        url_vars = _vars(ctx, repo, issue_number=number)
    if ctx.job_attempt > 1:  # a previous attempt may have posted before it could record
        async for existing in ctx.gh.getiter(url, url_vars):
            attrs = find_marker(existing.get("body"), kind)
            if (attrs and attrs.get("report") == str(report_id) and attrs.get("key", key) == _short(key)
                    and await own(ctx, existing)):
                result = {"comment_id": existing["id"]}
                await ctx.ledger.record(key, report_id, result, ctx.clock.now())
                return result
    text = marked(body, kind, report_id, key)
    made = await ctx.gh.post(url, url_vars, data={"body": text})
    result = {"comment_id": (made or {}).get("id")}
    await ctx.ledger.record(key, report_id, result, ctx.clock.now())
    return result


async def own(ctx: Context, item: dict[str, Any]) -> bool:
    """Whether a comment, issue, pull request or advisory GitHub returned was written by this app:
    made through it (`performed_via_github_app`) or by its bot account. Markers count only there."""
    via = item.get("performed_via_github_app") or {}
    app_id = ctx.services.settings.app_id
    if app_id is not None and via.get("id") is not None and str(via["id"]) == str(app_id):
        return True
    author = item.get("user") or item.get("author") or {}
    login = await bot_login(ctx)
    return login is not None and str(author.get("login") or "").lower() == login.lower()


async def bot_login(ctx: Context) -> str | None:
    """The app's bot account ("<slug>[bot]"), learnt at start; asked for here if that failed."""
    services = ctx.services
    if services.bot_login is None and services.github is not None:
        data = await services.github.app_client().getitem("/app")
        services.bot_login = f"{data['slug']}[bot]"
    return services.bot_login


def marked(body: str, kind: str, report_id: int, key: str) -> str:
    """A comment body with the hidden marker that lets a retry recognise it."""
    return f"{body.rstrip()}\n\n{marker(kind, report=report_id, key=_short(key))}\n"


def _short(key: str) -> str:
    """A marker-safe digest of an action key, so a retry can tell two messages of one kind apart."""
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()[:12]


async def add_labels(ctx: Context, number: int, labels: list[str]) -> None:
    if labels:
        assert ctx.gh is not None
        await ctx.gh.post("/repos/{owner}/{repo}/issues/{issue_number}/labels", ctx.repo(issue_number=number),
                          data={"labels": labels})


async def remove_labels(ctx: Context, number: int, labels: list[str]) -> None:
    assert ctx.gh is not None
    for label in labels:
        try:
            await ctx.gh.delete("/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
                                ctx.repo(issue_number=number, name=label))
        except gidgethub.BadRequest as exc:
            if exc.status_code != 404:  # already gone
                raise


async def add_assignees(ctx: Context, number: int, users: list[str], repo: str | None = None) -> None:
    """Assign; GitHub silently drops users without push access, so say who was dropped."""
    if not users:
        return
    assert ctx.gh is not None
    issue = await ctx.gh.post("/repos/{owner}/{repo}/issues/{issue_number}/assignees",
                              _vars(ctx, repo, issue_number=number), data={"assignees": users[:10]})
    if ctx.dry_run or not isinstance(issue, dict) or "assignees" not in issue:
        return
    assigned = {a["login"].lower() for a in issue.get("assignees") or []}
    dropped = [u for u in users[:10] if u.lower() not in assigned]
    if dropped:
        ctx.log.warning("GitHub did not assign these security-team members (no push access to the repository)",
                        extra={"dropped_assignees": dropped})


async def lock(ctx: Context, number: int) -> None:
    assert ctx.gh is not None
    await ctx.gh.put("/repos/{owner}/{repo}/issues/{issue_number}/lock", ctx.repo(issue_number=number),
                     data={"lock_reason": "resolved"})


async def unlock(ctx: Context, number: int) -> None:
    assert ctx.gh is not None
    await ctx.gh.delete("/repos/{owner}/{repo}/issues/{issue_number}/lock", ctx.repo(issue_number=number))


async def delete_comment(ctx: Context, comment_id: int) -> None:
    assert ctx.gh is not None
    try:
        await ctx.gh.delete("/repos/{owner}/{repo}/issues/comments/{comment_id}", ctx.repo(comment_id=comment_id))
    except gidgethub.BadRequest as exc:
        if exc.status_code != 404:
            raise


async def update_issue(ctx: Context, number: int, **fields: Any) -> dict[str, Any]:
    assert ctx.gh is not None
    return await ctx.gh.patch("/repos/{owner}/{repo}/issues/{issue_number}", ctx.repo(issue_number=number), data=fields)


async def react(ctx: Context, *, comment_id: int | None = None, issue_number: int | None = None, content: str = "+1") -> None:
    """Acknowledge a command with a reaction (👍 done, 👎 refused, 😕 not understood)."""
    assert ctx.gh is not None
    if comment_id is not None:
        await ctx.gh.post("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
                          ctx.repo(comment_id=comment_id), data={"content": content})
    elif issue_number is not None:
        await ctx.gh.post("/repos/{owner}/{repo}/issues/{issue_number}/reactions",
                          ctx.repo(issue_number=issue_number), data={"content": content})

