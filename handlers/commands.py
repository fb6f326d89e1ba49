"""`/sec` commands in issue comments, from people with write access or on the security team."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from gidgethub import routing, sansio

from bot.clock import iso
from bot.jobs.context import Context
from bot.render import render
from bot.reports import outreach, writes
from bot.reports.permissions import in_security_team, permission
from bot.rules.commands import HELP_TEXT, Command, may_run, parse
from bot.rules.lifecycle import Refused, next_state
from bot.store.reports import REJECTED, Report, Reports
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
    place, found = await reports_at(ctx, ctx.full_name or "", issue["number"])
    if place == "tracker" and not await outreach.tracker_is_private(ctx, ctx.full_name or ""):
        place = "public"  # the tracker was made public: answer as on any public page
    where = Where(place=place, number=issue["number"], comment_id=comment["id"], repo=ctx.full_name or "")
    await obey(ctx, commands, where=where, found=found, login=login, cfg=cfg,
               key_prefix=f"cmd:{ctx.full_name}:{comment['id']}")


async def obey(ctx: Context, commands: list[Command], *, where: "Where", found: list[Report], login: str,
               cfg: dict[str, Any], key_prefix: str) -> None:
    """Run a comment's commands, each once (claimed under `key_prefix:line`), refusing those its
    author may not give."""
    level = await permission(ctx, login)
    member = await in_security_team(ctx, login, cfg)
    reports = Reports(ctx.store)
    for cmd in commands:
        key = f"{key_prefix}:{cmd.line}"
        if await reports.claim_action(key, ctx.job_id, ctx.clock.now()) is not None:
            continue
        if not may_run(cmd.verb, permission=level, login=login, team_users=cfg["security_team"]["users"],
                       team_member=member):
            await refuse(ctx, where, login)
            outcome = "refused"
        else:
            outcome = await run(ctx, cmd, where, found, login, cfg, key)
        await reports.record_action(key, None, {"verb": cmd.verb, "outcome": outcome}, ctx.clock.now())
        ctx.log.info("command", extra={"verb": cmd.verb, "by": login, "outcome": outcome, "place": where.place})


@dataclasses.dataclass(frozen=True)
class Where:
    """Where a command was typed, and so where its answer goes."""

    place: str  # "public" (a public issue), "tracker" (the private tracker) or "advisory"
    repo: str
    number: int | None = None  # issue number, for public and tracker places
    comment_id: int | None = None  # issue comment to react to
    ghsa_id: str | None = None  # for the advisory place


async def reports_at(ctx: Context, repo: str, number: int) -> tuple[str, list[Report]]:
    """The reports an issue is about: a tracker issue's report, or those found on a public issue."""
    reports = Reports(ctx.store)
    tracked = await reports.for_tracker(repo, number)
    if tracked is not None:
        return "tracker", [tracked]
    return "public", [r for r in await reports.for_issue(repo, number) if r.state != REJECTED]


async def refuse(ctx: Context, where: Where, login: str) -> None:
    """One polite refusal per comment, however many commands it holds."""
    key = f"refused:{where.repo}:{where.comment_id or where.ghsa_id}"
    if await Reports(ctx.store).action_result(key) is None and where.comment_id is not None:
        await writes.react(ctx, comment_id=where.comment_id, content="-1")
    await reply(ctx, where, key=key, kind="refused", body=render("command_refused", login=login))


async def reply(ctx: Context, where: Where, *, key: str, kind: str, body: str) -> None:
    """Answer in the place of the command (issue comment or advisory comment), once."""
    if where.place == "advisory":
        await writes.comment_once(ctx, key=key, kind=kind, report_id=0, body=body, ghsa_id=where.ghsa_id,
                                   repo=where.repo)
    else:
        await writes.comment_once(ctx, key=key, kind=kind, report_id=0, body=body, number=where.number,
                                   repo=where.repo)


async def react(ctx: Context, where: Where, content: str) -> None:
    if where.comment_id is not None:
        await writes.react(ctx, comment_id=where.comment_id, content=content)


