"""`/sec` commands in issue comments, from people with write access or on the security team."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio

from bot import actions
from bot.commands import HELP_TEXT, Command, may_run, parse
from bot.context import Context
from bot.permissions import permission
from bot.render import render
from bot.reports import REJECTED, Report, Reports
from handlers.public_reports import hide_report

router = routing.Router()


@router.register("issue_comment", action="created")
async def on_command_comment(event: sansio.Event, ctx: Context) -> None:
    """Run the `/sec` commands of a new comment, once each."""
    comment, issue = event.data["comment"], event.data["issue"]
    author = comment["user"]
    if author.get("type") == "Bot" or ctx.gh is None:
        return
    commands = parse(comment.get("body"))
    if not commands:
        return
    cfg = await ctx.config()
    login = author["login"]
    level = await permission(ctx, login)
    reports = Reports(ctx.store)
    for cmd in commands:
        key = f"cmd:{ctx.full_name}:{comment['id']}:{cmd.line}"
        if await reports.claim_action(key, ctx.job_id, ctx.clock.now()) is not None:
            continue
        if not may_run(cmd.verb, permission=level, login=login, team_users=cfg["security_team"]["users"]):
            await refuse(ctx, issue["number"], comment["id"], login)
            outcome = "refused"
        else:
            outcome = await run(ctx, cmd, issue["number"], comment["id"], login, cfg)
        await reports.record_action(key, None, {"verb": cmd.verb, "outcome": outcome}, ctx.clock.now())
        ctx.log.info("command", extra={"verb": cmd.verb, "by": login, "outcome": outcome})


async def refuse(ctx: Context, number: int, comment_id: int, login: str) -> None:
    """One polite refusal per comment, however many commands it holds."""
    key = f"refused:{ctx.full_name}:{comment_id}"
    if await Reports(ctx.store).action_result(key) is None:
        await actions.react(ctx, comment_id=comment_id, content="-1")
    await actions.comment_once(ctx, key=key, kind="refused", report_id=0, number=number,
                               body=render("command_refused", login=login))


async def run(ctx: Context, cmd: Command, number: int, comment_id: int, login: str, cfg: dict[str, Any]) -> str:
    if cmd.error or cmd.verb == "unknown":
        await actions.react(ctx, comment_id=comment_id, content="confused")
        await actions.comment_once(ctx, key=f"help:{ctx.full_name}:{comment_id}", kind="help", report_id=0,
                                   number=number, body=render("command_help", error=cmd.error, help=HELP_TEXT))
        return "help"
    if cmd.verb == "help":
        await actions.comment_once(ctx, key=f"help:{ctx.full_name}:{comment_id}", kind="help", report_id=0,
                                   number=number, body=render("command_help", error=None, help=HELP_TEXT))
        return "help"
    found = [r for r in await Reports(ctx.store).for_issue(ctx.full_name or "", number) if r.state != REJECTED]
    if cmd.verb in ("hide", "not-security"):
        if not found:
            await actions.react(ctx, comment_id=comment_id, content="confused")
            return "no-report"
        for report in found:
            if cmd.verb == "hide":
                await hide(ctx, report, cfg)
            else:
                await not_security(ctx, report, cfg, login)
        await actions.react(ctx, comment_id=comment_id, content="+1")
        return "done"
    # The lifecycle commands (ack, accept, ...) act on reports followed privately.
    await actions.react(ctx, comment_id=comment_id, content="confused")
    return "unsupported-here"


async def hide(ctx: Context, report: Report, cfg: dict[str, Any]) -> None:
    """`/sec hide`: move a redirected report into a draft advisory and point the reporter there."""
    if report.hidden:
        return
    report = await hide_report(ctx, report, cfg)
    done = await Reports(ctx.store).action_result(f"redirect:{report.id}")
    transferred = report.source == "issue" and bool(cfg["public_reports"]["private_repo"])
    if done and done.get("comment_id") and not transferred:
        from bot.channel import private_channel
        repo = ctx.data["repository"]
        owner, name = repo["full_name"].split("/", 1)
        channel = await private_channel(ctx, owner, name, repo["html_url"])
        body = render("redirect", reporter=report.reporter, channel=channel.as_dict(), hidden=True,
                      source=report.source, ghsa_id=report.draft_ghsa_id,
                      advisory_url=f"{repo['html_url']}/security/advisories/{report.draft_ghsa_id}",
                      bounty_policy=cfg["beg_bounty"]["bounty_policy"])
        assert ctx.gh is not None
        await ctx.gh.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}", ctx.repo(comment_id=done["comment_id"]),
                           data={"body": actions.marked(body, "redirect", report.id, f"redirect:{report.id}")})
    if report.source == "issue" and not transferred:
        await actions.lock(ctx, report.issue_number or 0)


async def not_security(ctx: Context, report: Report, cfg: dict[str, Any], login: str) -> None:
    """`/sec not-security`: undo everything the bot did for a false alarm, and remember it."""
    reports = Reports(ctx.store)
    number = report.issue_number or 0
    await actions.remove_labels(ctx, number, list(cfg["labels"]))
    done = await reports.action_result(f"redirect:{report.id}")
    if done and done.get("comment_id"):
        await actions.delete_comment(ctx, int(done["comment_id"]))
    if report.hidden and report.source == "issue" and not cfg["public_reports"]["private_repo"]:
        await actions.update_issue(ctx, number, title=report.original_title or "", body=report.original_body or "",
                                   state="open")
    if (report.hidden and report.source == "issue") or cfg["public_reports"]["lock"]:
        await actions.unlock(ctx, number)
    if report.draft_ghsa_id:
        assert ctx.gh is not None
        await ctx.gh.patch("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", ctx.repo(ghsa_id=report.draft_ghsa_id),
                           data={"state": "closed"})
    await reports.update(report.id, now=ctx.clock.now(), state=REJECTED, reject_reason="not-security", hidden=False,
                         event="not-security", actor=login,
                         detail={"verdict": report.verdict, "score": report.score, "reasons": list(report.reasons)})
