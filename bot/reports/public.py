"""Security reports filed in public issues and comments: detect, redirect the reporter, label,
assign, lock; move the report into a private draft advisory (`hide`), and undo it all for a false
alarm (`not_security`). Each write is done once across retries and redeliveries."""

from __future__ import annotations

import dataclasses
from typing import Any

import gidgethub

from bot.clock import iso
from bot.github.urls import advisory_url
from bot.jobs.context import Context
from bot.render import render
from bot.reports import away, outreach, triage, writes
from bot.reports.channel import Channel, private_channel
from bot.reports.permissions import is_maintainer
from bot.reports.second_opinion import may_ask, second_opinion
from bot.rules import context as text_context
from bot.rules import memory
from bot.rules.config import RepoConfig
from bot.rules.followups import NOTE_HARMLESS, UPGRADE, after_edit, spam_action
from bot.rules.detect import TextContext, Verdict, classify, features
from bot.rules.states import NEW, OPEN, POSSIBLE, SPAM
from bot.store.reports import (
    REJECTED,
    Report,
    StateChanged,
    comment_key,
    discussion_comment_key,
    discussion_key,
    issue_key,
)

COMMENTS = ("comment", "discussion_comment")
DISCUSSIONS = ("discussion", "discussion_comment")


@dataclasses.dataclass(frozen=True)
class Post:
    """A public text a handler hands over: where it is, who wrote it, and what GitHub says of it."""

    source: str  # issue | comment | discussion | discussion_comment | pull_request
    number: int  # the issue's, pull request's or discussion's number
    comment_id: int | None  # the comment's id (issue or discussion comment)
    author: dict[str, Any]
    title: str
    body: str | None
    context: TextContext
    node_id: str | None = None  # GraphQL id of the text itself (to hide a comment as spam)
    thread_node_id: str | None = None  # GraphQL id of the discussion (to reply in it)


def words_verdict(cfg: RepoConfig, title: str, body: str | None, context: TextContext) -> Verdict | None:
    """The classifier's verdict under the repository's settings, before the context's evidence; None
    when it must not look."""
    detection = cfg.detection
    if not cfg.enabled or not detection.enabled:
        return None
    if set(context.labels) & set(detection.exempt_labels):
        return None
    return classify(title, body, detection.verdict_thresholds(), context)


async def with_tree(ctx: Context, cfg: RepoConfig, post: Post, words: Verdict) -> Verdict:
    """The words' verdict moved a little by what GitHub says of the text (bot/rules/context.py), with
    the repository's file paths among that evidence when the text names paths and its score is near
    a tier: only then is the tree read (once per commit, ETag-cached: bot/github/trees.py). The
    classifier reads no paths, so the tree only changes the evidence: it is applied to the same
    words' verdict, never a second classification."""
    th = cfg.detection.verdict_thresholds()
    verdict = text_context.apply(words, post.title, post.body, post.context, th)
    if (post.context.repo_paths is not None or verdict.kind not in ("vulnerability", "possible", "none")
            or not text_context.worth_reading_tree(verdict.score, post.body, (th.public, th.notify))):
        return verdict
    ref = (ctx.data.get("repository") or {}).get("default_branch")
    if not ref or ctx.gh is None:
        return verdict
    try:
        paths = await triage.repo_paths(ctx, ctx.full_name or "", ref)
    except gidgethub.GitHubException:
        return verdict  # the tree is evidence, never a reason to fail the text
    if not paths:
        return verdict
    return text_context.apply(words, post.title, post.body, dataclasses.replace(post.context, repo_paths=paths), th)


async def remembered(ctx: Context, cfg: RepoConfig, verdict: Verdict, title: str, body: str | None) -> Verdict:
    """The verdict after this repository's memory of its maintainers' answers (bot/rules/memory.py),
    read only when it could move the score across a threshold."""
    if verdict.kind not in ("vulnerability", "possible", "none"):
        return verdict
    th = cfg.detection.verdict_thresholds()
    if not memory.worth_asking(verdict.score, (th.public, th.notify)):
        return verdict
    examples = await ctx.feedback.examples(ctx.full_name or "")
    if not examples:
        return verdict
    adj = memory.adjust(verdict.score, memory.feature_names(features(title, body)), examples)
    if adj.reason is None:
        return verdict
    kind = "vulnerability" if adj.score >= th.public else "possible" if adj.score >= th.notify else "none"
    return Verdict(kind, adj.score, (*verdict.reasons, adj.reason))


