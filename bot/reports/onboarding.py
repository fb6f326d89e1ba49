"""Know where security reports arrive: check each public repository's private channel, daily.

On install (and when repositories are added) every public repository gets a `channel_check` job.
The job asks whether private vulnerability reporting (PVR) is on and reads SECURITY.md; when they
leave reporters without a working private channel (bot/rules/security_md.py says which
problems), it opens one onboarding issue with the exact fix, keeps it up to date, and closes it
once a later check finds the problem gone. The job then schedules itself for the next day, until
the repository or the installation goes away.

`/sec setup` (bot/reports/verbs.py) calls `open_security_md_pull_request`.
"""

from __future__ import annotations

import base64
from typing import Any

import gidgethub

from bot.errors import MaybeApplied
from bot.github.urls import policy_url, report_form_url
from bot.jobs.context import Context, get_or_none
from bot.jobs.queue import Queue
from bot.render import find_marker, marker, render
from bot.reports import away, transparency, writes
from bot.reports.channel import forget_channel, pvr_enabled, security_md
from bot.rules.config import RepoConfig
from bot.rules.security_md import PLACEHOLDER, diagnose, human_duration
from bot.store.ledger import ActionBusy

JOB_KIND = "channel_check"
RECHECK_EVERY = 86400.0
ISSUE_TITLE = "Make sure security reports can reach you privately"
SETUP_BRANCH = "secbot/security-policy"


# -- scheduling ------------------------------------------------------------------------------------


def check_key(full_name: str) -> str:
    return f"channel-check:{full_name.lower()}"


async def schedule_check(queue: Queue, installation_id: int, full_name: str, run_at: float, conn: Any = None) -> None:
    """Queue the repository's check (moving an already queued one to `run_at`)."""
    payload = {"event_data": {"installation": {"id": installation_id}, "repository": {"full_name": full_name}}}
    await queue.schedule(JOB_KIND, payload, run_at=run_at, singleton_key=check_key(full_name),
                         installation_id=installation_id, conn=conn)


async def _schedule_next(ctx: Context, installation_id: int, full_name: str) -> None:
    """Schedule tomorrow's check from inside today's (a started job has given up its key)."""
    await schedule_check(ctx.queue, installation_id, full_name, ctx.clock.now() + RECHECK_EVERY)


async def check_soon(ctx: Context, installation_id: int, repos: list[dict[str, Any]]) -> None:
    """Check these repositories (webhook `repositories` objects) now; private ones are not checked."""
    for repo in repos:
        if not repo.get("private"):
            await schedule_check(ctx.queue, installation_id, repo["full_name"], ctx.clock.now())


async def check_all_soon(ctx: Context, installation_id: int) -> None:
    """Check every public repository the installation covers now (after a suspension ends)."""
    for name in await ctx.installations.active_repos(installation_id, public_only=True):
        await schedule_check(ctx.queue, installation_id, name, ctx.clock.now())


async def stop_checks(ctx: Context, installation_id: int | None, repos: list[dict[str, Any]]) -> None:
    """Stop checking these repositories, and with an installation id, all of its repositories."""
    names = await ctx.installations.repo_names(installation_id) if installation_id is not None else []
    for name in {*names, *(r["full_name"] for r in repos)}:
        await ctx.queue.cancel(check_key(name))


# -- the check -------------------------------------------------------------------------------------


