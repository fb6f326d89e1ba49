"""The GitHub client against the emulator: token cache, ETags, back-off, API version, dry run."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import aiohttp
import pytest

from bot.clock import FrozenClock
from bot.emulator import GitHubState, run_emulator
from bot.emulator.state import DROP
from bot.errors import MaybeApplied, RateLimited
from bot.github import client as client_module
from bot.github.client import API_VERSION, BAD_KEY, GitHubApp, load_private_key, may_repeat, sign_apart
from bot.github.urls import graphql_url

REPO_A, REPO_B = "org-a/app", "org-b/lib"


@pytest.fixture
def state() -> GitHubState:
    s = GitHubState()
    s.add_installation(1, "org-a")
    s.add_installation(2, "org-b")
    s.add_repo(REPO_A, installation_id=1)
    s.add_repo(REPO_B, installation_id=2)
    return s


@pytest.fixture
async def env(state: GitHubState):
    clock = FrozenClock(state.now().timestamp())
    async with run_emulator(state) as emu, aiohttp.ClientSession() as session:
        app = GitHubApp(session, app_id=str(state.app_id), private_key_pem=state.private_key_pem,
                        base_url=emu.base_url, clock=clock)
        yield app, clock, emu
    state.assert_no_violations()


async def test_an_installation_token_is_requested_once_per_installation_per_hour(env, state: GitHubState) -> None:
    app, clock, _ = env
    for _ in range(30):
        await app.client(1).getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"})
    for _ in range(10):
        await app.client(2).getitem("/repos/{owner}/{repo}", {"owner": "org-b", "repo": "lib"})
    assert dict(state.token_requests) == {1: 1, 2: 1}
    clock.advance(50 * 60)
    state.advance(50 * 60)
    await app.client(1).getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"})
    assert state.token_requests[1] == 1  # still valid for 10 more minutes
    clock.advance(6 * 60)
    state.advance(6 * 60)
    await app.client(1).getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"})
    assert state.token_requests[1] == 2  # refreshed shortly before expiry, not after


async def test_repeated_reads_are_conditional_and_answered_304(env, state: GitHubState) -> None:
    app, _, _ = env
    for _ in range(3):
        data = await app.client(1).getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"})
        assert data["full_name"] == REPO_A
    statuses = [r.status for r in state.requests if r.path == f"/repos/{REPO_A}"]
    assert statuses == [200, 304, 304]


async def test_etag_caches_are_kept_per_installation_within_one_bound(env, state: GitHubState) -> None:
    app, _, _ = env
    await app.client(1).getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"})
    assert len(app.client(1)._cache) == 1 and len(app.client(2)._cache) == 0  # one installation's answer is not another's
    # However many installations, the answers kept together take at most ETAG_BYTES (as compact
    # JSON), the oldest dropped first.
    answer = {"description": "x" * 10_000}
    for inst in range(3, 3 + client_module.ETAG_BYTES // 10_000 + 10):
        app.client(inst)._cache[f"/repos/o/r{inst}"] = ("etag", None, answer, None)
    assert app._etags.currsize <= client_module.ETAG_BYTES and len(app.client(1)._cache) == 0
    assert len(app._etags) > 300  # (each answer counted by its JSON: about 10 KB)
    assert app.client(inst)._cache[f"/repos/o/r{inst}"] == ("etag", None, answer, None)  # read back as it was
    app.client(2)._cache["/huge"] = ("etag", None, {"x": "y" * client_module.ETAG_BYTES}, None)  # larger than all
    assert "/huge" not in app.client(2)._cache


async def test_requests_in_flight_at_once_are_capped_per_installation(state: GitHubState) -> None:
    """Many jobs at once may all call GitHub: each installation's requests wait for one of
    `concurrency` turns; another installation's do not wait on them."""
    inflight: collections.Counter[str] = collections.Counter()
    peak: collections.Counter[str] = collections.Counter()

    def owner(params: Any) -> str | None:
        path = params.url.path
        return None if path.endswith("/access_tokens") else path.split("/")[2]

    async def started(_session: Any, _ctx: Any, params: Any) -> None:
        if (who := owner(params)) is not None:
            inflight[who] += 1
            peak[who] = max(peak[who], inflight[who])
            await asyncio.sleep(0.02)  # GitHub takes its time

    async def ended(_session: Any, _ctx: Any, params: Any) -> None:
        if (who := owner(params)) is not None:
            inflight[who] -= 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(started)
    trace.on_request_end.append(ended)
    async with run_emulator(state) as emu, aiohttp.ClientSession(trace_configs=[trace]) as session:
        app = GitHubApp(session, app_id=str(state.app_id), private_key_pem=state.private_key_pem,
                        base_url=emu.base_url, clock=FrozenClock(state.now().timestamp()), concurrency=3)
        a = [app.client(1).getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"}) for _ in range(12)]
        b = [app.client(2).getitem("/repos/{owner}/{repo}", {"owner": "org-b", "repo": "lib"}) for _ in range(12)]
        await asyncio.gather(*a, *b)
    assert peak == {"org-a": 3, "org-b": 3}


async def test_server_errors_are_retried_with_back_off(env, state: GitHubState) -> None:
    app, clock, _ = env
    state.fail_next("GET", f"^/repos/{REPO_A}$", 502, times=2)
    before = clock.now()
    data = await app.client(1).getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"})
    assert data["full_name"] == REPO_A
    assert clock.now() - before >= 1.0  # it waited (instantly, on the frozen clock)


COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"


@pytest.mark.parametrize("status", [502, 503, DROP], ids=["502", "503", "dropped"])
@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
async def test_a_create_github_may_have_made_is_not_sent_again(env, state: GitHubState, status: int,
                                                               applied: bool) -> None:
    app, _, _ = env
    issue = state.open_issue(REPO_A, title="t", body="b", user="someone")
    state.fail_next("POST", r"/comments$", status, applied=applied)
    with pytest.raises(MaybeApplied) as caught:
        await app.client(1).post(COMMENTS, {"owner": "org-a", "repo": "app", "issue_number": issue["number"]},
                                 data={"body": "x"})
    assert caught.value.status == status
    assert len(state.comments(REPO_A, issue["number"])) == (1 if applied else 0)
    assert len([r for r in state.requests if r.path.endswith("/comments")]) == 1  # sent once, not retried


async def test_reads_and_repeatable_writes_are_retried_after_5xx_or_a_dropped_connection(env, state: GitHubState) -> None:
    app, _, _ = env
    issue = state.open_issue(REPO_A, title="t", body="b", user="someone")
    gh, url_vars = app.client(1), {"owner": "org-a", "repo": "app", "issue_number": issue["number"]}
    state.fail_next("GET", f"^/repos/{REPO_A}$", DROP, times=2)
    assert (await gh.getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"}))["full_name"] == REPO_A
    state.fail_next("PATCH", r"/issues/\d+$", DROP, applied=True)
    assert (await gh.patch("/repos/{owner}/{repo}/issues/{issue_number}", url_vars, data={"title": "u"}))["title"] == "u"
    state.fail_next("POST", r"/labels$", 502, applied=True)
    await gh.post("/repos/{owner}/{repo}/issues/{issue_number}/labels", url_vars, data={"labels": ["security"]})
    assert [lb["name"] for lb in state.issue(REPO_A, issue["number"])["labels"]] == ["security"]


async def test_a_connection_never_made_is_tried_again_even_for_a_create(state: GitHubState) -> None:
    clock = FrozenClock(state.now().timestamp())
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(session, app_id=str(state.app_id), private_key_pem=state.private_key_pem,
                        base_url="http://127.0.0.1:9", clock=clock)  # nothing listens
        app._tokens[1] = ("t", clock.now() + 3600)
        with pytest.raises(aiohttp.ClientConnectorError):
            await app.client(1).post(COMMENTS, {"owner": "org-a", "repo": "app", "issue_number": 1}, data={"body": "x"})
    assert app.calls == {}  # nothing reached a server: no MaybeApplied, four tries
    assert clock.now() - state.now().timestamp() >= 1 + 2 + 4  # with back-off between them


def test_which_requests_may_be_sent_twice() -> None:
    assert may_repeat("GET", "/repos/o/r/issues/1/comments")
    assert may_repeat("PATCH", "/repos/o/r/issues/1") and may_repeat("PUT", "/repos/o/r/issues/1/lock")
    assert may_repeat("DELETE", "/repos/o/r/issues/comments/5")
    for adds in ("/repos/o/r/issues/1/labels", "/repos/o/r/issues/1/assignees", "/repos/o/r/issues/1/reactions",
                 "/repos/o/r/issues/comments/5/reactions", "/repos/o/r/git/refs", "/app/installations/1/access_tokens"):
        assert may_repeat("POST", adds), adds
    for creates in ("/repos/o/r/issues/1/comments", "/repos/o/r/issues", "/repos/o/r/security-advisories",
                    "/repos/o/r/security-advisories/GHSA-x/comments", "/repos/o/r/pulls", "/repos/o/r/labels"):
        assert not may_repeat("POST", creates), creates
    assert may_repeat("POST", "/graphql", b'{"query": "query { repository(owner: \\"o\\", name: \\"r\\") { id } }"}')
    assert not may_repeat("POST", "/graphql", b'{"query": " mutation($i: ID!) { transferIssue(input: {}) { issue { number } } }"}')
    assert not may_repeat("POST", "/graphql", b"not json")


async def test_a_short_secondary_rate_limit_is_waited_out(env, state: GitHubState) -> None:
    app, clock, _ = env
    state.fail_next("GET", f"^/repos/{REPO_A}$", 403, headers={"retry-after": "5"},
                    body={"message": "You have exceeded a secondary rate limit."})
    before = clock.now()
    await app.client(1).getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"})
    assert clock.now() - before >= 5


async def test_a_long_rate_limit_defers_the_job_instead_of_blocking(env, state: GitHubState) -> None:
    app, clock, _ = env
    state.fail_next("GET", f"^/repos/{REPO_A}$", 429, headers={"retry-after": "900"})
    with pytest.raises(RateLimited) as caught:
        await app.client(1).getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"})
    assert caught.value.until >= clock.now() + 900


async def test_dry_run_makes_no_writes(env, state: GitHubState) -> None:
    app, _, _ = env
    app.dry_run = True
    issue = state.open_issue(REPO_A, title="t", body="b", user="someone")
    await app.client(1).post("/repos/{owner}/{repo}/issues/{issue_number}/comments",
                             {"owner": "org-a", "repo": "app", "issue_number": issue["number"]}, data={"body": "x"})
    assert state.comments(REPO_A, issue["number"]) == []
    assert list(app.dry_run_writes) == [("POST", f"/repos/{REPO_A}/issues/{issue['number']}/comments")]


def test_graphql_endpoint_follows_the_api_url() -> None:
    assert graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url("https://ghe.example.com/api/v3") == "https://ghe.example.com/api/graphql"


def test_the_pinned_api_version() -> None:
    assert API_VERSION == "2022-11-28"


async def test_an_app_that_signs_apart_gets_its_tokens_as_one_that_signs_here(state: GitHubState) -> None:
    # `secbot serve` with worker processes and `secbot work`: each JWT signed by a short-lived process.
    async with run_emulator(state) as emu, aiohttp.ClientSession() as session:
        app = GitHubApp(session, app_id=str(state.app_id), private_key_pem=state.private_key_pem,
                        base_url=emu.base_url, clock=FrozenClock(state.now().timestamp()), sign_apart=True)
        await app.check_key()
        await app.client(1).getitem("/repos/{owner}/{repo}", {"owner": "org-a", "repo": "app"})
    assert state.token_requests[1] == 1  # (the emulator checks the JWT's signature)
    state.assert_no_violations()


async def test_a_bad_key_is_refused_apart_as_here_without_being_shown() -> None:
    bad = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS10ZXh0\n-----END PRIVATE KEY-----\n"
    with pytest.raises(ValueError) as here:
        load_private_key(bad)
    with pytest.raises(ValueError) as apart:
        await sign_apart(bad, {"iss": "1"})
    assert str(here.value) == str(apart.value) == BAD_KEY
    assert "c2VjcmV0" not in str(apart.value)