async def judge(ctx: Context, cfg: RepoConfig, post: Post) -> Verdict | None:
    """The verdict on a public text: the classifier's, then this repository's memory of its
    maintainers' answers, then the optional second opinion on the uncertain band."""
    verdict = await judge_here(ctx, cfg, post)
    if verdict is None:
        return None
    return await second_opinion(ctx, cfg, post.title, post.body or "", verdict)  # off by default


async def judge_here(ctx: Context, cfg: RepoConfig, post: Post) -> Verdict | None:
    """`judge` without the second opinion: what Secbot makes of the text on its own."""
    words = words_verdict(cfg, post.title, post.body, post.context)
    if words is None:
        return None
    verdict = await with_tree(ctx, cfg, post, words)
    return await remembered(ctx, cfg, verdict, post.title, post.body)


def source_key(full_name: str, post: Post) -> str:
    if post.source in ("issue", "pull_request"):  # a pull request's number is an issue number
        return issue_key(full_name, post.number)
    if post.source == "comment":
        return comment_key(full_name, post.comment_id or 0)
    if post.source == "discussion":
        return discussion_key(full_name, post.number)
    return discussion_comment_key(full_name, post.comment_id or 0)


async def consider(ctx: Context, post: Post) -> None:
    """Classify a public text of the event's repository and, if it is a report by someone who
    cannot push, act on its verdict once:

    - `vulnerability`: redirect the reporter in public (and hide, with `public_reports.action: hide`);
    - `possible` (and any report in a pull request): a private heads-up to the maintainers, nothing
      public unless `public_reports.uncertain: comment`; nothing at all with `ignore`;
    - `phishing`: never answered; hidden as spam where GitHub lets the App, the maintainers told;
    - `status_ping`: one neutral reply per thread that never says whether a report exists.
    """
    repo = ctx.data["repository"]
    if repo.get("private") or post.context.author_is_bot or Context.is_bot(post.author) or ctx.gh is None:
        return
    cfg = await ctx.config()
    if post.source in COMMENTS and not cfg.detection.comments:
        return
    key = source_key(repo["full_name"], post)
    # A text just written is known only to a redelivery (or a retry) of its own delivery, with the
    # same text: its record is looked up only once it may read as a report (before any question to
    # the second opinion), which saves a read of the store for nearly every new issue and comment
    # (bench/README.md). An edit is looked up first: a report acted on follows its edits whatever
    # they read as.
    fresh = ctx.data.get("action") in ("opened", "created")
    if not fresh and await _followed(ctx, key, cfg, post):
        return
    verdict = await judge_here(ctx, cfg, post)
    if verdict is None:
        return
    if verdict.kind == "none" and not may_ask(ctx, cfg, verdict):
        return
    if fresh and await _followed(ctx, key, cfg, post):
        return
    verdict = await second_opinion(ctx, cfg, post.title, post.body or "", verdict)  # off by default
    if verdict.kind == "none":
        return
    if await is_maintainer(ctx, post.author["login"], post.context.author_association):
        return
    kind = verdict.kind
    if kind == "status_ping":
        await status_ping(ctx, post)
        return
    if kind in ("vulnerability", "beg_bounty") and post.source == "pull_request":
        kind = "possible"  # a public fix, maybe with a proof of concept: never a public redirect
    if kind == "possible" and cfg.public_reports.uncertain == "ignore":
        ctx.log.info("possible security report ignored (public_reports.uncertain: ignore)", extra={
            "source": post.source, "number": post.number, "score": round(verdict.score, 3)})
        return
    report = await _record(ctx, post, key, verdict, kind)
    kind = report.verdict  # a try that stopped before acting decided already: act on that
    ctx.log.info("security report detected in public", extra={
        "report": report.id, "source": post.source, "number": post.number, "verdict": kind,
        "score": round(verdict.score, 3), "reasons": list(verdict.reasons)})
    if kind == "phishing":
        await phishing(ctx, report, cfg, post)
    elif kind == "possible":
        await heads_up(ctx, report, cfg, post)
    elif post.source in DISCUSSIONS:
        await redirect_discussion(ctx, report, cfg, post)
    else:
        await act(ctx, report, cfg, hide=cfg.public_reports.action == "hide")