async def check(ctx: Context) -> None:
    """The `channel_check` job: check the context's repository, sync its onboarding issue, come
    back tomorrow."""
    full_name, installation_id = ctx.full_name, ctx.installation_id
    if ctx.gh is None or not full_name or installation_id is None:
        return
    if not await ctx.installations.still_covered(installation_id, full_name):
        ctx.log.info("channel check stopped: repository no longer installed", extra={"repo": full_name})
        return
    owner, name = full_name.split("/", 1)
    repo = await get_or_none(ctx.gh, "/repos/{owner}/{repo}", {"owner": owner, "repo": name}, missing=(403, 404, 451))
    if not repo or repo.get("private") or repo.get("archived"):
        ctx.log.info("channel check stopped: repository gone, private or archived", extra={"repo": full_name})
        return
    await _schedule_next(ctx, installation_id, full_name)
    cfg = await ctx.config()
    if cfg.enabled:
        await away.sync(ctx, full_name, installation_id, cfg)  # an away span from the config starts or ends
    await transparency.refresh_stats(ctx, full_name, cfg, only_if_missing=True)  # switched on or off since
    if not cfg.enabled or not cfg.channel_check.enabled:
        return
    await forget_channel(ctx, owner, name)  # a daily check must see today's settings
    # Private reporting that Secbot turned off while the maintainers are away counts as on.
    pvr = await pvr_enabled(ctx, owner, name) or await away.paused_by_away(ctx, full_name)
    policy = await security_md(ctx, owner, name)
    problems = diagnose(full_name, pvr, policy)
    ctx.log.info("channel checked", extra={"repo": full_name, "pvr": pvr, "security_md": bool(policy),
                                           "problems": problems})
    badge = badge_markdown(ctx.services.settings.public_url, full_name) if cfg.transparency.public_stats else None
    await sync_onboarding_issue(ctx, repo, problems, pvr=pvr, policy=policy, tracker=cfg.tracker.repo, badge=badge)


def badge_markdown(public_url: str | None, full_name: str) -> str:
    """The Markdown that shows the repository's response-time badge, for its README."""
    base = (public_url or "https://SECBOT-ADDRESS").rstrip("/")
    return f"[![security response]({base}/badge/{full_name}.svg)]({base}/stats/{full_name}.json)"


def onboarding_key(full_name: str) -> str:
    return f"onboarding:{full_name.lower()}"


async def sync_onboarding_issue(ctx: Context, repo: dict[str, Any], problems: list[str], *, pvr: bool,
                                policy: dict[str, str] | None, tracker: str | None = None,
                                badge: str | None = None) -> None:
    """Open the repository's one onboarding issue, update it, or close it when all is well.

    Without a private tracker (`tracker.repo`) the issue also recommends one: notes for the
    maintainers never go to the advisory the reporter reads, so without a tracker they are only
    kept in Secbot's database (bot/reports/outreach.py). That advice alone opens no issue."""
    advice = ([] if tracker else ["tracker"]) + (["badge"] if badge else [])
    assert ctx.gh is not None
    full_name = repo["full_name"]
    key, now = onboarding_key(full_name), ctx.clock.now()
    record = await ctx.ledger.result(key)
    if record is None:
        if problems:  # advice alone (a tracker to set up) never opens an issue
            await _open_issue(ctx, repo, problems, pvr=pvr, policy=policy, advice=advice, badge=badge)
        return
    if record.get("state") == "dismissed":
        return
    number = record["number"]
    issue = await get_or_none(ctx.gh, "/repos/{owner}/{repo}/issues/{issue_number}", ctx.repo(issue_number=number),
                              missing=(404, 410))
    if issue is None or (issue["state"] == "closed" and record.get("state") == "open"):
        # deleted, transferred, or closed by a maintainer: their call, never nag again
        await ctx.ledger.record(key, None, {**record, "state": "dismissed"}, now)
        return
    if problems:
        changes: dict[str, Any] = {}
        if issue["state"] == "closed":
            changes["state"] = "open"
        if issue["state"] == "closed" or problems != record.get("problems") or advice != record.get("advice"):
            changes["body"] = _issue_body(repo, problems, pvr=pvr, policy=policy, advice=advice, badge=badge)
        if changes:
            await ctx.gh.patch("/repos/{owner}/{repo}/issues/{issue_number}", ctx.repo(issue_number=number), data=changes)
        await ctx.ledger.record(key, None, {**record, "state": "open", "problems": problems, "advice": advice}, now)
    elif record.get("state") in ("open", "closing"):  # not "closed": a maintainer reopened it
        await _close_issue(ctx, full_name, number, record)


def _issue_body(repo: dict[str, Any], problems: list[str], *, pvr: bool, policy: dict[str, str] | None,
                advice: list[str], badge: str | None = None) -> str:
    html_url = repo["html_url"]
    body = render("onboarding", problems=problems, advice=advice, pvr=pvr, html_url=html_url,
                  settings_url=f"{html_url}/settings/security_analysis", form_url=report_form_url(html_url),
                  policy_url=policy_url(html_url, policy), policy_path=(policy or {}).get("path"),
                  placeholder=PLACEHOLDER, badge=badge)
    return f"{body.rstrip()}\n\n{marker('onboarding', repo=repo['full_name'])}\n"


