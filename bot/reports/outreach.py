"""Talking about a report in private places: the reporter (advisory comments) and the tracker.

Reporter messages go where only the reporter and the maintainers can read them: comments on the
report's repository security advisory (GitHub's advisory comments API, in public preview since
October 2026). If that API answers 403 or 404, the message is recorded in the tracker issue
instead, for a maintainer to relay, and the logs say so. Nothing here ever writes to a public
issue: a report's state, severity or dates on a public page would tell attackers what to look for.

The tracker is an optional private repository of the same owner with one issue per report. Its
privacy is checked before every write (a conditional GET, free when unchanged); if it is public,
Secbot writes nothing there.

Notes meant for the maintainers only (answers to `/sec` commands, reminders, escalations, the
beg-bounty note) go to the tracker issue. Never to the advisory: the reporter is a collaborator
on it and reads every comment. Without a private tracker such a note is kept in the report's
timeline in Secbot's database, where `secbot reports <id>` shows it, and the log says so (with
the report's id, never the note); the onboarding issue recommends a tracker.
"""

from __future__ import annotations

from typing import Any

import gidgethub

from bot.clock import iso
from bot.github.urls import advisory_url, html_url, issue_url
from bot.jobs.context import Context
from bot.render import render
from bot.reports import writes
from bot.rules.config import RepoConfig
from bot.store.reports import Report


def advisory_of(report: Report) -> str | None:
    """The advisory through which the reporter can be reached, if any."""
    return report.ghsa_id or report.draft_ghsa_id


async def tell_reporter(ctx: Context, report: Report, *, key: str, template: str, **context: Any) -> str:
    """Send the reporter a templated message, once per `key`; returns where it went."""
    cfg = await ctx.config_for(report.repo)
    body = render(template, cfg.templates.override(template), report=view(report), **context)
    ghsa = advisory_of(report)
    if ghsa is None and report.linked_report_id:
        linked = await ctx.reports.get(report.linked_report_id)
        ghsa = advisory_of(linked) if linked else None
    if ghsa is not None:
        if await _advisory_comment(ctx, report, ghsa, key=key, kind="to-reporter", body=body):
            return "advisory"
        ctx.log.warning("advisory comments are not available here; the message goes to the tracker",
                        extra={"report": report.id})
    if await tracker_ok(ctx, report):
        note = render("tracker_relay", message=body)
        await writes.comment_once(ctx, key=key, kind="to-reporter", report_id=report.id, body=note,
                                   number=report.tracker_number, repo=report.tracker_repo)
        return "tracker"
    ctx.log.warning("no private way to reach the reporter", extra={"report": report.id})
    return "none"


async def tell_maintainers(ctx: Context, report: Report, *, key: str, body: str) -> str:
    """A note for the maintainers only, once per `key`: in the report's private tracker issue, else
    kept in its timeline for `secbot reports <id>`. Never on the advisory, which the reporter reads.
    Returns where it went: "tracker" or "timeline"."""
    if await tracker_ok(ctx, report):
        await writes.comment_once(ctx, key=key, kind="to-maintainers", report_id=report.id, body=body,
                                   number=report.tracker_number, repo=report.tracker_repo)
        return "tracker"
    now = ctx.clock.now()
    if await ctx.ledger.claim(key, ctx.job_id, now) is None:
        if await ctx.reports.add_note(report.id, now=now, key=key, body=body):
            ctx.log.info("a note for the maintainers is kept in the report's timeline (no private tracker): "
                         "`secbot reports <id>` shows it", extra={"report": report.id})
        await ctx.ledger.record(key, report.id, {"kept": "timeline"}, now)
    return "timeline"


async def _advisory_comment(ctx: Context, report: Report, ghsa: str, *, key: str, kind: str, body: str) -> bool:
    """Comment on the report's advisory, once; False when GitHub refuses advisory comments here
    (the API is a preview: 403 or 404)."""
    try:
        await writes.comment_once(ctx, key=key, kind=kind, report_id=report.id, body=body, ghsa_id=ghsa,
                                   repo=report.repo)
    except gidgethub.BadRequest as exc:
        if exc.status_code not in (403, 404):
            raise
        await ctx.ledger.forget(key)  # not done: the fallback may use the same key
        return False
    return True


