"""Watch private reports where GitHub sends no webhook: poll each advisory, sweep for lost reports.

GitHub sends `repository_advisory` only for `reported` and `published`. Accepting a report in the
web interface (triage → draft), closing it, editing its severity and commenting on it send
nothing, so Secbot polls, cheaply:

- `advisory_poll` (one pending job per open report, singleton `poll:<id>`): a conditional GET of
  the advisory (an unchanged advisory is a 304, free against the rate limit) and of its comments
  updated since the newest one seen. State changes made in the web interface move the report
  (actor "github-ui"); `/sec` commands in advisory comments run like those in issue comments, once
  each. Every 15 minutes while the report changed in the last 7 days, every 2 hours when quiet,
  never once it is closed.
- `advisory_sweep` (one per installation, singleton `sweep:<installation id>`, every 6 hours): lists
  the triage advisories of each public repository and handles any that no webhook announced as
  if `repository_advisory.reported` had arrived; and makes sure every open report with an
  advisory has its poll pending (so a lost job or a suspension does not end the watch).

The comments' `since` is GitHub's own clock (the newest `updated_at` seen), never ours, so clock
skew cannot hide a comment, and the URL stays the same while nothing changes (so its ETag works).
The ids of the comments already read are remembered: one listed again was edited, and is not read
for commands again (issue comments are also read only when created).
"""

from __future__ import annotations

from typing import Any

import gidgethub
from gidgethub import sansio

from bot.clock import parse_iso
from bot.github.client import html_url
from bot.jobs.context import Context
from bot.reports import outreach
from bot.rules.commands import parse
from bot.rules.lifecycle import ACKNOWLEDGED, NEW, REJECTED, Refused, next_state
from bot.store.reports import Report, Reports, advisory_key

POLL = "advisory_poll"
SWEEP = "advisory_sweep"
ACTIVE_EVERY = 15 * 60.0  # poll interval while the report changed lately
QUIET_EVERY = 2 * 3600.0  # poll interval otherwise
ACTIVE_FOR = 7 * 86400.0  # "lately"
SWEEP_EVERY = 6 * 3600.0
MEMORY_TTL = 365 * 86400.0
MAX_READ = 1000  # ids of advisory comments already read, kept per report
ACTOR = "github-ui"  # who the timeline names for changes made in GitHub's web interface
CLOSED_ADVISORY = ("closed", "withdrawn")

ADVISORY = "/repos/{owner}/{repo}/security-advisories/{ghsa_id}"
COMMENTS = "/repos/{owner}/{repo}/security-advisories/{ghsa_id}/comments{?since,per_page}"
TRIAGE = "/repos/{owner}/{repo}/security-advisories{?state,per_page}"


def _installs() -> Any:
    """handlers.installations, imported late: it imports this module to schedule sweeps."""
    from handlers import installations

    return installations


def poll_key(report_id: int) -> str:
    return f"poll:{report_id}"


def sweep_key(installation_id: int) -> str:
    return f"sweep:{installation_id}"


def memory_key(report_id: int) -> str:
    return f"poll-since:{report_id}"


def interval(last_change: float, now: float) -> float:
    """How long until the next poll of a report that last changed at `last_change`."""
    return ACTIVE_EVERY if now - last_change < ACTIVE_FOR else QUIET_EVERY


# -- scheduling --------------------------------------------------------------------------------


async def schedule_poll(ctx: Context, report: Report, *, soon: bool = False) -> None:
    """Make sure the report's advisory is polled: at once with `soon`, else within its interval.

    Never moves a pending poll later (a report that keeps changing is still polled), and stops
    polling a closed report or one without an advisory.
    """
    key = poll_key(report.id)
    if not report.is_open or outreach.advisory_of(report) is None or report.installation_id is None:
        await ctx.queue.cancel(key)
        return
    now = ctx.clock.now()
    at = now if soon else now + interval(report.updated_at, now)
    await _schedule_by(ctx, POLL, {"report_id": report.id}, key, at, report.installation_id)


async def schedule_sweep(ctx: Context, installation_id: int, *, at: float | None = None) -> None:
    """Sweep the installation's repositories for unannounced private reports (at once by default)."""
    await ctx.queue.schedule(SWEEP, {"installation_id": installation_id}, run_at=ctx.clock.now() if at is None else at,
                             singleton_key=sweep_key(installation_id), installation_id=installation_id)


async def _schedule_by(ctx: Context, kind: str, payload: dict[str, Any], key: str, at: float,
                       installation_id: int) -> None:
    """Queue job `key` to run no later than `at` (a pending one due earlier is left alone).

    Works from inside the job of that key too: the queue takes a job's singleton key away when
    the job starts, so its successor can be queued while it runs.
    """
    await ctx.queue.schedule(kind, payload, run_at=at, singleton_key=key, installation_id=installation_id,
                             sooner_only=True)


def repo_context(ctx: Context, full_name: str, installation_id: int | None, kind: str,
                 extra: dict[str, Any] | None = None) -> Context:
    """A context for one repository inside a scheduled job (so config and permissions work)."""
    owner, _, name = full_name.partition("/")
    web = html_url(ctx.services.settings.api_url)
    data = {"repository": {"full_name": full_name, "name": name, "owner": {"login": owner},
                           "html_url": f"{web}/{full_name}"},
            "installation": {"id": installation_id}, **(extra or {})}
    event = sansio.Event(data, event=kind, delivery_id=ctx.event.delivery_id)
    return Context(event=event, services=ctx.services, gh=ctx.gh, log=ctx.log, job_id=ctx.job_id,
                   job_attempt=ctx.job_attempt)