async def _followed(ctx: Context, key: str, cfg: RepoConfig, post: Post) -> bool:
    """Whether the text is a report acted on already; if so, its edit is followed (a redelivery
    finds nothing changed)."""
    known = await ctx.reports.by_key(key)
    if known is None or await ctx.ledger.result(f"handled:{known.id}") is None:
        return False
    if known.state != SPAM:
        await follow_edit(ctx, known, cfg, post)
    return True


async def _record(ctx: Context, post: Post, key: str, verdict: Verdict, kind: str) -> Report:
    """The report for a public text, once per source (its latest text kept privately)."""
    repo = ctx.data["repository"]
    login = post.author["login"]
    title = post.title if post.source not in COMMENTS else None
    state = POSSIBLE if kind == "possible" else SPAM if kind == "phishing" else NEW
    reports = ctx.reports
    report, _ = await reports.create(
        now=ctx.clock.now(), source_key=key, source=post.source, installation_id=ctx.installation_id,
        repo=repo["full_name"], issue_number=post.number, comment_id=post.comment_id, reporter=login,
        verdict=kind, score=verdict.score, reasons=verdict.reasons, state=state,
        original_title=title, original_body=post.body or "",
    )
    if post.source in DISCUSSIONS and await ctx.ledger.result(_nodes_key(report)) is None:
        # What later answers need to reply in, hide or undo in a discussion (GraphQL ids).
        await ctx.ledger.record(_nodes_key(report), report.id,
                                {"thread": post.thread_node_id, "node": post.node_id}, ctx.clock.now())
    if report.original_body != (post.body or "") or (title is not None and report.original_title != title):
        # Recorded by an attempt that stopped before acting, and edited since: act on the latest text.
        report = await reports.update(report.id, now=ctx.clock.now(), original_title=title,
                                      original_body=post.body or "", event="edited", actor=login)
    return report


def _nodes_key(report: Report) -> str:
    return f"nodes:{report.id}"


async def discussion_nodes(ctx: Context, report: Report) -> tuple[str | None, str | None]:
    """The GraphQL ids of a discussion report's discussion and of its text (the discussion, or the
    comment): as recorded when it was detected, else asked of GitHub (the comment among the
    discussion's latest 100)."""
    known = await ctx.ledger.result(_nodes_key(report)) or {}
    thread, node = known.get("thread"), known.get("node")
    if thread is None:
        thread = await writes.discussion_id(ctx, report.issue_number or 0)
    if node is None and thread is not None:
        node = thread if report.source == "discussion" else await writes.discussion_comment_node(
            ctx, thread, report.comment_id or 0)
    return thread, node


def post_of(report: Report, thread_node_id: str | None = None, node_id: str | None = None) -> Post:
    """A report's public text as a Post, for the answers that act on it later (no text: only where it is)."""
    return Post(source=report.source, number=report.issue_number or 0, comment_id=report.comment_id,
                author={"login": report.reporter}, title="", body=None, context=TextContext(source=report.source),
                node_id=node_id, thread_node_id=thread_node_id)


async def redirect(ctx: Context, report: Report, cfg: RepoConfig, *, hide: bool) -> None:
    """Redirect a report confirmed after the fact (`/sec confirm`, `/sec hide` on a possible
    report): on its issue or comment (`act`), or as a reply in its discussion."""
    if report.source not in DISCUSSIONS:
        await act(ctx, report, cfg, hide=hide)
        return
    if hide:
        report = await hide_report(ctx, report, cfg)
    thread, node = await discussion_nodes(ctx, report)
    if thread is None:
        ctx.log.warning("the discussion of a report cannot be found: no redirect posted", extra={"report": report.id})
        return
    post = post_of(report, thread, node)
    await _reply(ctx, post, key=f"redirect:{report.id}", kind="redirect", report_id=report.id,
                 body=_redirect_body(ctx, report, cfg, await _channel(ctx), _template(report)))
    await ctx.reports.update(report.id, now=ctx.clock.now(), event="redirected", actor="secbot",
                             detail={"hidden": report.hidden})


def _where(post: Post) -> str:
    return {"issue": f"issue #{post.number}", "comment": f"a comment on #{post.number}",
            "pull_request": f"pull request #{post.number}", "discussion": f"discussion #{post.number}",
            "discussion_comment": f"a comment in discussion #{post.number}"}[post.source]


