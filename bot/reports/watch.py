"""Watch private reports where GitHub sends no webhook: poll each advisory, sweep for lost reports.

GitHub sends `repository_advisory` only for `reported` and `published`. Accepting a report in the
web interface (triage → draft), closing it, editing its severity and commenting on it send
nothing, so Secbot polls, cheaply:

- `advisory_poll` (one pending job per open report, singleton `poll:<id>`, set by
  bot/reports/timers.py): a conditional GET of the advisory (an unchanged advisory is a 304, free
  against the rate limit) and of its comments updated since the newest one seen. State changes made in the web interface move the report
  (actor "github-ui"); `/sec` commands in advisory comments run like those in issue comments, once
  each. Every 15 minutes while the report changed in the last 7 days, every 2 hours when quiet,
  never once it is closed.
- `advisory_sweep` (one per installation, singleton `sweep:<installation id>`, every 6 hours): lists
  the triage advisories of each public repository and receives any that no webhook announced as
  `repository_advisory.reported` would have; and makes sure every open report with an
  advisory has its poll pending (so a lost job or a suspension does not end the watch).

The comments' `since` is GitHub's own clock (the newest `updated_at` seen), never ours, so clock
skew cannot hide a comment, and the URL stays the same while nothing changes (so its ETag works).
The ids of the comments already read are remembered: one listed again was edited, and is not read
for commands again (issue comments are also read only when created).
"""

from __future__ import annotations

from typing import Any

import gidgethub

from bot.clock import parse_iso
from bot.jobs.context import Context
from bot.render import render
from bot.reports import outreach, private, timers, transparency, verbs
from bot.rules.commands import parse
from bot.rules.config import RepoConfig
from bot.rules.lifecycle import ACKNOWLEDGED, NEW, REJECTED, Refused, next_state
from bot.rules.policy import ANSWERED, holds
from bot.store.reports import Report, advisory_key

SWEEP = "advisory_sweep"
SWEEP_EVERY = 6 * 3600.0
MEMORY_TTL = 365 * 86400.0
MAX_READ = 1000  # ids of advisory comments already read, kept per report
ACTOR = "github-ui"  # who the timeline names for changes made in GitHub's web interface
CLOSED_ADVISORY = ("closed", "withdrawn")

ADVISORY = "/repos/{owner}/{repo}/security-advisories/{ghsa_id}"
COMMENTS = "/repos/{owner}/{repo}/security-advisories/{ghsa_id}/comments{?since,per_page}"
TRIAGE = "/repos/{owner}/{repo}/security-advisories{?state,per_page}"


def sweep_key(installation_id: int) -> str:
    return f"sweep:{installation_id}"


def memory_key(report_id: int) -> str:
    return f"poll-since:{report_id}"


# -- the poll ----------------------------------------------------------------------------------


async def poll(ctx: Context, report_id: int) -> None:
    """The `advisory_poll` job: follow one report's advisory, read new comments, come back later."""
    reports = ctx.reports
    report = await reports.get(report_id)
    ghsa = outreach.advisory_of(report) if report else None
    if report is None or ghsa is None or not report.is_open or ctx.gh is None:
        return  # closed reports are not polled again
    if not await ctx.installations.still_covered(report.installation_id):
        ctx.log.info("advisory poll stopped: installation gone or suspended", extra={"report": report.id})
        return
    rctx = ctx.for_repo(report.repo, report.installation_id)
    owner, name = report.repo.split("/", 1)
    now = ctx.clock.now()
    memory = await ctx.facts.get(memory_key(report.id), now) or {}
    try:
        adv = await rctx.gh.getitem(ADVISORY, {"owner": owner, "repo": name, "ghsa_id": ghsa})
    except gidgethub.BadRequest as exc:
        if exc.status_code not in (403, 404):
            raise
        ctx.log.warning("advisory poll stopped: the advisory cannot be read",
                        extra={"report": report.id, "status": exc.status_code})
        return
    before = (report.state, report.severity)
    report = await follow_advisory(rctx, report, adv, memory)
    active = memory.get("active", 0.0)
    if (report.state, report.severity) != before:
        active = now
    memory["severity"] = adv.get("severity")
    if report.is_open:
        if await read_comments(rctx, report, ghsa, memory):
            active = now
        report = await reports.get(report.id) or report
    memory["active"] = active
    await ctx.facts.remember(memory_key(report.id), memory, now, MEMORY_TTL)
    if report.is_open:
        last = max(report.updated_at, active)
        await timers.schedule_by(ctx, timers.POLL, {"report_id": report.id}, timers.poll_key(report.id),
                                 now + timers.interval(last, now), report.installation_id or 0)
    else:
        ctx.log.info("advisory poll stopped: report closed", extra={"report": report.id, "state": report.state})


