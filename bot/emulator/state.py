"""In-memory model of the slice of GitHub the emulator serves.

Tests seed it with the helpers below, run the emulator over it, then read
``requests``, ``violations``, ``token_requests`` and the objects themselves.
Every timestamp comes from ``now()``, which tests can set and advance.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import hashlib
import itertools
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

WEB = "https://github.com"
API = "https://api.github.com"

ROLES = ("admin", "maintain", "write", "triage", "read", "none")
# Legacy base permission reported by the permission endpoint for each role.
_BASE_PERMISSION = {"admin": "admin", "maintain": "write", "write": "write",
                    "triage": "read", "read": "read", "none": "none"}
_PUSH_ROLES = {"admin", "maintain", "write"}
ADVISORY_TRANSITIONS = {("triage", "draft"), ("triage", "closed"),
                        ("draft", "closed"), ("draft", "published")}
APP_PERMISSIONS = {"issues": "write", "metadata": "read", "contents": "read",
                   "repository_advisories": "write", "pull_requests": "write"}
APP_EVENTS = ["issues", "issue_comment", "repository_advisory", "repository"]
TOKEN_LIFETIME = dt.timedelta(hours=1)

DROP = 0  # the "status" of an injected failure that drops the connection instead of answering
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
# What `GitHubState.inject_faults` can do to a request. The `applied-` kinds are for writes only:
# GitHub made the change, and the client still hears an error (probot/probot#921).
FAULT_KINDS = ("502", "503", "secondary-limit", "drop", "applied-502", "applied-drop")
SECONDARY_LIMIT = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                   "If you reach out to GitHub Support for help, please include the request ID {request_id}.")
SECONDARY_LIMIT_DOCS = ("https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
                        "#about-secondary-rate-limits")


class NotFound(Exception):
    """The object does not exist (the server answers 404)."""


class Unprocessable(Exception):
    """GitHub would answer 422 Validation Failed."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class Forbidden(Exception):
    """GitHub would answer 403."""


@dataclass
class Violation:
    method: str
    path: str
    reason: str
    kind: str = "spec"  # "spec" or "auth"

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.reason}"


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    json: Any
    status: int
    installation_id: int | None
    operation_id: str | None = None
    api_version: str | None = None  # the X-GitHub-Api-Version header, if one was sent
    fault: str | None = None  # the failure injected into this request, if any


@dataclass
class InjectedFailure:
    method: str
    path_regex: re.Pattern[str]
    status: int  # DROP: close the connection without an answer
    headers: dict[str, str]
    times: int
    body: Any
    applied: bool = False  # run the request first, then fail it (the write is made)
    kind: str = ""  # what it is, as `FAULT_KINDS` names them ("applied-502", "drop", "403", ...)


class Faults:
    """Random failures on a share of the requests, repeatable from a seed.

    Whether the n-th request of a method and path fails, and how, is a function of the seed, the
    method, the path and n alone, so a run that sends the same requests per path sees the same
    faults, however requests to different paths interleave. Each kind is equally likely among
    those that apply (the `applied-` kinds only to writes); `injected` counts what was done.
    """

    def __init__(self, rate: float, *, seed: int = 0, kinds: tuple[str, ...] = FAULT_KINDS,
                 retry_after: int = 60, path_regex: str | None = None) -> None:
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate is a share of requests, from 0 to 1")
        self.rate, self.seed, self.kinds, self.retry_after = rate, seed, tuple(kinds), retry_after
        self.path_regex = re.compile(path_regex) if path_regex else None
        self.injected: collections.Counter[str] = collections.Counter()
        self._seen: collections.Counter[tuple[str, str]] = collections.Counter()

    def pick(self, method: str, path: str) -> InjectedFailure | None:
        """The failure for this request, or None to serve it."""
        if self.path_regex is not None and not self.path_regex.search(path):
            return None
        n = self._seen[(method, path)]
        self._seen[(method, path)] += 1
        digest = hashlib.sha256(f"{self.seed}\0{method}\0{path}\0{n}".encode()).digest()
        if int.from_bytes(digest[:8], "big") >= self.rate * 2 ** 64:
            return None
        kinds = [k for k in self.kinds if method in WRITE_METHODS or not k.startswith("applied-")]
        if not kinds:
            return None
        kind = kinds[int.from_bytes(digest[8:16], "big") % len(kinds)]
        self.injected[kind] += 1
        return failure_of(kind, method, path, retry_after=self.retry_after)


def failure_of(kind: str, method: str = "*", path: str = "", *, retry_after: int = 60) -> InjectedFailure:
    """One failure of a `FAULT_KINDS` kind, as GitHub sends it."""
    applied = kind.startswith("applied-")
    what = kind.removeprefix("applied-")
    headers: dict[str, str] = {}
    if what == "drop":
        status, body = DROP, None
    elif what == "secondary-limit":
        status, headers = 403, {"retry-after": str(retry_after)}
        body = {"message": SECONDARY_LIMIT.format(request_id=secrets.token_hex(8).upper()),
                "documentation_url": SECONDARY_LIMIT_DOCS}
    else:
        status = int(what)
        body = {"message": "Server Error" if status == 502 else "Service Unavailable"}
    return InjectedFailure(method, re.compile(re.escape(path)), status, headers, 1, body, applied=applied, kind=kind)


@dataclass
class Token:
    token: str
    installation_id: int
    expires_at: dt.datetime
    repositories: list[str] | None  # full names it is narrowed to, None = all of the installation