def _url(ctx: Context, post: Post) -> str:
    web = ctx.data["repository"]["html_url"]
    path = {"pull_request": "pull", "discussion": "discussions", "discussion_comment": "discussions"}.get(
        post.source, "issues")
    anchor = {"comment": f"#issuecomment-{post.comment_id}",
              "discussion_comment": f"#discussioncomment-{post.comment_id}"}.get(post.source, "")
    return f"{web}/{path}/{post.number}{anchor}"


async def _reply(ctx: Context, post: Post, *, key: str, kind: str, report_id: int, body: str) -> dict[str, Any]:
    """A marked public reply where the text is, once: on the issue or pull request, or in the discussion."""
    if post.source in DISCUSSIONS:
        return await writes.discussion_comment_once(ctx, key=key, kind=kind, report_id=report_id,
                                                    discussion_id=post.thread_node_id or "", body=body)
    return await writes.comment_once(ctx, key=key, kind=kind, report_id=report_id, number=post.number, body=body)


async def heads_up(ctx: Context, report: Report, cfg: RepoConfig, post: Post, *, redirected: bool = False) -> None:
    """Tell the maintainers privately about a possible report (or one Secbot cannot hide): in the
    report's tracker issue, else kept for `secbot reports --state possible`. Nothing public,
    unless `public_reports.uncertain: comment` asks for a neutral pointer to the private channel."""
    commented = False
    if not redirected and cfg.public_reports.uncertain == "comment" and post.source != "pull_request":
        body = render("possible_public", reporter=report.reporter, channel=(await _channel(ctx)).as_dict())
        await _reply(ctx, post, key=f"possible:{report.id}", kind="possible", report_id=report.id, body=body)
        commented = True
    report = await outreach.sync_tracker(ctx, report, cfg)
    note = render("heads_up", where=_where(post), url=_url(ctx, post), reporter=report.reporter, source=report.source,
                  score=round(report.score, 3), reasons=list(report.reasons), commented=commented,
                  redirected=redirected, here=await outreach.tracker_ok(ctx, report))
    went = await outreach.tell_maintainers(ctx, report, key=f"heads-up:{report.id}", body=note)
    await ctx.ledger.record(f"handled:{report.id}", report.id, {"heads_up": went}, ctx.clock.now())
    await ctx.reports.update(report.id, now=ctx.clock.now(), event="heads-up", actor="secbot",
                             detail={"to": went, "commented": commented})


async def redirect_discussion(ctx: Context, report: Report, cfg: RepoConfig, post: Post) -> None:
    """A report in a discussion: the redirect as a reply in the discussion (GitHub lets an App
    neither hide a discussion nor delete its comments' history), and the maintainers told."""
    channel = await _channel(ctx)
    await _reply(ctx, post, key=f"redirect:{report.id}", kind="redirect", report_id=report.id,
                 body=_redirect_body(ctx, report, cfg, channel, _template(report)))
    await heads_up(ctx, report, cfg, post, redirected=True)


async def status_ping(ctx: Context, post: Post) -> None:
    """"Any news on my report?" in public: one neutral reply per thread pointing to the private
    channel, which never says whether a report exists. No report is recorded."""
    thread = f"d{post.number}" if post.source in DISCUSSIONS else str(post.number)
    key = f"status-ping:{(ctx.full_name or '').lower()}:{thread}"
    if await ctx.ledger.result(key) is not None:
        return
    body = render("status_ping", reporter=post.author["login"], channel=(await _channel(ctx)).as_dict())
    await _reply(ctx, post, key=key, kind="status-ping", report_id=0, body=body)
    ctx.log.info("status question in public answered with the private channel",
                 extra={"source": post.source, "number": post.number})


async def phishing(ctx: Context, report: Report, cfg: RepoConfig, post: Post) -> None:
    """A fake "security alert": never answered; hidden as spam where GitHub lets the App (a
    comment is minimized; an issue closed and locked), and the maintainers told privately."""
    how = await _hide_spam(ctx, report, post)
    report = await outreach.sync_tracker(ctx, report, cfg)
    note = render("phishing_note", where=_where(post), url=_url(ctx, post), reporter=report.reporter,
                  score=round(report.score, 3), reasons=list(report.reasons), how=how)
    went = await outreach.tell_maintainers(ctx, report, key=f"phishing:{report.id}", body=note)
    await ctx.ledger.record(f"handled:{report.id}", report.id, {"hidden": how, "told": went}, ctx.clock.now())
    await ctx.reports.update(report.id, now=ctx.clock.now(), event="spam-hidden", actor="secbot",
                             detail={"how": how, "to": went})


