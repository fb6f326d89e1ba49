"""Know where security reports arrive: check each public repository's private channel, daily.

On install (and when repositories are added) every public repository gets a `channel_check` job.
The job asks whether private vulnerability reporting (PVR) is on and reads SECURITY.md; when they
leave reporters without a working private channel, it opens one onboarding issue with the exact
fix, keeps it up to date, and closes it once a later check finds the problem gone. The job then
schedules itself for the next day, until the repository or the installation goes away.

`/sec setup` (wired in handlers/commands.py) calls `open_security_md_pull_request`.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import gidgethub
import sqlalchemy as sa
from gidgethub import routing, sansio

from bot.jobs.context import Context, get_or_none
from bot.jobs.queue import Queue
from bot.render import find_marker, marker, render
from bot.reports.channel import forget_channel, pvr_enabled, security_md
from bot.rules import config as repo_config
from bot.store.reports import Reports
from bot.store.tables import installation_repos
from handlers.installations import active_repos, still_covered

router = routing.Router()

JOB_KIND = "channel_check"
RECHECK_EVERY = 86400.0
ISSUE_TITLE = "Make sure security reports can reach you privately"
SETUP_BRANCH = "secbot/security-policy"
# Written by the SECURITY.md template when there is no private-reporting form to link; never an
# address, so nothing (the redirect comment included) can mistake it for a real contact.
PLACEHOLDER = "REPLACE-WITH-YOUR-SECURITY-CONTACT"

# Problem kinds, in the order the onboarding issue lists them.
NO_CHANNEL = "no-channel"             # PVR off and no SECURITY.md
FORM_404 = "form-404"                 # SECURITY.md links the PVR form while PVR is off
PUBLIC_ISSUES = "public-issues"       # SECURITY.md says to open an issue, and gives no private contact
PLACEHOLDER_LEFT = "placeholder"      # our template's placeholder contact was never filled in
KINDS = (NO_CHANNEL, FORM_404, PUBLIC_ISSUES, PLACEHOLDER_LEFT)

_FORM_LINK = re.compile(r"(?:https?://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+))?/security/advisories/new\b",
                        re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_ISSUE_INSTRUCTION = re.compile(
    r"\b(?:open|opening|file|filing|create|creating|submit|submitting|raise|raising|post|posting|log|add)\s+"
    r"(?:an?\s+|the\s+)?(?:new\s+)?(?:public\s+)?(?:github\s+)?(?:issue|bug\s+report|ticket)s?\b"
    r"|\b(?:report|post|submit|raise)\b[^.!?\n]{0,60}\b(?:in|on|via|through|to|as)\s+(?:an?\s+|the\s+|our\s+)?"
    r"(?:public\s+)?(?:github\s+)?(?:issues?|issue\s+tracker|bug\s+tracker)\b"
    r"|\buse\s+(?:the\s+|our\s+)?(?:github\s+)?(?:issue|bug)\s+tracker\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|never|no|avoid|instead\s+of|rather\s+than|without)\b|n't\b|n’t\b", re.IGNORECASE)
_SECURITY_WORDS = re.compile(r"vulnerab|security|exploit|\bcve\b", re.IGNORECASE)
_PRIVATE_HINTS = re.compile(
    r"private\s+vulnerability\s+reporting|report\s+a\s+vulnerability|security\s+tab|security\s+advisor"
    r"|hackerone\.com|bugcrowd\.com|huntr\.(?:dev|com)|intigriti\.com|yeswehack\.com",
    re.IGNORECASE,
)


# -- deciding (pure) ------------------------------------------------------------------------------


def links_to_form(text: str, full_name: str) -> bool:
    """Does the policy send reporters to this repository's private-reporting form?"""
    for m in _FORM_LINK.finditer(text):
        if m["owner"] is None or f"{m['owner']}/{m['repo']}".lower() == full_name.lower():
            return True
    return False


def has_private_contact(text: str) -> bool:
    """An e-mail address, the private-reporting form, or a bug-bounty platform."""
    emails = [e for e in _EMAIL.findall(text) if "noreply" not in e.lower()]
    return bool(emails) or bool(_FORM_LINK.search(text)) or bool(_PRIVATE_HINTS.search(text))