async def _open_issue(ctx: Context, repo: dict[str, Any], problems: list[str], *, pvr: bool,
                      policy: dict[str, str] | None, advice: list[str], badge: str | None = None) -> None:
    """Open the issue once (writes.issue_once: a try that may have opened it is looked for, by its
    marker, among the app's newest issues). A dry run records nothing: a real run must still open it."""
    full_name = repo["full_name"]
    made = await writes.issue_once(
        ctx, key=onboarding_key(full_name), report_id=None, repo=ctx.full_name or full_name, kind="onboarding",
        attrs={"repo": full_name}, extra={"state": "open", "problems": problems, "advice": advice},
        record_dry_run=False,
        data={"title": ISSUE_TITLE, "body": _issue_body(repo, problems, pvr=pvr, policy=policy, advice=advice, badge=badge)})
    if not ctx.dry_run:
        ctx.log.info("onboarding issue opened", extra={"repo": full_name, "number": made["number"]})


async def _close_issue(ctx: Context, full_name: str, number: int, record: dict[str, Any]) -> None:
    """Say why, then close as completed; the comment is found by its marker on a retry."""
    assert ctx.gh is not None
    key = onboarding_key(full_name)
    await ctx.ledger.record(key, None, {**record, "state": "closing"}, ctx.clock.now())
    url_vars = ctx.repo(issue_number=number)
    # Said by this app (anyone can type a marker). A post GitHub did not confirm (MaybeApplied)
    # fails the job, and its retry looks here again.
    said = False
    async for comment in ctx.gh.getiter("/repos/{owner}/{repo}/issues/{issue_number}/comments", url_vars):
        if not said and find_marker(comment.get("body"), "onboarding-resolved") is not None:
            said = await writes.own(ctx, comment)
    if not said:
        body = render("onboarding_resolved").rstrip() + f"\n\n{marker('onboarding-resolved', repo=full_name)}\n"
        await ctx.gh.post("/repos/{owner}/{repo}/issues/{issue_number}/comments", url_vars, data={"body": body})
    await ctx.gh.patch("/repos/{owner}/{repo}/issues/{issue_number}", url_vars,
                       data={"state": "closed", "state_reason": "completed"})
    if not ctx.dry_run:
        await ctx.ledger.record(key, None, {**record, "state": "closed", "problems": []}, ctx.clock.now())
    ctx.log.info("onboarding issue closed: channel works", extra={"repo": full_name, "number": number})


# -- /sec setup --------------------------------------------------------------------------------------


async def open_security_md_pull_request(ctx: Context, issue_number: int) -> str:
    """Open one pull request adding SECURITY.md; "opened", "exists" or "missing-permission".

    Needs the optional permissions contents: write and pull_requests: write; without them GitHub
    answers 403, and the maintainers are told once (on `issue_number`) what to grant.
    """
    assert ctx.gh is not None
    full_name = ctx.full_name or ""
    key = f"setup-pr:{full_name.lower()}"
    if await ctx.ledger.result(key) is not None:
        return "exists"

    async def send() -> dict[str, Any]:
        pull = await _security_md_pull_request(ctx, issue_number)
        return {"number": (pull or {}).get("number"), "issue": issue_number}

    async def find(since: float) -> dict[str, Any] | None:
        assert ctx.gh is not None
        owner = full_name.split("/", 1)[0]
        async for pull in ctx.gh.getiter("/repos/{owner}/{repo}/pulls{?head,state}",
                                         ctx.repo(head=f"{owner}:{SETUP_BRANCH}", state="open")):
            if await writes.own(ctx, pull):
                return {"number": pull["number"], "issue": issue_number}
        return None

    try:
        made = await writes.create_once(ctx, key=key, report_id=None, send=send, find=find, record_dry_run=False)
    except gidgethub.BadRequest as exc:
        await ctx.ledger.forget(key)  # a later /sec setup tries again
        if exc.status_code != 403:
            raise
        await _explain_missing_permission(ctx, issue_number)
        return "missing-permission"
    except (MaybeApplied, ActionBusy):
        raise  # the claim stays: GitHub may have opened it (the retry looks), or another job is opening it
    except Exception:
        await ctx.ledger.forget(key)
        raise
    if not ctx.dry_run:
        ctx.log.info("security policy pull request opened", extra={"number": made.get("number")})
    return "opened"


