"""Running `/sec` commands: who typed them where, each once, and one function per verb.

The parser, the verb table and who may run what are pure rules (bot/rules/commands.py); the state
moves are bot/rules/lifecycle.py. Here a comment's commands (at most MAX_COMMANDS) are claimed once
each, carried out on the reports the comment is about, and answered once per comment:

- `enabled: false` in the repository's config: nothing is run or answered, `help` included (the
  repository asked Secbot to ignore it; the README has the commands).
- Someone who may not give commands (no write access, not in the security team) on a public issue
  or an advisory gets one 👎 reaction for the whole comment, however many commands it holds, and
  nothing else: no comment, no note, nothing run. The reaction is a courtesy write (see
  bot/github/budget.py): when that share of the budget is spent, it is left out. In the private
  tracker, whose readers see everything there anyway, they may ask for status and help and are
  refused the rest once.
- Answers about a report go to that report's maintainers' place only: its tracker issue, else its
  timeline (bot/reports/outreach.py `tell_maintainers`; never the advisory, which the reporter
  reads). A comment about two reports answers each with its own state alone. What concerns no
  report (help, a command not understood, a refusal) is answered where the command was typed.
  One reply per place per comment, and one reaction.
- On a public page the reaction depends only on what anyone can read in the comment (👍 when every
  command was understood, 😕 otherwise), never on the reports' private state: a rejected report
  must look like any other. A maintainer's comment there with a command that says how a report is
  handled (anything outside PUBLIC_VERBS, such as `/sec accept critical`) is minimized as outdated
  (first, so its words are shown no longer than needed), then carried out and answered privately.
- The answers and reactions are reply writes, which yield to security work in the write budget: a
  reply that does not fit defers the job, and the retry finds each command recorded as done with
  its answers, so nothing runs twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import gidgethub

from bot.clock import iso
from bot.errors import RateLimited
from bot.github.budget import COURTESY, REPLY, spending
from bot.github.urls import html_url, issue_url
from bot.jobs.context import Context
from bot.render import render
from bot.reports import away, onboarding, outreach, private, public, timers, transparency, writes
from bot.reports.permissions import in_security_team, permission
from bot.rules.followups import HEADS_UP_ANSWERS, PUBLIC_SOURCES, may_answer_from_tracker
from bot.rules.commands import (
    MAX_COMMANDS,
    MUTATING,
    PUBLIC_VERBS,
    VERB_TABLE,
    Command,
    is_maintainer,
    may_run,
    parse,
)
from bot.rules.config import RepoConfig
from bot.rules.lifecycle import Refused, next_state
from bot.rules.policy import ANSWERED, holds
from bot.rules.states import POSSIBLE, SPAM
from bot.store.reports import REJECTED, Report, StateChanged

PAUSED_FOREVER = 1e12  # paused_until for "until /sec resume"
DONE_OUTCOMES = frozenset({"done", "help", "opened", "exists"})
MINIMIZE = ("mutation($input: MinimizeCommentInput!) { minimizeComment(input: $input) "
            "{ minimizedComment { isMinimized } } }")


@dataclasses.dataclass(frozen=True)
class Where:
    """Where a command was typed, and so where its answer goes."""

    place: str  # "public" (a public issue), "tracker" (the private tracker) or "advisory"
    repo: str
    number: int | None = None  # issue number, for public and tracker places
    comment_id: int | None = None  # issue comment to react to
    ghsa_id: str | None = None  # for the advisory place
    node_id: str | None = None  # the comment's GraphQL id, to minimize it
    discussion_id: str | None = None  # a discussion's GraphQL id: the command was typed in it (answered there)


@dataclasses.dataclass(frozen=True)
class Answer:
    """Something a command has to say: about one report (`report`), or about none ("help": the
    command table, "error": why a command was not understood, "refused": may not give it)."""

    text: str
    report: int | None = None
    kind: str = "report"

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "report": self.report, "kind": self.kind}

    @classmethod
    def from_dict(cls, data: Any) -> "Answer | None":
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            return None
        return cls(text=data["text"], report=data.get("report"), kind=str(data.get("kind") or "report"))


def _commands_of(ctx: Context, comment: dict[str, Any]) -> list[Command]:
    """The `/sec` commands of a comment a person (not a bot) wrote; none without a GitHub client."""
    if Context.is_bot(comment["user"]) or ctx.gh is None:
        return []
    return parse(comment.get("body"))


async def from_issue_comment(ctx: Context, comment: dict[str, Any], issue_number: int) -> None:
    """Run the `/sec` commands of a new issue comment, once each."""
    commands = _commands_of(ctx, comment)
    if not commands:
        return
    repo = ctx.full_name or ""
    place, found = await reports_at(ctx, repo, issue_number)
    # A command about a report obeys that report's repository's config (`enabled`, the security
    # team), also when it is typed in the tracker, another repository.
    cfg = await ctx.config_for(found[0].repo) if place == "tracker" else await ctx.config()
    if not cfg.enabled:
        ctx.log.info("commands ignored: Secbot is switched off for this repository", extra={"place": place})
        return
    if place == "tracker" and not await outreach.tracker_is_private(ctx, repo):
        place = "public"  # the tracker was made public: answer as on any public page
    where = Where(place=place, number=issue_number, comment_id=comment["id"], repo=repo,
                  node_id=comment.get("node_id"))
    await obey(ctx, commands, where=where, found=found, login=comment["user"]["login"], cfg=cfg,
               key_prefix=f"cmd:{repo}:{comment['id']}")


async def from_discussion_comment(ctx: Context, comment: dict[str, Any], discussion: dict[str, Any]) -> None:
    """Run the `/sec` commands of a new comment in a public discussion, once each: like on a
    public issue (only maintainers; answers about a report go to its maintainers privately),
    answered in the discussion (GraphQL `addDiscussionComment`). A discussion's number is one of
    the repository's issue numbers, so its reports are found the same way."""
    commands = _commands_of(ctx, comment)
    if not commands:
        return
    repo = ctx.full_name or ""
    found = await ctx.reports.for_issue(repo, discussion["number"])
    where = Where(place="public", repo=repo, number=discussion["number"], comment_id=comment["id"],
                  node_id=comment.get("node_id"), discussion_id=discussion.get("node_id"))
    await obey(ctx, commands, where=where, found=found, login=comment["user"]["login"], cfg=await ctx.config(),
               key_prefix=f"cmd:{repo}:dc{comment['id']}")