def tells_to_open_issue(text: str) -> bool:
    """Does the policy tell people to report vulnerabilities in a (public) issue?

    A sentence counts when it gives the instruction without a negation before it ("do not open an
    issue" is the advice we want) and it, its paragraph or the heading above speaks of security.
    """
    heading = ""
    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.strip().splitlines()
        if lines and lines[0].lstrip().startswith("#"):
            heading = lines[0]
        about_security = bool(_SECURITY_WORDS.search(paragraph) or _SECURITY_WORDS.search(heading))
        for sentence in re.split(r"(?<=[.!?])\s+|\n", paragraph):
            for m in _ISSUE_INSTRUCTION.finditer(sentence):
                if not _NEGATION.search(sentence[: m.start()]) and about_security:
                    return True
    return False


def diagnose(full_name: str, pvr: bool, policy: dict[str, str] | None) -> list[str]:
    """The problem kinds that keep reporters from reaching the maintainers privately."""
    if policy is None:
        return [] if pvr else [NO_CHANNEL]
    text = policy.get("text") or ""
    found = []
    if not pvr and links_to_form(text, full_name):
        found.append(FORM_404)
    if tells_to_open_issue(text) and not has_private_contact(text):
        found.append(PUBLIC_ISSUES)
    if PLACEHOLDER in text:
        found.append(PLACEHOLDER_LEFT)
    return found


def human_duration(text: str) -> str:
    """A config duration as people write it: "2 working days", "90 days", "36 hours"."""
    d = repo_config.Duration.parse(text)
    if d.working_days:
        n = d.working_days
        return f"{n:g} working day{'' if n == 1 else 's'}"
    for unit, seconds in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if d.seconds >= seconds and d.seconds % seconds == 0 or unit == "minute":
            n = d.seconds / seconds
            return f"{n:g} {unit}{'' if n == 1 else 's'}"
    return text  # pragma: no cover - the loop always returns


def _policy_url(html_url: str, policy: dict[str, str] | None) -> str | None:
    if not policy:
        return None
    base = html_url.rsplit("/", 1)[0]
    return f"{base}/{policy['repo']}/blob/HEAD/{policy['path']}"


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


async def _check_soon(ctx: Context, repos: list[dict[str, Any]]) -> None:
    installation_id = ctx.data["installation"]["id"]
    for repo in repos:
        if not repo.get("private"):
            await schedule_check(ctx.queue, installation_id, repo["full_name"], ctx.clock.now())


@router.register("installation", action="created")
async def on_installed(event: sansio.Event, ctx: Context) -> None:
    """Check each public repository of a new installation."""
    await _check_soon(ctx, event.data.get("repositories") or [])


@router.register("installation", action="unsuspend")
async def on_unsuspended(event: sansio.Event, ctx: Context) -> None:
    """Resume the daily checks of an installation's public repositories."""
    for name in await active_repos(ctx, event.data["installation"]["id"], public_only=True):
        await schedule_check(ctx.queue, event.data["installation"]["id"], name, ctx.clock.now())


@router.register("installation", action="deleted")
@router.register("installation", action="suspend")
async def on_uninstalled(event: sansio.Event, ctx: Context) -> None:
    """Stop the checks of a removed or suspended installation."""
    inst_id = event.data["installation"]["id"]
    async with ctx.store.engine.connect() as conn:
        names = [r[0] for r in await conn.execute(sa.select(installation_repos.c.full_name)
                                                  .where(installation_repos.c.installation_id == inst_id))]
    for name in {*names, *(r["full_name"] for r in event.data.get("repositories") or [])}:
        await ctx.queue.cancel(check_key(name))


@router.register("installation_repositories", action="added")
@router.register("installation_repositories", action="removed")
async def on_repositories_changed(event: sansio.Event, ctx: Context) -> None:
    """Check added public repositories; stop checking removed ones."""
    await _check_soon(ctx, event.data.get("repositories_added") or [])
    for repo in event.data.get("repositories_removed") or []:
        await ctx.queue.cancel(check_key(repo["full_name"]))


# -- the check -------------------------------------------------------------------------------------


