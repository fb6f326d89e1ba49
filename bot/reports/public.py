"""Security reports filed in public issues and comments: detect, redirect the reporter, label,
assign, lock; move the report into a private draft advisory (`hide`), and undo it all for a false
alarm (`not_security`). Each write is done once across retries and redeliveries."""

from __future__ import annotations

from typing import Any

from bot.clock import iso
from bot.github.urls import advisory_url
from bot.jobs.context import Context
from bot.render import render
from bot.reports import away, writes
from bot.reports.channel import Channel, private_channel
from bot.reports.permissions import is_maintainer
from bot.rules.config import RepoConfig
from bot.rules.detect import Thresholds, Verdict, classify
from bot.store.reports import REJECTED, Report, comment_key, issue_key


def verdict_for(cfg: RepoConfig, title: str, body: str | None, labels: list[str]) -> Verdict | None:
    """The classifier's verdict under the repository's settings, or None when it is no report."""
    detection = cfg.detection
    if not cfg.enabled or not detection.enabled:
        return None
    if set(labels) & set(detection.exempt_labels):
        return None
    thresholds = Thresholds(vulnerability=detection.vulnerability_threshold, beg_bounty=detection.beg_bounty_threshold)
    verdict = classify(title, body, thresholds)
    return verdict if verdict.kind in ("vulnerability", "beg_bounty") else None


async def consider(ctx: Context, *, source: str, number: int, comment_id: int | None, author: dict[str, Any],
                   association: str | None, title: str, body: str | None, labels: list[str]) -> None:
    """Classify an issue (`source` "issue") or a comment on one ("comment") of the event's
    repository; if it is a report by someone who cannot push, record it and act on it once."""
    repo = ctx.data["repository"]
    if repo.get("private") or Context.is_bot(author) or ctx.gh is None:
        return
    cfg = await ctx.config()
    if source == "comment" and not cfg.detection.comments:
        return
    key = issue_key(repo["full_name"], number) if source == "issue" else comment_key(repo["full_name"], comment_id or 0)
    known = await ctx.reports.by_key(key)
    if known is not None and await ctx.ledger.result(f"handled:{known.id}") is not None:
        await follow_edit(ctx, known, cfg, title=title, body=body)  # a redelivery finds nothing changed
        return
    verdict = verdict_for(cfg, title, body, labels)
    if verdict is None:
        return
    login = author["login"]
    if await is_maintainer(ctx, login, association):
        return
    reports = ctx.reports
    report, _ = await reports.create(
        now=ctx.clock.now(), source_key=key, source=source, installation_id=ctx.installation_id,
        repo=repo["full_name"], issue_number=number, comment_id=comment_id, reporter=login,
        verdict=verdict.kind, score=verdict.score, reasons=verdict.reasons,
        original_title=title if source == "issue" else None, original_body=body or "",
    )
    if report.original_body != (body or "") or (source == "issue" and report.original_title != title):
        # Recorded by an attempt that stopped before acting, and edited since: act on the latest text.
        report = await reports.update(report.id, now=ctx.clock.now(), original_title=title if source == "issue" else None,
                                      original_body=body or "", event="edited", actor=login)
    ctx.log.info("security report detected in public", extra={
        "report": report.id, "source": source, "number": number, "verdict": verdict.kind,
        "score": round(verdict.score, 3), "reasons": list(verdict.reasons)})
    await act(ctx, report, cfg, hide=cfg.public_reports.action == "hide")


async def follow_edit(ctx: Context, report: Report, cfg: RepoConfig, *, title: str, body: str | None) -> None:
    """A report acted on was edited (or reopened): keep its latest text privately, so `hide`
    copies and `/sec not-security` restores the latest; text put back into a hidden issue is
    hidden again, and the draft advisory gets it."""
    latest = (title if report.source == "issue" else None, body or "")
    if report.hidden:
        if await _how_hidden(ctx, report, cfg) != "replaced" or latest == (HIDDEN_TITLE, _hidden_notice()):
            return  # nothing public is left (deleted, transferred), or the issue still shows only our notice
        report = await ctx.reports.update(report.id, now=ctx.clock.now(), original_title=latest[0],
                                          original_body=latest[1], event="edited", actor=report.reporter)
        ctx.log.info("text put back into a hidden report: hidden again", extra={"report": report.id})
        await _replace_issue_text(ctx, report)
        await _update_draft(ctx, report)
        return
    if (report.original_title, report.original_body or "") != latest:
        await ctx.reports.update(report.id, now=ctx.clock.now(), original_title=latest[0], original_body=latest[1],
                                 event="edited", actor=report.reporter)