async def _hide_spam(ctx: Context, report: Report, post: Post) -> str:
    """Hide a phishing post once, the least destructive way GitHub lets an App (bot/rules/followups.py
    `spam_action`); returns how: "minimized", "closed", "locked" or "none"."""
    key = f"spam:{report.id}"
    done = await ctx.ledger.result(key)
    if done is not None:
        return str(done.get("how"))
    how, action = "none", spam_action(post.source)
    if action == "minimize" and post.node_id:
        how = "minimized" if await writes.minimize(ctx, post.node_id, "SPAM") else "none"
    elif action == "close":
        await writes.update_issue(ctx, post.number, state="closed", state_reason="not_planned")
        await writes.lock(ctx, post.number, reason="spam")
        how = "closed"
    elif action == "lock" and post.node_id:
        how = "locked" if await writes.lock_lockable(ctx, post.node_id, "SPAM") else "none"
    await ctx.ledger.record(key, report.id, {"how": how}, ctx.clock.now())
    return how


async def follow_edit(ctx: Context, report: Report, cfg: RepoConfig, post: Post) -> None:
    """A report acted on was edited (or reopened): keep its latest text privately, so `hide`
    copies and `/sec not-security` restores the latest; text put back into a hidden issue is
    hidden again, and the draft advisory gets it. The edited text is judged again
    (bot/rules/followups.py `after_edit`): a possible report edited into a confident one is
    redirected now, once; a text edited into something harmless undoes nothing public, and the
    maintainers are told."""
    latest = (post.title if report.source not in COMMENTS else None, post.body or "")
    if report.hidden:
        if await _how_hidden(ctx, report, cfg) != "replaced" or latest == (HIDDEN_TITLE, _hidden_notice()):
            return  # nothing public is left (deleted, transferred), or the issue still shows only our notice
        report = await ctx.reports.update(report.id, now=ctx.clock.now(), original_title=latest[0],
                                          original_body=latest[1], event="edited", actor=report.reporter)
        ctx.log.info("text put back into a hidden report: hidden again", extra={"report": report.id})
        await _replace_issue_text(ctx, report)
        await _update_draft(ctx, report)
        return
    if (report.original_title, report.original_body or "") == latest:
        return
    verdict = await judge(ctx, cfg, post) if report.state in (POSSIBLE, *OPEN) else None
    action = None if verdict is None else after_edit(state=report.state, verdict_then=report.verdict,
                                                     kind_now=verdict.kind, source=report.source, hidden=report.hidden)
    if action == UPGRADE and verdict is not None:
        await upgrade(ctx, report, cfg, post, verdict, latest)
        return
    seen = {"verdict": verdict.kind, "score": round(verdict.score, 3)} if verdict is not None else None
    report = await ctx.reports.update(report.id, now=ctx.clock.now(), original_title=latest[0], original_body=latest[1],
                                      event="edited", actor=report.reporter, detail=seen)
    if action == NOTE_HARMLESS and verdict is not None:
        ctx.log.info("a public text acted on was edited into a harmless one: nothing public undone",
                     extra={"report": report.id, "score": round(verdict.score, 3)})
        note = render("edited_harmless", where=_where(post), url=_url(ctx, post), score=round(verdict.score, 3),
                      redirected=report.state != POSSIBLE)
        await outreach.tell_maintainers(ctx, report, key=f"edited-harmless:{report.id}", body=note)