async def run_check(payload: Any, ctx: Context) -> None:
    """The `channel_check` job: check one repository, sync its onboarding issue, come back tomorrow."""
    full_name, installation_id = ctx.full_name, ctx.installation_id
    if ctx.gh is None or not full_name or installation_id is None:
        return
    if not await still_covered(ctx, installation_id, full_name):
        ctx.log.info("channel check stopped: repository no longer installed", extra={"repo": full_name})
        return
    owner, name = full_name.split("/", 1)
    repo = await get_or_none(ctx.gh, "/repos/{owner}/{repo}", {"owner": owner, "repo": name}, missing=(403, 404, 451))
    if not repo or repo.get("private") or repo.get("archived"):
        ctx.log.info("channel check stopped: repository gone, private or archived", extra={"repo": full_name})
        return
    await _schedule_next(ctx, installation_id, full_name)
    cfg = await ctx.config()
    if not cfg["enabled"] or not cfg["channel_check"]["enabled"]:
        return
    await forget_channel(ctx, owner, name)  # a daily check must see today's settings
    pvr = await pvr_enabled(ctx, owner, name)
    policy = await security_md(ctx, owner, name)
    problems = diagnose(full_name, pvr, policy)
    ctx.log.info("channel checked", extra={"repo": full_name, "pvr": pvr, "security_md": bool(policy),
                                           "problems": problems})
    await sync_onboarding_issue(ctx, repo, problems, pvr=pvr, policy=policy)


def onboarding_key(full_name: str) -> str:
    return f"onboarding:{full_name.lower()}"


async def sync_onboarding_issue(ctx: Context, repo: dict[str, Any], problems: list[str], *, pvr: bool,
                                policy: dict[str, str] | None) -> None:
    """Open the repository's one onboarding issue, update it, or close it when all is well."""
    assert ctx.gh is not None
    full_name = repo["full_name"]
    key, reports, now = onboarding_key(full_name), Reports(ctx.store), ctx.clock.now()
    record = await reports.action_result(key)
    if record is None:
        if not problems:
            return
        record = await reports.claim_action(key, ctx.job_id, now)
        if record is None:
            await _open_issue(ctx, repo, problems, pvr=pvr, policy=policy)
            return
    if record.get("state") == "dismissed":
        return
    number = record["number"]
    issue = await get_or_none(ctx.gh, "/repos/{owner}/{repo}/issues/{issue_number}", ctx.repo(issue_number=number),
                              missing=(404, 410))
    if issue is None or (issue["state"] == "closed" and record.get("state") == "open"):
        # deleted, transferred, or closed by a maintainer: their call, never nag again
        await reports.record_action(key, None, {**record, "state": "dismissed"}, now)
        return
    if problems:
        changes: dict[str, Any] = {}
        if issue["state"] == "closed":
            changes["state"] = "open"
        if issue["state"] == "closed" or problems != record.get("problems"):
            changes["body"] = _issue_body(repo, problems, pvr=pvr, policy=policy)
        if changes:
            await ctx.gh.patch("/repos/{owner}/{repo}/issues/{issue_number}", ctx.repo(issue_number=number), data=changes)
        await reports.record_action(key, None, {**record, "state": "open", "problems": problems}, now)
    elif record.get("state") in ("open", "closing"):  # not "closed": a maintainer reopened it
        await _close_issue(ctx, full_name, number, record)


def _issue_body(repo: dict[str, Any], problems: list[str], *, pvr: bool, policy: dict[str, str] | None) -> str:
    html_url = repo["html_url"]
    body = render("onboarding", problems=problems, pvr=pvr, html_url=html_url,
                  settings_url=f"{html_url}/settings/security_analysis", form_url=f"{html_url}/security/advisories/new",
                  policy_url=_policy_url(html_url, policy), policy_path=(policy or {}).get("path"),
                  placeholder=PLACEHOLDER)
    return f"{body.rstrip()}\n\n{marker('onboarding', repo=repo['full_name'])}\n"


async def _open_issue(ctx: Context, repo: dict[str, Any], problems: list[str], *, pvr: bool,
                      policy: dict[str, str] | None) -> None:
    """Post the issue, then record it. The claim keeps a second job out; if this job dies between
    the two, its retry cannot find the issue (GitHub offers no cheap search by marker) and posts again."""
    assert ctx.gh is not None
    key, reports = onboarding_key(repo["full_name"]), Reports(ctx.store)
    made = await ctx.gh.post("/repos/{owner}/{repo}/issues", ctx.repo(),
                             data={"title": ISSUE_TITLE, "body": _issue_body(repo, problems, pvr=pvr, policy=policy)})
    if ctx.dry_run or not isinstance(made, dict) or "number" not in made:
        await reports.forget_action(key)  # nothing was created: a real run must still open it
        return
    await reports.record_action(key, None, {"number": made["number"], "state": "open", "problems": problems},
                                ctx.clock.now())
    ctx.log.info("onboarding issue opened", extra={"repo": repo["full_name"], "number": made["number"]})


async def _close_issue(ctx: Context, full_name: str, number: int, record: dict[str, Any]) -> None:
    """Say why, then close as completed; the comment is found by its marker on a retry."""
    assert ctx.gh is not None
    key, reports = onboarding_key(full_name), Reports(ctx.store)
    await reports.record_action(key, None, {**record, "state": "closing"}, ctx.clock.now())
    url_vars = ctx.repo(issue_number=number)
    said = False
    async for comment in ctx.gh.getiter("/repos/{owner}/{repo}/issues/{issue_number}/comments", url_vars):
        said = said or find_marker(comment.get("body"), "onboarding-resolved") is not None
    if not said:
        body = render("onboarding_resolved").rstrip() + f"\n\n{marker('onboarding-resolved', repo=full_name)}\n"
        await ctx.gh.post("/repos/{owner}/{repo}/issues/{issue_number}/comments", url_vars, data={"body": body})
    await ctx.gh.patch("/repos/{owner}/{repo}/issues/{issue_number}", url_vars,
                       data={"state": "closed", "state_reason": "completed"})
    if not ctx.dry_run:
        await reports.record_action(key, None, {**record, "state": "closed", "problems": []}, ctx.clock.now())
    ctx.log.info("onboarding issue closed: channel works", extra={"repo": full_name, "number": number})


# -- /sec setup --------------------------------------------------------------------------------------


async def open_security_md_pull_request(ctx: Context, issue_number: int) -> str:
    """Open one pull request adding SECURITY.md; "opened", "exists" or "missing-permission".

    Needs the optional permissions contents: write and pull_requests: write; without them GitHub
    answers 403, and the maintainers are told once (on `issue_number`) what to grant.
    """
    assert ctx.gh is not None
    full_name = ctx.full_name or ""
    key, reports = f"setup-pr:{full_name.lower()}", Reports(ctx.store)
    if await reports.claim_action(key, ctx.job_id, ctx.clock.now()) is not None:
        return "exists"
    try:
        pull = await _security_md_pull_request(ctx, issue_number)
    except gidgethub.BadRequest as exc:
        await reports.forget_action(key)  # a later /sec setup tries again
        if exc.status_code != 403:
            raise
        await _explain_missing_permission(ctx, issue_number)
        return "missing-permission"
    except Exception:
        await reports.forget_action(key)
        raise
    if ctx.dry_run:
        await reports.forget_action(key)
        return "opened"
    await reports.record_action(key, None, {"number": (pull or {}).get("number"), "issue": issue_number},
                                ctx.clock.now())
    ctx.log.info("security policy pull request opened", extra={"number": (pull or {}).get("number")})
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


def security_md_text(cfg: dict[str, Any], *, html_url: str, pvr: bool) -> str:
    policy = cfg["policy"]
    return render("security_md", pvr=pvr, form_url=f"{html_url}/security/advisories/new", placeholder=PLACEHOLDER,
                  acknowledge=human_duration(policy["acknowledge_within"]),
                  triage=human_duration(policy["triage_within"]),
                  update=human_duration(policy["update_every"]["untriaged"]),
                  disclosure=human_duration(policy["disclosure_after"]))


async def _explain_missing_permission(ctx: Context, issue_number: int) -> None:
    """Tell the maintainers once which permissions `/sec setup` needs."""
    assert ctx.gh is not None
    full_name = ctx.full_name or ""
    key, reports = f"setup-permission:{full_name.lower()}", Reports(ctx.store)
    if await reports.claim_action(key, ctx.job_id, ctx.clock.now()) is not None:
        return
    body = render("onboarding_permission").rstrip() + f"\n\n{marker('setup-permission', repo=full_name)}\n"
    made = await ctx.gh.post("/repos/{owner}/{repo}/issues/{issue_number}/comments",
                             ctx.repo(issue_number=issue_number), data={"body": body})
    if ctx.dry_run:
        await reports.forget_action(key)
        return
    await reports.record_action(key, None, {"comment_id": (made or {}).get("id")}, ctx.clock.now())