async def act(ctx: Context, report: Report, cfg: RepoConfig, *, hide: bool) -> None:
    """Redirect (and optionally hide) a report; each step is done once across retries."""
    number = report.issue_number or 0
    reports = ctx.reports
    if hide:
        report = await hide_report(ctx, report, cfg)
    channel = await _channel(ctx)
    if not await _transferred(ctx, report, cfg):
        await writes.comment_once(ctx, key=f"redirect:{report.id}", kind="redirect", report_id=report.id,
                                  number=number, body=_redirect_body(ctx, report, cfg, channel, _template(report),
                                                                     await away.redirect_note(ctx, report.repo, cfg)))
        await writes.add_labels(ctx, number, list(cfg.labels))
        await writes.add_assignees(ctx, number, list(cfg.security_team.users))
        if cfg.public_reports.lock or (report.hidden and report.source == "issue"):
            await writes.lock(ctx, number)
    await ctx.ledger.record(f"handled:{report.id}", report.id, {"channel": channel.kind}, ctx.clock.now())
    await reports.update(report.id, now=ctx.clock.now(), event="redirected", actor="secbot",
                         detail={"channel": channel.kind, "hidden": report.hidden})


async def _channel(ctx: Context) -> Channel:
    repo = ctx.data["repository"]
    owner, name = repo["full_name"].split("/", 1)
    return await private_channel(ctx, owner, name, repo["html_url"])


async def _how_hidden(ctx: Context, report: Report, cfg: RepoConfig) -> str | None:
    """How the public copy was taken away: "deleted", "transferred", "replaced"; None if not hidden."""
    if not report.hidden:
        return None
    done = await ctx.ledger.result(_how_key(report))
    if done is not None:
        return str(done["how"])
    # Hidden before the ledger kept this: as the configuration then said.
    if report.source == "comment":
        return "deleted"
    return "transferred" if cfg.public_reports.private_repo else "replaced"


async def _transferred(ctx: Context, report: Report, cfg: RepoConfig) -> bool:
    """A hidden issue that went to the configured private repository: nothing is left to write on."""
    return await _how_hidden(ctx, report, cfg) == "transferred"


def _template(report: Report) -> str:
    return "redirect" if report.verdict == "vulnerability" else "beg_bounty"


def _redirect_body(ctx: Context, report: Report, cfg: RepoConfig, channel: Channel, template: str,
                   paused: dict[str, str] | None = None) -> str:
    """The redirect comment: thanks, and where to report privately (never the report's text)."""
    url = advisory_url(ctx.data["repository"]["html_url"], report.draft_ghsa_id) if report.draft_ghsa_id else None
    return render(template, cfg.templates.override(template), reporter=report.reporter, channel=channel.as_dict(),
                  hidden=report.hidden, source=report.source, ghsa_id=report.draft_ghsa_id, advisory_url=url,
                  bounty_policy=cfg.beg_bounty.bounty_policy, **(paused or {}))


async def hide_report(ctx: Context, report: Report, cfg: RepoConfig) -> Report:
    """Move the report into a private draft advisory, then take the public copy away."""
    assert ctx.gh is not None
    reports = ctx.reports
    repo = ctx.data["repository"]
    if report.draft_ghsa_id is None:
        description = _advisory_description(report)
        summary = (report.original_title or f"Security report from a public comment by {report.reporter}")[:1000]
        advisory = await writes.advisory_once(ctx, key=f"draft:{report.id}", report_id=report.id, data={
            "summary": summary, "description": description,
            "vulnerabilities": [{"package": {"ecosystem": "other", "name": repo["name"]}}],
            "credits": [{"login": report.reporter, "type": "reporter"}],
        })
        ghsa = advisory.get("ghsa_id") if isinstance(advisory, dict) else None
        if ghsa:
            users = sorted({u["login"] for u in advisory.get("collaborating_users") or []} | {report.reporter})
            await ctx.gh.patch("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", ctx.repo(ghsa_id=ghsa),
                               data={"collaborating_users": users})
        report = await reports.update(report.id, now=ctx.clock.now(), draft_ghsa_id=ghsa, event="advisory-drafted",
                                      actor="secbot", detail={"ghsa_id": ghsa})
    if report.hidden:
        return report
    if report.source == "comment" and report.comment_id:
        await writes.delete_comment(ctx, report.comment_id)
        how = "deleted"
    elif cfg.public_reports.private_repo and await _transfer(ctx, cfg.public_reports.private_repo):
        how = "transferred"
    else:
        await _replace_issue_text(ctx, report)
        how = "replaced"
    await ctx.ledger.record(_how_key(report), report.id, {"how": how}, ctx.clock.now())
    return await reports.update(report.id, now=ctx.clock.now(), hidden=True, event="hidden", actor="secbot",
                                detail={"how": how})


