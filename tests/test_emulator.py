"""The GitHub emulator: fails closed against the description, behaves like GitHub where the app relies on it."""

from __future__ import annotations

import base64
import datetime as dt
import json
import pathlib
import time

import aiohttp
import jwt
import pytest
from aiohttp import web
from gidgethub import BadRequest, apps, sansio
from gidgethub.aiohttp import GitHubAPI

from bot.emulator import GitHubState, run_emulator
from bot.emulator.server import HANDLERS
from bot.emulator.spec import load_spec
from bot.emulator.state import DROP, FAULT_KINDS

REPO = "acme/widget"
PRIVATE = "acme/widget-security"
INSTALLATION = 7


@pytest.fixture
def state() -> GitHubState:
    s = GitHubState()
    s.add_installation(INSTALLATION, "acme")
    s.add_repo(REPO, installation_id=INSTALLATION)
    s.add_repo(PRIVATE, installation_id=INSTALLATION, private=True, pvr_enabled=False)
    s.set_permission(REPO, "maintainer", "maintain")
    s.set_permission(REPO, "helper", "triage")
    s.add_user("reporter")
    s.put_file(REPO, ".github/secbot.yml", "labels: [security]\n")
    return s


@pytest.fixture
async def emu(state: GitHubState):
    async with run_emulator(state) as emulator:
        yield emulator


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


def app_jwt(state: GitHubState, *, lifetime: int = 540, iss: str | None = None) -> str:
    now = int(state.now().timestamp())
    return jwt.encode({"iat": now - 60, "exp": now - 60 + lifetime, "iss": iss or str(state.app_id)},
                      state.private_key_pem, algorithm="RS256")