async def run(ctx: Context, cmd: Command, where: Where, found: list[Report], login: str, cfg: dict[str, Any],
              key: str) -> str:
    if cmd.error or cmd.verb in ("unknown", "help"):
        if cmd.verb != "help":
            await react(ctx, where, "confused")
        await reply(ctx, where, key=f"help:{key}", kind="help",
                    body=render("command_help", error=cmd.error, help=HELP_TEXT))
        return "help"
    if cmd.verb == "setup":
        from handlers import channel_check

        outcome = await channel_check.open_security_md_pull_request(ctx, where.number or 0)
        await react(ctx, where, "+1" if outcome in ("opened", "exists") else "confused")
        return outcome
    if not found:
        await react(ctx, where, "confused")
        return "no-report"
    if where.place == "public" and cmd.verb in ("hide", "not-security"):
        for report in found:
            if cmd.verb == "hide":
                await hide(ctx, report, cfg)
            else:
                await not_security(ctx, report, cfg, login)
        await react(ctx, where, "+1")
        return "done"
    outcome, message = "done", None
    reports = Reports(ctx.store)
    for stale in found:
        report = await reports.get(stale.id) or stale  # an earlier command of the comment may have moved it
        try:
            message = await apply(ctx, report, cmd, login, cfg, key)
        except Refused as exc:
            outcome, message = "refused", str(exc)
    if where.place == "public":
        # A public page never shows a report's state, severity or dates: react, and say more privately.
        await react(ctx, where, "+1" if outcome == "done" else "confused")
        if message:
            for report in found:
                await outreach.tell_maintainers(ctx, report, key=f"reply:{key}:{report.id}", body=message)
    else:
        await react(ctx, where, "+1" if outcome == "done" else "confused")
        if message:
            await reply(ctx, where, key=f"reply:{key}", kind="reply", body=message)
    return outcome


async def apply(ctx: Context, report: Report, cmd: Command, actor: str, cfg: dict[str, Any], key: str) -> str | None:
    """Carry out one lifecycle command on a report; returns a short answer for the maintainers."""
    reports = Reports(ctx.store)
    now = ctx.clock.now()
    verb, args = cmd.verb, dict(cmd.args)
    after = next_state(report.state, verb)
    msg_key = f"msg:{key}:{report.id}"
    answer: str | None = None
    if verb == "ack":
        report = await reports.update(report.id, now=now, state=after, acknowledged_at=now, event="acknowledged",
                                      actor=actor, expect_state=report.state)
        await outreach.tell_reporter(ctx, report, key=msg_key, template="acknowledged", actor=actor,
                                     next_update=None)
        answer = "Acknowledged. The reporter has been told."
    elif verb in ("accept", "severity"):
        fields: dict[str, Any] = {"severity": args.get("severity"), "cvss": args.get("cvss")}
        if verb == "accept":
            fields.update(state=after, accepted_at=now)
        report = await reports.update(report.id, now=now, event="accepted" if verb == "accept" else "severity",
                                      actor=actor, detail={"severity": fields["severity"]}, expect_state=report.state,
                                      **fields)
        await _patch_advisory(ctx, report, accept=verb == "accept", severity=fields["severity"], cvss=fields["cvss"])
        if verb == "accept":
            await outreach.tell_reporter(ctx, report, key=msg_key, template="accepted", next_update=None)
        answer = f"Severity: {report.severity or 'from the CVSS vector'}." if verb == "severity" else (
            f"Accepted{f' ({report.severity})' if report.severity else ''}. The reporter has been told.")
    elif verb == "reject":
        report = await reports.update(report.id, now=now, state=after, reject_reason=args["reason"], closed_at=now,
                                      event="rejected", actor=actor, detail={"reason": args["reason"]},
                                      expect_state=report.state)
        await _patch_advisory(ctx, report, close=True)
        await outreach.tell_reporter(ctx, report, key=msg_key, template="rejected", text=args.get("text") or "")
        answer = f"Rejected ({args['reason']}). The reporter has been told."
    elif verb == "assign":
        from handlers.advisories import add_collaborators

        users = list(args["users"])
        await add_collaborators(ctx, report, users, [])
        if await outreach.tracker_ok(ctx, report):
            await writes.add_assignees(ctx, report.tracker_number or 0, users, repo=report.tracker_repo)
        await reports.update(report.id, now=now, event="assigned", actor=actor, detail={"users": users})
        answer = "Assigned: " + ", ".join(users) + "."
    elif verb == "eta":
        report = await reports.update(report.id, now=now, eta=args["date"].isoformat(), event="eta", actor=actor,
                                      detail={"eta": args["date"].isoformat()})
        await outreach.tell_reporter(ctx, report, key=msg_key, template="eta")
        answer = f"Target fix date: {report.eta}. The reporter has been told."
    elif verb == "fixed":
        report = await reports.update(report.id, now=now, state=after, fixed_version=args["version"], fixed_at=now,
                                      event="fixed", actor=actor, detail={"version": args["version"]},
                                      expect_state=report.state)
        await _patch_advisory(ctx, report, patched=args["version"])
        await outreach.tell_reporter(ctx, report, key=msg_key, template="fixed")
        answer = f"Fixed in {report.fixed_version}. The reporter has been told; publish the advisory when the release is out."
    elif verb == "update":
        await outreach.tell_reporter(ctx, report, key=msg_key, template="custom_update", text=args["text"], actor=actor)
        report = await reports.update(report.id, now=now, event="update-sent", actor=actor)
        answer = "Sent to the reporter."
    elif verb == "pause":
        until = args.get("until")
        stamp = _day_start(until) if until else PAUSED_FOREVER
        report = await reports.update(report.id, now=now, paused_until=stamp, event="paused", actor=actor,
                                      detail={"until": until.isoformat() if until else None})
        answer = f"Timers paused{f' until {until.isoformat()}' if until else ' until /sec resume'}."
    elif verb == "resume":
        report = await reports.update(report.id, now=now, paused_until=None, event="resumed", actor=actor)
        answer = "Timers resumed."
    elif verb == "status":
        from handlers import schedule

        answer = render("status", report=outreach.view(report), paused=bool(report.paused_until and report.paused_until > now),
                        paused_until=None if report.paused_until in (None, PAUSED_FOREVER) else iso(report.paused_until),
                        timers=await schedule.describe(ctx, report))
        return answer
    elif verb in ("hide", "not-security"):
        raise Refused(f"/sec {verb} works on the public issue of a report")
    report = await outreach.sync_tracker(ctx, report, cfg)
    from handlers import schedule

    await schedule.reschedule(ctx, report)
    return answer