async def obey(ctx: Context, commands: list[Command], *, where: Where, found: list[Report], login: str,
               cfg: RepoConfig, key_prefix: str) -> None:
    """Run a comment's commands, each once (claimed under `key_prefix:line`), then answer the
    comment once: its reports' maintainers privately, the rest where it was typed."""
    if not cfg.enabled:
        ctx.log.info("commands ignored: Secbot is switched off for this repository", extra={"place": where.place})
        return
    commands = commands[:MAX_COMMANDS]
    level = await permission(ctx, login)
    member = await in_security_team(ctx, login, cfg)
    team = cfg.security_team.users
    if not is_maintainer(permission=level, login=login, team_users=team, team_member=member) \
            and where.place != "tracker":
        await _stranger(ctx, where, login, key_prefix, len(commands))
        return
    if where.place == "public" and any(c.verb not in PUBLIC_VERBS for c in commands):
        await minimize(ctx, where)  # first: its words say how a report is handled, to everyone
    answers: list[Answer] = []
    outcomes: list[str] = []
    for cmd in commands:
        key = f"{key_prefix}:{cmd.line}"
        done = await ctx.ledger.claim(key, ctx.job_id, ctx.clock.now())
        if done is None:
            if may_run(cmd.verb, permission=level, login=login, team_users=team, team_member=member,
                       private_place=where.place == "tracker"):
                outcome, said = await run(ctx, cmd, where, found, login, cfg, key)
            else:
                outcome, said = "refused", [Answer(render("command_refused", login=login), kind="refused")]
            await ctx.ledger.record(key, None, {"verb": cmd.verb, "outcome": outcome,
                                                "answers": [a.as_dict() for a in said]}, ctx.clock.now())
            ctx.log.info("command", extra={"verb": cmd.verb, "by": login, "outcome": outcome, "place": where.place})
        else:  # run before (a retry after a deferred reply, or a redelivery): answer what it said
            outcome = str(done.get("outcome") or "done")
            said = [a for a in map(Answer.from_dict, done.get("answers") or ()) if a is not None]
        outcomes.append(outcome)
        answers += said
    await respond(ctx, where, found, commands, outcomes, answers, key_prefix)