def view(report: Report) -> dict[str, Any]:
    """What templates may show about a report: no text from it."""
    return {
        "id": report.id, "ghsa_id": report.ghsa_id or report.draft_ghsa_id, "repo": report.repo,
        "reporter": report.reporter, "state": report.state, "severity": report.severity, "cvss": report.cvss,
        "eta": report.eta, "fixed_version": report.fixed_version, "reject_reason": report.reject_reason,
        "created": (iso(report.created_at) or "")[:10],
        "cve_id": report.cve_id, "reward": report.reward,
        "embargo_until": (iso(report.embargo_until) or "")[:10] or None,
    }


async def tracker_ok(ctx: Context, report: Report) -> bool:
    """Whether the report has a tracking issue that may be written to now (its repository is
    still private: checked before every write, a conditional GET that is free when unchanged)."""
    if not (report.tracker_repo and report.tracker_number):
        return False
    if await tracker_is_private(ctx, report.tracker_repo):
        return True
    ctx.log.warning("the tracker repository is not private: Secbot writes nothing there",
                    extra={"tracker": report.tracker_repo})
    return False


async def tracker_is_private(ctx: Context, full_name: str) -> bool:
    assert ctx.gh is not None
    owner, _, name = full_name.partition("/")
    try:
        data = await ctx.gh.getitem("/repos/{owner}/{repo}", {"owner": owner, "repo": name})
    except gidgethub.BadRequest as exc:
        if exc.status_code in (403, 404):
            ctx.log.warning("the configured tracker repository cannot be read", extra={"tracker": full_name})
            return False
        raise
    return bool(data.get("private"))


async def sync_tracker(ctx: Context, report: Report, cfg: RepoConfig) -> Report:
    """Create or refresh the report's tracking issue (state, deadlines, assignees, links)."""
    name = cfg.tracker.repo
    if not name:
        return report
    owner = report.repo.split("/", 1)[0]
    full = report.tracker_repo or f"{owner}/{name}"
    if not await tracker_is_private(ctx, full):
        ctx.log.warning("the tracker repository is not private: Secbot writes nothing there", extra={"tracker": full})
        return report
    reports = ctx.reports
    timeline = await reports.timeline(report.id)
    body = render("tracker_issue", report=view(report), text=report.original_body or "",
                  summary=report.original_title or "", timeline=timeline,
                  source_url=_source_url(report, html_url(ctx.services.settings.api_url)), when=iso)
    body = writes.marked(body, "tracker", report.id, f"tracker:{report.id}")
    title = f"[security] {report.ghsa_id or report.draft_ghsa_id or f'report {report.id}'}: {report.original_title or 'security report'}"[:250]
    assert ctx.gh is not None
    t_owner, _, t_name = full.partition("/")
    if report.tracker_number is None:
        done = await writes.issue_once(
            ctx, key=f"tracker:{report.id}", report_id=report.id, repo=full, kind="tracker", data={
                "title": title, "body": body, "labels": ["security"],
                "assignees": list(cfg.security_team.users)[:10],
            })
        return await reports.update(report.id, now=ctx.clock.now(), tracker_repo=full, tracker_number=done.get("number"))
    closed = report.state in ("published", "rejected")
    await ctx.gh.patch("/repos/{owner}/{repo}/issues/{issue_number}",
                       {"owner": t_owner, "repo": t_name, "issue_number": report.tracker_number},
                       data={"body": body, "state": "closed" if closed else "open"})
    return report


def _source_url(report: Report, web: str) -> str | None:
    if report.ghsa_id:
        return advisory_url(f"{web}/{report.repo}", report.ghsa_id)
    if report.issue_number:
        return issue_url(f"{web}/{report.repo}", report.issue_number)
    return None