PAUSED_FOREVER = 1e12  # paused_until for "until /sec resume"


def _day_start(day: Any) -> float:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()


async def _patch_advisory(ctx: Context, report: Report, *, accept: bool = False, close: bool = False,
                          severity: str | None = None, cvss: str | None = None, patched: str | None = None) -> None:
    """Mirror a decision on the report's advisory: accept (triage→draft), close, severity, fixed version."""
    ghsa = outreach.advisory_of(report)
    if ghsa is None:
        return
    assert ctx.gh is not None
    owner, name = report.repo.split("/", 1)
    url_vars = {"owner": owner, "repo": name, "ghsa_id": ghsa}
    current = await ctx.gh.getitem("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", url_vars)
    data: dict[str, Any] = {}
    if accept and current.get("state") == "triage":
        data["state"] = "draft"
    if close and current.get("state") in ("triage", "draft"):
        data["state"] = "closed"
    if cvss and cvss.startswith("CVSS:3"):
        data["cvss_vector_string"] = cvss
    elif severity:
        data["severity"] = severity
    if patched:
        vulns = current.get("vulnerabilities") or []
        if vulns:
            data["vulnerabilities"] = [
                {k: v.get(k) for k in ("package", "vulnerable_version_range", "vulnerable_functions")}
                | {"patched_versions": patched} for v in vulns
            ]
    if data:
        await ctx.gh.patch("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", url_vars, data=data)


async def hide(ctx: Context, report: Report, cfg: dict[str, Any]) -> None:
    """`/sec hide`: move a redirected report into a draft advisory and point the reporter there."""
    if report.hidden:
        return
    report = await hide_report(ctx, report, cfg)
    done = await Reports(ctx.store).action_result(f"redirect:{report.id}")
    transferred = report.source == "issue" and bool(cfg["public_reports"]["private_repo"])
    if done and done.get("comment_id") and not transferred:
        from bot.reports.channel import private_channel
        repo = ctx.data["repository"]
        owner, name = repo["full_name"].split("/", 1)
        channel = await private_channel(ctx, owner, name, repo["html_url"])
        body = render("redirect", cfg["templates"].get("redirect"), reporter=report.reporter, channel=channel.as_dict(), hidden=True,
                      source=report.source, ghsa_id=report.draft_ghsa_id,
                      advisory_url=f"{repo['html_url']}/security/advisories/{report.draft_ghsa_id}",
                      bounty_policy=cfg["beg_bounty"]["bounty_policy"])
        assert ctx.gh is not None
        await ctx.gh.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}", ctx.repo(comment_id=done["comment_id"]),
                           data={"body": writes.marked(body, "redirect", report.id, f"redirect:{report.id}")})
    if report.source == "issue" and not transferred:
        await writes.lock(ctx, report.issue_number or 0)


async def not_security(ctx: Context, report: Report, cfg: dict[str, Any], login: str) -> None:
    """`/sec not-security`: undo everything the bot did for a false alarm, and remember it."""
    reports = Reports(ctx.store)
    number = report.issue_number or 0
    await writes.remove_labels(ctx, number, list(cfg["labels"]))
    done = await reports.action_result(f"redirect:{report.id}")
    if done and done.get("comment_id"):
        await writes.delete_comment(ctx, int(done["comment_id"]))
    if report.hidden and report.source == "issue" and not cfg["public_reports"]["private_repo"]:
        await writes.update_issue(ctx, number, title=report.original_title or "", body=report.original_body or "",
                                   state="open")
    if (report.hidden and report.source == "issue") or cfg["public_reports"]["lock"]:
        await writes.unlock(ctx, number)
    if report.draft_ghsa_id:
        assert ctx.gh is not None
        await ctx.gh.patch("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", ctx.repo(ghsa_id=report.draft_ghsa_id),
                           data={"state": "closed"})
    await reports.update(report.id, now=ctx.clock.now(), state=REJECTED, reject_reason="not-security", hidden=False,
                         event="not-security", actor=login,
                         detail={"verdict": report.verdict, "score": report.score, "reasons": list(report.reasons)})