async def _stranger(ctx: Context, where: Where, login: str, key_prefix: str, count: int) -> None:
    """Commands from someone who may not give them, on a public issue or an advisory: one 👎 for
    the comment, nothing else, whatever it holds and whatever the reports' state."""
    key = f"{key_prefix}:not-allowed"
    if await ctx.ledger.claim(key, ctx.job_id, ctx.clock.now()) is not None:
        return
    if where.comment_id is not None:
        try:
            with spending(COURTESY):
                await _react(ctx, where, "-1")
        except RateLimited:
            ctx.log.info("no reaction to a command from someone who may not give it: the write budget's "
                         "courtesy share is spent")
    await ctx.ledger.record(key, None, {"outcome": "not-allowed", "commands": count}, ctx.clock.now())
    ctx.log.info("commands from someone who may not give them: nothing run",
                 extra={"by": login, "commands": count, "place": where.place})


async def reports_at(ctx: Context, repo: str, number: int) -> tuple[str, list[Report]]:
    """The reports an issue is about: a tracker issue's report, or every report found on a public
    issue, closed ones too (whether a report was rejected is private: the command is answered in
    its private place, and a public page must not show any difference)."""
    reports = ctx.reports
    tracked = await reports.for_tracker(repo, number)
    if tracked is not None:
        return "tracker", [tracked]
    return "public", await reports.for_issue(repo, number)


async def respond(ctx: Context, where: Where, found: Sequence[Report], commands: Sequence[Command],
                  outcomes: Sequence[str], answers: Sequence[Answer], key_prefix: str) -> None:
    """Answer a comment once: each report's answers to its maintainers' place, the rest in place,
    then one reaction."""
    with spending(REPLY):
        if where.place == "tracker":
            await reply(ctx, where, key=f"reply:{key_prefix}", body=_compose(answers))
        else:
            for stale in found:
                mine = [a.text for a in answers if a.report == stale.id]
                if mine:
                    report = await ctx.reports.get(stale.id) or stale  # a command may have opened its tracker issue
                    await outreach.tell_maintainers(ctx, report, key=f"reply:{key_prefix}:{report.id}",
                                                    body="\n\n".join(mine))
            await reply(ctx, where, key=f"reply:{key_prefix}", body=_compose([a for a in answers if a.report is None]))
        if where.comment_id is not None:
            await _react(ctx, where, reaction(where, commands, outcomes))


async def _react(ctx: Context, where: Where, content: str) -> None:
    """The one reaction on the comment that held the commands: in a discussion by its GraphQL id."""
    if where.discussion_id is not None:
        if where.node_id:
            await writes.react(ctx, node_id=where.node_id, content=content)
    else:
        await writes.react(ctx, comment_id=where.comment_id, content=content)


def reaction(where: Where, commands: Sequence[Command], outcomes: Sequence[str]) -> str:
    """One reaction per comment. On a public page it depends on the comment's own words alone
    (👍 every command understood, 😕 not), so it tells nothing about the reports; in private places
    it says how the commands went (👎 refused, 😕 not done, 👍 done)."""
    if where.place == "public":
        return "+1" if all(c.ok for c in commands) else "confused"
    if "refused" in outcomes:
        return "-1"
    return "+1" if all(o in DONE_OUTCOMES for o in outcomes) else "confused"


HELP_HEADING = "**Secbot commands.**"


def help_text(errors: Sequence[str] = ()) -> str:
    """The answer to `/sec help`, and to commands not understood (named first): the verb table."""
    return render("command_help", errors=list(errors), verbs=VERB_TABLE.values(), max_commands=MAX_COMMANDS)


