"""Every write Secbot makes to GitHub for a report, each done once.

A write that must not repeat is named by a key and recorded in the store (`actions`) with what
it created. A retry finds the record and skips the write. Whatever it creates carries a hidden
marker, so that when a try may have made it without recording it, it is looked for before it is
sent again (`create_once`): after a crash between the write and the record (a claim taken over),
and after GitHub answered a create with a 5xx or dropped the connection (`MaybeApplied`: it may
have made it all the same). Only what this app wrote is trusted: anyone can type a marker into a
comment (`own`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import gidgethub

from bot.clock import iso, parse_iso
from bot.errors import MaybeApplied
from bot.jobs.context import Context
from bot.render import find_marker, marker

LOOK_BACK = 3600.0  # look for a create from this long before its first try: GitHub's clock is not ours
SENDS = 3  # sends of one create in one attempt, each after the first looking for the last
PAUSE = 1.0  # seconds before looking for a create GitHub may have made (times the send's number)


def _vars(ctx: Context, repo: str | None, **extra: Any) -> dict[str, Any]:
    """URL variables for `repo` ("owner/name"), or for the event's repository."""
    if repo is None:
        return ctx.repo(**extra)
    owner, _, name = repo.partition("/")
    return {"owner": owner, "repo": name, **extra}


async def comment_once(ctx: Context, *, key: str, kind: str, report_id: int, body: str, number: int | None = None,
                       ghsa_id: str | None = None, repo: str | None = None) -> dict[str, Any]:
    """Post a marked comment on an issue (`number`) or an advisory (`ghsa_id`) unless it was posted
    before; returns {"comment_id"}."""
    assert ctx.gh is not None
    if ghsa_id is not None:
        url = "/repos/{owner}/{repo}/security-advisories/{ghsa_id}/comments"
        url_vars = _vars(ctx, repo, ghsa_id=ghsa_id)
    else:
        url = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
        url_vars = _vars(ctx, repo, issue_number=number)
    text = marked(body, kind, report_id, key)

    async def send() -> dict[str, Any]:
        assert ctx.gh is not None
        made = await ctx.gh.post(url, url_vars, data={"body": text})
        return {"comment_id": (made or {}).get("id")}

    async def find(since: float) -> dict[str, Any] | None:
        found = await find_comment(ctx, url, url_vars, kind, {"report": str(report_id), "key": short(key)}, since)
        return {"comment_id": found["id"]} if found else None

    return await create_once(ctx, key=key, report_id=report_id, send=send, find=find)


ADD_DISCUSSION_COMMENT = ("mutation($discussion: ID!, $body: String!) { addDiscussionComment(input: "
                          "{discussionId: $discussion, body: $body}) { comment { id databaseId } } }")
DISCUSSION_COMMENTS = ("query($discussion: ID!) { node(id: $discussion) { ... on Discussion { comments(last: 100) "
                       "{ nodes { id databaseId body viewerDidAuthor } } } } }")
DISCUSSION_ID = ("query($owner: String!, $name: String!, $number: Int!) { repository(owner: $owner, name: $name) "
                 "{ discussion(number: $number) { id } } }")
LOCK_LOCKABLE = ("mutation($input: LockLockableInput!) { lockLockable(input: $input) "
                 "{ lockedRecord { locked activeLockReason } } }")
DELETE_DISCUSSION_COMMENT = ("mutation($input: DeleteDiscussionCommentInput!) { deleteDiscussionComment(input: $input) "
                             "{ comment { id } } }")
MINIMIZE = ("mutation($input: MinimizeCommentInput!) { minimizeComment(input: $input) "
            "{ minimizedComment { isMinimized } } }")


