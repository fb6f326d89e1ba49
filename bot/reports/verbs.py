"""Running `/sec` commands: who typed them where, each once, and one function per verb.

The parser, the verb table and who may run what are pure rules (bot/rules/commands.py); the state
moves are bot/rules/lifecycle.py. Here a comment's commands are claimed once each, refused when
their author may not give them, carried out on the reports the comment is about, and answered in
the place they were typed — never with a report's details on a public page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from bot.clock import iso
from bot.jobs.context import Context
from bot.render import render
from bot.reports import onboarding, outreach, private, public, timers, writes
from bot.reports.permissions import in_security_team, permission
from bot.rules.commands import MUTATING, VERB_TABLE, Command, may_run, parse
from bot.rules.config import RepoConfig
from bot.rules.lifecycle import Refused, next_state
from bot.store.reports import REJECTED, Report

PAUSED_FOREVER = 1e12  # paused_until for "until /sec resume"


@dataclasses.dataclass(frozen=True)
class Where:
    """Where a command was typed, and so where its answer goes."""

    place: str  # "public" (a public issue), "tracker" (the private tracker) or "advisory"
    repo: str
    number: int | None = None  # issue number, for public and tracker places
    comment_id: int | None = None  # issue comment to react to
    ghsa_id: str | None = None  # for the advisory place


async def from_issue_comment(ctx: Context, comment: dict[str, Any], issue_number: int) -> None:
    """Run the `/sec` commands of a new issue comment, once each."""
    if Context.is_bot(comment["user"]) or ctx.gh is None:
        return
    commands = parse(comment.get("body"))
    if not commands:
        return
    cfg = await ctx.config()
    repo = ctx.full_name or ""
    place, found = await reports_at(ctx, repo, issue_number)
    if place == "tracker" and not await outreach.tracker_is_private(ctx, repo):
        place = "public"  # the tracker was made public: answer as on any public page
    where = Where(place=place, number=issue_number, comment_id=comment["id"], repo=repo)
    await obey(ctx, commands, where=where, found=found, login=comment["user"]["login"], cfg=cfg,
               key_prefix=f"cmd:{repo}:{comment['id']}")


async def obey(ctx: Context, commands: list[Command], *, where: Where, found: list[Report], login: str,
               cfg: RepoConfig, key_prefix: str) -> None:
    """Run a comment's commands, each once (claimed under `key_prefix:line`), refusing those its
    author may not give."""
    level = await permission(ctx, login)
    member = await in_security_team(ctx, login, cfg)
    for cmd in commands:
        key = f"{key_prefix}:{cmd.line}"
        if await ctx.ledger.claim(key, ctx.job_id, ctx.clock.now()) is not None:
            continue
        if not may_run(cmd.verb, permission=level, login=login, team_users=cfg.security_team.users,
                       team_member=member):
            await refuse(ctx, where, login)
            outcome = "refused"
        else:
            outcome = await run(ctx, cmd, where, found, login, cfg, key)
        await ctx.ledger.record(key, None, {"verb": cmd.verb, "outcome": outcome}, ctx.clock.now())
        ctx.log.info("command", extra={"verb": cmd.verb, "by": login, "outcome": outcome, "place": where.place})


async def reports_at(ctx: Context, repo: str, number: int) -> tuple[str, list[Report]]:
    """The reports an issue is about: a tracker issue's report, or those found on a public issue."""
    reports = ctx.reports
    tracked = await reports.for_tracker(repo, number)
    if tracked is not None:
        return "tracker", [tracked]
    return "public", [r for r in await reports.for_issue(repo, number) if r.state != REJECTED]


async def refuse(ctx: Context, where: Where, login: str) -> None:
    """One polite refusal per comment, however many commands it holds."""
    key = f"refused:{where.repo}:{where.comment_id or where.ghsa_id}"
    if await ctx.ledger.result(key) is None and where.comment_id is not None:
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