def _compose(answers: Sequence[Answer]) -> str:
    """One reply out of a comment's answers: a refusal once, the answers, the help table once."""
    parts: list[str] = []
    refused = [a.text for a in answers if a.kind == "refused"]
    if refused:
        parts.append(refused[0])
    parts += [a.text for a in answers if a.kind == "report"]
    errors = [a.text for a in answers if a.kind == "error"]
    if errors or any(a.kind == "help" for a in answers):
        parts.append(help_text(errors))
    return "\n\n".join(p.strip() for p in parts)


async def reply(ctx: Context, where: Where, *, key: str, body: str) -> None:
    """Answer in the place of the command (issue comment or advisory comment), once; nothing when
    there is nothing to say."""
    if not body:
        return
    kind = "help" if HELP_HEADING in body else "reply"  # the marker names what a reply mostly is
    if where.place == "advisory":
        await writes.comment_once(ctx, key=key, kind=kind, report_id=0, body=body, ghsa_id=where.ghsa_id,
                                  repo=where.repo)
    elif where.discussion_id is not None:
        await writes.discussion_comment_once(ctx, key=key, kind=kind, report_id=0, discussion_id=where.discussion_id,
                                             body=body)
    else:
        await writes.comment_once(ctx, key=key, kind=kind, report_id=0, body=body, number=where.number,
                                  repo=where.repo)


async def minimize(ctx: Context, where: Where) -> None:
    """Minimize a command comment on a public page as outdated (GraphQL `minimizeComment`), once:
    its words said how a report is handled. Security work in the write budget."""
    if where.node_id is None or where.comment_id is None:
        return
    key = f"minimize:{where.repo}:{where.comment_id}"
    if await ctx.ledger.claim(key, ctx.job_id, ctx.clock.now()) is not None:
        return
    if ctx.dry_run:
        ctx.log.info("dry run: would minimize a command comment", extra={"comment": where.comment_id})
        await ctx.ledger.forget(key)
        return
    assert ctx.gh is not None
    try:
        await ctx.gh.graphql(MINIMIZE, input={"subjectId": where.node_id, "classifier": "OUTDATED"})
        result = {"minimized": True}
    except (gidgethub.QueryError, gidgethub.BadGraphQLRequest) as exc:  # refused for good: say so, go on
        ctx.log.warning("could not minimize a command comment on a public page",
                        extra={"comment": where.comment_id, "error": type(exc).__name__})
        result = {"minimized": False}
    await ctx.ledger.record(key, None, result, ctx.clock.now())


async def run(ctx: Context, cmd: Command, where: Where, found: list[Report], login: str, cfg: RepoConfig,
              key: str) -> tuple[str, list[Answer]]:
    """Carry out one command that its author may give; returns its outcome (for the log and the
    reaction) and what it has to say."""
    if cmd.error or cmd.verb == "unknown":
        error = cmd.error or "there is no such command"
        return "not-understood", [Answer(error, kind="error")]
    if cmd.verb == "help":
        return "help", [Answer("", kind="help")]
    if cmd.verb == "setup":
        return await onboarding.open_security_md_pull_request(ctx, where.number or 0), []
    if cmd.verb == "away":  # about the repository, not a report: the report's, else the page's
        repo = found[0].repo if found else where.repo
        answer = await away.set_away(ctx, repo, ctx.installation_id, cfg, until=cmd.args.get("until"),
                                     message=cmd.args.get("text") or "", actor=login)
        await timers.retime(ctx, repo)
        if where.place == "public":  # a reaction only: the answer is for the maintainers
            return "done", []
        if found:
            return "done", [Answer(answer, report=r.id) for r in found[:1]]
        return "done", [Answer(answer, kind="report")]
    if where.place == "tracker" and cmd.verb in HEADS_UP_ANSWERS and found:
        return await _answer_from_tracker(ctx, cmd, found[0], login, cfg)
    if where.place == "public" and cmd.verb in ("hide", "not-security", "confirm"):
        targets = [r for r in found if r.state not in (REJECTED, SPAM)]
        for report in targets:
            if cmd.verb == "hide":
                await public.hide(ctx, report, cfg, login)
            elif cmd.verb == "confirm":
                await public.confirm(ctx, report, cfg, login)
            else:
                await public.not_security(ctx, report, cfg, login)
            if report.tracker_number:  # its tracker issue shows the answer (a heads-up's, say)
                await outreach.sync_tracker(ctx, await ctx.reports.get(report.id) or report, cfg)
        return ("done" if targets else "no-report"), []
    if not found:
        return "no-report", []
    outcome, said = "done", []
    reports = ctx.reports
    for stale in found:
        report = await reports.get(stale.id) or stale  # an earlier command of the comment may have moved it
        try:
            message = await apply(ctx, report, cmd, login, cfg, key)
        except Refused as exc:
            outcome, message = "refused-by-state", str(exc)
        if message:
            said.append(Answer(message, report=report.id))
    return outcome, said