# -- the poll ----------------------------------------------------------------------------------


async def run_poll(payload: Any, ctx: Context) -> None:
    """The `advisory_poll` job: follow one report's advisory, read new comments, come back later."""
    reports = Reports(ctx.store)
    report = await reports.get(int(payload["report_id"]))
    ghsa = outreach.advisory_of(report) if report else None
    if report is None or ghsa is None or not report.is_open or ctx.gh is None:
        return  # closed reports are not polled again
    if not await _installs().still_covered(ctx, report.installation_id):
        ctx.log.info("advisory poll stopped: installation gone or suspended", extra={"report": report.id})
        return
    rctx = repo_context(ctx, report.repo, report.installation_id, POLL)
    owner, name = report.repo.split("/", 1)
    now = ctx.clock.now()
    memory = await reports.fact(memory_key(report.id), now) or {}
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
    await reports.remember(memory_key(report.id), memory, now, MEMORY_TTL)
    if report.is_open:
        last = max(report.updated_at, active)
        await _schedule_by(ctx, POLL, {"report_id": report.id}, poll_key(report.id), now + interval(last, now),
                           report.installation_id or 0)
    else:
        ctx.log.info("advisory poll stopped: report closed", extra={"report": report.id, "state": report.state})


async def follow_advisory(ctx: Context, report: Report, adv: dict[str, Any], memory: dict[str, Any]) -> Report:
    """Bring the report up to what was done to its advisory in GitHub's web interface."""
    reports = Reports(ctx.store)
    now = ctx.clock.now()
    state, severity = adv.get("state"), adv.get("severity")
    if state == "published":
        return await mark_published(ctx, report, adv)
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
    if changed:
        ctx.log.info("report follows its advisory", extra={"report": report.id, "state": report.state,
                                                           "severity": report.severity})
        from handlers import schedule

        report = await outreach.sync_tracker(ctx, report, await ctx.config())
        await schedule.reschedule(ctx, report)
    return report


async def mark_published(ctx: Context, report: Report, adv: dict[str, Any]) -> Report:
    """A publication seen by polling: the same steps, and once-only keys, as the webhook's."""
    from handlers.advisories import mark_published as publish

    return await publish(ctx, report, adv, actor=(adv.get("publisher") or {}).get("login") or ACTOR)


async def read_comments(ctx: Context, report: Report, ghsa: str, memory: dict[str, Any]) -> bool:
    """Run the `/sec` commands of advisory comments created since the last poll, once each.

    Updates `memory["since"]`; returns whether someone other than a bot commented.
    """
    from handlers.commands import Where, obey

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
    fresh = [c for c in comments if not _by_bot(c) and c["id"] not in read]
    memory["read"] = (list(memory.get("read") or ()) + [c["id"] for c in fresh])[-MAX_READ:]
    where = Where(place="advisory", repo=report.repo, ghsa_id=ghsa)
    cfg: dict[str, Any] | None = None
    for comment in sorted(fresh, key=lambda c: (parse_iso(c["created_at"]), c["id"])):
        commands = parse(comment.get("body"))
        if not commands:
            continue
        cfg = cfg or await ctx.config()
        await obey(ctx, commands, where=where, found=[report], login=comment["user"]["login"], cfg=cfg,
                   key_prefix=f"cmd:{report.repo}:advisory-comment:{comment['id']}")
    return bool(fresh)


def _by_bot(comment: dict[str, Any]) -> bool:
    user = comment.get("user") or {}
    return user.get("type") == "Bot" or str(user.get("login") or "").endswith("[bot]")


# -- the sweep ---------------------------------------------------------------------------------


async def run_sweep(payload: Any, ctx: Context) -> None:
    """The `advisory_sweep` job: private reports no webhook announced are handled as if one had."""
    from handlers.advisories import on_advisory_reported

    installation_id = int(payload["installation_id"])
    if ctx.gh is None or not await _installs().still_covered(ctx, installation_id):
        ctx.log.info("advisory sweep stopped: installation gone or suspended")
        return
    reports = Reports(ctx.store)
    found = 0
    for full_name in await _installs().active_repos(ctx, installation_id, public_only=True):
        owner, name = full_name.split("/", 1)
        try:
            triage = [a async for a in ctx.gh.getiter(TRIAGE, {"owner": owner, "repo": name, "state": "triage",
                                                              "per_page": 100})]
        except gidgethub.BadRequest as exc:
            if exc.status_code not in (403, 404):
                raise
            continue
        for adv in triage:
            if adv.get("state") != "triage" or await reports.by_key(advisory_key(full_name, adv["ghsa_id"])):
                continue
            rctx = repo_context(ctx, full_name, installation_id, "repository_advisory",
                                {"action": "reported", "repository_advisory": adv, "sender": adv.get("author")})
            await on_advisory_reported(rctx.event, rctx)
            found += 1
        for report in await reports.list(repo=full_name):
            if report.is_open and outreach.advisory_of(report) and report.installation_id == installation_id:
                await schedule_poll(ctx, report)  # a poll lost or stopped (suspension) comes back
    if found:
        ctx.log.info("advisory sweep found unannounced private reports", extra={"reports": found})
    await _schedule_by(ctx, SWEEP, {"installation_id": installation_id}, sweep_key(installation_id),
                       ctx.clock.now() + SWEEP_EVERY, installation_id)