async def run(ctx: Context, cmd: Command, where: Where, found: list[Report], login: str, cfg: RepoConfig,
              key: str) -> str:
    """Carry out one command that its author may give; returns its outcome for the log."""
    if cmd.error or cmd.verb in ("unknown", "help"):
        if cmd.verb != "help":
            await react(ctx, where, "confused")
        await reply(ctx, where, key=f"help:{key}", kind="help",
                    body=render("command_help", error=cmd.error, verbs=VERB_TABLE.values()))
        return "help"
    if cmd.verb == "setup":
        outcome = await onboarding.open_security_md_pull_request(ctx, where.number or 0)
        await react(ctx, where, "+1" if outcome in ("opened", "exists") else "confused")
        return outcome
    if not found:
        await react(ctx, where, "confused")
        return "no-report"
    if where.place == "public" and cmd.verb in ("hide", "not-security"):
        for report in found:
            if cmd.verb == "hide":
                await public.hide(ctx, report, cfg)
            else:
                await public.not_security(ctx, report, cfg, login)
        await react(ctx, where, "+1")
        return "done"
    outcome, message = "done", None
    reports = ctx.reports
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


# -- one function per verb on a report --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Order:
    """One command for one report: what each verb's function gets."""

    report: Report
    verb: str
    args: dict[str, Any]
    actor: str
    after: str  # the state the lifecycle moves the report to (its current state if the verb moves none)
    msg_key: str  # once-only key for the message this verb sends
    cfg: RepoConfig


Done = tuple[Report, str | None]  # the report as it is now, and the answer for the maintainers


async def apply(ctx: Context, report: Report, cmd: Command, actor: str, cfg: RepoConfig, key: str) -> str | None:
    """Carry out one command on a report; returns a short answer for the maintainers."""
    after = next_state(report.state, cmd.verb)
    run_verb = ON_REPORT.get(cmd.verb)
    if run_verb is None:  # hide and not-security act on the public issue itself
        raise Refused(f"/sec {cmd.verb} works on the public issue of a report")
    order = Order(report=report, verb=cmd.verb, args=dict(cmd.args), actor=actor, after=after,
                  msg_key=f"msg:{key}:{report.id}", cfg=cfg)
    report, answer = await run_verb(ctx, order)
    if cmd.verb in MUTATING:
        report = await outreach.sync_tracker(ctx, report, cfg)
        await timers.reschedule(ctx, report)
    return answer


async def _ack(ctx: Context, o: Order) -> Done:
    now = ctx.clock.now()
    report = await ctx.reports.update(o.report.id, now=now, state=o.after, acknowledged_at=now,
                                             event="acknowledged", actor=o.actor, expect_state=o.report.state)
    await outreach.tell_reporter(ctx, report, key=o.msg_key, template="acknowledged", actor=o.actor, next_update=None)
    return report, "Acknowledged. The reporter has been told."


async def _accept(ctx: Context, o: Order) -> Done:
    now = ctx.clock.now()
    severity, cvss = o.args.get("severity"), o.args.get("cvss")
    report = await ctx.reports.update(o.report.id, now=now, state=o.after, accepted_at=now, severity=severity,
                                             cvss=cvss, event="accepted", actor=o.actor,
                                             detail={"severity": severity}, expect_state=o.report.state)
    await _patch_advisory(ctx, report, accept=True, severity=severity, cvss=cvss)
    await outreach.tell_reporter(ctx, report, key=o.msg_key, template="accepted", next_update=None)
    return report, f"Accepted{f' ({report.severity})' if report.severity else ''}. The reporter has been told."


async def _severity(ctx: Context, o: Order) -> Done:
    severity, cvss = o.args.get("severity"), o.args.get("cvss")
    report = await ctx.reports.update(o.report.id, now=ctx.clock.now(), severity=severity, cvss=cvss,
                                             event="severity", actor=o.actor, detail={"severity": severity},
                                             expect_state=o.report.state)
    await _patch_advisory(ctx, report, severity=severity, cvss=cvss)
    return report, f"Severity: {report.severity or 'from the CVSS vector'}."