ANSWERED_FROM_TRACKER = {
    "confirm": "Confirmed: Secbot redirected the author in public (see the report's page).",
    "hide": "Hidden: the text is in a private draft advisory, and the author was pointed there.",
    "not-security": "Marked as a false alarm: what Secbot did in public was undone.",
}


async def _answer_from_tracker(ctx: Context, cmd: Command, stale: Report, login: str,
                               cfg: RepoConfig) -> tuple[str, list[Answer]]:
    """`/sec confirm|hide|not-security` in a report's private tracker issue (where its heads-up
    was posted): act on the public text the report came from, as if answered there, for someone
    with write access on that public repository (bot/rules/followups.py). The feedback is recorded
    as on the public page."""
    report = await ctx.reports.get(stale.id) or stale
    if report.source not in PUBLIC_SOURCES:
        return "refused-by-state", [Answer(f"/sec {cmd.verb} answers a report filed in public; this one came "
                                           "through a private channel.", report=report.id)]
    public_ctx = ctx.for_repo(report.repo, report.installation_id)
    level = await permission(public_ctx, login)
    if not may_answer_from_tracker(cmd.verb, source=report.source, permission_on_public_repo=level):
        return "refused", [Answer(render("command_refused", login=login), kind="refused")]
    if report.state in (REJECTED, SPAM) or (cmd.verb == "confirm" and report.state != POSSIBLE):
        return "refused-by-state", [Answer(f"Nothing to do: the report is {report.state}.", report=report.id)]
    await public_ctx.config_for(report.repo)  # the public repository's dry run, if it asks for one
    if cmd.verb == "hide":
        await public.hide(public_ctx, report, cfg, login)
    elif cmd.verb == "confirm":
        await public.confirm(public_ctx, report, cfg, login)
    else:
        await public.not_security(public_ctx, report, cfg, login)
    await outreach.sync_tracker(ctx, await ctx.reports.get(report.id) or report, cfg)  # its state, here
    answer = ANSWERED_FROM_TRACKER[cmd.verb]
    if report.source == "pull_request" and cmd.verb == "confirm":
        answer = "Confirmed: tracked here; a pull request is never redirected in public."
    elif report.source == "discussion" and cmd.verb == "hide":
        answer = ("Moved into a private draft advisory, and the author was pointed there; the discussion's own "
                  "text is still public (Secbot cannot hide a discussion): edit it by hand.")
    return "done", [Answer(answer, report=report.id)]


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
    if run_verb is None:  # hide, not-security and confirm act on the public issue itself
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
    canned = o.args.get("canned")
    name = f"canned_{canned.replace('-', '_')}" if canned else None
    canned_text = render(name, o.cfg.templates.override(name)).strip() if name else ""
    await outreach.tell_reporter(ctx, report, key=o.msg_key, template="rejected", text=o.args.get("text") or "",
                                 canned=canned_text)
    await transparency.refresh_stats(ctx, report.repo, o.cfg)
    return report, f"Rejected ({reason}{f', canned reply {canned}' if canned else ''}). The reporter has been told."


NEEDS_INFO_WORDS = {"poc": "a proof of concept", "versions": "the affected versions", "impact": "the impact",
                    "split": "one vulnerability per report"}