async def upgrade(ctx: Context, report: Report, cfg: RepoConfig, post: Post, verdict: Verdict,
                  latest: tuple[str | None, str]) -> None:
    """A possible report (a private heads-up, nothing public) edited into a confident one: the
    public redirect now (hidden too with `public_reports.action: hide`), and the maintainers told
    in the heads-up's thread. Each write is once-keyed and the state moves last, so a retry that
    stopped half-way finds the text still new, judges it again and completes; a second edit finds
    the report redirected and does nothing more."""
    now_report = dataclasses.replace(report, verdict="vulnerability", score=verdict.score,
                                     original_title=latest[0], original_body=latest[1])
    ctx.log.info("a possible security report was edited into a confident one: redirected",
                 extra={"report": report.id, "source": post.source, "score": round(verdict.score, 3),
                        "reasons": list(verdict.reasons)})
    if post.source in DISCUSSIONS:
        await _reply(ctx, post, key=f"redirect:{report.id}", kind="redirect", report_id=report.id,
                     body=_redirect_body(ctx, now_report, cfg, await _channel(ctx), "redirect"))
    else:
        await act(ctx, now_report, cfg, hide=cfg.public_reports.action == "hide")
    note = render("heads_up_upgraded", where=_where(post), url=_url(ctx, post), score=round(verdict.score, 3),
                  reasons=list(verdict.reasons), hidden=cfg.public_reports.action == "hide" and post.source not in DISCUSSIONS)
    await outreach.tell_maintainers(ctx, report, key=f"upgraded:{report.id}", body=note)
    try:
        report = await ctx.reports.update(
            report.id, now=ctx.clock.now(), state=NEW, verdict="vulnerability", score=verdict.score,
            original_title=latest[0], original_body=latest[1], expect_state=POSSIBLE, event="upgraded",
            actor="secbot", detail={"verdict": verdict.kind, "score": round(verdict.score, 3),
                                    "reasons": list(verdict.reasons)})
    except StateChanged:  # a maintainer answered meanwhile: theirs stands
        return
    await outreach.sync_tracker(ctx, report, cfg)


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
    if not report.hidden:
        report = await _take_away(ctx, report, cfg)
    # Then, the text being private, the maintainers' triage card (bot/reports/triage.py).
    if report.draft_ghsa_id:
        await triage.card(ctx, report, cfg)
    return report


async def _take_away(ctx: Context, report: Report, cfg: RepoConfig) -> Report:
    """Remove the public copy of a report now held in a draft advisory."""
    reports = ctx.reports
    if report.source == "comment" and report.comment_id:
        await writes.delete_comment(ctx, report.comment_id)
        how = "deleted"
    elif report.source in DISCUSSIONS:
        # A discussion comment is deleted like an issue comment; a discussion itself stays (an App
        # can neither hide it nor replace its text without deleting everyone's replies): the
        # maintainers are told to edit it by hand.
        _, node = await discussion_nodes(ctx, report)
        deleted = report.source == "discussion_comment" and node is not None \
            and await writes.delete_discussion_comment(ctx, node)
        if not deleted:
            await ctx.ledger.record(_how_key(report), report.id, {"how": "kept"}, ctx.clock.now())
            return report
        how = "deleted"
    elif cfg.public_reports.private_repo and await _transfer(ctx, cfg.public_reports.private_repo, report.issue_number or 0):
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


async def _transfer(ctx: Context, private_repo: str, number: int) -> bool:
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
    issue_id = (ctx.data.get("issue") or {}).get("node_id")
    if issue_id is None or (ctx.data.get("issue") or {}).get("number") != number:
        # Answered from elsewhere (the private tracker): the public issue's id, from GitHub.
        issue_id = (await ctx.gh.getitem("/repos/{owner}/{repo}/issues/{issue_number}",
                                         ctx.repo(issue_number=number)))["node_id"]
    await ctx.gh.graphql(
        "mutation($issue: ID!, $repo: ID!) { transferIssue(input: {issueId: $issue, repositoryId: $repo}) { issue { number url } } }",
        issue=issue_id, repo=target["id"])
    return True


async def confirm(ctx: Context, report: Report, cfg: RepoConfig, login: str, *, and_hide: bool = False) -> None:
    """`/sec confirm` (and `/sec hide`) on a possible report: it is a report. It is handled like any
    report filed in public (a pull request gets no public redirect, only its tracker issue), and
    the answer is remembered. On a report already acted on, `hide` hides it; confirm does nothing."""
    if report.state != POSSIBLE:
        if and_hide:
            await hide(ctx, report, cfg, login)
        return
    await record_feedback(ctx, report, memory.CONFIRMED, login)
    report = await ctx.reports.update(report.id, now=ctx.clock.now(), state=NEW, verdict="vulnerability",
                                      event="confirmed", actor=login, expect_state=POSSIBLE,
                                      detail={"verdict": report.verdict, "score": report.score})
    if report.source == "pull_request":
        await outreach.sync_tracker(ctx, report, cfg)
        return
    await redirect(ctx, report, cfg, hide=and_hide or cfg.public_reports.action == "hide")