async def token_for(emu, session: aiohttp.ClientSession, installation_id: int = INSTALLATION) -> str:
    async with session.post(f"{emu.base_url}/app/installations/{installation_id}/access_tokens",
                            headers={"Authorization": f"Bearer {app_jwt(emu.state)}"}) as resp:
        assert resp.status == 201, await resp.text()
        return (await resp.json())["token"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28"}


# -- the description and the emulator cannot drift -------------------------------------------


def test_every_served_operation_is_in_the_description_or_the_extensions():
    spec = load_spec()
    described = {(op.method, op.template) for op in spec.operations}
    assert set(HANDLERS) <= described, set(HANDLERS) - described
    assert described <= set(HANDLERS), f"described but not served: {described - set(HANDLERS)}"


def test_extensions_are_documented_and_not_in_the_vendored_subset():
    here = pathlib.Path(__file__).resolve().parent.parent / "bot" / "emulator"
    subset = json.loads((here / "openapi-subset.json").read_text())
    extensions = json.loads((here / "extensions.json").read_text())
    assert subset["x-secbot-source"].startswith("@octokit/openapi")
    for path, item in extensions["paths"].items():
        for method, op in item.items():
            assert op["x-secbot-note"], (method, path)
            assert method not in subset["paths"].get(path, {}), (method, path)
    assert any("repository_advisories" in gap["what"] for gap in extensions["known-gaps"])


# -- auth -----------------------------------------------------------------------------------------


async def test_issues_an_installation_token_for_a_valid_app_jwt(emu, session, state):
    async with session.post(f"{emu.base_url}/app/installations/{INSTALLATION}/access_tokens",
                            headers={"Authorization": f"Bearer {app_jwt(state)}"}) as resp:
        assert resp.status == 201
        body = await resp.json()
    assert body["token"].startswith("ghs_")
    assert body["expires_at"] == (state.now() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert state.token_requests[INSTALLATION] == 1
    assert resp.headers["x-ratelimit-limit"] == "5000"
    state.assert_no_violations()


async def test_gidgethub_get_installation_access_token_works_against_the_emulator(emu, session, state):
    gh = GitHubAPI(session, "secbot-tests", base_url=emu.base_url)
    data = await apps.get_installation_access_token(
        gh, installation_id=str(INSTALLATION), app_id=str(state.app_id), private_key=state.private_key_pem)
    assert data["token"] in state.tokens
    state.assert_no_violations()


@pytest.mark.parametrize("headers, why", [
    ({}, "Bearer"),
    ({"Authorization": "Bearer not-a-jwt"}, "could not be decoded"),
])
async def test_refuses_token_issuance_without_a_valid_jwt(emu, session, state, headers, why):
    async with session.post(f"{emu.base_url}/app/installations/{INSTALLATION}/access_tokens", headers=headers) as resp:
        assert resp.status == 401
    assert state.token_requests[INSTALLATION] == 0
    assert [v.kind for v in state.violations] == ["auth"]
    assert why in state.violations[0].reason


async def test_refuses_a_jwt_that_lives_longer_than_ten_minutes(emu, session, state):
    token = app_jwt(state, lifetime=660)
    async with session.get(f"{emu.base_url}/app", headers={"Authorization": f"Bearer {token}"}) as resp:
        assert resp.status == 401
    assert "10 minutes" in state.violations[0].reason


async def test_refuses_an_expired_installation_token(emu, session, state):
    token = await token_for(emu, session)
    state.advance(dt.timedelta(minutes=61))
    async with session.get(f"{emu.base_url}/repos/{REPO}", headers=auth(token)) as resp:
        assert resp.status == 401
    assert state.violations[-1].kind == "auth"


async def test_refuses_a_token_for_a_repository_outside_its_installation(emu, session, state):
    state.add_installation(8, "other")
    state.add_repo("other/thing", installation_id=8)
    token = await token_for(emu, session)
    async with session.get(f"{emu.base_url}/repos/other/thing", headers=auth(token)) as resp:
        assert resp.status == 401
    assert "does not cover other/thing" in state.violations[-1].reason


# -- fail closed against the description ----------------------------------------------------------


async def test_creating_a_comment_passes_and_looks_like_github(emu, session, state):
    issue = state.open_issue(REPO, title="crash", body="it crashes", user="reporter")
    token = await token_for(emu, session)
    async with session.post(f"{emu.base_url}/repos/{REPO}/issues/{issue['number']}/comments",
                            json={"body": "Thanks! <!-- secbot:ack -->"}, headers=auth(token)) as resp:
        assert resp.status == 201
        comment = await resp.json()
    assert comment["user"]["login"] == "secbot[bot]" and comment["user"]["type"] == "Bot"
    assert comment["performed_via_github_app"]["id"] == state.app_id
    assert comment["url"].startswith(emu.base_url + "/repos/acme/widget/issues/comments/")
    assert comment["html_url"].startswith("https://github.com/acme/widget/issues/1#issuecomment-")
    assert state.issue(REPO, 1)["comments"] == 1
    recorded = state.requests[-1]
    assert (recorded.method, recorded.status, recorded.installation_id) == ("POST", 201, INSTALLATION)
    assert recorded.json == {"body": "Thanks! <!-- secbot:ack -->"}
    state.assert_no_violations()


async def test_refuses_an_unknown_path(emu, session, state):
    token = await token_for(emu, session)
    async with session.get(f"{emu.base_url}/repos/{REPO}/issues/1/timeline-ish", headers=auth(token)) as resp:
        assert resp.status == 400
        assert (await resp.json())["message"].startswith("emulator: no operation in the description")
    assert [(v.method, v.path) for v in state.violations] == [("GET", "/repos/acme/widget/issues/1/timeline-ish")]


async def test_refuses_an_unknown_query_parameter(emu, session, state):
    state.open_issue(REPO, title="t", body="b", user="reporter")
    token = await token_for(emu, session)
    async with session.get(f"{emu.base_url}/repos/{REPO}/issues/1/comments?sort=created",
                           headers=auth(token)) as resp:
        assert resp.status == 400
    assert "unknown query parameter 'sort'" in state.violations[0].reason


async def test_refuses_a_body_missing_a_required_field(emu, session, state):
    state.open_issue(REPO, title="t", body="b", user="reporter")
    token = await token_for(emu, session)
    async with session.post(f"{emu.base_url}/repos/{REPO}/issues/1/comments",
                            json={"text": "hi"}, headers=auth(token)) as resp:
        assert resp.status == 400
    assert "'body' is a required property" in state.violations[0].reason
    assert state.comments(REPO, 1) == []


async def test_refuses_a_body_that_fails_its_schema(emu, session, state):
    state.open_issue(REPO, title="t", body="b", user="reporter")
    token = await token_for(emu, session)
    async with session.put(f"{emu.base_url}/repos/{REPO}/issues/1/lock",
                           json={"lock_reason": "because"}, headers=auth(token)) as resp:
        assert resp.status == 400
    assert "lock_reason" in state.violations[0].reason
    assert state.issue(REPO, 1)["locked"] is False


async def test_refuses_an_unsupported_api_version(emu, session, state):
    token = await token_for(emu, session)
    async with session.get(f"{emu.base_url}/repos/{REPO}",
                           headers={**auth(token), "X-GitHub-Api-Version": "2021-01-01"}) as resp:
        assert resp.status == 400
    assert "X-GitHub-Api-Version" in state.violations[0].reason


# -- behaviour ----------------------------------------------------------------------------------------


async def test_conditional_get_answers_304_for_a_matching_etag(emu, session, state):
    token = await token_for(emu, session)
    url = f"{emu.base_url}/repos/{REPO}/contents/.github/secbot.yml"
    async with session.get(url, headers=auth(token)) as resp:
        assert resp.status == 200
        etag = resp.headers["ETag"]
        body = await resp.json()
    assert base64.b64decode(body["content"]).decode() == "labels: [security]\n"
    assert body["encoding"] == "base64" and body["sha"]
    async with session.get(url, headers={**auth(token), "If-None-Match": etag}) as resp:
        assert resp.status == 304
        assert await resp.read() == b""
        assert "x-ratelimit-remaining" in resp.headers
    async with session.get(f"{emu.base_url}/repos/{REPO}/contents/.github/missing.yml", headers=auth(token)) as resp:
        assert resp.status == 404
    state.assert_no_violations()


async def test_gidgethub_reads_a_config_file_with_its_cache(emu, session, state):
    token = await token_for(emu, session)
    cache: dict = {}
    gh = GitHubAPI(session, "secbot-tests", oauth_token=token, base_url=emu.base_url, cache=cache)
    url = "/repos/{owner}/{repo}/contents/{+path}"
    first = await gh.getitem(url, {"owner": "acme", "repo": "widget", "path": ".github/secbot.yml"})
    second = await gh.getitem(url, {"owner": "acme", "repo": "widget", "path": ".github/secbot.yml"})
    assert first == second
    assert [r.status for r in state.requests[-2:]] == [200, 304]
    state.assert_no_violations()


async def test_assignees_without_push_access_are_silently_dropped(emu, session, state):
    state.open_issue(REPO, title="t", body="b", user="reporter")
    token = await token_for(emu, session)
    async with session.post(f"{emu.base_url}/repos/{REPO}/issues/1/assignees",
                            json={"assignees": ["maintainer", "helper", "reporter"]}, headers=auth(token)) as resp:
        assert resp.status == 201
        issue = await resp.json()
    assert [a["login"] for a in issue["assignees"]] == ["maintainer"]
    assert issue["assignee"]["login"] == "maintainer"
    state.assert_no_violations()


async def test_labels_are_added_and_created_on_the_fly(emu, session, state):
    state.open_issue(REPO, title="t", body="b", user="reporter")
    token = await token_for(emu, session)
    async with session.post(f"{emu.base_url}/repos/{REPO}/issues/1/labels",
                            json={"labels": ["security"]}, headers=auth(token)) as resp:
        assert resp.status == 200
        assert [lab["name"] for lab in await resp.json()] == ["security"]
    async with session.get(f"{emu.base_url}/repos/{REPO}/labels/security", headers=auth(token)) as resp:
        assert resp.status == 200
    async with session.delete(f"{emu.base_url}/repos/{REPO}/issues/1/labels/security", headers=auth(token)) as resp:
        assert resp.status == 200 and await resp.json() == []
    state.assert_no_violations()


async def test_permission_endpoint_maps_roles_to_legacy_permissions(emu, session, state):
    token = await token_for(emu, session)
    seen = {}
    for login in ("maintainer", "helper", "stranger"):
        async with session.get(f"{emu.base_url}/repos/{REPO}/collaborators/{login}/permission",
                               headers=auth(token)) as resp:
            body = await resp.json()
            seen[login] = (body["permission"], body["role_name"])
    assert seen == {"maintainer": ("write", "maintain"), "helper": ("read", "triage"), "stranger": ("none", "none")}
    state.assert_no_violations()


async def test_advisory_collaborators_are_replaced_wholesale(emu, session, state):
    adv = state.report_vulnerability(REPO, summary="RCE", description="details", user="reporter")
    assert adv["state"] == "triage" and adv["submission"] == {"accepted": False}
    assert [u["login"] for u in adv["collaborating_users"]] == ["reporter"]
    assert adv["credits_detailed"][0]["state"] == "pending"
    state.add_team("acme", "security", ["maintainer"])
    token = await token_for(emu, session)
    url = f"{emu.base_url}/repos/{REPO}/security-advisories/{adv['ghsa_id']}"
    async with session.patch(url, json={"collaborating_users": ["maintainer"], "collaborating_teams": ["security"]},
                             headers=auth(token)) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert [u["login"] for u in body["collaborating_users"]] == ["maintainer"]
    assert [t["slug"] for t in body["collaborating_teams"]] == ["security"]
    async with session.patch(url, json={"state": "draft"}, headers=auth(token)) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["state"] == "draft" and body["submission"] == {"accepted": True}
    state.assert_no_violations()


async def test_invalid_advisory_transition_is_refused_with_422(emu, session, state):
    adv = state.report_vulnerability(REPO, summary="RCE", description="details", user="reporter")
    token = await token_for(emu, session)
    url = f"{emu.base_url}/repos/{REPO}/security-advisories/{adv['ghsa_id']}"
    async with session.patch(url, json={"state": "published"}, headers=auth(token)) as resp:
        assert resp.status == 422
        assert "triage to published" in (await resp.json())["message"]
    assert state.advisory(REPO, adv["ghsa_id"])["state"] == "triage"
    state.assert_no_violations()


async def test_advisory_comments_extension_filters_by_update_time(emu, session, state):
    adv = state.report_vulnerability(REPO, summary="RCE", description="details", user="reporter")
    state.add_advisory_comment(REPO, adv["ghsa_id"], body="first", user="reporter")
    state.advance(60)
    since = state.iso_now()
    state.add_advisory_comment(REPO, adv["ghsa_id"], body="second", user="reporter")
    token = await token_for(emu, session)
    url = f"{emu.base_url}/repos/{REPO}/security-advisories/{adv['ghsa_id']}/comments"
    async with session.get(url, params={"since": since}, headers=auth(token)) as resp:
        assert [c["body"] for c in await resp.json()] == ["second"]
    async with session.post(url, json={"body": "We are on it."}, headers=auth(token)) as resp:
        assert resp.status == 201
    async with session.post(url, json={}, headers=auth(token)) as resp:
        assert resp.status == 400
    assert len(state.violations) == 1 and not state.response_errors


async def test_transfer_issue_moves_it_and_the_old_address_redirects(emu, session, state):
    issue = state.open_issue(REPO, title="vuln", body="secret details", user="reporter")
    state.add_comment(REPO, 1, body="more details", user="reporter")
    token = await token_for(emu, session)
    gh = GitHubAPI(session, "secbot-tests", oauth_token=token, base_url=emu.base_url)
    repo = await gh.graphql("query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { id } }",
                            endpoint=emu.graphql_url, owner="acme", name="widget-security")
    result = await gh.graphql(
        "mutation($issue: ID!, $repo: ID!) { transferIssue(input: {issueId: $issue, repositoryId: $repo}) "
        "{ issue { number url } } }", endpoint=emu.graphql_url, issue=issue["node_id"], repo=repo["repository"]["id"])
    assert result == {"transferIssue": {"issue": {"number": 1, "url": "https://github.com/acme/widget-security/issues/1"}}}
    assert state.repo(REPO).issues == {}
    assert state.comments(PRIVATE, 1)[0]["body"] == "more details"
    async with session.get(f"{emu.base_url}/repos/{REPO}/issues/1", headers=auth(token), allow_redirects=False) as resp:
        assert resp.status == 301
        assert resp.headers["Location"] == f"{emu.base_url}/repos/{PRIVATE}/issues/1"
    state.assert_no_violations()


async def test_a_repository_query_says_whether_it_is_private(emu, session, state):
    token = await token_for(emu, session)
    gh = GitHubAPI(session, "secbot-tests", oauth_token=token, base_url=emu.base_url)
    query = "query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { isPrivate nameWithOwner } }"
    for full_name, private in ((REPO, False), (PRIVATE, True)):
        owner, name = full_name.split("/")
        found = await gh.graphql(query, endpoint=emu.graphql_url, owner=owner, name=name)
        assert found == {"repository": {"isPrivate": private, "nameWithOwner": full_name}}
    state.assert_no_violations()


async def test_transfer_to_an_id_that_is_not_a_repository_is_not_found(emu, session, state):
    issue = state.open_issue(REPO, title="vuln", body="secret details", user="reporter")
    token = await token_for(emu, session)
    query = ("mutation($issue: ID!, $repo: ID!) { transferIssue(input: {issueId: $issue, repositoryId: $repo}) "
             "{ issue { number } } }")
    # (issue id, repository id, the one named as not found): an issue's id as the repository; an unknown issue.
    for issue_id, repo_id, missing in ((issue["node_id"], issue["node_id"], issue["node_id"]),
                                       ("I_nope", issue["node_id"], "I_nope")):
        async with session.post(f"{emu.base_url}/graphql", headers=auth(token),
                                json={"query": query, "variables": {"issue": issue_id, "repo": repo_id}}) as resp:
            [error] = (await resp.json())["errors"]
        assert error["type"] == "NOT_FOUND" and error["message"].endswith(f"'{missing}'")
    assert state.repo(REPO).issues  # still there
    state.assert_no_violations()


async def test_minimize_comment_hides_an_issue_comment_as_githubs_schema_says(emu, session, state):
    state.open_issue(REPO, title="question", body="hi", user="reporter")
    first = state.add_comment(REPO, 1, body="/sec accept critical", user="maintainer")
    second = state.add_comment(REPO, 1, body="/sec eta 2027-01-01", user="maintainer")
    token = await token_for(emu, session)
    gh = GitHubAPI(session, "secbot-tests", oauth_token=token, base_url=emu.base_url)
    result = await gh.graphql(
        "mutation($input: MinimizeCommentInput!) { minimizeComment(input: $input) "
        "{ minimizedComment { isMinimized minimizedReason } } }", endpoint=emu.graphql_url,
        input={"subjectId": first["node_id"], "classifier": "OUTDATED"})
    assert result == {"minimizeComment": {"minimizedComment": {"isMinimized": True, "minimizedReason": "outdated"}}}
    result = await gh.graphql(
        "mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OFF_TOPIC}) "
        "{ clientMutationId minimizedComment { isMinimized } } }", endpoint=emu.graphql_url, id=second["node_id"])
    assert result == {"minimizeComment": {"clientMutationId": None, "minimizedComment": {"isMinimized": True}}}
    assert (state.minimized(REPO, first["id"]), state.minimized(REPO, second["id"])) == ("outdated", "off-topic")
    async with session.get(f"{emu.base_url}/repos/{REPO}/issues/comments/{first['id']}", headers=auth(token)) as resp:
        assert "_minimized" not in await resp.json()  # REST does not show it
    state.assert_no_violations()


async def test_minimize_comment_refuses_what_github_refuses(emu, session, state):
    issue = state.open_issue(REPO, title="question", body="hi", user="reporter")
    elsewhere = state.add_repo("other/repo", installation_id=None)
    state.open_issue("other/repo", title="x", body="y", user="reporter")
    foreign = state.add_comment("other/repo", 1, body="/sec ack", user="reporter")
    token = await token_for(emu, session)
    query = ("mutation($input: MinimizeCommentInput!) { minimizeComment(input: $input) "
             "{ minimizedComment { isMinimized } } }")
    for subject, kind in ((issue["node_id"], "NOT_FOUND"), ("IC_nope", "NOT_FOUND"), (foreign["node_id"], "FORBIDDEN")):
        async with session.post(f"{emu.base_url}/graphql", headers=auth(token), json={
                "query": query, "variables": {"input": {"subjectId": subject, "classifier": "OUTDATED"}}}) as resp:
            [error] = (await resp.json())["errors"]
        assert error["type"] == kind
    assert elsewhere and state.minimized("other/repo", foreign["id"]) is None
    for document in (  # a quoted enum, a classifier GitHub does not know: the emulator fails closed
        'mutation { minimizeComment(input: {subjectId: "x", classifier: "OUTDATED"}) { minimizedComment { isMinimized } } }',
        'mutation { minimizeComment(input: {subjectId: "x", classifier: HIDDEN}) { minimizedComment { isMinimized } } }',
        'mutation { minimizeComment(input: {subjectId: "x", classifier: SPAM}) { minimizedComment { body } } }',
    ):
        async with session.post(f"{emu.base_url}/graphql", headers=auth(token), json={"query": document}) as resp:
            assert resp.status == 400
    assert len(state.violations) == 3


async def test_discussion_lookups_locks_and_comment_deletion_as_githubs_schema_says(emu, session, state):
    d = state.open_discussion(REPO, title="alert", body="click here", user="reporter")
    comment = state.add_discussion_comment(REPO, d["number"], body="details", user="reporter")
    token = await token_for(emu, session)
    gh = GitHubAPI(session, "secbot-tests", oauth_token=token, base_url=emu.base_url)
    owner, name = REPO.split("/")
    found = await gh.graphql("query($owner: String!, $name: String!, $number: Int!) { repository(owner: $owner, "
                             "name: $name) { discussion(number: $number) { id } } }", endpoint=emu.graphql_url,
                             owner=owner, name=name, number=d["number"])
    assert found == {"repository": {"discussion": {"id": d["node_id"]}}}
    locked = await gh.graphql("mutation($input: LockLockableInput!) { lockLockable(input: $input) "
                              "{ lockedRecord { locked activeLockReason } } }", endpoint=emu.graphql_url,
                              input={"lockableId": d["node_id"], "lockReason": "SPAM"})
    assert locked == {"lockLockable": {"lockedRecord": {"locked": True, "activeLockReason": "SPAM"}}}
    assert state.discussion(REPO, d["number"])["locked"] and state.discussion(REPO, d["number"])["body"] == "click here"
    gone = await gh.graphql("mutation($input: DeleteDiscussionCommentInput!) { deleteDiscussionComment(input: $input) "
                            "{ comment { id } } }", endpoint=emu.graphql_url, input={"id": comment["node_id"]})
    assert gone == {"deleteDiscussionComment": {"comment": {"id": comment["node_id"]}}}
    assert state.discussion_comments(REPO, d["number"]) == []
    async with session.post(f"{emu.base_url}/graphql", headers=auth(token), json={  # a comment is not Lockable
            "query": "mutation($input: LockLockableInput!) { lockLockable(input: $input) { lockedRecord { locked } } }",
            "variables": {"input": {"lockableId": comment["node_id"], "lockReason": "SPAM"}}}) as resp:
        [error] = (await resp.json())["errors"]
    assert error["type"] == "NOT_FOUND"
    async with session.post(f"{emu.base_url}/graphql", headers=auth(token), json={  # a reason GitHub does not know
            "query": "mutation { lockLockable(input: {lockableId: \"x\", lockReason: PHISHING}) { lockedRecord { locked } } }"}) as resp:
        assert resp.status == 400
    assert len(state.violations) == 1


async def test_reactions_by_graphql_as_githubs_schema_says(emu, session, state):
    d = state.open_discussion(REPO, title="q", body="b", user="reporter")
    comment = state.add_discussion_comment(REPO, d["number"], body="/sec help", user="maintainer")
    token = await token_for(emu, session)
    gh = GitHubAPI(session, "secbot-tests", oauth_token=token, base_url=emu.base_url)
    query = "mutation($input: AddReactionInput!) { addReaction(input: $input) { reaction { content } } }"
    for _ in range(2):  # once per user and content, as on REST
        done = await gh.graphql(query, endpoint=emu.graphql_url, input={"subjectId": comment["node_id"], "content": "THUMBS_UP"})
        assert done == {"addReaction": {"reaction": {"content": "THUMBS_UP"}}}
    await gh.graphql('mutation { addReaction(input: {subjectId: "%s", content: CONFUSED}) { reaction { content } } }'
                     % d["node_id"], endpoint=emu.graphql_url)
    assert [(r["_subject"], r["content"]) for r in state.reactions] == [(comment["node_id"], "+1"), (d["node_id"], "confused")]
    for document in (  # a quoted enum, a content GitHub does not know: the emulator fails closed
        'mutation { addReaction(input: {subjectId: "x", content: "THUMBS_UP"}) { reaction { content } } }',
        'mutation { addReaction(input: {subjectId: "x", content: PLUS_ONE}) { reaction { content } } }',
    ):
        async with session.post(f"{emu.base_url}/graphql", headers=auth(token), json={"query": document}) as resp:
            assert resp.status == 400
    assert len(state.violations) == 2


async def test_unsupported_graphql_is_a_violation(emu, session, state):
    token = await token_for(emu, session)
    async with session.post(f"{emu.base_url}/graphql", json={"query": "{ viewer { login } }"},
                            headers=auth(token)) as resp:
        assert resp.status == 400
    assert state.violations[0].path == "/graphql"


async def test_injected_failures_answer_then_clear(emu, session, state):
    state.fail_next("POST", r"/issues/\d+/comments$", 403, headers={"retry-after": "30"})
    state.open_issue(REPO, title="t", body="b", user="reporter")
    token = await token_for(emu, session)
    gh = GitHubAPI(session, "secbot-tests", oauth_token=token, base_url=emu.base_url)
    with pytest.raises(BadRequest) as info:
        await gh.post("/repos/acme/widget/issues/1/comments", data={"body": "hi"})
    assert info.value.status_code == 403 and info.value.headers["retry-after"] == "30"
    await gh.post("/repos/acme/widget/issues/1/comments", data={"body": "hi"})
    assert len(state.comments(REPO, 1)) == 1
    state.assert_no_violations()


async def test_an_applied_failure_makes_the_write_and_loses_the_answer(emu, session, state):
    state.open_issue(REPO, title="t", body="b", user="reporter")
    state.fail_next("POST", r"/issues/\d+/comments$", 502, applied=True)
    state.fail_next("POST", r"/issues/\d+/comments$", DROP, applied=True)
    state.fail_next("POST", r"/issues/\d+/comments$", DROP)
    token = await token_for(emu, session)
    url = f"{emu.base_url}/repos/{REPO}/issues/1/comments"
    async with session.post(url, json={"body": "one"}, headers=auth(token)) as resp:
        assert resp.status == 502
    for _ in range(2):
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with session.post(url, json={"body": "two"}, headers=auth(token)) as resp:
                await resp.read()
    assert [c["body"] for c in state.comments(REPO, 1)] == ["one", "two"]  # the last drop came before the write
    assert [r.fault for r in state.requests if r.method == "POST" and r.path.endswith("/comments")] == [
        "applied-502", "applied-drop", "drop"]
    state.assert_no_violations()


async def _fault_run(seed: int, rate: float = 0.3) -> tuple[list[tuple[str, str, str | None]], GitHubState]:
    """The same 120 requests against a fresh emulator with random faults; what each one met."""
    s = GitHubState(now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    s.add_installation(INSTALLATION, "acme")
    s.add_repo(REPO, installation_id=INSTALLATION)
    s.open_issue(REPO, title="t", body="b", user="reporter")
    async with run_emulator(s) as emu, aiohttp.ClientSession() as http:
        token = await token_for(emu, http)
        faults = s.inject_faults(rate, seed=seed, retry_after=7)
        for n in range(60):
            for method, path, body in (("GET", f"/repos/{REPO}/issues/1", None),
                                       ("POST", f"/repos/{REPO}/issues/1/comments", {"body": f"c{n}"})):
                try:
                    async with http.request(method, emu.base_url + path, json=body, headers=auth(token)) as resp:
                        await resp.read()
                        if resp.status == 403:
                            assert resp.headers["retry-after"] == "7"
                            assert "secondary rate limit" in (await resp.json())["message"]
                except aiohttp.ServerDisconnectedError:
                    pass
    s.assert_no_violations()
    assert sum(faults.injected.values()) == sum(1 for r in s.requests if r.fault)
    return [(r.method, r.path, r.fault) for r in s.requests if r.path != f"/app/installations/{INSTALLATION}/access_tokens"], s


async def test_random_faults_are_repeatable_from_their_seed_and_of_every_kind():
    first, state = await _fault_run(seed=11)
    again, _ = await _fault_run(seed=11)
    other, _ = await _fault_run(seed=12)
    assert first == again and first != other
    faults = [f for _, _, f in first if f]
    assert 0.15 < len(faults) / len(first) < 0.45  # about the rate asked for
    assert set(faults) == set(FAULT_KINDS)
    assert not [f for m, _, f in first if m == "GET" and f and f.startswith("applied-")]  # a read applies nothing
    applied = sum(1 for m, _, f in first if m == "POST" and f and f.startswith("applied-"))
    served = sum(1 for m, _, f in first if m == "POST" and not f)
    assert len(state.comments(REPO, 1)) == served + applied  # applied failures made their comment


async def test_random_faults_never_hide_a_violation(emu, session, state):
    token = await token_for(emu, session)
    state.inject_faults(1.0, seed=1)
    async with session.post(f"{emu.base_url}/repos/{REPO}/issues/1/comments", json={"text": "no body"},
                            headers=auth(token)) as resp:
        assert resp.status == 400
    assert len(state.violations) == 1 and state.requests[-1].fault is None
    state.violations.clear()
    state.inject_faults(0)
    async with session.get(f"{emu.base_url}/repos/{REPO}", headers=auth(token)) as resp:
        assert resp.status == 200  # rate 0: off


async def test_issues_of_a_repository_are_listed_newest_first_with_filters(emu, session, state):
    first = state.open_issue(REPO, title="one", body="b", user="reporter")
    state.open_issue(REPO, title="two", body="b", user="maintainer", labels=["security"])
    state.update_issue(REPO, first["number"], {"state": "closed"}, actor="maintainer")
    token = await token_for(emu, session)
    gh = GitHubAPI(session, "secbot-tests", oauth_token=token, base_url=emu.base_url)
    url = "/repos/acme/widget/issues{?state,creator,labels,sort,direction}"
    assert [i["title"] async for i in gh.getiter(url, {"state": "all"})] == ["two", "one"]
    assert [i["title"] async for i in gh.getiter(url, {})] == ["two"]  # open ones by default
    assert [i["title"] async for i in gh.getiter(url, {"state": "all", "creator": "reporter"})] == ["one"]
    assert [i["title"] async for i in gh.getiter(url, {"state": "all", "labels": "security"})] == ["two"]
    assert [i["title"] async for i in gh.getiter(url, {"state": "all", "direction": "asc"})] == ["one", "two"]
    state.assert_no_violations()
    with pytest.raises(BadRequest):
        await gh.getitem("/repos/acme/widget/issues?milestone=1")  # a filter the emulator would ignore: refused
    assert state.violations


async def test_a_second_pull_request_from_the_same_branch_is_refused_and_the_first_is_listed(emu, session, state):
    token = await token_for(emu, session)
    gh = GitHubAPI(session, "secbot-tests", oauth_token=token, base_url=emu.base_url)
    await gh.post("/repos/acme/widget/git/refs", data={"ref": "refs/heads/fix", "sha": state.repo(REPO).refs["heads/main"]})
    made = await gh.post("/repos/acme/widget/pulls", data={"title": "Fix", "head": "fix", "base": "main"})
    with pytest.raises(BadRequest) as info:
        await gh.post("/repos/acme/widget/pulls", data={"title": "Fix", "head": "fix", "base": "main"})
    assert info.value.status_code == 422
    found = [p["number"] async for p in gh.getiter("/repos/acme/widget/pulls{?head,state}", {"head": "acme:fix", "state": "open"})]
    assert found == [made["number"]]
    state.assert_no_violations()


async def test_list_comments_paginates_with_link_headers(emu, session, state):
    state.open_issue(REPO, title="t", body="b", user="reporter")
    for i in range(5):
        state.add_comment(REPO, 1, body=f"c{i}", user="reporter")
    token = await token_for(emu, session)
    gh = GitHubAPI(session, "secbot-tests", oauth_token=token, base_url=emu.base_url)
    bodies = [c["body"] async for c in gh.getiter("/repos/acme/widget/issues/1/comments?per_page=2")]
    assert bodies == [f"c{i}" for i in range(5)]
    state.assert_no_violations()


# -- webhooks -----------------------------------------------------------------------------------------


async def test_webhook_delivery_is_signed_so_gidgethub_verifies_it(emu, state, aiohttp_server):
    received = []

    async def hook(request: web.Request) -> web.Response:
        event = sansio.Event.from_http(request.headers, await request.read(), secret=state.webhook_secret)
        received.append((event, request.headers["User-Agent"]))
        return web.Response(status=202)
    app = web.Application()
    app.router.add_post("/webhook", hook)
    server = await aiohttp_server(app)
    state.webhook_url = str(server.make_url("/webhook"))
    state.open_issue(REPO, title="crash", body="b", user="reporter")
    status = await emu.deliver("issues", emu.payloads.issues("opened", REPO, 1, "reporter"), delivery_id="d-1")
    assert status == 202
    event, agent = received[0]
    assert (event.event, event.delivery_id, event.data["action"]) == ("issues", "d-1", "opened")
    assert event.data["installation"]["id"] == INSTALLATION
    assert event.data["issue"]["url"].startswith(emu.base_url)
    assert agent == "GitHub-Hookshot/emulator"
    assert state.deliveries[0]["status"] == "OK"


async def test_webhook_payloads_have_the_keys_handlers_read(emu, state):
    state.open_issue(REPO, title="t", body="b", user="reporter")
    comment = state.add_comment(REPO, 1, body="x", user="maintainer")
    adv = state.report_vulnerability(REPO, summary="s", description="d", user="reporter")
    p = emu.payloads
    assert p.issue_comment("created", REPO, 1, comment["id"])["comment"]["author_association"] == "COLLABORATOR"
    reported = p.repository_advisory("reported", REPO, adv["ghsa_id"])
    assert reported["sender"]["login"] == "reporter" and reported["repository_advisory"]["state"] == "triage"
    assert p.installation("created", INSTALLATION)["repositories"][0]["full_name"] == REPO
    added = p.installation_repositories("added", INSTALLATION, added=[PRIVATE])
    assert added["repositories_added"][0]["private"] is True


async def test_redelivery_reuses_the_delivery_guid(emu, session, state, aiohttp_server):
    guids = []

    async def hook(request: web.Request) -> web.Response:
        guids.append(request.headers["X-GitHub-Delivery"])
        return web.Response(status=500 if len(guids) == 1 else 202)
    app = web.Application()
    app.router.add_post("/webhook", hook)
    server = await aiohttp_server(app)
    state.webhook_url = str(server.make_url("/webhook"))
    assert await emu.deliver("installation", emu.payloads.installation("created", INSTALLATION)) == 500
    headers = {"Authorization": f"Bearer {app_jwt(state)}"}
    async with session.get(f"{emu.base_url}/app/hook/deliveries", params={"status": "failure"}, headers=headers) as resp:
        failed = await resp.json()
    assert len(failed) == 1
    async with session.post(f"{emu.base_url}/app/hook/deliveries/{failed[0]['id']}/attempts", headers=headers) as resp:
        assert resp.status == 202
    assert guids[0] == guids[1]
    state.assert_no_violations()


def test_state_clock_drives_timestamps():
    s = GitHubState(now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    s.add_installation(1, "acme")
    s.add_repo("acme/x", installation_id=1)
    s.advance(90)
    assert s.open_issue("acme/x", title="t", body=None, user="u")["created_at"] == "2026-01-01T00:01:30Z"
    assert time.time() > 0  # the wall clock is not what the state uses


def test_webhook_fixtures_are_named_after_their_action():
    folder = pathlib.Path(__file__).resolve().parent / "fixtures" / "webhooks"
    names = sorted(p.name for p in folder.glob("*.json"))
    assert "issues.opened.json" in names and "repository_advisory.reported.json" in names
    for name in names:
        payload = json.loads((folder / name).read_text())
        event, *rest = name.removesuffix(".json").split(".")
        if event == "ping":
            assert "zen" in payload and "hook" in payload
        else:
            assert payload["action"] == rest[0], name
    assert json.loads((folder / "ping.app.json").read_text())["hook"]["app_id"]


async def test_every_served_operation_answers_conformant_to_the_description(emu, session, state):
    """One call per operation; the emulator checks its own answers against the response schemas."""
    state.add_team("acme", "security", ["maintainer"])
    state.open_issue(REPO, title="t", body="b", user="reporter")
    comment = state.add_comment(REPO, 1, body="c", user="reporter")
    adv = state.report_vulnerability(REPO, summary="s", description="d", user="reporter")
    draft = state.create_advisory(REPO, summary="s", description="d", author="maintainer", vulnerabilities=[])
    state.add_paths(REPO, ["src/a.py", "docs/b.md"], symbols={"src/a.py": ["parse"]})
    state.add_tag(REPO, "v1.0.0")
    state.add_global_advisory(ghsa_id="GHSA-aaaa-bbbb-cccc", cve_id="CVE-2020-0001", summary="s",
                              source_code_location="https://github.com/other/project")
    state.set_profile("reporter", created_at="2020-01-01T00:00:00Z", public_repos=3)
    token = await token_for(emu, session)
    app_auth = {"Authorization": f"Bearer {app_jwt(state)}"}
    b, r, g = emu.base_url, f"{emu.base_url}/repos/{REPO}", adv["ghsa_id"]
    code = state.new_manifest_code()
    state.webhook_url = "http://127.0.0.1:9/hook"  # nothing listens: the delivery fails, redelivery still answers 202
    await emu.deliver("ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    delivery_id = state.deliveries[0]["id"]
    calls = [
        ("GET", f"{b}/app", app_auth, None, 200),
        ("GET", f"{b}/app/installations", app_auth, None, 200),
        ("GET", f"{r}/installation", app_auth, None, 200),
        ("GET", f"{b}/app/hook/deliveries", app_auth, None, 200),
        ("POST", f"{b}/app/hook/deliveries/{delivery_id}/attempts", app_auth, None, 202),
        ("POST", f"{b}/app-manifests/{code}/conversions", {}, None, 201),
        ("GET", r, auth(token), None, 200),
        ("GET", f"{b}/installation/repositories", auth(token), None, 200),
        ("PUT", f"{r}/contents/SECURITY.md", auth(token),
         {"message": "Add policy", "content": base64.b64encode(b"# Policy\n").decode()}, 201),
        ("GET", f"{r}/contents/SECURITY.md?ref=main", auth(token), None, 200),
        ("GET", f"{r}/private-vulnerability-reporting", auth(token), None, 200),
        ("DELETE", f"{r}/private-vulnerability-reporting", auth(token), None, 204),
        ("PUT", f"{r}/private-vulnerability-reporting", auth(token), None, 204),
        ("GET", f"{r}/collaborators/maintainer/permission", auth(token), None, 200),
        ("GET", f"{r}/git/ref/heads/main", auth(token), None, 200),
        ("GET", f"{r}/git/trees/main?recursive=1", auth(token), None, 200),
        ("GET", f"{r}/tags?per_page=100", auth(token), None, 200),
        ("GET", f"{b}/search/code?q=parse+repo:{REPO}&per_page=5", auth(token), None, 200),
        ("GET", f"{b}/advisories?cve_id=CVE-2020-0001", auth(token), None, 200),
        ("GET", f"{b}/advisories/GHSA-aaaa-bbbb-cccc", auth(token), None, 200),
        ("GET", f"{b}/users/reporter", auth(token), None, 200),
        ("POST", f"{r}/git/refs", auth(token), {"ref": "refs/heads/secbot/policy", "sha": state.repo(REPO).refs["heads/main"]}, 201),
        ("POST", f"{r}/pulls", auth(token), {"title": "Add policy", "head": "secbot/policy", "base": "main"}, 201),
        ("GET", f"{r}/pulls?head=acme:secbot/policy&state=open", auth(token), None, 200),
        ("POST", f"{r}/issues", auth(token), {"title": "Tracking", "labels": ["security"], "assignees": ["maintainer"]}, 201),
        ("GET", f"{r}/issues?state=all&sort=created&direction=desc&since=2000-01-01T00:00:00Z&per_page=100",
         auth(token), None, 200),
        ("GET", f"{r}/issues/1", auth(token), None, 200),
        ("PATCH", f"{r}/issues/1", auth(token), {"state": "closed", "state_reason": "not_planned"}, 200),
        ("GET", f"{r}/issues/1/comments?since=2000-01-01T00:00:00Z&per_page=10&page=1", auth(token), None, 200),
        ("POST", f"{r}/issues/1/comments", auth(token), {"body": "hi"}, 201),
        ("GET", f"{r}/issues/comments/{comment['id']}", auth(token), None, 200),
        ("PATCH", f"{r}/issues/comments/{comment['id']}", auth(token), {"body": "[redacted]"}, 200),
        ("POST", f"{r}/issues/comments/{comment['id']}/reactions", auth(token), {"content": "eyes"}, 201),
        ("DELETE", f"{r}/issues/comments/{comment['id']}", auth(token), None, 204),
        ("POST", f"{r}/issues/1/labels", auth(token), {"labels": ["security", "needs-triage"]}, 200),
        ("PUT", f"{r}/issues/1/labels", auth(token), {"labels": ["security"]}, 200),
        ("DELETE", f"{r}/issues/1/labels/security", auth(token), None, 200),
        ("DELETE", f"{r}/issues/1/labels", auth(token), None, 204),
        ("POST", f"{r}/issues/1/assignees", auth(token), {"assignees": ["maintainer"]}, 201),
        ("DELETE", f"{r}/issues/1/assignees", auth(token), {"assignees": ["maintainer"]}, 200),
        ("PUT", f"{r}/issues/1/lock", auth(token), {"lock_reason": "resolved"}, 204),
        ("DELETE", f"{r}/issues/1/lock", auth(token), None, 204),
        ("POST", f"{r}/issues/1/reactions", auth(token), {"content": "+1"}, 201),
        ("POST", f"{r}/labels", auth(token), {"name": "pvr-redirected", "color": "d73a4a"}, 201),
        ("GET", f"{r}/labels/pvr-redirected", auth(token), None, 200),
        ("GET", f"{r}/security-advisories?state=triage&per_page=5", auth(token), None, 200),
        ("POST", f"{r}/security-advisories/{draft['ghsa_id']}/cve", auth(token), None, 202),
        ("POST", f"{r}/releases", auth(token), {"tag_name": "v1.0.1", "name": "Security update 1.0.1", "body": "b",
                                                "draft": True}, 201),
        ("POST", f"{r}/releases", auth(token), {"tag_name": "v1.0.0", "name": "1.0.0"}, 201),
        ("GET", f"{r}/releases/tags/v1.0.0", auth(token), None, 200),
        ("GET", f"{r}/releases?per_page=10", auth(token), None, 200),
        ("POST", f"{r}/security-advisories", auth(token), {"summary": "s", "description": "d", "severity": "high",
                                                            "vulnerabilities": [{"package": {"ecosystem": "pip", "name": "widget"}}]}, 201),
        ("GET", f"{r}/security-advisories/{g}", auth(token), None, 200),
        ("PATCH", f"{r}/security-advisories/{g}", auth(token), {"state": "closed"}, 200),
        ("POST", f"{r}/security-advisories/reports", auth(token), {"summary": "s", "description": "d"}, 201),
        ("POST", f"{r}/security-advisories/{g}/comments", auth(token), {"body": "hello"}, 201),
        ("GET", f"{r}/security-advisories/{g}/comments?per_page=5&page=1", auth(token), None, 200),
        ("GET", f"{b}/orgs/acme/teams/security/memberships/maintainer", auth(token), None, 200),
    ]
    seen = set()
    for method, url, headers, body, expected in calls:
        async with session.request(method, url, headers=headers, json=body) as resp:
            assert resp.status == expected, (method, url, await resp.text())
        seen.add((state.requests[-1].method, state.requests[-1].operation_id))
    advisory_comment = state.advisory_comments(REPO, g)[0]["id"]
    for method, body in (("GET", None), ("PATCH", {"body": "edited"})):
        async with session.request(method, f"{r}/security-advisories/{g}/comments/{advisory_comment}",
                                   headers=auth(token), json=body) as resp:
            assert resp.status == 200
        seen.add((state.requests[-1].method, state.requests[-1].operation_id))
    state.assert_no_violations()
    spec = load_spec()
    untested = {(op.method, op.operation_id) for op in spec.operations} - seen - {
        ("POST", "apps/create-installation-access-token"), ("POST", "x-secbot/graphql")}  # tested above
    assert not untested, untested


async def test_gidgethub_app_credentials_mint_acceptable_jwts(emu, session, state):
    gh = GitHubAPI(session, "secbot-tests", app_id=str(state.app_id), private_key=state.private_key_pem,
                   base_url=emu.base_url)
    assert (await gh.getitem("/app"))["slug"] == "secbot"
    installation = await gh.getitem("/repos/acme/widget/installation")
    assert installation["id"] == INSTALLATION
    state.assert_no_violations()


async def test_wall_clock_jwts_survive_a_moved_state_clock(emu, session, state):
    state.advance(dt.timedelta(hours=2))  # e.g. to expire installation tokens
    state.jwt_wall_clock = True
    gh = GitHubAPI(session, "secbot-tests", app_id=str(state.app_id), private_key=state.private_key_pem,
                   base_url=emu.base_url)
    assert (await gh.getitem("/app"))["id"] == state.app_id
    state.assert_no_violations()


async def test_secondary_rate_limit_can_be_injected_as_429(emu, session, state):
    state.fail_next("GET", r"^/repos/acme/widget$", 429, headers={"retry-after": "2"}, times=2)
    token = await token_for(emu, session)
    statuses = []
    for _ in range(3):
        async with session.get(f"{emu.base_url}/repos/{REPO}", headers=auth(token)) as resp:
            statuses.append((resp.status, resp.headers.get("retry-after")))
    assert statuses == [(429, "2"), (429, "2"), (200, None)]
    assert int(resp.headers["x-ratelimit-used"]) == 3


async def test_code_search_allows_ten_requests_a_minute_per_installation(emu, session, state):
    state.add_paths(REPO, ["src/a.py"], symbols={"src/a.py": ["parse"]})
    token = await token_for(emu, session)
    url = f"{emu.base_url}/search/code?q=parse+repo:{REPO}"
    statuses = []
    for _ in range(11):
        async with session.get(url, headers=auth(token)) as resp:
            statuses.append(resp.status)
            last = {k.lower(): v for k, v in resp.headers.items()}
    assert statuses == [200] * 10 + [403] and state.code_search_refused == 1
    assert last.get("x-ratelimit-resource") == "code_search" and last.get("x-ratelimit-remaining") == "0"
    state.advance(61)
    async with session.get(url, headers=auth(token)) as resp:
        assert resp.status == 200 and (await resp.json())["items"][0]["path"] == "src/a.py"


async def test_a_tree_lists_every_path_of_a_branch_or_a_tag_and_answers_304_when_unchanged(emu, session, state):
    state.add_paths(REPO, ["src/a.py", "src/deep/b.c"])
    state.add_paths(REPO, ["old/x.py"], ref="tags/v1.0")
    token = await token_for(emu, session)
    async with session.get(f"{emu.base_url}/repos/{REPO}/git/trees/main?recursive=1", headers=auth(token)) as resp:
        tree = await resp.json()
        etag = resp.headers["ETag"]
    blobs = {e["path"] for e in tree["tree"] if e["type"] == "blob"}
    assert {"src/a.py", "src/deep/b.c"} <= blobs and {"src", "src/deep"} <= {e["path"] for e in tree["tree"]}
    async with session.get(f"{emu.base_url}/repos/{REPO}/git/trees/main?recursive=1",
                           headers={**auth(token), "If-None-Match": etag}) as resp:
        assert resp.status == 304
    async with session.get(f"{emu.base_url}/repos/{REPO}/git/trees/v1.0?recursive=1", headers=auth(token)) as resp:
        assert {e["path"] for e in (await resp.json())["tree"] if e["type"] == "blob"} == {"old/x.py"}
    state.assert_no_violations()