async def follow_advisory(ctx: Context, report: Report, adv: dict[str, Any], memory: dict[str, Any]) -> Report:
    """Bring the report up to what was done to its advisory in GitHub's web interface."""
    reports = ctx.reports
    now = ctx.clock.now()
    state, severity = adv.get("state"), adv.get("severity")
    if state == "published":
        return await private.mark_published(ctx, report, adv,
                                            actor=(adv.get("publisher") or {}).get("login") or ACTOR)
    changed = False
    try:
        if state == "draft" and report.ghsa_id and report.state in (NEW, ACKNOWLEDGED):
            # A private report accepted in the web interface ("Accept and open as draft").
            after = next_state(report.state, "accept")
            report = await reports.update(report.id, now=now, state=after, accepted_at=now,
                                          severity=severity or report.severity, event="accepted", actor=ACTOR,
                                          detail={"severity": severity or report.severity}, expect_state=report.state)
            await outreach.tell_reporter(ctx, report, key=f"ui-accepted:{report.id}", template="accepted",
                                         next_update=None)
            changed = True
        elif state in CLOSED_ADVISORY and report.state != REJECTED:
            after = next_state(report.state, "reject")
            report = await reports.update(report.id, now=now, state=after, reject_reason="invalid", closed_at=now,
                                          event="rejected", actor=ACTOR,
                                          detail={"reason": "invalid", "advisory_state": state},
                                          expect_state=report.state)
            changed = True
    except Refused:
        ctx.log.info("advisory state does not fit the report", extra={"report": report.id, "state": report.state})
    seen = memory.get("severity", report.severity)
    same_vector = bool(report.cvss) and report.cvss == (adv.get("cvss") or {}).get("vector_string")
    if report.is_open and severity and severity != seen and severity != report.severity and not same_vector:
        report = await reports.update(report.id, now=now, severity=severity, event="severity", actor=ACTOR,
                                      detail={"severity": severity})
        changed = True
    if report.is_open and adv.get("cve_id") and adv.get("cve_id") != report.cve_id:
        report = await transparency.cve_seen(ctx, report, adv)  # after /sec cve, or set by hand
        changed = True
    if changed:
        ctx.log.info("report follows its advisory", extra={"report": report.id, "state": report.state,
                                                           "severity": report.severity})
        cfg = await ctx.config()
        report = await outreach.sync_tracker(ctx, report, cfg)
        await timers.reschedule(ctx, report)
        if not report.is_open:
            await transparency.refresh_stats(ctx, report.repo, cfg)
    return report


async def read_comments(ctx: Context, report: Report, ghsa: str, memory: dict[str, Any]) -> bool:
    """Run the `/sec` commands of advisory comments created since the last poll, once each.

    Updates `memory["since"]`; returns whether someone other than a bot commented.
    """
    assert ctx.gh is not None
    owner, name = report.repo.split("/", 1)
    since = memory.get("since")
    try:
        comments = [c async for c in ctx.gh.getiter(COMMENTS, {"owner": owner, "repo": name, "ghsa_id": ghsa,
                                                              "since": since, "per_page": 100})]
    except gidgethub.BadRequest as exc:
        if exc.status_code not in (403, 404):
            raise
        if not memory.get("no_comments"):
            ctx.log.info("advisory comments cannot be read here; commands there are not seen",
                         extra={"report": report.id, "status": exc.status_code})
        memory["no_comments"] = True
        return False
    memory.pop("no_comments", None)
    if comments:
        memory["since"] = max([c["updated_at"] for c in comments] + ([since] if since else []), key=parse_iso)
    read = set(memory.get("read") or ())
    fresh = [c for c in comments if not Context.is_bot(c.get("user")) and c["id"] not in read]
    memory["read"] = (list(memory.get("read") or ()) + [c["id"] for c in fresh])[-MAX_READ:]
    answers = [c for c in fresh if str((c.get("user") or {}).get("login") or "").lower() == report.reporter.lower()]
    if answers:
        await reporter_answered(ctx, report, answers[0])
    where = verbs.Where(place="advisory", repo=report.repo, ghsa_id=ghsa)
    cfg: RepoConfig | None = None
    for comment in sorted(fresh, key=lambda c: (parse_iso(c["created_at"]), c["id"])):
        commands = parse(comment.get("body"))
        if not commands:
            continue
        cfg = cfg or await ctx.config()
        await verbs.obey(ctx, commands, where=where, found=[report], login=comment["user"]["login"], cfg=cfg,
                   key_prefix=f"cmd:{report.repo}:advisory-comment:{comment['id']}")
    return bool(fresh)