async def _needs_info(ctx: Context, o: Order) -> Done:
    """Ask the reporter, on the advisory, for what is missing; the targets wait for their answer
    (bot/rules/policy.py `holds`; the watchdog, bot/reports/watch.py, sees it)."""
    if outreach.advisory_of(o.report) is None:
        raise Refused("/sec needs-info asks the reporter on the report's advisory, and this report has none")
    what = o.args["what"]
    where = await outreach.tell_reporter(ctx, o.report, key=o.msg_key, template="needs_info", what=what,
                                         text=o.args.get("text") or "")
    report = await ctx.reports.update(o.report.id, now=ctx.clock.now(), event="needs-info", actor=o.actor,
                                      detail={"what": what})
    await timers.schedule_poll(ctx, report, soon=False)
    relay = " (relay it: advisory comments are not available here)" if where == "tracker" else ""
    return report, (f"Asked the reporter for {NEEDS_INFO_WORDS[what]}{relay}. The response targets and status "
                    "updates wait until they answer on the advisory.")


async def _reclassify(ctx: Context, o: Order) -> Done:
    """Not a vulnerability: a public issue in the maintainer's words (nothing of the report is
    copied), the advisory closed, the reporter told where it went. Each step once across retries."""
    report = o.report
    if not report.ghsa_id:
        raise Refused("/sec reclassify turns a private report into a public issue; a report filed in public "
                      "is undone with /sec not-security on its issue")
    made = await writes.issue_once(ctx, key=f"reclassify:{report.id}", report_id=report.id, repo=report.repo,
                                   kind="reclassified", data={"title": o.args["title"], "body": o.args["body"]})
    number = made.get("number")
    url = issue_url(f"{html_url(ctx.services.settings.api_url)}/{report.repo}", number) if number else None
    await outreach.tell_reporter(ctx, report, key=o.msg_key, template="reclassified", issue_url=url)
    await _patch_advisory(ctx, report, close=True)
    now, fields = ctx.clock.now(), {"reject_reason": "not-security", "closed_at": ctx.clock.now()}
    try:
        report = await ctx.reports.update(report.id, now=now, state=o.after, **fields, event="reclassified",
                                          actor=o.actor, detail={"issue": number}, expect_state=report.state)
    except StateChanged:  # the watchdog saw the advisory closed first: it is rejected, say how
        report = await ctx.reports.update(report.id, now=now, **fields, event="reclassified", actor=o.actor,
                                          detail={"issue": number})
    await transparency.refresh_stats(ctx, report.repo, o.cfg)
    where = f"{report.repo}#{number}" if number else "a public issue (not opened: dry run)"
    return report, f"Reclassified: opened {where} with your title and text, closed the advisory, told the reporter."


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
    release = await transparency.draft_release(ctx, report, version)
    return report, (f"Fixed in {report.fixed_version}. The reporter has been told; "
                    "publish the advisory when the release is out. " + release).rstrip()


async def _cve(ctx: Context, o: Order) -> Done:
    answer = await transparency.request_cve(ctx, o.report)
    return await ctx.reports.get(o.report.id) or o.report, answer


async def _reward(ctx: Context, o: Order) -> Done:
    report = await transparency.reward(ctx, o.report, o.args["text"], o.actor, o.msg_key, o.cfg)
    return report, f"Reward recorded ({report.reward}). The reporter has been told privately how to claim it."


async def _embargo(ctx: Context, o: Order) -> Done:
    until = o.args.get("until")
    report = await ctx.reports.update(o.report.id, now=ctx.clock.now(), embargo_until=_day_start(until) if until else None,
                                      event="embargo", actor=o.actor,
                                      detail={"until": until.isoformat() if until else None})
    if until:
        return report, f"Embargo until {until.isoformat()}: no reminder to publish the advisory before that day."
    return report, "Embargo lifted."


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
    """Resume the timers; a report waiting on its reporter (`/sec needs-info`) waits no more (for
    when the answer came another way than an advisory comment)."""
    now = ctx.clock.now()
    waiting = holds(await ctx.reports.timeline(o.report.id), o.report.created_at, now).waiting
    report = await ctx.reports.update(o.report.id, now=now, paused_until=None, event=ANSWERED if waiting else "resumed",
                                      actor=o.actor)
    return report, "Timers resumed" + (", no longer waiting on the reporter." if waiting else ".")


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
    "needs-info": _needs_info, "reclassify": _reclassify,
    "cve": _cve, "reward": _reward, "embargo": _embargo,
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
