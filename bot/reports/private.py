"""Private reports (repository security advisories): record and acknowledge at once, bring in the
security team, link to an earlier public redirect, and everything publication means."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.github.urls import advisory_url, html_url
from bot.jobs.context import Context
from bot.render import render
from bot.reports import away, floods, outreach, timers, transparency, triage, writes
from bot.rules.config import RepoConfig
from bot.rules.detect import TextContext, classify
from bot.rules.lifecycle import PUBLISHED, Refused, next_state
from bot.rules.policy import Policy
from bot.store.reports import Report, StateChanged, advisory_key

LINK_WINDOW = 30 * 86400.0  # a private report this soon after a redirect is linked to it


def ack_key(report_id: int) -> str:
    """The ledger key of the reporter's acknowledgement: recorded once it is sent."""
    return f"ack:{report_id}"


async def receive(ctx: Context, adv: dict[str, Any], *, sender: dict[str, Any] | None = None) -> None:
    """A private report arrived (webhook `repository_advisory.reported`, or found by the sweep):
    record it, thank the reporter at once, bring in the security team, set its timers."""
    cfg = await ctx.config()
    if not cfg.enabled:
        return
    full_name = ctx.full_name or ""
    reporter = ((adv.get("author") or {}).get("login") or (sender or {}).get("login") or "unknown")
    detection = cfg.detection
    verdict = classify(adv.get("summary") or "", adv.get("description"),
                       detection.verdict_thresholds(), TextContext(source="advisory", repo_full_name=full_name))
    reports = ctx.reports
    report, created = await reports.create(
        now=ctx.clock.now(), source_key=advisory_key(full_name, adv["ghsa_id"]), source="advisory",
        installation_id=ctx.installation_id, repo=full_name, ghsa_id=adv["ghsa_id"], reporter=reporter,
        verdict=verdict.kind if verdict.kind in ("vulnerability", "beg_bounty") else "unclassified", score=verdict.score,
        reasons=verdict.reasons, severity=adv.get("severity"), original_title=adv.get("summary"),
        original_body=adv.get("description") or "",
    )
    if created:
        ctx.log.info("private report received", extra={"report": report.id, "ghsa": adv["ghsa_id"],
                                                        "verdict": verdict.kind})
    report = await _link_to_redirect(ctx, report)
    template = "advisory_beg_bounty" if report.verdict == "beg_bounty" else "advisory_ack"
    report = await outreach.sync_tracker(ctx, report, cfg)
    gone = await away.current(ctx, full_name, cfg)
    await outreach.tell_reporter(ctx, report, key=ack_key(report.id), template=template,
                                 policy=cfg.policy.as_dict(), bounty_policy=cfg.beg_bounty.bounty_policy,
                                 away=gone.for_template(Policy.from_config(cfg.policy)) if gone else None)
    await floods.check(ctx, report, cfg)
    if report.verdict == "beg_bounty":
        await outreach.tell_maintainers(ctx, report, key=f"beg-bounty-note:{report.id}",
                                        body=render("beg_bounty_note", reasons=list(report.reasons)))
    await add_collaborators(ctx, report, cfg.security_team.users, cfg.security_team.teams)
    await timers.reschedule(ctx, report)
    # Last: the reporter is thanked and the team brought in before Secbot reads the repository
    # for the maintainers' card (bot/reports/triage.py), which only maintainers see.
    await triage.card(ctx, report, cfg, adv=adv)


async def add_collaborators(ctx: Context, report: Report, users: Sequence[str], teams: Sequence[str]) -> None:
    """Add people and teams to the advisory; GitHub's PATCH replaces the lists, so merge first."""
    ghsa = outreach.advisory_of(report)
    if ghsa is None or not (users or teams):
        return
    assert ctx.gh is not None
    owner, name = report.repo.split("/", 1)
    url_vars = {"owner": owner, "repo": name, "ghsa_id": ghsa}
    current = await ctx.gh.getitem("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", url_vars)
    have_users = [u["login"] for u in current.get("collaborating_users") or []]
    have_teams = [t["slug"] for t in current.get("collaborating_teams") or []]
    want_users = have_users + [u for u in users if u.lower() not in {h.lower() for h in have_users}]
    want_teams = have_teams + [t for t in teams if t.lower() not in {h.lower() for h in have_teams}]
    if (want_users, want_teams) == (have_users, have_teams):
        return
    data: dict[str, Any] = {}
    if want_users != have_users:
        data["collaborating_users"] = want_users
    if want_teams != have_teams:
        data["collaborating_teams"] = want_teams
    await ctx.gh.patch("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", url_vars, data=data)