async def reporter_answered(ctx: Context, report: Report, comment: dict[str, Any]) -> None:
    """The reporter commented on the advisory: if the report waited on them (`/sec needs-info`), it
    waits no more: the targets run again from now, and the maintainers hear of it (never what the
    reporter wrote: they read it on the advisory)."""
    now = ctx.clock.now()
    if not holds(await ctx.reports.timeline(report.id), report.created_at, now).waiting:
        return
    report = await ctx.reports.update(report.id, now=now, event=ANSWERED, actor=report.reporter,
                                      detail={"comment": comment["id"]})
    ctx.log.info("the reporter answered a request for information: targets run again", extra={"report": report.id})
    await outreach.tell_maintainers(ctx, report, key=f"info-received:{report.id}:{comment['id']}",
                                    body=render("info_received", report=outreach.view(report)))
    await timers.reschedule(ctx, report)


# -- the sweep ---------------------------------------------------------------------------------


async def schedule_sweep(ctx: Context, installation_id: int, *, at: float | None = None) -> None:
    """Sweep the installation's repositories for unannounced private reports (at once by default)."""
    await ctx.queue.schedule(SWEEP, {"installation_id": installation_id}, run_at=ctx.clock.now() if at is None else at,
                             singleton_key=sweep_key(installation_id), installation_id=installation_id)


async def _acknowledged(ctx: Context, full_name: str, ghsa_id: str) -> bool:
    """True once the report is recorded *and* its reporter thanked: a report recorded by an attempt
    that stopped before the acknowledgement is received again (receive does each step once)."""
    known = await ctx.reports.by_key(advisory_key(full_name, ghsa_id))
    return known is not None and await ctx.ledger.result(private.ack_key(known.id)) is not None


async def sweep(ctx: Context, installation_id: int) -> None:
    """The `advisory_sweep` job: private reports no webhook announced are received as if one had."""
    installs = ctx.installations
    if ctx.gh is None or not await installs.still_covered(installation_id):
        ctx.log.info("advisory sweep stopped: installation gone or suspended")
        return
    reports = ctx.reports
    found = 0
    for full_name in await installs.active_repos(installation_id, public_only=True):
        owner, name = full_name.split("/", 1)
        try:
            triage = [a async for a in ctx.gh.getiter(TRIAGE, {"owner": owner, "repo": name, "state": "triage",
                                                              "per_page": 100})]
        except gidgethub.BadRequest as exc:
            if exc.status_code not in (403, 404):
                raise
            continue
        for adv in triage:
            if adv.get("state") != "triage" or await _acknowledged(ctx, full_name, adv["ghsa_id"]):
                continue
            await private.receive(ctx.for_repo(full_name, installation_id), adv)
            found += 1
        for report in await reports.list(repo=full_name):
            if report.is_open and outreach.advisory_of(report) and report.installation_id == installation_id:
                await timers.schedule_poll(ctx, report)  # a poll lost or stopped (suspension) comes back
    if found:
        ctx.log.info("advisory sweep found unannounced private reports", extra={"reports": found})
    await timers.schedule_by(ctx, SWEEP, {"installation_id": installation_id}, sweep_key(installation_id),
                             ctx.clock.now() + SWEEP_EVERY, installation_id)