async def discussion_comment_once(ctx: Context, *, key: str, kind: str, report_id: int, discussion_id: str,
                                  body: str) -> dict[str, Any]:
    """Reply in a discussion (GraphQL `addDiscussionComment`; the REST API has none for an App's
    repository discussions) with a marked comment, once; returns {"comment_id"}."""
    text = marked(body, kind, report_id, key)

    async def send() -> dict[str, Any]:
        assert ctx.gh is not None
        made = await ctx.gh.graphql(ADD_DISCUSSION_COMMENT, discussion=discussion_id, body=text)
        comment = ((made or {}).get("addDiscussionComment") or {}).get("comment") or {}
        return {"comment_id": comment.get("databaseId"), "node_id": comment.get("id")}

    async def find(since: float) -> dict[str, Any] | None:
        assert ctx.gh is not None
        found = await ctx.gh.graphql(DISCUSSION_COMMENTS, discussion=discussion_id)
        nodes = (((found or {}).get("node") or {}).get("comments") or {}).get("nodes") or []
        attrs = {"report": str(report_id), "key": short(key)}
        for node in nodes:  # viewerDidAuthor: written by this App's token, so a typed marker does not count
            if node.get("viewerDidAuthor") and _carries(node.get("body"), kind, attrs):
                return {"comment_id": node.get("databaseId"), "node_id": node.get("id")}
        return None

    return await create_once(ctx, key=key, report_id=report_id, send=send, find=find)


async def minimize(ctx: Context, node_id: str, classifier: str) -> bool:
    """Hide a comment (issue, pull request or discussion comment) behind GitHub's "hidden as
    <classifier>" fold (GraphQL `minimizeComment`); False when GitHub refuses."""
    return await _mutate(ctx, MINIMIZE, {"subjectId": node_id, "classifier": classifier},
                         "minimize a comment", {"classifier": classifier})


async def _mutate(ctx: Context, mutation: str, given: dict[str, Any], what: str, extra: dict[str, Any]) -> bool:
    """Run a GraphQL mutation with `input: given` (or log it in a dry run); False, logged as
    "could not <what>", when GitHub refuses. `extra` says what was done, never any text."""
    if ctx.dry_run:
        ctx.log.info(f"dry run: would {what}", extra=extra)
        return True
    assert ctx.gh is not None
    try:
        await ctx.gh.graphql(mutation, input=given)
    except (gidgethub.QueryError, gidgethub.BadGraphQLRequest) as exc:
        ctx.log.warning(f"could not {what}", extra={**extra, "error": type(exc).__name__})
        return False
    return True


async def discussion_id(ctx: Context, number: int) -> str | None:
    """The GraphQL id of the event repository's discussion `number` (to reply in it), or None."""
    assert ctx.gh is not None
    owner, _, name = (ctx.full_name or "/").partition("/")
    try:
        found = await ctx.gh.graphql(DISCUSSION_ID, owner=owner, name=name, number=number)
    except (gidgethub.QueryError, gidgethub.BadGraphQLRequest):
        return None
    return (((found or {}).get("repository") or {}).get("discussion") or {}).get("id")


async def discussion_comment_node(ctx: Context, discussion: str, comment_id: int) -> str | None:
    """The GraphQL id of a comment among a discussion's latest 100, by its database id, or None."""
    assert ctx.gh is not None
    try:
        found = await ctx.gh.graphql(DISCUSSION_COMMENTS, discussion=discussion)
    except (gidgethub.QueryError, gidgethub.BadGraphQLRequest):
        return None
    nodes = (((found or {}).get("node") or {}).get("comments") or {}).get("nodes") or []
    return next((n.get("id") for n in nodes if n.get("databaseId") == comment_id), None)


async def lock_lockable(ctx: Context, node_id: str, reason: str) -> bool:
    """Lock a discussion (or an issue) by its GraphQL id (`lockLockable`, reason OFF_TOPIC,
    RESOLVED, SPAM or TOO_HEATED); False when GitHub refuses."""
    return await _mutate(ctx, LOCK_LOCKABLE, {"lockableId": node_id, "lockReason": reason},
                         "lock a discussion", {"reason": reason})


async def delete_discussion_comment(ctx: Context, node_id: str) -> bool:
    """Delete a discussion comment (GraphQL `deleteDiscussionComment`); False when GitHub refuses
    (already gone, or not allowed)."""
    return await _mutate(ctx, DELETE_DISCUSSION_COMMENT, {"id": node_id}, "delete a discussion comment", {})


async def create_once(ctx: Context, *, key: str, report_id: int | None, send: Callable[[], Awaitable[dict[str, Any]]],
                      find: Callable[[float], Awaitable[dict[str, Any] | None]],
                      record_dry_run: bool = True) -> dict[str, Any]:
    """Make the create `key` (a comment, an issue, an advisory, a pull request) once; returns what
    was recorded for it.

    `send()` makes it and returns what to record. `find(since)` looks at GitHub for what this app
    created under `key` at `since` or later (by its hidden marker) and returns what to record, or
    None. It is called before any send that could make the create twice: when the claim was taken
    over from an earlier try, and after a send GitHub may have applied without saying so
    (`MaybeApplied`). Without `record_dry_run`, a dry run records nothing (a real run makes it).
    """
    claim = await ctx.ledger.claim_write(key, ctx.job_id, ctx.clock.now())
    if claim.done is not None:
        return claim.done
    began = ctx.clock.now() if claim.since is None else claim.since
    look = claim.since is not None
    for n in range(1, SENDS + 1):
        if look:
            found = await find(began - LOOK_BACK)
            if found is not None:
                ctx.log.info("found a write an earlier try made", extra={"write": _kind(key)})
                await ctx.ledger.record(key, report_id, found, ctx.clock.now())
                return found
        try:
            result = await send()
            break
        except MaybeApplied as exc:
            if n == SENDS:
                raise  # the job's retry looks again
            ctx.log.warning("GitHub may have made a write it did not confirm; looking for it before sending it again",
                            extra={"write": _kind(key), "status": exc.status})
            look = True
            await ctx.clock.sleep(PAUSE * n)
    if ctx.dry_run and not record_dry_run:
        await ctx.ledger.forget(key)
        return result
    await ctx.ledger.record(key, report_id, result, ctx.clock.now())
    return result


async def issue_once(ctx: Context, *, key: str, report_id: int | None, repo: str, data: dict[str, Any], kind: str,
                     attrs: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
                     record_dry_run: bool = True) -> dict[str, Any]:
    """Open an issue in `repo` ("owner/name") once; returns {"number", **extra} as recorded.

    Its body carries a `kind` marker: the caller's, found by `attrs`, or else one added here with
    the report and the key (as `marked` writes it)."""
    if attrs is None:
        attrs = {"report": str(report_id), "key": short(key)}
        if find_marker(data.get("body"), kind) is None:
            data = {**data, "body": marked(data.get("body") or "", kind, report_id or 0, key)}
    owner, _, name = repo.partition("/")

    async def send() -> dict[str, Any]:
        assert ctx.gh is not None
        made = await ctx.gh.post("/repos/{owner}/{repo}/issues", {"owner": owner, "repo": name}, data=data)
        return {"number": (made or {}).get("number"), **(extra or {})}

    async def find(since: float) -> dict[str, Any] | None:
        found = await find_issue(ctx, repo, kind, attrs, since)
        return {"number": found["number"], **(extra or {})} if found else None

    return await create_once(ctx, key=key, report_id=report_id, send=send, find=find, record_dry_run=record_dry_run)


async def advisory_once(ctx: Context, *, key: str, report_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Create a draft repository advisory in the event's repository once; returns its "ghsa_id" and
    "collaborating_users" (None and [] in a dry run, which records nothing). Its description gets
    a `draft` marker."""
    data = {**data, "description": marked(data["description"], "draft", report_id, key)}

    def result(advisory: Any) -> dict[str, Any]:
        advisory = advisory if isinstance(advisory, dict) else {}
        return {"ghsa_id": advisory.get("ghsa_id"),
                "collaborating_users": [{"login": u["login"]} for u in advisory.get("collaborating_users") or []]}

    async def send() -> dict[str, Any]:
        assert ctx.gh is not None
        return result(await ctx.gh.post("/repos/{owner}/{repo}/security-advisories", ctx.repo(), data=data))

    async def find(since: float) -> dict[str, Any] | None:
        found = await find_advisory(ctx, ctx.full_name or "", "draft", {"report": str(report_id), "key": short(key)},
                                    since)
        return result(found) if found else None

    return await create_once(ctx, key=key, report_id=report_id, send=send, find=find, record_dry_run=False)


async def own(ctx: Context, item: dict[str, Any]) -> bool:
    """Whether a comment, issue, pull request or advisory GitHub returned was written by this app:
    made through it (`performed_via_github_app`) or by its bot account. Markers count only there."""
    via = item.get("performed_via_github_app") or {}
    app_id = ctx.services.settings.app_id
    if app_id is not None and via.get("id") is not None and str(via["id"]) == str(app_id):
        return True
    author = item.get("user") or item.get("author") or {}
    login = await bot_login(ctx)
    return login is not None and str(author.get("login") or "").lower() == login.lower()


async def bot_login(ctx: Context) -> str | None:
    """The app's bot account ("<slug>[bot]"), learnt at start; asked for here if that failed."""
    services = ctx.services
    if services.bot_login is None and services.github is not None:
        data = await services.github.app_client().getitem("/app")
        services.bot_login = f"{data['slug']}[bot]"
    return services.bot_login


async def find_comment(ctx: Context, url: str, url_vars: dict[str, Any], kind: str, attrs: dict[str, str],
                       since: float) -> dict[str, Any] | None:
    """This app's comment at `url` (issue or advisory comments) updated at `since` or later whose
    `kind` marker carries `attrs`."""
    assert ctx.gh is not None
    async for comment in ctx.gh.getiter(url + "{?since,per_page}", {**url_vars, "since": iso(since), "per_page": 100}):
        if _carries(comment.get("body"), kind, attrs) and await own(ctx, comment):
            return comment
    return None


async def find_issue(ctx: Context, repo: str, kind: str, attrs: dict[str, str], since: float) -> dict[str, Any] | None:
    """This app's issue in `repo` ("owner/name") opened at `since` or later whose `kind` marker
    carries `attrs` (newest first: what a try just made is on the first page)."""
    assert ctx.gh is not None
    owner, _, name = repo.partition("/")
    url = "/repos/{owner}/{repo}/issues{?state,sort,direction,since,per_page}"
    async for issue in ctx.gh.getiter(url, {"owner": owner, "repo": name, "state": "all", "sort": "created",
                                            "direction": "desc", "since": iso(since), "per_page": 100}):
        if parse_iso(issue["created_at"]) < since:
            return None
        if _carries(issue.get("body"), kind, attrs) and await own(ctx, issue):
            return issue
    return None


async def find_advisory(ctx: Context, repo: str, kind: str, attrs: dict[str, str],
                        since: float) -> dict[str, Any] | None:
    """This app's repository advisory in `repo` created at `since` or later whose description's
    `kind` marker carries `attrs` (a private report's author is its reporter, never this app)."""
    assert ctx.gh is not None
    owner, _, name = repo.partition("/")
    url = "/repos/{owner}/{repo}/security-advisories{?sort,direction,per_page}"
    async for advisory in ctx.gh.getiter(url, {"owner": owner, "repo": name, "sort": "created", "direction": "desc",
                                               "per_page": 100}):
        if parse_iso(advisory["created_at"]) < since:
            return None
        if _carries(advisory.get("description"), kind, attrs) and await own(ctx, advisory):
            return advisory
    return None


def _carries(body: str | None, kind: str, attrs: dict[str, str]) -> bool:
    found = find_marker(body, kind)
    return found is not None and all(found.get(k) == v for k, v in attrs.items())


def _kind(key: str) -> str:
    return key.split(":", 1)[0]


def marked(body: str, kind: str, report_id: int, key: str) -> str:
    """A comment body with the hidden marker that lets a retry recognise it."""
    return f"{body.rstrip()}\n\n{marker(kind, report=report_id, key=short(key))}\n"


def short(key: str) -> str:
    """A marker-safe digest of an action key, so a retry can tell two messages of one kind apart."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


async def add_labels(ctx: Context, number: int, labels: list[str]) -> None:
    if labels:
        assert ctx.gh is not None
        await ctx.gh.post("/repos/{owner}/{repo}/issues/{issue_number}/labels", ctx.repo(issue_number=number),
                          data={"labels": labels})


async def remove_labels(ctx: Context, number: int, labels: list[str]) -> None:
    assert ctx.gh is not None
    for label in labels:
        try:
            await ctx.gh.delete("/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
                                ctx.repo(issue_number=number, name=label))
        except gidgethub.BadRequest as exc:
            if exc.status_code != 404:  # already gone
                raise


async def add_assignees(ctx: Context, number: int, users: list[str], repo: str | None = None) -> None:
    """Assign; GitHub silently drops users without push access, so say who was dropped."""
    if not users:
        return
    assert ctx.gh is not None
    issue = await ctx.gh.post("/repos/{owner}/{repo}/issues/{issue_number}/assignees",
                              _vars(ctx, repo, issue_number=number), data={"assignees": users[:10]})
    if ctx.dry_run or not isinstance(issue, dict) or "assignees" not in issue:
        return
    assigned = {a["login"].lower() for a in issue.get("assignees") or []}
    dropped = [u for u in users[:10] if u.lower() not in assigned]
    if dropped:
        ctx.log.warning("GitHub did not assign these security-team members (no push access to the repository)",
                        extra={"dropped_assignees": dropped})


async def lock(ctx: Context, number: int, reason: str = "resolved") -> None:
    assert ctx.gh is not None
    await ctx.gh.put("/repos/{owner}/{repo}/issues/{issue_number}/lock", ctx.repo(issue_number=number),
                     data={"lock_reason": reason})


async def unlock(ctx: Context, number: int) -> None:
    assert ctx.gh is not None
    try:
        await ctx.gh.delete("/repos/{owner}/{repo}/issues/{issue_number}/lock", ctx.repo(issue_number=number))
    except gidgethub.BadRequest as exc:
        if exc.status_code != 404:  # not locked (a try GitHub did not confirm unlocked it)
            raise


async def delete_comment(ctx: Context, comment_id: int) -> None:
    assert ctx.gh is not None
    try:
        await ctx.gh.delete("/repos/{owner}/{repo}/issues/comments/{comment_id}", ctx.repo(comment_id=comment_id))
    except gidgethub.BadRequest as exc:
        if exc.status_code != 404:
            raise


async def update_issue(ctx: Context, number: int, **fields: Any) -> dict[str, Any]:
    assert ctx.gh is not None
    return await ctx.gh.patch("/repos/{owner}/{repo}/issues/{issue_number}", ctx.repo(issue_number=number), data=fields)


# REST reaction contents and GraphQL's ReactionContent for the same reaction.
GRAPHQL_REACTION = {"+1": "THUMBS_UP", "-1": "THUMBS_DOWN", "confused": "CONFUSED"}
ADD_REACTION = "mutation($input: AddReactionInput!) { addReaction(input: $input) { reaction { content } } }"


async def react(ctx: Context, *, comment_id: int | None = None, issue_number: int | None = None,
                node_id: str | None = None, content: str = "+1") -> None:
    """Acknowledge a command with a reaction (👍 done, 👎 refused, 😕 not understood): on an issue
    comment or an issue by REST, on a discussion comment (`node_id`) by GraphQL, the only way there."""
    assert ctx.gh is not None
    if node_id is not None:
        await _mutate(ctx, ADD_REACTION, {"subjectId": node_id, "content": GRAPHQL_REACTION[content]},
                      "react to a command", {"content": content})
    elif comment_id is not None:
        await ctx.gh.post("/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
                          ctx.repo(comment_id=comment_id), data={"content": content})
    elif issue_number is not None:
        await ctx.gh.post("/repos/{owner}/{repo}/issues/{issue_number}/reactions",
                          ctx.repo(issue_number=issue_number), data={"content": content})