HIDDEN_TITLE = "Security report moved to a private advisory"


def _hidden_notice() -> str:
    return render("hidden_issue")


async def _replace_issue_text(ctx: Context, report: Report) -> None:
    await writes.update_issue(ctx, report.issue_number or 0, title=HIDDEN_TITLE, body=_hidden_notice(),
                              state="closed", state_reason="not_planned")


def _advisory_description(report: Report) -> str:
    where = f"issue #{report.issue_number}" if report.source == "issue" else f"a comment on #{report.issue_number}"
    return render("advisory_description", reporter=report.reporter, where=where,
                  when=(iso(report.created_at) or "")[:10], original=report.original_body or "")


async def _update_draft(ctx: Context, report: Report) -> None:
    """Give the report's draft advisory its latest text (while it is still a draft)."""
    if report.draft_ghsa_id is None:
        return
    assert ctx.gh is not None
    url_vars = ctx.repo(ghsa_id=report.draft_ghsa_id)
    current = await ctx.gh.getitem("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", url_vars)
    if current.get("state") == "draft":
        await ctx.gh.patch("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", url_vars,
                           data={"description": _advisory_description(report)})


def _how_key(report: Report) -> str:
    return f"hidden:{report.id}"


async def _transfer(ctx: Context, private_repo: str) -> bool:
    """Move the issue to the owner's repository `private_repo`, only if it is private; False (and
    nothing moved) when it is public, missing or not covered by the installation."""
    assert ctx.gh is not None
    owner = ctx.data["repository"]["owner"]["login"]
    found = await ctx.gh.graphql(
        "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { id isPrivate } }",
        owner=owner, name=private_repo)
    target = (found or {}).get("repository") or {}
    if not target.get("isPrivate"):
        ctx.log.warning("public_reports.private_repo is not a private repository Secbot can reach: the issue's "
                        "text is replaced instead of moving the issue there", extra={"private_repo": private_repo})
        return False
    issue_id = ctx.data["issue"]["node_id"]
    await ctx.gh.graphql(
        "mutation($issue: ID!, $repo: ID!) { transferIssue(input: {issueId: $issue, repositoryId: $repo}) { issue { number url } } }",
        issue=issue_id, repo=target["id"])
    return True


async def hide(ctx: Context, report: Report, cfg: RepoConfig) -> None:
    """`/sec hide`: move a redirected report into a draft advisory and point the reporter there."""
    if report.hidden:
        return
    report = await hide_report(ctx, report, cfg)
    done = await ctx.ledger.result(f"redirect:{report.id}")
    transferred = await _transferred(ctx, report, cfg)
    if done and done.get("comment_id") and not transferred:
        body = _redirect_body(ctx, report, cfg, await _channel(ctx), "redirect")  # now: where the text went
        assert ctx.gh is not None
        await ctx.gh.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}", ctx.repo(comment_id=done["comment_id"]),
                           data={"body": writes.marked(body, "redirect", report.id, f"redirect:{report.id}")})
    if report.source == "issue" and not transferred:
        await writes.lock(ctx, report.issue_number or 0)


async def not_security(ctx: Context, report: Report, cfg: RepoConfig, login: str) -> None:
    """`/sec not-security`: undo everything the bot did for a false alarm, and remember it."""
    reports = ctx.reports
    number = report.issue_number or 0
    await writes.remove_labels(ctx, number, list(cfg.labels))
    done = await ctx.ledger.result(f"redirect:{report.id}")
    if done and done.get("comment_id"):
        await writes.delete_comment(ctx, int(done["comment_id"]))
    if await _how_hidden(ctx, report, cfg) == "replaced":
        await writes.update_issue(ctx, number, title=report.original_title or "", body=report.original_body or "",
                                  state="open")
    if (report.hidden and report.source == "issue") or cfg.public_reports.lock:
        await writes.unlock(ctx, number)
    if report.draft_ghsa_id:
        assert ctx.gh is not None
        await ctx.gh.patch("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", ctx.repo(ghsa_id=report.draft_ghsa_id),
                           data={"state": "closed"})
    await reports.update(report.id, now=ctx.clock.now(), state=REJECTED, reject_reason="not-security", hidden=False,
                         event="not-security", actor=login,
                         detail={"verdict": report.verdict, "score": report.score, "reasons": list(report.reasons)})