@dataclass
class Repo:
    data: dict[str, Any]
    installation_id: int | None
    pvr_enabled: bool
    files: dict[tuple[str, str], str] = field(default_factory=dict)  # (branch, path) -> text
    refs: dict[str, str] = field(default_factory=dict)  # "heads/main" -> sha
    roles: dict[str, str] = field(default_factory=dict)  # login -> role
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower name -> label
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    discussions: dict[int, dict[str, Any]] = field(default_factory=dict)  # numbered with the issues
    advisories: dict[str, dict[str, Any]] = field(default_factory=dict)
    advisory_comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    releases: dict[int, dict[str, Any]] = field(default_factory=dict)
    paths: dict[str, set[str]] = field(default_factory=dict)  # ref ("heads/main", "tags/v1") -> paths without text
    code: dict[str, set[str]] = field(default_factory=dict)  # path -> symbols code search finds there
    cve_requests: list[str] = field(default_factory=list)  # GHSA ids a CVE was requested for
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return self.data["full_name"]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int | str) -> str:
    """Legacy-format node id (``base64("0<len>:<Type><id>")``), as GitHub still accepts."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode().rstrip("=")


def _sha(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()


class GitHubState:
    """Everything the emulator knows; all methods are synchronous and deterministic."""

    def __init__(self, *, app_id: int = 424242, app_slug: str = "secbot",
                 now: dt.datetime | None = None) -> None:
        # Frozen at construction (wall clock, whole seconds) unless given; only tests move it.
        self._now = now or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        self._ids = itertools.count(1000)
        self.app_id = app_id
        self.app_slug = app_slug
        self.client_id = f"Iv23li{secrets.token_hex(5)}"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_pem: str = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
        self.public_key = key.public_key()
        self.webhook_url: str | None = None
        self.webhook_secret: str = secrets.token_hex(16)
        self.check_responses = True  # validate our own responses against the description
        self.pvr_toggle_refused = False  # the App lacks Administration: write (PUT/DELETE private reporting: 403)
        # JWT iat/exp are checked against now(). A bot that signs with the wall clock
        # (gidgethub.apps.get_jwt) while a test moves now() should set this to True.
        self.jwt_wall_clock = False

        self.users: dict[str, dict[str, Any]] = {}
        self.installations: dict[int, dict[str, Any]] = {}
        self.repos: dict[str, Repo] = {}
        self.teams: dict[tuple[str, str], dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.manifest_codes: set[str] = set()
        self.manifests: list[dict[str, Any]] = []  # forms posted to /settings/apps/new
        self.deliveries: list[dict[str, Any]] = []
        self.reactions: list[dict[str, Any]] = []
        # (full_name, number) -> (full_name, number) after transferIssue
        self.moved_issues: dict[tuple[str, int], tuple[str, int]] = {}

        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.response_errors: list[str] = []  # the emulator's own non-conformant answers
        self.token_requests: dict[int, int] = {}
        self.failures: list[InjectedFailure] = []
        self.faults: Faults | None = None  # random failures (inject_faults); off by default
        self.rate_used: dict[str, tuple[int, int]] = {}  # key -> (window reset epoch, used)
        # GitHub's global advisory database (GET /advisories), by GHSA id.
        self.global_advisories: dict[str, dict[str, Any]] = {}
        self.profiles: dict[str, dict[str, Any]] = {}  # login -> public profile fields (GET /users/{username})
        # Code search: 10 requests a minute per installation (GitHub's `code_search` resource).
        self.code_search_limit = 10
        self.code_search_used: dict[int | None, tuple[int, int]] = {}  # installation -> (window reset, used)
        self.code_search_refused = 0  # code searches answered 403 for the rate limit

        self.owner_user = self.add_user("secbot-developer")
        self.bot_user = self.add_user(f"{app_slug}[bot]", type="Bot")
        self.app = {
            "id": app_id, "slug": app_slug, "node_id": node_id("Integration", app_id),
            "client_id": self.client_id, "owner": self.owner_user, "name": "Secbot",
            "description": "Security report triage (emulated)",
            "external_url": "https://example.org/secbot",
            "html_url": f"{WEB}/apps/{app_slug}", "created_at": _iso(self._now),
            "updated_at": _iso(self._now), "permissions": dict(APP_PERMISSIONS),
            "events": list(APP_EVENTS), "installations_count": 0,
        }

    # -- clock ------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        return self._now

    def set_now(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("use an aware datetime")
        self._now = moment

    def advance(self, delta: dt.timedelta | float) -> None:
        """Move the clock forward (seconds or a timedelta)."""
        if not isinstance(delta, dt.timedelta):
            delta = dt.timedelta(seconds=delta)
        self._now += delta

    def iso_now(self) -> str:
        return _iso(self._now)

    def next_id(self) -> int:
        return next(self._ids)

    # -- users, installations, repositories ---------------------------------------------------

    def add_user(self, login: str, type: str = "User") -> dict[str, Any]:
        if login in self.users:
            return self.users[login]
        uid = self.next_id()
        api = f"{API}/users/{login}"
        user = {
            "login": login, "id": uid, "node_id": node_id("User" if type != "Bot" else "Bot", uid),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4", "gravatar_id": "",
            "url": api, "html_url": f"{WEB}/{login}" if type != "Bot" else f"{WEB}/apps/{login.removesuffix('[bot]')}",
            "followers_url": f"{api}/followers", "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}", "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions", "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos", "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events", "type": type, "site_admin": False,
            "user_view_type": "public",
        }
        self.users[login] = user
        return user

    def user(self, login: str) -> dict[str, Any]:
        return dict(self.users[login]) if login in self.users else dict(self.add_user(login))

    def add_installation(self, installation_id: int, account_login: str,
                         account_type: str = "Organization") -> dict[str, Any]:
        account = self.add_user(account_login, type=account_type)
        inst = {
            "id": installation_id, "account": account, "repository_selection": "selected",
            "access_tokens_url": f"{API}/app/installations/{installation_id}/access_tokens",
            "repositories_url": f"{API}/installation/repositories",
            "html_url": (f"{WEB}/organizations/{account_login}/settings/installations/{installation_id}"
                         if account_type == "Organization" else f"{WEB}/settings/installations/{installation_id}"),
            "app_id": self.app_id, "app_slug": self.app_slug, "client_id": self.client_id,
            "target_id": account["id"], "target_type": account_type,
            "permissions": dict(APP_PERMISSIONS), "events": list(APP_EVENTS),
            "created_at": self.iso_now(), "updated_at": self.iso_now(),
            "single_file_name": None, "has_multiple_single_files": False, "single_file_paths": [],
            "suspended_by": None, "suspended_at": None,
        }
        self.installations[installation_id] = inst
        self.app["installations_count"] = len(self.installations)
        self.token_requests.setdefault(installation_id, 0)
        return inst

    def suspend_installation(self, installation_id: int) -> None:
        inst = self.installations[installation_id]
        inst["suspended_at"] = self.iso_now()
        inst["suspended_by"] = self.owner_user

    def add_repo(self, full_name: str, *, installation_id: int | None, private: bool = False,
                 pvr_enabled: bool = True, default_branch: str = "main") -> Repo:
        owner_login, name = full_name.split("/")
        if installation_id is not None and installation_id not in self.installations:
            raise KeyError(f"add_installation({installation_id}, ...) first")
        owner_type = "Organization" if installation_id is None else \
            self.installations[installation_id]["account"]["type"]
        owner = self.add_user(owner_login, type=owner_type) if owner_login not in self.users \
            else self.users[owner_login]
        rid = self.next_id()
        api = f"{API}/repos/{full_name}"
        t = self.iso_now()
        data: dict[str, Any] = {
            "id": rid, "node_id": node_id("Repository", rid), "name": name, "full_name": full_name,
            "owner": owner, "private": private, "html_url": f"{WEB}/{full_name}",
            "description": None, "fork": False, "url": api,
            "archive_url": f"{api}/{{archive_format}}{{/ref}}", "assignees_url": f"{api}/assignees{{/user}}",
            "blobs_url": f"{api}/git/blobs{{/sha}}", "branches_url": f"{api}/branches{{/branch}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "comments_url": f"{api}/comments{{/number}}", "commits_url": f"{api}/commits{{/sha}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}", "contents_url": f"{api}/contents/{{+path}}",
            "contributors_url": f"{api}/contributors", "deployments_url": f"{api}/deployments",
            "downloads_url": f"{api}/downloads", "events_url": f"{api}/events",
            "forks_url": f"{api}/forks", "git_commits_url": f"{api}/git/commits{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}", "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_url": f"git://github.com/{full_name}.git", "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "issue_events_url": f"{api}/issues/events{{/number}}", "issues_url": f"{api}/issues{{/number}}",
            "keys_url": f"{api}/keys{{/key_id}}", "labels_url": f"{api}/labels{{/name}}",
            "languages_url": f"{api}/languages", "merges_url": f"{api}/merges",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "pulls_url": f"{api}/pulls{{/number}}", "releases_url": f"{api}/releases{{/id}}",
            "ssh_url": f"git@github.com:{full_name}.git", "stargazers_url": f"{api}/stargazers",
            "statuses_url": f"{api}/statuses/{{sha}}", "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription", "tags_url": f"{api}/tags",
            "teams_url": f"{api}/teams", "trees_url": f"{api}/git/trees{{/sha}}",
            "clone_url": f"{WEB}/{full_name}.git", "mirror_url": None, "hooks_url": f"{api}/hooks",
            "svn_url": f"{WEB}/{full_name}", "homepage": None, "language": "Python",
            "forks_count": 0, "forks": 0, "stargazers_count": 0, "watchers_count": 0, "watchers": 0,
            "size": 1, "default_branch": default_branch, "open_issues_count": 0, "open_issues": 0,
            "is_template": False, "topics": [], "has_issues": True, "has_projects": True,
            "has_wiki": True, "has_pages": False, "has_downloads": True, "has_discussions": False,
            "archived": False, "disabled": False, "visibility": "private" if private else "public",
            "pushed_at": t, "created_at": t, "updated_at": t, "license": None,
            "allow_forking": True, "web_commit_signoff_required": False,
            "network_count": 0, "subscribers_count": 0,
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
        }
        if owner_type == "Organization":
            data["organization"] = owner
        repo = Repo(data=data, installation_id=installation_id, pvr_enabled=pvr_enabled)
        repo.refs[f"heads/{default_branch}"] = _sha(full_name, "initial")
        self.repos[full_name] = repo
        if owner_type == "User":
            repo.roles[owner_login] = "admin"
        return repo

    def repo(self, full_name: str) -> Repo:
        for name, repo in self.repos.items():
            if name.lower() == full_name.lower():
                return repo
        raise NotFound(full_name)

    def put_file(self, full_name: str, path: str, text: str, *, ref: str | None = None) -> None:
        repo = self.repo(full_name)
        branch = ref or repo.data["default_branch"]
        repo.files[(branch, path.strip("/"))] = text
        head = f"heads/{branch}"
        repo.refs[head] = _sha(full_name, head, path, text, repo.refs.get(head, ""))

    def set_visibility(self, full_name: str, *, private: bool) -> None:
        """Make a repository public or private, as its owner's settings do."""
        data = self.repo(full_name).data
        data["private"] = private
        data["visibility"] = "private" if private else "public"

    def set_permission(self, full_name: str, login: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        self.add_user(login)
        self.repo(full_name).roles[login] = role

    def role(self, full_name: str, login: str) -> str:
        repo = self.repo(full_name)
        if login in repo.roles:
            return repo.roles[login]
        if login == repo.data["owner"]["login"]:
            return "admin"  # a user owns their repositories
        if login == self.bot_user["login"]:
            return "write"
        return "none"

    def permission_level(self, full_name: str, login: str) -> dict[str, Any]:
        """Answer of GET …/collaborators/{username}/permission.

        A user the repository does not know gets ``permission: "none"`` (GitHub's
        answer for an existing non-collaborator; it answers 404 only for
        unknown accounts, which the emulator does not model).
        """
        role = self.role(full_name, login)
        user = self.user(login)
        collaborator = {**user, "role_name": role,
                        "permissions": {"admin": role == "admin", "maintain": role in ("admin", "maintain"),
                                        "push": role in _PUSH_ROLES,
                                        "triage": role in _PUSH_ROLES | {"triage"},
                                        "pull": role != "none"}}
        return {"permission": _BASE_PERMISSION[role], "role_name": role, "user": collaborator}

    def has_push(self, full_name: str, login: str) -> bool:
        return self.role(full_name, login) in _PUSH_ROLES

    def add_team(self, org: str, slug: str, members: list[str] | tuple[str, ...],
                 *, maintainers: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
        tid = self.next_id()
        api = f"{API}/organizations/{self.add_user(org, type='Organization')['id']}/team/{tid}"
        team = {
            "id": tid, "node_id": node_id("Team", tid), "url": api, "html_url": f"{WEB}/orgs/{org}/teams/{slug}",
            "name": slug, "slug": slug, "description": None, "privacy": "closed",
            "notification_setting": "notifications_enabled", "permission": "pull",
            "members_url": f"{api}/members{{/member}}", "repositories_url": f"{api}/repos",
            "parent": None, "type": "organization",
        }
        members = list(members)
        for login in [*members, *maintainers]:
            self.add_user(login)
        self.teams[(org.lower(), slug)] = {"team": team, "members": members, "maintainers": list(maintainers)}
        return team

    def team_membership(self, org: str, slug: str, login: str) -> dict[str, Any]:
        entry = self.teams.get((org.lower(), slug))
        if entry is None or (login not in entry["members"] and login not in entry["maintainers"]):
            raise NotFound(f"{org}/{slug}/{login}")
        return {"url": f"{entry['team']['url']}/memberships/{login}",
                "role": "maintainer" if login in entry["maintainers"] else "member", "state": "active"}

    def author_association(self, full_name: str, login: str) -> str:
        repo = self.repo(full_name)
        if login == repo.data["owner"]["login"]:
            return "OWNER"
        if repo.data["owner"]["type"] == "Organization" and any(
                org == repo.data["owner"]["login"].lower() and (login in t["members"] or login in t["maintainers"])
                for (org, _), t in self.teams.items()):
            return "MEMBER"
        if self.role(full_name, login) != "none" and login != self.bot_user["login"]:
            return "COLLABORATOR"
        return "NONE"

    # -- tokens -------------------------------------------------------------------------------

    def issue_token(self, installation_id: int, repositories: list[str] | None = None) -> Token:
        token = Token(token=f"ghs_{secrets.token_urlsafe(27)}", installation_id=installation_id,
                      expires_at=self._now + TOKEN_LIFETIME, repositories=repositories)
        self.tokens[token.token] = token
        self.token_requests[installation_id] = self.token_requests.get(installation_id, 0) + 1
        return token

    def installation_repos(self, installation_id: int) -> list[Repo]:
        return [r for r in self.repos.values() if r.installation_id == installation_id]

    def new_manifest_code(self) -> str:
        code = secrets.token_hex(10)
        self.manifest_codes.add(code)
        return code

    # -- failure injection --------------------------------------------------------------------

    def fail_next(self, method: str, path_regex: str, status: int, headers: dict[str, str] | None = None,
                  times: int = 1, body: Any = None, *, applied: bool = False) -> None:
        """Answer the next ``times`` matching requests with ``status`` (after validation and auth);
        ``DROP`` (0) closes the connection instead. With ``applied`` the request is served first
        (a write is made) and then failed.

        ``path_regex`` is searched in the request path (``re.search``).
        """
        kind = ("applied-" if applied else "") + ("drop" if status == DROP else str(status))
        self.failures.append(InjectedFailure(method.upper(), re.compile(path_regex), status,
                                             dict(headers or {}), times, body, applied=applied, kind=kind))

    def inject_faults(self, rate: float, *, seed: int = 0, kinds: tuple[str, ...] = FAULT_KINDS,
                      retry_after: int = 60, path_regex: str | None = None) -> Faults:
        """Fail a share (`rate`) of the requests at random, repeatably from `seed` (see `Faults`);
        `rate` 0 switches it off. Requests are still validated first: a fault never hides a violation."""
        self.faults = Faults(rate, seed=seed, kinds=kinds, retry_after=retry_after, path_regex=path_regex)
        return self.faults

    def take_failure(self, method: str, path: str) -> InjectedFailure | None:
        for failure in self.failures:
            if failure.method in (method.upper(), "*") and failure.path_regex.search(path):
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                return failure
        if self.faults is not None:
            return self.faults.pick(method.upper(), path)
        return None

    # -- labels -------------------------------------------------------------------------------

    def ensure_label(self, full_name: str, name: str, color: str = "ededed",
                     description: str | None = None, *, create: bool = True) -> dict[str, Any]:
        repo = self.repo(full_name)
        key = name.lower()
        if key not in repo.labels:
            if not create:
                raise NotFound(name)
            lid = self.next_id()
            repo.labels[key] = {
                "id": lid, "node_id": node_id("Label", lid),
                "url": f"{API}/repos/{full_name}/labels/{name.replace(' ', '%20')}",
                "name": name, "color": color, "default": False, "description": description,
            }
        return repo.labels[key]

    def create_label(self, full_name: str, name: str, color: str = "ededed",
                     description: str | None = None) -> dict[str, Any]:
        if name.lower() in self.repo(full_name).labels:
            raise Unprocessable("Validation Failed",
                                [{"resource": "Label", "code": "already_exists", "field": "name"}])
        return self.ensure_label(full_name, name, color.lstrip("#"), description)

    # -- issues and comments ------------------------------------------------------------------

    def _performed_via(self, actor: str) -> dict[str, Any] | None:
        return dict(self.app) if actor == self.bot_user["login"] else None

    def open_issue(self, full_name: str, *, title: str, body: str | None, user: str,
                   labels: list[str] | None = None, assignees: list[str] | None = None) -> dict[str, Any]:
        repo = self.repo(full_name)
        self.add_user(user)
        number = repo.next_number
        repo.next_number += 1
        iid = self.next_id()
        api = f"{API}/repos/{full_name}/issues/{number}"
        t = self.iso_now()
        issue = {
            "url": api, "repository_url": f"{API}/repos/{full_name}",
            "labels_url": f"{api}/labels{{/name}}", "comments_url": f"{api}/comments",
            "events_url": f"{api}/events", "html_url": f"{WEB}/{full_name}/issues/{number}",
            "timeline_url": f"{api}/timeline",
            "id": iid, "node_id": node_id("Issue", iid), "number": number, "title": title,
            "user": self.user(user), "labels": [], "state": "open", "locked": False,
            "assignee": None, "assignees": [], "milestone": None, "comments": 0,
            "created_at": t, "updated_at": t, "closed_at": None, "closed_by": None,
            "author_association": self.author_association(full_name, user),
            "active_lock_reason": None, "body": body, "state_reason": None,
            "performed_via_github_app": self._performed_via(user),
            "reactions": self._reaction_rollup(f"{api}/reactions"),
        }
        repo.issues[number] = issue
        self._count_open(repo)
        if labels:
            self.add_labels(full_name, number, labels)
        if assignees:
            self.set_assignees(full_name, number, assignees)
        return issue

    def _count_open(self, repo: Repo) -> None:
        count = sum(1 for i in repo.issues.values() if i["state"] == "open")
        repo.data["open_issues_count"] = repo.data["open_issues"] = count

    @staticmethod
    def _reaction_rollup(url: str) -> dict[str, Any]:
        return {"url": url, "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
                "confused": 0, "heart": 0, "rocket": 0, "eyes": 0}

    def issue(self, full_name: str, number: int) -> dict[str, Any]:
        try:
            return self.repo(full_name).issues[number]
        except KeyError:
            raise NotFound(f"{full_name}#{number}") from None

    def _touch(self, obj: dict[str, Any]) -> None:
        obj["updated_at"] = self.iso_now()

    def update_issue(self, full_name: str, number: int, changes: dict[str, Any], *, actor: str) -> dict[str, Any]:
        issue = self.issue(full_name, number)
        for key in ("title", "body"):
            if key in changes:
                issue[key] = changes[key]
        if "state" in changes and changes["state"] != issue["state"]:
            if changes["state"] == "closed":
                issue.update(state="closed", closed_at=self.iso_now(), closed_by=self.user(actor),
                             state_reason=changes.get("state_reason") or "completed")
            else:
                issue.update(state="open", closed_at=None, closed_by=None, state_reason="reopened")
        elif "state_reason" in changes and changes["state_reason"] is not None:
            issue["state_reason"] = changes["state_reason"]
        if "labels" in changes and changes["labels"] is not None:
            issue["labels"] = []
            self.add_labels(full_name, number, changes["labels"])
        if "assignees" in changes and changes["assignees"] is not None:
            self.set_assignees(full_name, number, changes["assignees"], replace=True)
        elif "assignee" in changes:
            self.set_assignees(full_name, number, [changes["assignee"]] if changes["assignee"] else [],
                               replace=True)
        self._count_open(self.repo(full_name))
        self._touch(issue)
        return issue

    def add_labels(self, full_name: str, number: int, labels: list[Any]) -> list[dict[str, Any]]:
        issue = self.issue(full_name, number)
        for item in labels:
            name = item["name"] if isinstance(item, dict) else str(item)
            label = self.ensure_label(full_name, name)
            if all(existing["name"].lower() != name.lower() for existing in issue["labels"]):
                issue["labels"].append(dict(label))
        self._touch(issue)
        return issue["labels"]

    def remove_label(self, full_name: str, number: int, name: str) -> list[dict[str, Any]]:
        issue = self.issue(full_name, number)
        kept = [lab for lab in issue["labels"] if lab["name"].lower() != name.lower()]
        if len(kept) == len(issue["labels"]):
            raise NotFound(f"Label does not exist: {name}")
        issue["labels"] = kept
        self._touch(issue)
        return kept

    def set_assignees(self, full_name: str, number: int, logins: list[str], *,
                      replace: bool = False, remove: bool = False) -> dict[str, Any]:
        """Add (or replace/remove) assignees; users without push access are silently dropped."""
        issue = self.issue(full_name, number)
        current = [] if replace else [a["login"] for a in issue["assignees"]]
        if remove:
            current = [c for c in current if c not in logins]
        else:
            for login in logins:
                if self.has_push(full_name, login) and login not in current and len(current) < 10:
                    current.append(login)
        issue["assignees"] = [self.user(login) for login in current]
        issue["assignee"] = issue["assignees"][0] if issue["assignees"] else None
        self._touch(issue)
        return issue

    def lock_issue(self, full_name: str, number: int, reason: str | None) -> None:
        issue = self.issue(full_name, number)
        issue.update(locked=True, active_lock_reason=reason)
        self._touch(issue)

    def unlock_issue(self, full_name: str, number: int) -> None:
        issue = self.issue(full_name, number)
        issue.update(locked=False, active_lock_reason=None)
        self._touch(issue)

    def add_comment(self, full_name: str, number: int, *, body: str, user: str) -> dict[str, Any]:
        issue = self.issue(full_name, number)
        self.add_user(user)
        cid = self.next_id()
        t = self.iso_now()
        api = f"{API}/repos/{full_name}/issues/comments/{cid}"
        comment = {
            "id": cid, "node_id": node_id("IssueComment", cid), "url": api,
            "html_url": f"{issue['html_url']}#issuecomment-{cid}", "body": body,
            "user": self.user(user), "created_at": t, "updated_at": t,
            "issue_url": issue["url"], "author_association": self.author_association(full_name, user),
            "performed_via_github_app": self._performed_via(user),
            "reactions": self._reaction_rollup(f"{api}/reactions"),
        }
        issue.setdefault("_comments", []).append(comment)
        issue["comments"] = len(issue["_comments"])
        self._touch(issue)
        return comment

    def find_comment(self, full_name: str, comment_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return (issue, comment) for a comment id in this repository."""
        for issue in self.repo(full_name).issues.values():
            for comment in issue.get("_comments", []):
                if comment["id"] == comment_id:
                    return issue, comment
        raise NotFound(f"comment {comment_id}")

    def edit_comment(self, full_name: str, comment_id: int, body: str) -> dict[str, Any]:
        _, comment = self.find_comment(full_name, comment_id)
        comment["body"] = body
        self._touch(comment)
        return comment

    def delete_comment(self, full_name: str, comment_id: int) -> None:
        issue, comment = self.find_comment(full_name, comment_id)
        issue["_comments"].remove(comment)
        issue["comments"] = len(issue["_comments"])

    def comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        return list(self.issue(full_name, number).get("_comments", []))

    def open_discussion(self, full_name: str, *, title: str, body: str, user: str) -> dict[str, Any]:
        """A discussion, numbered with the issues as on GitHub; shaped like the webhook's `discussion`."""
        repo = self.repo(full_name)
        self.add_user(user)
        number = repo.next_number
        repo.next_number += 1
        did = self.next_id()
        t = self.iso_now()
        discussion = {
            "id": did, "node_id": node_id("Discussion", did), "number": number, "title": title, "body": body,
            "html_url": f"{WEB}/{full_name}/discussions/{number}", "user": self.user(user),
            "author_association": self.author_association(full_name, user), "state": "open", "locked": False,
            "comments": 0, "created_at": t, "updated_at": t, "answer_html_url": None, "answer_chosen_at": None,
            "answer_chosen_by": None, "active_lock_reason": None, "repository_url": f"{API}/repos/{full_name}",
            "category": {"id": 1, "node_id": node_id("DiscussionCategory", 1), "repository_id": repo.data["id"],
                         "emoji": ":speech_balloon:", "name": "General", "description": "", "created_at": t,
                         "updated_at": t, "slug": "general", "is_answerable": False},
        }
        repo.discussions[number] = discussion
        return discussion

    def discussion(self, full_name: str, number: int) -> dict[str, Any]:
        found = self.repo(full_name).discussions.get(number)
        if found is None:
            raise NotFound(f"discussion {number}")
        return found

    def add_discussion_comment(self, full_name: str, number: int, *, body: str, user: str) -> dict[str, Any]:
        discussion = self.discussion(full_name, number)
        self.add_user(user)
        cid = self.next_id()
        t = self.iso_now()
        comment = {
            "id": cid, "node_id": node_id("DiscussionComment", cid), "body": body, "user": self.user(user),
            "html_url": f"{discussion['html_url']}#discussioncomment-{cid}", "parent_id": None,
            "child_comment_count": 0, "repository_url": f"{API}/repos/{full_name}", "discussion_id": discussion["id"],
            "author_association": self.author_association(full_name, user), "created_at": t, "updated_at": t,
            "performed_via_github_app": self._performed_via(user),
        }
        discussion.setdefault("_comments", []).append(comment)
        discussion["comments"] = len(discussion["_comments"])
        return comment

    def discussion_comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        return list(self.discussion(full_name, number).get("_comments", []))

    def minimize_comment(self, full_name: str, comment_id: int, classifier: str) -> str:
        """Hide a comment behind "This comment was marked as ..." (GraphQL minimizeComment);
        returns the reason as GitHub shows it (``outdated``, ``off-topic``)."""
        comment = self._any_comment(full_name, comment_id)
        comment["_minimized"] = classifier.lower().replace("_", "-")
        return str(comment["_minimized"])

    def minimized(self, full_name: str, comment_id: int) -> str | None:
        """Why a comment was minimized, or None while it is shown in full."""
        comment = self._any_comment(full_name, comment_id)
        return comment.get("_minimized")

    def _any_comment(self, full_name: str, comment_id: int) -> dict[str, Any]:
        """An issue comment or a discussion comment, by id."""
        for discussion in self.repo(full_name).discussions.values():
            for comment in discussion.get("_comments", []):
                if comment["id"] == comment_id:
                    return comment
        return self.find_comment(full_name, comment_id)[1]

    def add_reaction(self, subject: dict[str, Any], content: str, user: str) -> tuple[dict[str, Any], bool]:
        """Return (reaction, created)."""
        for reaction in self.reactions:
            if reaction["_subject"] == subject["node_id"] and reaction["content"] == content \
                    and reaction["user"]["login"] == user:
                return reaction, False
        rid = self.next_id()
        reaction = {"id": rid, "node_id": node_id("Reaction", rid), "user": self.user(user),
                    "content": content, "created_at": self.iso_now(), "_subject": subject["node_id"]}
        self.reactions.append(reaction)
        rollup = subject.get("reactions")
        if rollup:
            rollup["total_count"] += 1
            rollup[content] += 1
        return reaction, True

    def transfer_issue(self, full_name: str, number: int, target: str) -> dict[str, Any]:
        """Move an issue to another repository of the same owner (like GraphQL transferIssue)."""
        source, dest = self.repo(full_name), self.repo(target)
        issue = self.issue(full_name, number)
        if source.data["owner"]["login"].lower() != dest.data["owner"]["login"].lower():
            raise Unprocessable("Issues can only be transferred between repositories of the same owner")
        if source.data["private"] and not dest.data["private"]:
            raise Unprocessable("Issues cannot be transferred from a private to a public repository")
        del source.issues[number]
        new_number = dest.next_number
        dest.next_number += 1
        api = f"{API}/repos/{dest.full_name}/issues/{new_number}"
        issue.update(
            number=new_number, url=api, repository_url=f"{API}/repos/{dest.full_name}",
            labels_url=f"{api}/labels{{/name}}", comments_url=f"{api}/comments", events_url=f"{api}/events",
            timeline_url=f"{api}/timeline", html_url=f"{WEB}/{dest.full_name}/issues/{new_number}",
            labels=[lab for lab in issue["labels"] if lab["name"].lower() in dest.labels],
        )
        for comment in issue.get("_comments", []):
            comment["url"] = f"{API}/repos/{dest.full_name}/issues/comments/{comment['id']}"
            comment["html_url"] = f"{issue['html_url']}#issuecomment-{comment['id']}"
            comment["issue_url"] = api
        dest.issues[new_number] = issue
        self.moved_issues[(source.full_name, number)] = (dest.full_name, new_number)
        self._count_open(source)
        self._count_open(dest)
        self._touch(issue)
        return issue

    def moved_to(self, full_name: str, number: int) -> tuple[str, int] | None:
        """Follow transfers (possibly several) from an old issue address."""
        key = (self.repo(full_name).full_name, number)
        if key not in self.moved_issues:
            return None
        while key in self.moved_issues:
            key = self.moved_issues[key]
        return key

    # -- repository security advisories -------------------------------------------------------

    def _new_ghsa(self) -> str:
        alphabet = "23456789cfghjmpqrvwx"
        return "GHSA-" + "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))

    def _advisory(self, full_name: str, *, summary: str, description: str | None, author: str,
                  state: str, severity: str | None, vulnerabilities: list[dict[str, Any]] | None,
                  cwe_ids: list[str] | None, credits: list[dict[str, str]] | None,
                  submission: dict[str, Any] | None, cve_id: str | None = None) -> dict[str, Any]:
        repo = self.repo(full_name)
        ghsa = self._new_ghsa()
        t = self.iso_now()
        adv = {
            "ghsa_id": ghsa, "cve_id": cve_id,
            "url": f"{API}/repos/{full_name}/security-advisories/{ghsa}",
            "html_url": f"{WEB}/{full_name}/security/advisories/{ghsa}",
            "summary": summary, "description": description, "severity": severity,
            "author": self.user(author), "publisher": None,
            "identifiers": [{"value": ghsa, "type": "GHSA"}] + ([{"value": cve_id, "type": "CVE"}] if cve_id else []),
            "state": state, "created_at": t, "updated_at": t, "published_at": None,
            "closed_at": None, "withdrawn_at": None, "submission": submission,
            "vulnerabilities": [self._vulnerability(v) for v in (vulnerabilities or [])],
            "cvss": {"vector_string": None, "score": None},
            "cvss_severities": {"cvss_v3": {"vector_string": None, "score": None},
                                "cvss_v4": {"vector_string": None, "score": None}},
            "cwes": [{"cwe_id": c, "name": f"{c} (emulated)"} for c in (cwe_ids or [])],
            "cwe_ids": list(cwe_ids or []),
            "credits": [], "credits_detailed": [], "collaborating_users": [], "collaborating_teams": [],
            "private_fork": None,
        }
        self._set_credits(adv, credits or [])
        repo.advisories[ghsa] = adv
        repo.advisory_comments[ghsa] = []
        return adv

    @staticmethod
    def _vulnerability(v: dict[str, Any]) -> dict[str, Any]:
        pkg = v.get("package") or {}
        return {"package": {"ecosystem": pkg.get("ecosystem", "other"), "name": pkg.get("name")},
                "vulnerable_version_range": v.get("vulnerable_version_range"),
                "patched_versions": v.get("patched_versions"),
                "vulnerable_functions": v.get("vulnerable_functions") or []}

    def _set_credits(self, adv: dict[str, Any], credits: list[dict[str, str]]) -> None:
        previous = {(c["user"]["login"], c["type"]): c["state"] for c in adv["credits_detailed"]}
        adv["credits"] = [{"login": c["login"], "type": c["type"]} for c in credits]
        adv["credits_detailed"] = [
            {"user": self.user(c["login"]), "type": c["type"],
             "state": previous.get((c["login"], c["type"]), "pending")} for c in credits]

    def report_vulnerability(self, full_name: str, *, summary: str, description: str, user: str,
                             severity: str | None = None,
                             vulnerabilities: list[dict[str, Any]] | None = None,
                             cwe_ids: list[str] | None = None) -> dict[str, Any]:
        """A private vulnerability report: triage advisory; reporter is collaborator and credited."""
        repo = self.repo(full_name)
        if repo.data["private"] or not repo.pvr_enabled:
            raise Forbidden("Private vulnerability reporting is not enabled for this repository")
        self.add_user(user)
        adv = self._advisory(full_name, summary=summary, description=description, author=user,
                             state="triage", severity=severity, vulnerabilities=vulnerabilities,
                             cwe_ids=cwe_ids, credits=[{"login": user, "type": "reporter"}],
                             submission={"accepted": False})
        adv["collaborating_users"] = [self.user(user)]
        return adv

    def create_advisory(self, full_name: str, *, summary: str, description: str, author: str,
                        vulnerabilities: list[dict[str, Any]], severity: str | None = None,
                        cwe_ids: list[str] | None = None, credits: list[dict[str, str]] | None = None,
                        cve_id: str | None = None) -> dict[str, Any]:
        """A maintainer-created draft advisory."""
        return self._advisory(full_name, summary=summary, description=description, author=author,
                              state="draft", severity=severity, vulnerabilities=vulnerabilities,
                              cwe_ids=cwe_ids, credits=credits, submission=None, cve_id=cve_id)

    def advisory(self, full_name: str, ghsa_id: str) -> dict[str, Any]:
        for ghsa, adv in self.repo(full_name).advisories.items():
            if ghsa.lower() == ghsa_id.lower():
                return adv
        raise NotFound(ghsa_id)

    def update_advisory(self, full_name: str, ghsa_id: str, changes: dict[str, Any], *, actor: str) -> dict[str, Any]:
        adv = self.advisory(full_name, ghsa_id)
        new_state = changes.get("state")
        if new_state and new_state != adv["state"] and (adv["state"], new_state) not in ADVISORY_TRANSITIONS:
            raise Unprocessable(f"Invalid state transition from {adv['state']} to {new_state}.",
                                [{"resource": "RepositoryAdvisory", "field": "state", "code": "invalid"}])
        if changes.get("severity") and changes.get("cvss_vector_string"):
            raise Unprocessable("Cannot set both severity and cvss_vector_string.")
        users = changes.get("collaborating_users")
        if users is not None:
            unknown = [u for u in users if u not in self.users]
            if unknown:
                raise Unprocessable(f"Unknown users: {', '.join(unknown)}",
                                    [{"resource": "RepositoryAdvisory", "field": "collaborating_users",
                                      "code": "invalid"}])
        teams = changes.get("collaborating_teams")
        owner = self.repo(full_name).data["owner"]["login"].lower()
        if teams is not None:
            unknown = [t for t in teams if (owner, t) not in self.teams]
            if unknown:
                raise Unprocessable(f"Unknown teams: {', '.join(unknown)}",
                                    [{"resource": "RepositoryAdvisory", "field": "collaborating_teams",
                                      "code": "invalid"}])
        for key in ("summary", "description", "severity", "cve_id"):
            if key in changes:
                adv[key] = changes[key]
        if changes.get("cvss_vector_string"):
            adv["cvss"] = {"vector_string": changes["cvss_vector_string"], "score": None}
            adv["severity"] = adv["severity"] or "medium"
        if "vulnerabilities" in changes:
            adv["vulnerabilities"] = [self._vulnerability(v) for v in changes["vulnerabilities"] or []]
        if "cwe_ids" in changes:
            adv["cwe_ids"] = list(changes["cwe_ids"] or [])
            adv["cwes"] = [{"cwe_id": c, "name": f"{c} (emulated)"} for c in adv["cwe_ids"]]
        if "credits" in changes:
            self._set_credits(adv, changes["credits"] or [])
        if users is not None:  # replaced wholesale, like GitHub
            adv["collaborating_users"] = [self.user(u) for u in users]
        if teams is not None:
            adv["collaborating_teams"] = [dict(self.teams[(owner, t)]["team"]) for t in teams]
        if new_state and new_state != adv["state"]:
            if adv["state"] == "triage" and new_state == "draft" and adv["submission"] is not None:
                adv["submission"] = {"accepted": True}
            adv["state"] = new_state
            if new_state == "closed":
                adv["closed_at"] = self.iso_now()
            if new_state == "published":
                adv["published_at"] = self.iso_now()
                adv["publisher"] = self.user(actor)
        self._touch(adv)
        return adv

    def add_advisory_comment(self, full_name: str, ghsa_id: str, *, body: str, user: str) -> dict[str, Any]:
        adv = self.advisory(full_name, ghsa_id)
        cid = self.next_id()
        t = self.iso_now()
        comment = {
            "id": cid, "node_id": node_id("RepositoryAdvisoryComment", cid),
            "url": f"{adv['url']}/comments/{cid}", "html_url": f"{adv['html_url']}#advisory-comment-{cid}",
            "body": body, "user": self.user(user), "created_at": t, "updated_at": t,
        }
        self.repo(full_name).advisory_comments[adv["ghsa_id"]].append(comment)
        return comment

    def advisory_comments(self, full_name: str, ghsa_id: str) -> list[dict[str, Any]]:
        adv = self.advisory(full_name, ghsa_id)
        return self.repo(full_name).advisory_comments[adv["ghsa_id"]]

    def edit_advisory_comment(self, full_name: str, ghsa_id: str, comment_id: int, body: str) -> dict[str, Any]:
        for comment in self.advisory_comments(full_name, ghsa_id):
            if comment["id"] == comment_id:
                comment["body"] = body
                self._touch(comment)
                return comment
        raise NotFound(f"advisory comment {comment_id}")

    # -- trees, code search, global advisories, profiles --------------------------------------

    def add_paths(self, full_name: str, paths: list[str] | tuple[str, ...], *, ref: str | None = None,
                  symbols: dict[str, list[str]] | None = None) -> None:
        """Files in a branch (`ref` a branch name, default the default branch) or a tag
        ("tags/v1.2"), without text; `symbols` (path -> names) are what code search finds in them."""
        repo = self.repo(full_name)
        key = ref if ref and ref.startswith("tags/") else f"heads/{ref or repo.data['default_branch']}"
        repo.paths.setdefault(key, set()).update(p.strip("/") for p in paths)
        if key.startswith("tags/") and key not in repo.refs:
            repo.refs[key] = _sha(full_name, "tag", key)
        elif key.startswith("heads/"):
            repo.refs[key] = _sha(full_name, key, *sorted(repo.paths[key]), repo.refs.get(key, ""))
        for path, names in (symbols or {}).items():
            repo.code.setdefault(path.strip("/"), set()).update(names)

    def tree_paths(self, full_name: str, tree_sha: str) -> tuple[str, set[str]] | None:
        """(tree sha, file paths) of a branch, a tag or a tree sha; None when there is no such tree."""
        repo = self.repo(full_name)
        for key in (f"heads/{tree_sha}", f"tags/{tree_sha}"):
            if key in repo.refs:
                return self._tree(repo, key)
        for key in list(repo.refs):
            sha, paths = self._tree(repo, key)
            if sha == tree_sha:
                return sha, paths
        return None

    def _tree(self, repo: Repo, key: str) -> tuple[str, set[str]]:
        paths = set(repo.paths.get(key, set()))
        if key.startswith("heads/"):
            branch = key.removeprefix("heads/")
            paths |= {path for (ref, path) in repo.files if ref == branch}
        return _sha(repo.full_name, "tree", *sorted(paths)), paths

    def search_code(self, full_name: str, term: str) -> list[str]:
        """Paths of the default branch where `term` occurs (as a symbol, or in a file's text)."""
        repo = self.repo(full_name)
        branch = repo.data["default_branch"]
        found = {path for path, names in repo.code.items() if term in names}
        found |= {path for (ref, path), text in repo.files.items() if ref == branch and term in text}
        return sorted(found)

    def take_code_search(self, installation_id: int | None) -> tuple[bool, int, int]:
        """Count one code search of an installation: (allowed, remaining, reset epoch)."""
        now = int(self.now().timestamp())
        reset, used = self.code_search_used.get(installation_id, (now + 60, 0))
        if now >= reset:
            reset, used = now + 60, 0
        if used >= self.code_search_limit:
            self.code_search_refused += 1
            return False, 0, reset
        used += 1
        self.code_search_used[installation_id] = (reset, used)
        return True, self.code_search_limit - used, reset

    def add_global_advisory(self, *, ghsa_id: str | None = None, cve_id: str | None = None, summary: str,
                            source_code_location: str | None = None, repository_advisory_url: str | None = None,
                            severity: str = "high", type: str = "reviewed") -> dict[str, Any]:
        """An advisory in GitHub's global database (GET /advisories)."""
        ghsa = ghsa_id or self._new_ghsa()
        t = self.iso_now()
        adv = {
            "ghsa_id": ghsa, "cve_id": cve_id, "url": f"{API}/advisories/{ghsa}",
            "html_url": f"{WEB}/advisories/{ghsa}", "repository_advisory_url": repository_advisory_url,
            "summary": summary, "description": summary, "type": type, "severity": severity,
            "source_code_location": source_code_location,
            "identifiers": [{"type": "GHSA", "value": ghsa}] + ([{"type": "CVE", "value": cve_id}] if cve_id else []),
            "references": [], "published_at": t, "updated_at": t, "github_reviewed_at": t if type == "reviewed" else None,
            "nvd_published_at": None, "withdrawn_at": None, "vulnerabilities": [],
            "cvss": {"vector_string": None, "score": None}, "cwes": [], "credits": [],
        }
        self.global_advisories[ghsa] = adv
        return adv

    def set_profile(self, login: str, **fields: Any) -> None:
        """Public profile fields of a user (created_at, public_repos, followers...)."""
        self.add_user(login)
        self.profiles.setdefault(login, {}).update(fields)

    def profile(self, login: str) -> dict[str, Any]:
        """GET /users/{username}: the public profile."""
        found = next((u for name, u in self.users.items() if name.lower() == login.lower()), None)
        if found is None:
            raise NotFound(login)
        extra = self.profiles.get(found["login"], {})
        return {**found, "name": None, "company": None, "blog": "", "location": None, "email": None,
                "hireable": None, "bio": None, "public_repos": 0, "public_gists": 0, "followers": 0,
                "following": 0, "created_at": self.iso_now(), "updated_at": self.iso_now(), **extra}

    # -- releases and CVE requests ------------------------------------------------------------

    def add_tag(self, full_name: str, tag: str) -> None:
        repo = self.repo(full_name)
        repo.refs[f"tags/{tag}"] = _sha(full_name, "tag", tag)

    def create_release(self, full_name: str, *, tag_name: str, name: str | None, body: str | None, draft: bool,
                       prerelease: bool, target_commitish: str | None, user: str) -> dict[str, Any]:
        repo = self.repo(full_name)
        if any(r["tag_name"] == tag_name and not r["draft"] for r in repo.releases.values()) and not draft:
            raise Unprocessable("Validation Failed", [{"resource": "Release", "code": "already_exists",
                                                       "field": "tag_name"}])
        rid = self.next_id()
        t = self.iso_now()
        api = f"{API}/repos/{full_name}/releases/{rid}"
        html = f"{WEB}/{full_name}/releases/{'tag/' + tag_name if not draft else 'untagged-' + _sha(str(rid))[:20]}"
        release = {
            "url": api, "html_url": html, "assets_url": f"{api}/assets",
            "upload_url": f"https://uploads.github.com/repos/{full_name}/releases/{rid}/assets{{?name,label}}",
            "tarball_url": None if draft else f"{API}/repos/{full_name}/tarball/{tag_name}",
            "zipball_url": None if draft else f"{API}/repos/{full_name}/zipball/{tag_name}",
            "id": rid, "node_id": node_id("Release", rid), "tag_name": tag_name,
            "target_commitish": target_commitish or repo.data["default_branch"], "name": name, "body": body,
            "draft": draft, "prerelease": prerelease, "immutable": False, "created_at": t,
            "published_at": None if draft else t, "updated_at": t, "author": self.user(user), "assets": [],
        }
        if not draft and f"tags/{tag_name}" not in repo.refs:
            self.add_tag(full_name, tag_name)
        repo.releases[rid] = release
        return release

    def release_by_tag(self, full_name: str, tag: str) -> dict[str, Any]:
        for release in self.repo(full_name).releases.values():
            if release["tag_name"] == tag and not release["draft"]:
                return release
        raise NotFound(tag)

    def request_cve(self, full_name: str, ghsa_id: str) -> None:
        """GitHub's CVE request: accepted for a public repository's draft or published advisory;
        the CVE is assigned later (`assign_cve`, as GitHub's CNA would)."""
        repo = self.repo(full_name)
        adv = self.advisory(full_name, ghsa_id)
        if repo.data["private"]:
            raise Forbidden("CVE requests are only available for public repositories")
        if adv["state"] not in ("draft", "published") or adv["cve_id"] or adv["ghsa_id"] in repo.cve_requests:
            raise Unprocessable("A CVE cannot be requested for this advisory.",
                                [{"resource": "RepositoryAdvisory", "field": "cve_id", "code": "invalid"}])
        repo.cve_requests.append(adv["ghsa_id"])

    def assign_cve(self, full_name: str, ghsa_id: str, cve_id: str) -> dict[str, Any]:
        adv = self.advisory(full_name, ghsa_id)
        adv["cve_id"] = cve_id
        adv["identifiers"] = [i for i in adv["identifiers"] if i["type"] != "CVE"] + [{"value": cve_id, "type": "CVE"}]
        self._touch(adv)
        return adv

    # -- assertions ---------------------------------------------------------------------------

    def assert_no_violations(self) -> None:
        """Raise AssertionError listing every violation and non-conformant emulator answer."""
        problems = [str(v) for v in self.violations] + [f"emulator answer: {e}" for e in self.response_errors]
        if problems:
            raise AssertionError("GitHub emulator saw problems:\n  " + "\n  ".join(problems))


_PRIVATE_KEYS = frozenset({"_comments", "_subject", "_event", "_payload", "_minimized"})


def public(obj: Any) -> Any:
    """Copy without the emulator's private bookkeeping keys (GitHub's own ``_links`` stays)."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if k not in _PRIVATE_KEYS}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj
