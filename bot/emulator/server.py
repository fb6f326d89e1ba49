"""The HTTP side of the emulator: validation against the description, auth, handlers.

Order of checks for every request (each failure is recorded, never silently passed):

1. ``X-GitHub-Api-Version``, if sent, must be a version GitHub serves (else 400 violation).
2. Method + path must match an operation of ``openapi-subset.json`` or ``extensions.json``;
   path parameters, query parameters (no unknown ones) and the JSON body must
   validate (OpenAPI 3.0 semantics). Else 400 ``{"message": "emulator: <reason>"}``.
3. Auth: App JWT for ``/app…`` and ``/repos/{owner}/{repo}/installation``; none for
   manifest conversion; an unexpired emulator-issued installation token whose
   installation covers the repository (or org) for everything else. Else 401.
4. Injected failures (``state.fail_next``, then ``state.inject_faults``'s random ones): an
   answer (502, 503, a secondary rate limit...) or a dropped connection instead of the
   handler's, or, for an ``applied`` failure, after it: the write is made, the answer is lost.
5. The handler. Its answer is checked against the description's response schema
   (problems go to ``state.response_errors``), gets an ETag if it is a GET, and a
   matching ``If-None-Match`` turns it into a 304.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import aiohttp
import jwt
from aiohttp import web

from .payloads import Payloads
from .spec import Operation, Spec, load_spec
from .state import (
    API,
    DROP,
    Forbidden,
    GitHubState,
    InjectedFailure,
    NotFound,
    RecordedRequest,
    Repo,
    Unprocessable,
    Violation,
    public,
)

STATE_KEY = web.AppKey("emulator_state", GitHubState)
SPEC_KEY = web.AppKey("emulator_spec", Spec)
DELIVERER_KEY = web.AppKey("emulator_deliverer", "Deliverer")

API_VERSIONS = {"2022-11-28", "2026-03-10"}
DOCS = "https://docs.github.com/rest"
JWT_TEMPLATES_PREFIX = "/app"
RATE_LIMIT = 5000


class Moved(Exception):
    def __init__(self, full_name: str, number: int) -> None:
        super().__init__(f"{full_name}#{number}")
        self.full_name, self.number = full_name, number


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # pre-encoded body (e.g. raw file contents)
    content_type: str = "application/json; charset=utf-8"
    drop: bool = False  # close the connection instead of answering


@dataclass
class Ctx:
    state: GitHubState
    op: Operation
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    installation_id: int | None
    actor: str | None
    request: web.Request
    deliverer: Deliverer

    @property
    def full_name(self) -> str:
        return f"{self.params['owner']}/{self.params['repo']}"

    def repo(self) -> Repo:
        return self.state.repo(self.full_name)

    def issue(self) -> dict[str, Any]:
        number = int(self.params["issue_number"])
        repo = self.repo()
        if number in repo.issues:
            return repo.issues[number]
        moved = self.state.moved_to(repo.full_name, number)
        if moved:
            raise Moved(*moved)
        raise NotFound(f"{self.full_name}#{number}")

    def body_value(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default) if isinstance(self.body, dict) else default


Handler = Callable[[Ctx], Awaitable[Reply] | Reply]
HANDLERS: dict[tuple[str, str], Handler] = {}


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[(method, template)] = func
        return func
    return register


def _error(status: int, message: str, **extra: Any) -> Reply:
    return Reply(status, {"message": message, "documentation_url": DOCS, "status": str(status), **extra})


def _since(ctx: Ctx, items: list[Any]) -> list[Any]:
    """Items updated at or after the `since` query parameter, when given (GitHub's comment lists)."""
    if "since" not in ctx.query:
        return items
    since = _parse_time(ctx.query["since"])
    return [c for c in items if _parse_time(c["updated_at"]) >= since]


def _paginate(ctx: Ctx, items: list[Any]) -> Reply:
    per_page = min(int(ctx.query.get("per_page", 30)), 100)
    page = max(int(ctx.query.get("page", 1)), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page: page * per_page]
    reply = Reply(200, chunk)
    links = []
    base = f"{ctx.request.scheme}://{ctx.request.host}{ctx.request.path}"

    def link(n: int, rel: str) -> str:
        query = {**ctx.query, "per_page": str(per_page), "page": str(n)}
        return f'<{base}?{urlencode(query)}>; rel="{rel}"'
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(1, "first"), link(page - 1, "prev")]
    if links:
        reply.headers["Link"] = ", ".join(links)
    return reply


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# --------------------------------------------------------------------------------------------
# Apps (JWT)


@route("POST", "/app/installations/{installation_id}/access_tokens")
def create_token(ctx: Ctx) -> Reply:
    inst = ctx.state.installations.get(int(ctx.params["installation_id"]))
    if inst is None:
        raise NotFound("installation")
    if inst["suspended_at"]:
        return _error(403, "This installation has been suspended")
    repos = ctx.state.installation_repos(inst["id"])
    names = ctx.body_value("repositories")
    ids = ctx.body_value("repository_ids")
    narrowed: list[Repo] | None = None
    if names or ids:
        narrowed = [r for r in repos if r.data["name"] in (names or []) or r.data["id"] in (ids or [])]
        if len(narrowed) != len(set(names or [])) + len(set(ids or [])):
            return _error(422, "There is at least one repository that does not exist or is not accessible to the parent installation.")
    permissions = dict(inst["permissions"])
    for key, level in (ctx.body_value("permissions") or {}).items():
        if key not in permissions or (permissions[key] == "read" and level == "write"):
            return _error(422, f"The permissions requested are not granted to this installation: {key}")
        permissions[key] = level
    token = ctx.state.issue_token(inst["id"], [r.full_name for r in narrowed] if narrowed is not None else None)
    body = {"token": token.token, "expires_at": token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "permissions": permissions,
            "repository_selection": "selected" if narrowed is not None else inst["repository_selection"]}
    if narrowed is not None:
        body["repositories"] = [r.data for r in narrowed]
    return Reply(201, body)


@route("GET", "/app")
def get_app(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.app)


@route("GET", "/app/installations")
def list_installations(ctx: Ctx) -> Reply:
    return _paginate(ctx, [ctx.state.installations[k] for k in sorted(ctx.state.installations)])