async def record_feedback(ctx: Context, report: Report, label: str, actor: str) -> None:
    """Keep a maintainer's answer to a verdict, once per report and answer: the verdict, score and
    feature names for the per-repository memory, the text (private, until housekeeping forgets it)
    for `secbot feedback export`. Logged without any of the text."""
    found = memory.feature_names(features(report.original_title or "", report.original_body))
    kept = await ctx.feedback.record(
        key=f"feedback:{report.id}:{label}", now=ctx.clock.now(), repo=report.repo, report_id=report.id,
        source=report.source, label=label, verdict=report.verdict, score=report.score, reasons=report.reasons,
        features=found, title=report.original_title, body=report.original_body, actor=actor)
    if kept:
        ctx.log.info("feedback recorded", extra={"report": report.id, "label": label, "verdict": report.verdict})


async def hide(ctx: Context, report: Report, cfg: RepoConfig, login: str = "secbot") -> None:
    """`/sec hide`: move a redirected report into a draft advisory and point the reporter there."""
    if report.state == POSSIBLE:
        await confirm(ctx, report, cfg, login, and_hide=True)
        return
    await record_feedback(ctx, report, memory.CONFIRMED, login)
    if report.hidden:
        return
    report = await hide_report(ctx, report, cfg)
    done = await ctx.ledger.result(f"redirect:{report.id}")
    transferred = await _transferred(ctx, report, cfg)
    if done and done.get("comment_id") and not transferred and report.source not in DISCUSSIONS:
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
    await record_feedback(ctx, report, memory.FALSE_ALARM, login)
    if report.state == POSSIBLE:  # only a heads-up, and with `uncertain: comment` a neutral pointer
        await _delete_reply(ctx, report, await ctx.ledger.result(f"possible:{report.id}"))
        await reports.update(report.id, now=ctx.clock.now(), state=REJECTED, reject_reason="not-security",
                             event="not-security", actor=login,
                             detail={"verdict": report.verdict, "score": report.score, "reasons": list(report.reasons)})
        return
    on_issue = report.source not in DISCUSSIONS  # a discussion has no labels or lock of ours: only the reply
    if on_issue:
        await writes.remove_labels(ctx, number, list(cfg.labels))
    await _delete_reply(ctx, report, await ctx.ledger.result(f"redirect:{report.id}"))
    if on_issue and await _how_hidden(ctx, report, cfg) == "replaced":
        await writes.update_issue(ctx, number, title=report.original_title or "", body=report.original_body or "",
                                  state="open")
    if on_issue and ((report.hidden and report.source == "issue") or cfg.public_reports.lock):
        await writes.unlock(ctx, number)
    if report.draft_ghsa_id:
        assert ctx.gh is not None
        await ctx.gh.patch("/repos/{owner}/{repo}/security-advisories/{ghsa_id}", ctx.repo(ghsa_id=report.draft_ghsa_id),
                           data={"state": "closed"})
    await reports.update(report.id, now=ctx.clock.now(), state=REJECTED, reject_reason="not-security", hidden=False,
                         event="not-security", actor=login,
                         detail={"verdict": report.verdict, "score": report.score, "reasons": list(report.reasons)})
    # The callers (verbs) refresh the report's tracker issue afterwards: a hidden report's tracker
    # issue, opened for its triage card, is closed there.


async def _delete_reply(ctx: Context, report: Report, done: dict[str, Any] | None) -> None:
    """Take back a reply Secbot posted about a report (a redirect, a neutral pointer): an issue
    comment, or a discussion comment (by the GraphQL id recorded when it was posted)."""
    if not done or not done.get("comment_id"):
        return
    if report.source not in DISCUSSIONS:
        await writes.delete_comment(ctx, int(done["comment_id"]))
    elif done.get("node_id"):
        await writes.delete_discussion_comment(ctx, str(done["node_id"]))
    else:
        ctx.log.warning("a reply in a discussion cannot be taken back (posted before its id was kept)",
                        extra={"report": report.id})