async def _security_md_pull_request(ctx: Context, issue_number: int) -> dict[str, Any] | None:
    """Branch from the default branch, commit SECURITY.md there, open the pull request.

    Each step tolerates the previous attempt's leftovers: an existing branch, the file already there.
    """
    assert ctx.gh is not None
    owner, name = (ctx.full_name or "/").split("/", 1)
    repo = ctx.data.get("repository") or {}
    if "default_branch" not in repo or "html_url" not in repo:
        repo = await ctx.gh.getitem("/repos/{owner}/{repo}", ctx.repo())
    base = repo["default_branch"]
    await forget_channel(ctx, owner, name)  # the maintainers may have just changed them
    pvr = await pvr_enabled(ctx, owner, name)
    head = await ctx.gh.getitem("/repos/{owner}/{repo}/git/ref/{+ref}", ctx.repo(ref=f"heads/{base}"))
    try:
        await ctx.gh.post("/repos/{owner}/{repo}/git/refs", ctx.repo(),
                          data={"ref": f"refs/heads/{SETUP_BRANCH}", "sha": head["object"]["sha"]})
    except gidgethub.BadRequest as exc:
        if exc.status_code != 422:  # 422: the branch exists (an earlier attempt made it)
            raise
    policy = await security_md(ctx, owner, name)
    path = policy["path"] if policy and policy["repo"] == name else "SECURITY.md"
    text = security_md_text(await ctx.config(), html_url=repo["html_url"], pvr=pvr)
    existing = await get_or_none(ctx.gh, "/repos/{owner}/{repo}/contents/{+path}{?ref}",
                                 ctx.repo(path=path, ref=SETUP_BRANCH), missing=(404,))
    current = base64.b64decode(existing.get("content") or "").decode("utf-8", "replace") if existing else None
    if current != text:
        data = {"message": "Add a security policy: how to report a vulnerability privately",
                "content": base64.b64encode(text.encode()).decode(), "branch": SETUP_BRANCH}
        if existing:
            data["sha"] = existing["sha"]
        await ctx.gh.put("/repos/{owner}/{repo}/contents/{+path}", ctx.repo(path=path), data=data)
    body = render("security_md_pull_request", issue_number=issue_number, path=path, pvr=pvr,
                  placeholder=PLACEHOLDER)
    return await ctx.gh.post("/repos/{owner}/{repo}/pulls", ctx.repo(), data={
        "title": "Add a security policy (SECURITY.md)", "head": SETUP_BRANCH, "base": base, "body": body})


def security_md_text(cfg: RepoConfig, *, html_url: str, pvr: bool) -> str:
    policy = cfg.policy
    return render("security_md", pvr=pvr, form_url=report_form_url(html_url), placeholder=PLACEHOLDER,
                  acknowledge=human_duration(policy.acknowledge_within),
                  triage=human_duration(policy.triage_within),
                  update=human_duration(policy.update_every.untriaged),
                  disclosure=human_duration(policy.disclosure_after))


async def _explain_missing_permission(ctx: Context, issue_number: int) -> None:
    """Tell the maintainers once which permissions `/sec setup` needs."""
    assert ctx.gh is not None
    full_name = ctx.full_name or ""
    key = f"setup-permission:{full_name.lower()}"
    body = render("onboarding_permission").rstrip() + f"\n\n{marker('setup-permission', repo=full_name)}\n"
    url, url_vars = "/repos/{owner}/{repo}/issues/{issue_number}/comments", ctx.repo(issue_number=issue_number)

    async def send() -> dict[str, Any]:
        assert ctx.gh is not None
        made = await ctx.gh.post(url, url_vars, data={"body": body})
        return {"comment_id": (made or {}).get("id")}

    async def find(since: float) -> dict[str, Any] | None:
        found = await writes.find_comment(ctx, url, url_vars, "setup-permission", {"repo": full_name}, since)
        return {"comment_id": found["id"]} if found else None

    await writes.create_once(ctx, key=key, report_id=None, send=send, find=find, record_dry_run=False)