@route("GET", "/repos/{owner}/{repo}/installation")
def get_repo_installation(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    if repo.installation_id is None:
        raise NotFound("installation")
    return Reply(200, ctx.state.installations[repo.installation_id])


@route("POST", "/app-manifests/{code}/conversions")
def manifest_conversion(ctx: Ctx) -> Reply:
    state = ctx.state
    if ctx.params["code"] not in state.manifest_codes:
        raise NotFound("manifest code")
    state.manifest_codes.discard(ctx.params["code"])
    return Reply(201, {**state.app, "client_secret": "emulator-client-secret",
                       "webhook_secret": state.webhook_secret, "pem": state.private_key_pem})


@route("GET", "/app/hook/deliveries")
def list_deliveries(ctx: Ctx) -> Reply:
    items = list(reversed(ctx.state.deliveries))
    status = ctx.query.get("status")
    if status == "success":
        items = [d for d in items if d["status"] == "OK"]
    elif status == "failure":
        items = [d for d in items if d["status"] != "OK"]
    per_page = min(int(ctx.query.get("per_page", 30)), 100)
    start = int(ctx.query.get("cursor", "0") or 0)
    reply = Reply(200, [public(d) for d in items[start:start + per_page]])
    if start + per_page < len(items):
        base = f"{ctx.request.scheme}://{ctx.request.host}{ctx.request.path}"
        query = {**ctx.query, "per_page": str(per_page), "cursor": str(start + per_page)}
        reply.headers["Link"] = f'<{base}?{urlencode(query)}>; rel="next"'
    return reply


@route("POST", "/app/hook/deliveries/{delivery_id}/attempts")
async def redeliver(ctx: Ctx) -> Reply:
    wanted = int(ctx.params["delivery_id"])
    for delivery in ctx.state.deliveries:
        if delivery["id"] == wanted:
            await ctx.deliverer.deliver(delivery["_event"], delivery["_payload"], delivery["guid"], redelivery=True)
            return Reply(202, {})
    raise NotFound("delivery")


# --------------------------------------------------------------------------------------------
# Repositories


@route("GET", "/repos/{owner}/{repo}")
def get_repo(ctx: Ctx) -> Reply:
    return Reply(200, ctx.repo().data)


@route("GET", "/installation/repositories")
def installation_repositories(ctx: Ctx) -> Reply:
    repos = [r.data for r in ctx.state.installation_repos(ctx.installation_id)]
    reply = _paginate(ctx, repos)
    inst = ctx.state.installations[ctx.installation_id]
    reply.body = {"total_count": len(repos), "repositories": reply.body,
                  "repository_selection": inst["repository_selection"]}
    return reply


def _file_body(repo: Repo, path: str, text: str, ref: str) -> dict[str, Any]:
    raw = text.encode()
    sha = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
    api = f"{API}/repos/{repo.full_name}/contents/{path}?ref={ref}"
    html = f"https://github.com/{repo.full_name}/blob/{ref}/{path}"
    git = f"{API}/repos/{repo.full_name}/git/blobs/{sha}"
    encoded = base64.encodebytes(raw).decode()
    return {"type": "file", "encoding": "base64", "size": len(raw), "name": path.rsplit("/", 1)[-1],
            "path": path, "content": encoded, "sha": sha, "url": api, "git_url": git, "html_url": html,
            "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{path}",
            "_links": {"self": api, "git": git, "html": html}}


@route("GET", "/repos/{owner}/{repo}/contents/{path}")
def get_content(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    ref = ctx.query.get("ref") or repo.data["default_branch"]
    ref = ref.removeprefix("refs/heads/")
    path = ctx.params["path"].strip("/")
    if (ref, path) not in repo.files:
        raise NotFound(path)
    text = repo.files[(ref, path)]
    if "application/vnd.github.raw" in ctx.request.headers.get("Accept", ""):
        return Reply(200, raw=text.encode(), content_type="application/vnd.github.raw; charset=utf-8")
    return Reply(200, _file_body(repo, path, text, ref))


@route("PUT", "/repos/{owner}/{repo}/contents/{path}")
def put_content(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    branch = ctx.body_value("branch") or repo.data["default_branch"]
    path = ctx.params["path"].strip("/")
    if f"heads/{branch}" not in repo.refs:
        raise NotFound(f"Branch {branch} not found")
    existing = repo.files.get((branch, path))
    sha = ctx.body_value("sha")
    if existing is not None:
        current = _file_body(repo, path, existing, branch)["sha"]
        if sha is None:
            return _error(422, "Invalid request.\n\n\"sha\" wasn't supplied.")
        if sha != current:
            return _error(409, f"{path} does not match {sha}")
    try:
        text = base64.b64decode(ctx.body["content"], validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return _error(422, "content is not valid Base64")
    ctx.state.put_file(repo.full_name, path, text, ref=branch)
    content = _file_body(repo, path, text, branch)
    del content["encoding"], content["content"]
    commit_sha = repo.refs[f"heads/{branch}"]
    actor = ctx.state.user(ctx.actor or "")
    who = {"date": ctx.state.iso_now(), "name": actor["login"], "email": f"{actor['id']}+{actor['login']}@users.noreply.github.com"}
    commit = {"sha": commit_sha, "node_id": f"C_{commit_sha[:20]}",
              "url": f"{API}/repos/{repo.full_name}/git/commits/{commit_sha}",
              "html_url": f"https://github.com/{repo.full_name}/commit/{commit_sha}",
              "author": who, "committer": who, "message": ctx.body["message"],
              "tree": {"url": f"{API}/repos/{repo.full_name}/git/trees/{commit_sha}", "sha": commit_sha},
              "parents": [], "verification": {"verified": False, "reason": "unsigned", "signature": None,
                                              "payload": None, "verified_at": None}}
    return Reply(200 if existing is not None else 201, {"content": content, "commit": commit})


@route("GET", "/repos/{owner}/{repo}/private-vulnerability-reporting")
def check_pvr(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    return Reply(200, {"enabled": bool(repo.pvr_enabled and not repo.data["private"])})


@route("PUT", "/repos/{owner}/{repo}/private-vulnerability-reporting")
def enable_pvr(ctx: Ctx) -> Reply:
    return _toggle_pvr(ctx, True)


@route("DELETE", "/repos/{owner}/{repo}/private-vulnerability-reporting")
def disable_pvr(ctx: Ctx) -> Reply:
    return _toggle_pvr(ctx, False)


def _toggle_pvr(ctx: Ctx, on: bool) -> Reply:
    """Needs the Administration permission; only for public, unarchived repositories (else 422)."""
    repo = ctx.repo()
    if ctx.state.pvr_toggle_refused:
        raise Forbidden("Resource not accessible by integration")
    if repo.data["private"] or repo.data.get("archived"):
        raise Unprocessable("Repository must be public and not archived")
    repo.pvr_enabled = on
    return Reply(204)


@route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
def permission_level(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.permission_level(ctx.repo().full_name, ctx.params["username"]))


def _git_ref(repo: Repo, ref: str) -> dict[str, Any]:
    sha = repo.refs[ref]
    return {"ref": f"refs/{ref}", "node_id": f"REF_{hashlib.sha1(ref.encode()).hexdigest()[:16]}",
            "url": f"{API}/repos/{repo.full_name}/git/refs/{ref}",
            "object": {"type": "commit", "sha": sha, "url": f"{API}/repos/{repo.full_name}/git/commits/{sha}"}}


@route("GET", "/repos/{owner}/{repo}/git/ref/{ref}")
def get_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    ref = ctx.params["ref"].removeprefix("refs/")
    if ref not in repo.refs:
        raise NotFound(ref)
    return Reply(200, _git_ref(repo, ref))


@route("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")
def get_tree(ctx: Ctx) -> Reply:
    found = ctx.state.tree_paths(ctx.repo().full_name, ctx.params["tree_sha"])
    if found is None:
        raise NotFound(ctx.params["tree_sha"])
    sha, paths = found
    full = ctx.repo().full_name
    recursive = "recursive" in ctx.query
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(paths):
        parts = path.split("/")
        if not recursive and len(parts) > 1:
            parts = parts[:1]
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            entries.setdefault(folder, {"path": folder, "mode": "040000", "type": "tree",
                                        "sha": hashlib.sha1(f"{full}:{folder}".encode()).hexdigest(),
                                        "url": f"{API}/repos/{full}/git/trees/{folder}"})
        if recursive or len(path.split("/")) == 1:
            blob = hashlib.sha1(f"{full}:{path}".encode()).hexdigest()
            entries[path] = {"path": path, "mode": "100644", "type": "blob", "sha": blob, "size": 1,
                             "url": f"{API}/repos/{full}/git/blobs/{blob}"}
    return Reply(200, {"sha": sha, "url": f"{API}/repos/{full}/git/trees/{sha}",
                       "tree": [entries[k] for k in sorted(entries)], "truncated": False})


@route("GET", "/repos/{owner}/{repo}/tags")
def list_tags(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    tags = []
    for ref, sha in sorted(repo.refs.items()):
        if ref.startswith("tags/"):
            name = ref.removeprefix("tags/")
            tags.append({"name": name, "node_id": f"REF_{sha[:16]}",
                         "commit": {"sha": sha, "url": f"{API}/repos/{repo.full_name}/commits/{sha}"},
                         "zipball_url": f"{API}/repos/{repo.full_name}/zipball/refs/tags/{name}",
                         "tarball_url": f"{API}/repos/{repo.full_name}/tarball/refs/tags/{name}"})
    return _paginate(ctx, tags)


@route("POST", "/repos/{owner}/{repo}/git/refs")
def create_ref(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    full = ctx.body["ref"]
    if not full.startswith("refs/") or full.count("/") < 2:
        return _error(422, "Reference name must start with 'refs/' and have at least two slashes.")
    ref = full.removeprefix("refs/")
    if ref in repo.refs:
        return _error(422, "Reference already exists")
    repo.refs[ref] = ctx.body["sha"]
    branch = ref.removeprefix("heads/")
    base = repo.data["default_branch"]
    for (b, path), text in list(repo.files.items()):
        if b == base:
            repo.files[(branch, path)] = text
    return Reply(201, _git_ref(repo, ref))


@route("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(ctx: Ctx) -> Reply:
    """A repository's pull requests, by state, `head` ("owner:branch") and `base`; newest first."""
    repo = ctx.repo()
    items = sorted(repo.pulls.values(), key=lambda p: p["number"], reverse=ctx.query.get("direction", "desc") == "desc")
    state = ctx.query.get("state", "open")
    if state != "all":
        items = [p for p in items if p["state"] == state]
    if "head" in ctx.query:
        items = [p for p in items if p["head"]["label"].lower() == ctx.query["head"].lower()]
    if "base" in ctx.query:
        items = [p for p in items if p["base"]["ref"] == ctx.query["base"]]
    return _paginate(ctx, items)


@route("POST", "/repos/{owner}/{repo}/pulls")
def create_pull(ctx: Ctx) -> Reply:
    state, repo = ctx.state, ctx.repo()
    head, base = ctx.body["head"].split(":")[-1], ctx.body["base"]
    for branch in (head, base):
        if f"heads/{branch}" not in repo.refs:
            return _error(422, "Validation Failed", errors=[{"resource": "PullRequest", "field": "head" if branch == head else "base", "code": "invalid"}])
    label = f"{repo.data['owner']['login']}:{head}"
    if any(p["state"] == "open" and p["head"]["label"] == label and p["base"]["ref"] == base for p in repo.pulls.values()):
        return _error(422, "Validation Failed", errors=[{"resource": "PullRequest", "code": "custom",
                                                        "message": f"A pull request already exists for {label}."}])
    issue = state.open_issue(repo.full_name, title=ctx.body.get("title") or head, body=ctx.body.get("body"),
                             user=ctx.actor)
    number = issue["number"]
    api = f"{API}/repos/{repo.full_name}/pulls/{number}"
    issue["pull_request"] = {"url": api, "html_url": f"https://github.com/{repo.full_name}/pull/{number}",
                             "diff_url": f"https://github.com/{repo.full_name}/pull/{number}.diff",
                             "patch_url": f"https://github.com/{repo.full_name}/pull/{number}.patch",
                             "merged_at": None}

    def side(branch: str) -> dict[str, Any]:
        return {"label": f"{repo.data['owner']['login']}:{branch}", "ref": branch,
                "sha": repo.refs[f"heads/{branch}"], "user": repo.data["owner"], "repo": repo.data}
    pull = {
        "url": api, "id": state.next_id(), "node_id": issue["node_id"].replace("SXNzdWU", "UFI"),
        "html_url": issue["pull_request"]["html_url"], "diff_url": issue["pull_request"]["diff_url"],
        "patch_url": issue["pull_request"]["patch_url"], "issue_url": issue["url"],
        "commits_url": f"{api}/commits", "review_comments_url": f"{api}/comments",
        "review_comment_url": f"{API}/repos/{repo.full_name}/pulls/comments{{/number}}",
        "comments_url": issue["comments_url"],
        "statuses_url": f"{API}/repos/{repo.full_name}/statuses/{repo.refs[f'heads/{head}']}",
        "number": number, "state": "open", "locked": False, "title": issue["title"], "user": issue["user"],
        "body": issue["body"], "labels": [], "milestone": None, "active_lock_reason": None,
        "created_at": issue["created_at"], "updated_at": issue["updated_at"], "closed_at": None,
        "merged_at": None, "merge_commit_sha": None, "assignee": None, "assignees": [],
        "requested_reviewers": [], "requested_teams": [], "head": side(head), "base": side(base),
        "_links": {k: {"href": v} for k, v in {
            "self": api, "html": issue["pull_request"]["html_url"], "issue": issue["url"],
            "comments": issue["comments_url"], "review_comments": f"{api}/comments",
            "review_comment": f"{API}/repos/{repo.full_name}/pulls/comments{{/number}}",
            "commits": f"{api}/commits", "statuses": f"{API}/repos/{repo.full_name}/statuses/{repo.refs[f'heads/{head}']}"}.items()},
        "author_association": issue["author_association"], "auto_merge": None,
        "draft": bool(ctx.body.get("draft", False)), "merged": False, "mergeable": None,
        "rebaseable": None, "mergeable_state": "unknown", "merged_by": None, "comments": 0,
        "review_comments": 0, "maintainer_can_modify": False, "commits": 1, "additions": 0,
        "deletions": 0, "changed_files": 0,
    }
    repo.pulls[number] = pull
    return Reply(201, pull)


# --------------------------------------------------------------------------------------------
# Issues


@route("POST", "/repos/{owner}/{repo}/issues")
def create_issue(ctx: Ctx) -> Reply:
    repo = ctx.repo()
    assignees = list(ctx.body_value("assignees") or [])
    if ctx.body_value("assignee"):
        assignees.insert(0, ctx.body["assignee"])
    issue = ctx.state.open_issue(repo.full_name, title=str(ctx.body["title"]), body=ctx.body_value("body"),
                                 user=ctx.actor, labels=[lab["name"] if isinstance(lab, dict) else lab
                                                         for lab in ctx.body_value("labels") or []],
                                 assignees=assignees)
    return Reply(201, issue)


_UNSERVED_ISSUE_FILTERS = ("milestone", "assignee", "type", "mentioned", "issue_field_values")


@route("GET", "/repos/{owner}/{repo}/issues")
def list_issues(ctx: Ctx) -> Reply:
    """A repository's issues and pull requests, filtered by state, creator, labels and `since`."""
    unserved = [name for name in _UNSERVED_ISSUE_FILTERS if name in ctx.query]
    if unserved:
        ctx.state.violations.append(Violation("GET", ctx.request.path, f"emulator does not filter issues by {unserved}"))
        return Reply(400, {"message": f"emulator: does not filter issues by {unserved}", "documentation_url": DOCS})
    items = list(ctx.repo().issues.values())
    state = ctx.query.get("state", "open")
    if state != "all":
        items = [i for i in items if i["state"] == state]
    if "creator" in ctx.query:
        items = [i for i in items if i["user"]["login"].lower() == ctx.query["creator"].lower()]
    if ctx.query.get("labels"):
        wanted = {name.strip().lower() for name in ctx.query["labels"].split(",")}
        items = [i for i in items if wanted <= {lab["name"].lower() for lab in i["labels"]}]
    key = {"created": "created_at", "updated": "updated_at", "comments": "comments"}[ctx.query.get("sort", "created")]
    items.sort(key=lambda i: (i[key], i["number"]), reverse=ctx.query.get("direction", "desc") == "desc")
    return _paginate(ctx, _since(ctx, items))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}")
def get_issue(ctx: Ctx) -> Reply:
    return Reply(200, ctx.issue())


@route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}")
def update_issue(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    changes = dict(ctx.body or {})
    if "labels" in changes and changes["labels"] is not None:
        changes["labels"] = [lab["name"] if isinstance(lab, dict) else lab for lab in changes["labels"]]
    return Reply(200, ctx.state.update_issue(ctx.repo().full_name, issue["number"], changes, actor=ctx.actor))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_comments(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    comments = issue.get("_comments", [])
    return _paginate(ctx, _since(ctx, comments))


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_comment(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    if issue["locked"] and not ctx.state.has_push(ctx.repo().full_name, ctx.actor):
        return _error(403, "Unable to create comment because issue is locked.")
    return Reply(201, ctx.state.add_comment(ctx.repo().full_name, issue["number"], body=ctx.body["body"], user=ctx.actor))


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_comment(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.find_comment(ctx.repo().full_name, int(ctx.params["comment_id"]))[1])


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.edit_comment(ctx.repo().full_name, int(ctx.params["comment_id"]), ctx.body["body"]))


@route("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def delete_comment(ctx: Ctx) -> Reply:
    ctx.state.delete_comment(ctx.repo().full_name, int(ctx.params["comment_id"]))
    return Reply(204)


def _label_names(body: Any) -> list[str]:
    if isinstance(body, dict):
        body = body.get("labels") or []
    names = []
    for item in body or []:
        names.append(item["name"] if isinstance(item, dict) else str(item))
    return names


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def add_labels(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    return Reply(200, ctx.state.add_labels(ctx.repo().full_name, issue["number"], _label_names(ctx.body)))


@route("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def set_labels(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    issue["labels"] = []
    return Reply(200, ctx.state.add_labels(ctx.repo().full_name, issue["number"], _label_names(ctx.body)))


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def remove_all_labels(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    issue["labels"] = []
    ctx.state._touch(issue)
    return Reply(204)


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}")
def remove_label(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    return Reply(200, ctx.state.remove_label(ctx.repo().full_name, issue["number"], ctx.params["name"]))


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/assignees")
def add_assignees(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    return Reply(201, ctx.state.set_assignees(ctx.repo().full_name, issue["number"], ctx.body_value("assignees") or []))


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/assignees")
def remove_assignees(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    return Reply(200, ctx.state.set_assignees(ctx.repo().full_name, issue["number"],
                                              ctx.body_value("assignees") or [], remove=True))


@route("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/lock")
def lock_issue(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    ctx.state.lock_issue(ctx.repo().full_name, issue["number"], ctx.body_value("lock_reason"))
    return Reply(204)


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/lock")
def unlock_issue(ctx: Ctx) -> Reply:
    issue = ctx.issue()
    if not issue["locked"]:
        raise NotFound("issue is not locked")
    ctx.state.unlock_issue(ctx.repo().full_name, issue["number"])
    return Reply(204)


def _reaction_reply(ctx: Ctx, subject: dict[str, Any]) -> Reply:
    reaction, created = ctx.state.add_reaction(subject, ctx.body["content"], ctx.actor)
    return Reply(201 if created else 200, public(reaction))


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/reactions")
def react_issue(ctx: Ctx) -> Reply:
    return _reaction_reply(ctx, ctx.issue())


@route("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def react_comment(ctx: Ctx) -> Reply:
    return _reaction_reply(ctx, ctx.state.find_comment(ctx.repo().full_name, int(ctx.params["comment_id"]))[1])


@route("GET", "/repos/{owner}/{repo}/labels/{name}")
def get_label(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.ensure_label(ctx.repo().full_name, ctx.params["name"], create=False))


@route("POST", "/repos/{owner}/{repo}/labels")
def create_label(ctx: Ctx) -> Reply:
    return Reply(201, ctx.state.create_label(ctx.repo().full_name, ctx.body["name"],
                                             ctx.body_value("color") or "ededed", ctx.body_value("description")))


# --------------------------------------------------------------------------------------------
# Repository security advisories (+ the preview comments API)


@route("GET", "/repos/{owner}/{repo}/security-advisories")
def list_advisories(ctx: Ctx) -> Reply:
    items = list(ctx.repo().advisories.values())
    if "state" in ctx.query:
        items = [a for a in items if a["state"] == ctx.query["state"]]
    key = {"created": "created_at", "updated": "updated_at", "published": "published_at"}[ctx.query.get("sort", "created")]
    items.sort(key=lambda a: a[key] or "", reverse=ctx.query.get("direction", "desc") == "desc")
    per_page = min(int(ctx.query.get("per_page", 30)), 100)
    return Reply(200, items[:per_page])


@route("POST", "/repos/{owner}/{repo}/security-advisories")
def create_advisory(ctx: Ctx) -> Reply:
    b = ctx.body
    if b.get("severity") and b.get("cvss_vector_string"):
        return _error(422, "Cannot set both severity and cvss_vector_string.")
    adv = ctx.state.create_advisory(ctx.repo().full_name, summary=b["summary"], description=b["description"],
                                    author=ctx.actor, vulnerabilities=b["vulnerabilities"],
                                    severity=b.get("severity"), cwe_ids=b.get("cwe_ids"),
                                    credits=b.get("credits"), cve_id=b.get("cve_id"))
    return Reply(201, adv)


@route("GET", "/repos/{owner}/{repo}/security-advisories/{ghsa_id}")
def get_advisory(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.advisory(ctx.repo().full_name, ctx.params["ghsa_id"]))


@route("PATCH", "/repos/{owner}/{repo}/security-advisories/{ghsa_id}")
def update_advisory(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.update_advisory(ctx.repo().full_name, ctx.params["ghsa_id"], ctx.body, actor=ctx.actor))


@route("POST", "/repos/{owner}/{repo}/security-advisories/reports")
def report_vulnerability(ctx: Ctx) -> Reply:
    b = ctx.body
    if b.get("severity") and b.get("cvss_vector_string"):
        return _error(422, "Cannot set both severity and cvss_vector_string.")
    adv = ctx.state.report_vulnerability(ctx.repo().full_name, summary=b["summary"], description=b["description"],
                                         user=ctx.actor, severity=b.get("severity"),
                                         vulnerabilities=b.get("vulnerabilities"), cwe_ids=b.get("cwe_ids"))
    return Reply(201, adv)


@route("GET", "/repos/{owner}/{repo}/security-advisories/{ghsa_id}/comments")
def list_advisory_comments(ctx: Ctx) -> Reply:
    comments = ctx.state.advisory_comments(ctx.repo().full_name, ctx.params["ghsa_id"])
    return _paginate(ctx, _since(ctx, comments))


@route("POST", "/repos/{owner}/{repo}/security-advisories/{ghsa_id}/comments")
def create_advisory_comment(ctx: Ctx) -> Reply:
    return Reply(201, ctx.state.add_advisory_comment(ctx.repo().full_name, ctx.params["ghsa_id"],
                                                     body=ctx.body["body"], user=ctx.actor))


@route("GET", "/repos/{owner}/{repo}/security-advisories/{ghsa_id}/comments/{comment_id}")
def get_advisory_comment(ctx: Ctx) -> Reply:
    for comment in ctx.state.advisory_comments(ctx.repo().full_name, ctx.params["ghsa_id"]):
        if comment["id"] == int(ctx.params["comment_id"]):
            return Reply(200, comment)
    raise NotFound("advisory comment")


@route("PATCH", "/repos/{owner}/{repo}/security-advisories/{ghsa_id}/comments/{comment_id}")
def update_advisory_comment(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.edit_advisory_comment(ctx.repo().full_name, ctx.params["ghsa_id"],
                                                      int(ctx.params["comment_id"]), ctx.body["body"]))


@route("POST", "/repos/{owner}/{repo}/security-advisories/{ghsa_id}/cve")
def request_cve(ctx: Ctx) -> Reply:
    ctx.state.request_cve(ctx.repo().full_name, ctx.params["ghsa_id"])
    return Reply(202, {})


# --------------------------------------------------------------------------------------------
# Releases


@route("GET", "/repos/{owner}/{repo}/releases")
def list_releases(ctx: Ctx) -> Reply:
    """Drafts too (the app has push access), newest first."""
    items = sorted(ctx.repo().releases.values(), key=lambda r: r["id"], reverse=True)
    return _paginate(ctx, items)


@route("GET", "/repos/{owner}/{repo}/releases/tags/{tag}")
def get_release_by_tag(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.release_by_tag(ctx.repo().full_name, ctx.params["tag"]))


@route("POST", "/repos/{owner}/{repo}/releases")
def create_release(ctx: Ctx) -> Reply:
    b = ctx.body
    release = ctx.state.create_release(ctx.repo().full_name, tag_name=b["tag_name"], name=b.get("name"),
                                       body=b.get("body"), draft=bool(b.get("draft", False)),
                                       prerelease=bool(b.get("prerelease", False)),
                                       target_commitish=b.get("target_commitish"), user=ctx.actor or "")
    return Reply(201, release)


# --------------------------------------------------------------------------------------------
# The global advisory database, code search, public profiles


@route("GET", "/advisories")
def list_global_advisories(ctx: Ctx) -> Reply:
    items = list(ctx.state.global_advisories.values())
    for key in ("ghsa_id", "cve_id", "type", "severity"):
        if key in ctx.query:
            items = [a for a in items if str(a.get(key) or "").lower() == ctx.query[key].lower()]
    per_page = min(int(ctx.query.get("per_page", 30)), 100)
    return Reply(200, items[:per_page])


@route("GET", "/advisories/{ghsa_id}")
def get_global_advisory(ctx: Ctx) -> Reply:
    for ghsa, adv in ctx.state.global_advisories.items():
        if ghsa.lower() == ctx.params["ghsa_id"].lower():
            return Reply(200, adv)
    raise NotFound(ctx.params["ghsa_id"])


@route("GET", "/search/code")
def search_code(ctx: Ctx) -> Reply:
    """`<term> repo:owner/name` only (what Secbot asks); 10 a minute per installation, as GitHub."""
    allowed, remaining, reset = ctx.state.take_code_search(ctx.installation_id)
    limit = {"x-ratelimit-limit": str(ctx.state.code_search_limit), "x-ratelimit-remaining": str(remaining),
             "x-ratelimit-used": str(ctx.state.code_search_limit - remaining), "x-ratelimit-reset": str(reset),
             "x-ratelimit-resource": "code_search"}
    if not allowed:
        reply = _error(403, "API rate limit exceeded for installation.")
        reply.headers.update(limit)
        return reply
    words = ctx.query.get("q", "").split()
    repos = [w.removeprefix("repo:") for w in words if w.startswith("repo:")]
    terms = [w.strip('"') for w in words if ":" not in w]
    if len(repos) != 1 or len(terms) != 1:
        return _error(422, "emulator: code search takes one term and one repo: qualifier")
    repo = ctx.state.repo(repos[0])
    if repo.installation_id != ctx.installation_id:
        return _error(422, "Validation Failed")
    items = []
    for path in ctx.state.search_code(repo.full_name, terms[0]):
        blob = hashlib.sha1(f"{repo.full_name}:{path}".encode()).hexdigest()
        items.append({"name": path.rsplit("/", 1)[-1], "path": path, "sha": blob,
                      "url": f"{API}/repos/{repo.full_name}/contents/{path}",
                      "git_url": f"{API}/repos/{repo.full_name}/git/blobs/{blob}",
                      "html_url": f"https://github.com/{repo.full_name}/blob/{repo.data['default_branch']}/{path}",
                      "repository": repo.data, "score": 1.0})
    reply = _paginate(ctx, items)
    reply.body = {"total_count": len(items), "incomplete_results": False, "items": reply.body}
    reply.headers.update(limit)
    return reply


@route("GET", "/users/{username}")
def get_user(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.profile(ctx.params["username"]))


# --------------------------------------------------------------------------------------------
# Teams


@route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}")
def team_membership(ctx: Ctx) -> Reply:
    return Reply(200, ctx.state.team_membership(ctx.params["org"], ctx.params["team_slug"], ctx.params["username"]))


# --------------------------------------------------------------------------------------------
# GraphQL

from .graphql import graphql_reply  # noqa: E402  (needs the names above)

route("POST", "/graphql")(graphql_reply)


# --------------------------------------------------------------------------------------------
# Dispatch


def _needs_jwt(op: Operation) -> bool:
    return op.template == "/app" or op.template.startswith("/app/") or \
        op.template == "/repos/{owner}/{repo}/installation"


def _needs_no_auth(op: Operation) -> bool:
    return op.template.startswith("/app-manifests/")


class AuthError(Exception):
    pass


def _check_jwt(state: GitHubState, header: str) -> None:
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential:
        raise AuthError("this endpoint needs 'Authorization: Bearer <App JWT>'")
    try:
        claims = jwt.decode(credential.strip(), state.public_key, algorithms=["RS256"],
                            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                     "verify_aud": False, "require": ["iat", "exp", "iss"]})
    except jwt.PyJWTError as exc:
        raise AuthError(f"A JSON web token could not be decoded ({exc})") from None
    if str(claims["iss"]) not in (str(state.app_id), state.client_id):
        raise AuthError(f"'Issuer' claim ('iss') must be the App id {state.app_id} or client id")
    now = time.time() if state.jwt_wall_clock else state.now().timestamp()
    iat, exp = claims["iat"], claims["exp"]
    if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)):
        raise AuthError("'iat' and 'exp' must be numeric")
    if iat > now + 60:
        raise AuthError("'Issued at' claim ('iat') must be an Integer representing a time in the past")
    if exp <= now:
        raise AuthError("'Expiration time' claim ('exp') is in the past (JWT expired)")
    if exp - iat > 600:
        raise AuthError("'Expiration time' claim ('exp') is too far in the future (more than 10 minutes after 'iat')")


def _check_token(ctx_state: GitHubState, header: str, op: Operation, params: dict[str, str]) -> int:
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() not in ("token", "bearer") or not credential:
        raise AuthError("Requires authentication: 'Authorization: token <installation token>'")
    token = ctx_state.tokens.get(credential)
    if token is None:
        if credential.count(".") == 2:
            raise AuthError("an App JWT cannot be used for this endpoint; use an installation token")
        raise AuthError("Bad credentials (not a token the emulator issued)")
    if token.expires_at <= ctx_state.now():
        raise AuthError("Bad credentials (installation token expired)")
    if "owner" in params and "repo" in params:
        try:
            repo = ctx_state.repo(f"{params['owner']}/{params['repo']}")
        except NotFound:
            return token.installation_id  # the handler answers 404
        if repo.installation_id != token.installation_id or (
                token.repositories is not None and repo.full_name not in token.repositories):
            raise AuthError(f"the token's installation {token.installation_id} does not cover {repo.full_name}")
    if "org" in params:
        account = ctx_state.installations[token.installation_id]["account"]["login"]
        if account.lower() != params["org"].lower():
            raise AuthError(f"the token's installation {token.installation_id} is not on org {params['org']}")
    return token.installation_id


def _etag(payload: bytes) -> str:
    return 'W/"' + hashlib.sha256(payload).hexdigest()[:40] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") in (wanted, "*") for tag in header.split(","))


class Deliverer:
    """Signs and POSTs webhook deliveries to ``state.webhook_url``."""

    def __init__(self, state: GitHubState, base_url: str | None = None) -> None:
        self.state = state
        self.base_url = base_url
        self.session: aiohttp.ClientSession | None = None

    def rewrite(self, text: str) -> str:
        if self.base_url:
            return text.replace(API + "/", self.base_url + "/").replace(f'"{API}"', f'"{self.base_url}"')
        return text

    async def deliver(self, event: str, payload: dict[str, Any], delivery_id: str | None = None,
                      *, redelivery: bool = False) -> int:
        state = self.state
        if not state.webhook_url:
            raise RuntimeError("set state.webhook_url before delivering webhooks")
        if self.session is None:
            self.session = aiohttp.ClientSession()
        guid = delivery_id or str(uuid.uuid4())
        body = self.rewrite(json.dumps(payload)).encode()
        signature = "sha256=" + hmac.new(state.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "X-GitHub-Event": event, "X-GitHub-Delivery": guid, "X-Hub-Signature-256": signature,
            "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/emulator",
            "X-GitHub-Hook-ID": "1", "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(state.app_id),
        }
        started = time.monotonic()
        try:
            async with self.session.post(state.webhook_url, data=body, headers=headers) as resp:
                await resp.read()
                status, text = resp.status, ("OK" if 200 <= resp.status < 300 else f"Invalid HTTP Response: {resp.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            status, text = 0, f"failed to connect to host ({type(exc).__name__})"
        repo = payload.get("repository") or {}
        state.deliveries.append({
            "id": state.next_id(), "guid": guid, "delivered_at": state.iso_now(), "redelivery": redelivery,
            "duration": round(time.monotonic() - started, 3), "status": text, "status_code": status,
            "event": event, "action": payload.get("action"),
            "installation_id": (payload.get("installation") or {}).get("id"),
            "repository_id": repo.get("id"), "throttled_at": None,
            "_event": event, "_payload": payload,
        })
        return status

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


def _rate_headers(state: GitHubState, key: str, resource: str, count: bool) -> dict[str, str]:
    now = int(state.now().timestamp())
    reset, used = state.rate_used.get(key, (now + 3600, 0))
    if now >= reset:
        reset, used = now + 3600, 0
    if count:
        used += 1
    state.rate_used[key] = (reset, used)
    limit = 60 if key == "anonymous" else RATE_LIMIT
    return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(max(limit - used, 0)),
            "x-ratelimit-reset": str(reset), "x-ratelimit-used": str(used), "x-ratelimit-resource": resource}


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    spec = request.app[SPEC_KEY]
    deliverer = request.app[DELIVERER_KEY]
    raw_path = request.raw_path.split("?", 1)[0]
    query_multi = parse_qs(request.query_string, keep_blank_values=True)
    raw_body = await request.read()
    record = RecordedRequest(request.method, raw_path, query_multi, None, 0, None,
                             api_version=request.headers.get("X-GitHub-Api-Version"))
    state.requests.append(record)
    rate_key, resource = "anonymous", "core"

    def violation(reason: str, status: int = 400, kind: str = "spec") -> Reply:
        state.violations.append(Violation(request.method, raw_path, reason, kind))
        return Reply(status, {"message": f"emulator: {reason}", "documentation_url": DOCS})

    reply: Reply
    op: Operation | None = None
    try:
        version = request.headers.get("X-GitHub-Api-Version")
        op, params, reason = spec.match(request.method, raw_path)
        if version is not None and version not in API_VERSIONS:
            reply = violation(f"unsupported X-GitHub-Api-Version {version!r}")
        elif op is None:
            reply = violation(reason or "no match")
        else:
            record.operation_id = op.operation_id
            query = {k: v[-1] for k, v in query_multi.items()}
            body, reason = spec.check_body(op, raw_body, request.headers.get("Content-Type", ""))
            record.json = body
            reason = spec.check_path_params(op, params) or spec.check_query(op, query_multi) or reason
            if reason:
                reply = violation(reason)
            else:
                reply = await _authorised(request, state, op, params, query, body, deliverer, record, violation)
                if record.installation_id is not None:
                    rate_key = f"installation:{record.installation_id}"
                elif _needs_jwt(op):
                    rate_key = "app"
                if op.template == "/graphql":
                    resource = "graphql"
    except Exception as exc:  # an emulator bug: make it loud, not a hang
        state.response_errors.append(f"{request.method} {raw_path}: emulator crashed: {exc!r}")
        reply = _error(500, f"emulator crashed: {exc!r}")

    if reply.drop:
        record.status = DROP
        if request.transport is not None:
            request.transport.abort()  # the client sees the connection close with no answer
        return web.Response(status=502)  # never sent
    payload: bytes = b""
    content_type = reply.content_type
    if reply.raw is not None:
        payload = reply.raw
    elif reply.body is not None:
        payload = deliverer.rewrite(json.dumps(public(reply.body))).encode()
    headers = dict(reply.headers)
    status = reply.status
    if request.method == "GET" and status == 200:
        etag = _etag(payload)
        headers["ETag"] = etag
        inm = request.headers.get("If-None-Match")
        if inm and _etag_matches(inm, etag):
            status, payload = 304, b""
    headers = {**_rate_headers(state, rate_key, resource, count=status != 304), **headers}
    headers.setdefault("X-GitHub-Request-Id", uuid.uuid4().hex[:20].upper())
    headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
    record.status = status
    if status in (204, 304) or not payload:
        return web.Response(status=status, headers=headers)
    return web.Response(status=status, body=payload, headers={**headers, "Content-Type": content_type})


async def _authorised(request: web.Request, state: GitHubState, op: Operation, params: dict[str, str],
                      query: dict[str, str], body: Any, deliverer: Deliverer, record: RecordedRequest,
                      violation: Callable[..., Reply]) -> Reply:
    header = request.headers.get("Authorization", "")
    actor: str | None = None
    installation_id: int | None = None
    try:
        if _needs_jwt(op):
            _check_jwt(state, header)
        elif not _needs_no_auth(op):
            installation_id = _check_token(state, header, op, params)
            actor = state.bot_user["login"]
    except AuthError as exc:
        return violation(str(exc), status=401, kind="auth")
    record.installation_id = installation_id

    failure = state.take_failure(request.method, request.raw_path.split("?", 1)[0])
    if failure is not None:
        record.fault = failure.kind
        if not failure.applied:
            return _failed(failure)

    handler = HANDLERS.get((op.method, op.template))
    if handler is None:
        return violation(f"{op.method} {op.template} is in the description but the emulator does not serve it")
    reply = await _handle(request, state, op, handler, Ctx(state, op, params, query, body, installation_id, actor,
                                                           request, deliverer))
    return reply if failure is None else _failed(failure)  # an applied failure: done, and the answer lost


def _failed(failure: InjectedFailure) -> Reply:
    if failure.status == DROP:
        return Reply(DROP, drop=True)
    message = failure.body if failure.body is not None else {
        "message": f"emulator: injected {failure.status}", "documentation_url": DOCS}
    return Reply(failure.status, message, headers=dict(failure.headers))


async def _handle(request: web.Request, state: GitHubState, op: Operation, handler: Handler, ctx: Ctx) -> Reply:
    params = ctx.params
    try:
        result = handler(ctx)
        reply = await result if asyncio.iscoroutine(result) else result
    except NotFound:
        return _error(404, "Not Found")
    except Forbidden as exc:
        return _error(403, str(exc))
    except Unprocessable as exc:
        return _error(422, str(exc), errors=exc.errors)
    except Moved as exc:
        old = f"/repos/{params['owner']}/{params['repo']}/issues/{params['issue_number']}"
        new = f"/repos/{exc.full_name}/issues/{exc.number}"
        location = f"{request.scheme}://{request.host}" + request.raw_path.replace(old, new, 1)
        return Reply(301, {"message": "Moved Permanently", "url": location, "documentation_url": DOCS},
                     headers={"Location": location})
    if state.check_responses and reply.raw is None:
        schema = load_spec().response_schema(op, reply.status)
        if schema is not None:
            problem = load_spec().check_value(schema, public(reply.body))
            if problem:
                state.response_errors.append(f"{op.method} {op.template} -> {reply.status}: {problem}")
    return reply


def create_app(state: GitHubState, *, base_url: str | None = None) -> web.Application:
    """The emulator as an aiohttp application (one catch-all route; matching is the description's)."""
    app = web.Application(client_max_size=30 * 1024 * 1024)
    app[STATE_KEY] = state
    app[SPEC_KEY] = load_spec()
    deliverer = Deliverer(state, base_url)
    app[DELIVERER_KEY] = deliverer

    async def close_session(_: web.Application) -> AsyncIterator[None]:
        yield
        await deliverer.close()
    app.cleanup_ctx.append(close_session)
    app.router.add_post("/settings/apps/new", new_app_from_manifest)
    app.router.add_post("/organizations/{org}/settings/apps/new", new_app_from_manifest)
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    return app


async def new_app_from_manifest(request: web.Request) -> web.Response:
    """github.com's "create a GitHub App from a manifest" page, minus the confirmation click.

    Takes the form POST (`manifest` field, optional `?state=`), records the manifest in
    ``state.manifests`` and redirects to its ``redirect_url`` with a one-use ``code`` that
    ``POST /app-manifests/{code}/conversions`` exchanges, as GitHub does.
    """
    state = request.app[STATE_KEY]
    form = await request.post()
    try:
        manifest = json.loads(str(form["manifest"]))
        redirect = manifest["redirect_url"]
        if not isinstance(manifest["hook_attributes"]["url"], str) or not isinstance(manifest["url"], str):
            raise TypeError
    except (KeyError, TypeError, ValueError):
        state.violations.append(Violation("POST", request.path, "the form carried no valid app manifest", "spec"))
        return web.Response(status=422, text="Invalid GitHub App manifest")
    state.manifests.append({"manifest": manifest, "org": request.match_info.get("org"),
                            "state": request.query.get("state")})
    query = {"code": state.new_manifest_code()}
    if "state" in request.query:
        query["state"] = request.query["state"]
    raise web.HTTPFound(redirect + ("&" if "?" in redirect else "?") + urlencode(query))


class Emulator:
    """A running emulator: ``base_url``, ``state``, ``payloads`` and ``deliver()``."""

    def __init__(self, state: GitHubState, app: web.Application, base_url: str) -> None:
        self.state = state
        self.app = app
        self.base_url = base_url
        self.payloads = Payloads(state)

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    async def deliver(self, event: str, payload: dict[str, Any], delivery_id: str | None = None) -> int:
        """POST a signed delivery to ``state.webhook_url``; return the HTTP status (0 if unreachable)."""
        return await self.app[DELIVERER_KEY].deliver(event, payload, delivery_id)


@contextlib.asynccontextmanager
async def run_emulator(state: GitHubState, host: str = "127.0.0.1", port: int = 0,
                       *, rewrite_urls: bool = True) -> AsyncIterator[Emulator]:
    """Serve ``state`` over HTTP. With ``rewrite_urls`` every ``https://api.github.com/...`` URL in
    answers and deliveries points at the emulator instead, so clients that follow URLs stay local."""
    app = create_app(state)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = site._server.sockets  # type: ignore[union-attr]
    actual_port = sockets[0].getsockname()[1]
    base_url = f"http://{host}:{actual_port}"
    if rewrite_urls:
        app[DELIVERER_KEY].base_url = base_url
    try:
        yield Emulator(state, app, base_url)
    finally:
        await runner.cleanup()