async def _link_to_redirect(ctx: Context, report: Report) -> Report:
    """If this reporter was redirected from a public issue lately, link the two records."""
    if report.linked_report_id is not None:
        return report
    reports = ctx.reports
    found = await reports.latest_public_unlinked(report.repo, report.reporter, report.created_at - LINK_WINDOW,
                                                 besides=report.id)
    if found is None:
        return report
    await reports.update(found, now=ctx.clock.now(), linked_report_id=report.id, event="linked", actor="secbot",
                         detail={"report": report.id})
    ctx.log.info("private report linked to an earlier public one", extra={"report": report.id, "public_report": found})
    return await reports.update(report.id, now=ctx.clock.now(), linked_report_id=found, event="linked",
                                actor="secbot", detail={"report": found})


async def find(ctx: Context, full_name: str, ghsa_id: str) -> Report | None:
    """The report an advisory belongs to: a private report, or a public one hidden in a draft."""
    reports = ctx.reports
    return await reports.by_key(advisory_key(full_name, ghsa_id)) or await reports.by_draft(ghsa_id)


async def mark_published(ctx: Context, report: Report, adv: dict[str, Any], *, actor: str | None) -> Report:
    """Everything publication means for a report, each step once: the webhook and the watchdog's
    poll may both see it."""
    reports = ctx.reports
    cfg = await ctx.config_for(report.repo)
    if report.state != PUBLISHED:
        try:
            next_state(report.state, "publish")
        except Refused:
            ctx.log.info("advisory published for a closed report", extra={"report": report.id})
        try:
            report = await reports.update(report.id, now=ctx.clock.now(), state=PUBLISHED, closed_at=ctx.clock.now(),
                                          event="published", actor=actor, expect_state=report.state)
        except StateChanged:
            report = await reports.get(report.id) or report  # a twin delivery got there first
    url = adv.get("html_url") or advisory_url(f"{html_url(ctx.services.settings.api_url)}/{report.repo}", adv["ghsa_id"])
    credited = ", ".join(f"{c['login']} ({c['type']})" for c in adv.get("credits") or [] if c.get("login") == report.reporter)
    await outreach.tell_reporter(ctx, report, key=f"published:{report.id}", template="published", url=url,
                                 credited=credited)
    for public in await _public_sources(ctx, report):
        await _close_public_issue(ctx, public, url, cfg)
    if cfg.announcements.enabled:
        await _announce(ctx, report, adv, url, cfg)
    report = await transparency.on_published(ctx, report, adv, url, cfg)
    report = await outreach.sync_tracker(ctx, report, cfg)
    await timers.reschedule(ctx, report)
    return report


async def _public_sources(ctx: Context, report: Report) -> list[Report]:
    found = [report] if report.source in ("issue", "comment") else []
    if report.linked_report_id:
        linked = await ctx.reports.get(report.linked_report_id)
        if linked and linked.source in ("issue", "comment"):
            found.append(linked)
    return found


async def _close_public_issue(ctx: Context, public: Report, url: str, cfg: RepoConfig) -> None:
    number = public.issue_number
    if number is None:
        return
    await writes.comment_once(ctx, key=f"public-published:{public.id}", kind="published", report_id=public.id,
                              number=number, repo=public.repo,
                              body=render("public_published", cfg.templates.override("public_published"), url=url,
                                          reporter=public.reporter))
    owner, name = public.repo.split("/", 1)
    assert ctx.gh is not None
    await ctx.gh.patch("/repos/{owner}/{repo}/issues/{issue_number}",
                       {"owner": owner, "repo": name, "issue_number": number},
                       data={"state": "closed", "state_reason": "completed"})


async def _announce(ctx: Context, report: Report, adv: dict[str, Any], url: str, cfg: RepoConfig) -> None:
    key = f"announce:{report.id}"
    if await ctx.ledger.result(key) is not None:
        return
    patched = ", ".join(v.get("patched_versions") or "" for v in adv.get("vulnerabilities") or [] if v.get("patched_versions"))
    credited = ", ".join(c["login"] for c in adv.get("credits") or [])
    body = render("announcement", cfg.templates.override("announcement"), summary=adv.get("summary") or adv["ghsa_id"],
                  url=url, severity=adv.get("severity"), patched=patched or report.fixed_version, credited=credited)
    repo = ctx.full_name or report.repo
    await writes.issue_once(ctx, key=key, report_id=report.id, repo=repo, kind="announcement", data={
        "title": f"Security advisory {adv['ghsa_id']}: {adv.get('summary') or ''}"[:250], "body": body,
        "labels": list(cfg.announcements.labels),
    })
