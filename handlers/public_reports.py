"""Security reports filed in public issues and comments: redirect the reporter, label, assign, hide."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio

from bot.clock import iso
from bot.jobs.context import Context
from bot.render import render
from bot.reports import writes
from bot.reports.channel import private_channel
from bot.reports.permissions import is_maintainer
from bot.rules.detect import Thresholds, Verdict, classify
from bot.store.reports import Report, Reports, comment_key, issue_key

router = routing.Router()


def _author_is_bot(user: dict[str, Any]) -> bool:
    return user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")


def verdict_for(cfg: dict[str, Any], title: str, body: str | None, labels: list[str]) -> Verdict | None:
    """The classifier's verdict under the repository's settings, or None when it is no report."""
    detection = cfg["detection"]
    if not cfg["enabled"] or not detection["enabled"]:
        return None
    if set(labels) & set(detection["exempt_labels"]):
        return None
    thresholds = Thresholds(vulnerability=detection["vulnerability_threshold"], beg_bounty=detection["beg_bounty_threshold"])
    verdict = classify(title, body, thresholds)
    return verdict if verdict.kind in ("vulnerability", "beg_bounty") else None


@router.register("issues", action="opened")
@router.register("issues", action="edited")
@router.register("issues", action="reopened")
async def on_issue(event: sansio.Event, ctx: Context) -> None:
    """Catch a security report filed as a public issue (also when edited into one)."""
    issue = event.data["issue"]
    await consider(ctx, source="issue", number=issue["number"], comment_id=None, author=issue["user"],
                   association=issue.get("author_association"), title=issue.get("title") or "",
                   body=issue.get("body"), labels=[lb["name"] for lb in issue.get("labels") or []])


@router.register("issue_comment", action="created")
@router.register("issue_comment", action="edited")
async def on_comment(event: sansio.Event, ctx: Context) -> None:
    """Catch a security report posted as a comment on a public issue or pull request."""
    issue, comment = event.data["issue"], event.data["comment"]
    if (comment.get("body") or "").lstrip().lower().startswith("/sec"):
        return  # a command, not a report (handlers/commands.py)
    await consider(ctx, source="comment", number=issue["number"], comment_id=comment["id"], author=comment["user"],
                   association=comment.get("author_association"), title="", body=comment.get("body"),
                   labels=[lb["name"] for lb in issue.get("labels") or []])


async def consider(ctx: Context, *, source: str, number: int, comment_id: int | None, author: dict[str, Any],
                   association: str | None, title: str, body: str | None, labels: list[str]) -> None:
    repo = ctx.data["repository"]
    if repo.get("private") or _author_is_bot(author) or ctx.gh is None:
        return
    cfg = await ctx.config()
    if source == "comment" and not cfg["detection"]["comments"]:
        return
    verdict = verdict_for(cfg, title, body, labels)
    if verdict is None:
        return
    login = author["login"]
    if await is_maintainer(ctx, login, association):
        return
    reports = Reports(ctx.store)
    key = issue_key(repo["full_name"], number) if source == "issue" else comment_key(repo["full_name"], comment_id or 0)
    report, _ = await reports.create(
        now=ctx.clock.now(), source_key=key, source=source, installation_id=ctx.installation_id,
        repo=repo["full_name"], issue_number=number, comment_id=comment_id, reporter=login,
        verdict=verdict.kind, score=verdict.score, reasons=verdict.reasons,
        original_title=title if source == "issue" else None, original_body=body or "",
    )
    if await reports.action_result(f"handled:{report.id}") is not None:
        return  # acted on before: an edit or a redelivery changes nothing
    ctx.log.info("security report detected in public", extra={
        "report": report.id, "source": source, "number": number, "verdict": verdict.kind,
        "score": round(verdict.score, 3), "reasons": list(verdict.reasons)})
    await act(ctx, report, cfg, hide=cfg["public_reports"]["action"] == "hide")


async def act(ctx: Context, report: Report, cfg: dict[str, Any], *, hide: bool) -> None:
    """Redirect (and optionally hide) a report; each step is done once across retries."""
    repo = ctx.data["repository"]
    owner, name = repo["full_name"].split("/", 1)
    number = report.issue_number or 0
    reports = Reports(ctx.store)
    if hide:
        report = await hide_report(ctx, report, cfg)
    channel = await private_channel(ctx, owner, name, repo["html_url"])
    template = "redirect" if report.verdict == "vulnerability" else "beg_bounty"
    body = render(template, cfg["templates"].get(template), reporter=report.reporter, channel=channel.as_dict(), hidden=report.hidden,
                  source=report.source, ghsa_id=report.draft_ghsa_id,
                  advisory_url=_advisory_url(repo, report.draft_ghsa_id),
                  bounty_policy=cfg["beg_bounty"]["bounty_policy"])
    transferred = report.hidden and report.source == "issue" and bool(cfg["public_reports"]["private_repo"])
    if not transferred:
        await writes.comment_once(ctx, key=f"redirect:{report.id}", kind="redirect", report_id=report.id,
                                   number=number, body=body)
        await writes.add_labels(ctx, number, list(cfg["labels"]))
        await writes.add_assignees(ctx, number, list(cfg["security_team"]["users"]))
        if cfg["public_reports"]["lock"] or (report.hidden and report.source == "issue"):
            await writes.lock(ctx, number)
    await reports.record_action(f"handled:{report.id}", report.id, {"channel": channel.kind}, ctx.clock.now())
    await reports.update(report.id, now=ctx.clock.now(), event="redirected", actor="secbot",
                         detail={"channel": channel.kind, "hidden": report.hidden})


def _advisory_url(repo: dict[str, Any], ghsa_id: str | None) -> str | None:
    return f"{repo['html_url']}/security/advisories/{ghsa_id}" if ghsa_id else None


async def hide_report(ctx: Context, report: Report, cfg: dict[str, Any]) -> Report:
    """Move the report into a private draft advisory, then take the public copy away."""
    assert ctx.gh is not None
    reports = Reports(ctx.store)
    repo = ctx.data["repository"]
    if report.draft_ghsa_id is None:
        where = f"issue #{report.issue_number}" if report.source == "issue" else f"a comment on #{report.issue_number}"
        description = render("advisory_description", reporter=report.reporter, where=where,
                             when=(iso(report.created_at) or "")[:10], original=report.original_body or "")
        summary = (report.original_title or f"Security report from a public comment by {report.reporter}")[:1000]
        advisory = await ctx.gh.post("/repos/{owner}/{repo}/security-advisories", ctx.repo(), data={
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
    elif cfg["public_reports"]["private_repo"]:
        await _transfer(ctx, report, cfg["public_reports"]["private_repo"])
    else:
        await writes.update_issue(ctx, report.issue_number or 0, title="Security report moved to a private advisory",
                                   body=render("hidden_issue"), state="closed", state_reason="not_planned")
    return await reports.update(report.id, now=ctx.clock.now(), hidden=True, event="hidden", actor="secbot")


async def _transfer(ctx: Context, report: Report, private_repo: str) -> None:
    assert ctx.gh is not None
    owner = ctx.data["repository"]["owner"]["login"]
    target = await ctx.gh.graphql("query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { id } }",
                                  owner=owner, name=private_repo)
    issue_id = ctx.data["issue"]["node_id"]
    await ctx.gh.graphql(
        "mutation($issue: ID!, $repo: ID!) { transferIssue(input: {issueId: $issue, repositoryId: $repo}) { issue { number url } } }",
        issue=issue_id, repo=target["repository"]["id"])