async def _reject(ctx: Context, o: Order) -> Done:
    now = ctx.clock.now()
    reason = o.args["reason"]
    report = await ctx.reports.update(o.report.id, now=now, state=o.after, reject_reason=reason, closed_at=now,
                                             event="rejected", actor=o.actor, detail={"reason": reason},
                                             expect_state=o.report.state)
    await _patch_advisory(ctx, report, close=True)
    await outreach.tell_reporter(ctx, report, key=o.msg_key, template="rejected", text=o.args.get("text") or "")
    return report, f"Rejected ({reason}). The reporter has been told."


async def _assign(ctx: Context, o: Order) -> Done:
    users = list(o.args["users"])
    report = o.report
    await private.add_collaborators(ctx, report, users, [])
    if await outreach.tracker_ok(ctx, report):
        await writes.add_assignees(ctx, report.tracker_number or 0, users, repo=report.tracker_repo)
    await ctx.reports.update(report.id, now=ctx.clock.now(), event="assigned", actor=o.actor,
                                    detail={"users": users})
    return report, "Assigned: " + ", ".join(users) + "."


async def _eta(ctx: Context, o: Order) -> Done:
    day = o.args["date"].isoformat()
    report = await ctx.reports.update(o.report.id, now=ctx.clock.now(), eta=day, event="eta", actor=o.actor,
                                             detail={"eta": day})
    await outreach.tell_reporter(ctx, report, key=o.msg_key, template="eta")
    return report, f"Target fix date: {report.eta}. The reporter has been told."


async def _fixed(ctx: Context, o: Order) -> Done:
    now = ctx.clock.now()
    version = o.args["version"]
    report = await ctx.reports.update(o.report.id, now=now, state=o.after, fixed_version=version, fixed_at=now,
                                             event="fixed", actor=o.actor, detail={"version": version},
                                             expect_state=o.report.state)
    await _patch_advisory(ctx, report, patched=version)
    await outreach.tell_reporter(ctx, report, key=o.msg_key, template="fixed")
    return report, (f"Fixed in {report.fixed_version}. The reporter has been told; "
                    "publish the advisory when the release is out.")


async def _update(ctx: Context, o: Order) -> Done:
    await outreach.tell_reporter(ctx, o.report, key=o.msg_key, template="custom_update", text=o.args["text"],
                                 actor=o.actor)
    report = await ctx.reports.update(o.report.id, now=ctx.clock.now(), event="update-sent", actor=o.actor)
    return report, "Sent to the reporter."


async def _pause(ctx: Context, o: Order) -> Done:
    until = o.args.get("until")
    stamp = _day_start(until) if until else PAUSED_FOREVER
    report = await ctx.reports.update(o.report.id, now=ctx.clock.now(), paused_until=stamp, event="paused",
                                             actor=o.actor, detail={"until": until.isoformat() if until else None})
    return report, f"Timers paused{f' until {until.isoformat()}' if until else ' until /sec resume'}."


async def _resume(ctx: Context, o: Order) -> Done:
    report = await ctx.reports.update(o.report.id, now=ctx.clock.now(), paused_until=None, event="resumed",
                                             actor=o.actor)
    return report, "Timers resumed."


async def _status(ctx: Context, o: Order) -> Done:
    report, now = o.report, ctx.clock.now()
    answer = render("status", report=outreach.view(report), paused=bool(report.paused_until and report.paused_until > now),
                    paused_until=None if report.paused_until in (None, PAUSED_FOREVER) else iso(report.paused_until),
                    timers=await timers.describe(ctx, report))
    return report, answer


# The verbs that act on a report wherever it is discussed (its tracker issue, its advisory, or a
# public issue, where the answer goes to the maintainers privately).
ON_REPORT: dict[str, Callable[[Context, Order], Awaitable[Done]]] = {
    "ack": _ack, "accept": _accept, "severity": _severity, "reject": _reject, "assign": _assign, "eta": _eta,
    "fixed": _fixed, "update": _update, "pause": _pause, "resume": _resume, "status": _status,
}


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
