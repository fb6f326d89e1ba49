"""Channel check end to end: the onboarding issue, daily re-checks and /sec setup (the diagnosis
itself: tests/test_security_md.py)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from gidgethub import sansio

from bot import logs
from bot.jobs.context import Context
from bot.jobs.queue import QUEUED
from bot.reports import onboarding
from bot.rules.security_md import PLACEHOLDER
from tests.e2e import INSTALLATION, MAINTAINER, REPO, Harness
from tests.test_security_md import FORM_POLICY, GOOD_POLICY, ISSUE_POLICY

PRIVATE_REPO = "octo-org/security-inbox"
OTHER = "octo-org/widgets"


# -- end to end -------------------------------------------------------------------------------------


pytestmark = pytest.mark.harness(
    setup=lambda h: h.state.add_repo(OTHER, installation_id=INSTALLATION, pvr_enabled=True))


async def install(h: Harness) -> None:
    assert await h.deliver("installation", h.payloads.installation("created", INSTALLATION)) == 202
    await h.settle()


async def recheck(h: Harness, repo: str = REPO) -> None:
    """What tomorrow's job does, now."""
    await onboarding.schedule_check(h.services.queue, INSTALLATION, repo, h.services.clock.now())
    h.services.configs.clear()
    await h.settle()


def bot_issues(h: Harness, repo: str = REPO) -> list[dict[str, Any]]:
    return [i for i in h.state.repo(repo).issues.values()
            if i["user"]["type"] == "Bot" and "pull_request" not in i]


def touched(h: Harness, repo: str) -> bool:
    return any(r.path.startswith(f"/repos/{repo}/") for r in h.state.requests)


async def queued_checks(h: Harness, repo: str = REPO) -> list[Any]:
    return [j for j in await h.services.queue.list(state=QUEUED, kind=onboarding.JOB_KIND)
            if j.singleton_key == onboarding.check_key(repo)]


async def test_a_healthy_repository_gets_no_issue_and_a_daily_recheck(h: Harness) -> None:
    await install(h)
    assert h.writes() == []
    [job] = await queued_checks(h)
    assert job.run_at == pytest.approx(h.services.clock.now() + onboarding.RECHECK_EVERY, abs=60)
    assert job.installation_id == INSTALLATION


async def test_no_private_channel_opens_one_onboarding_issue(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    body = issue["body"]
    assert "No private way to report a vulnerability" in body
    assert f"https://github.com/{REPO}/settings/security_analysis" in body and "/sec setup" in body
    assert f"<!-- secbot:onboarding repo={REPO} -->" in body
    assert bot_issues(h, OTHER) == []  # PVR on there


async def test_the_onboarding_issue_recommends_a_private_tracker_until_there_is_one(h: Harness) -> None:
    """Issue 17, finding 9: without a tracker, notes for the maintainers are kept in the database
    (never on the advisory the reporter reads); the onboarding issue says so and how to fix it."""
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    assert "a private tracker for notes to the maintainers" in issue["body"]
    assert "tracker:\n  repo: security-inbox" in issue["body"] and "secbot reports <id>" in issue["body"]
    h.state.put_file(REPO, ".github/secbot.yml", "tracker:\n  repo: security-inbox\n")
    await recheck(h)
    body = h.state.issue(REPO, issue["number"])["body"]
    assert "No private way to report a vulnerability" in body and "private tracker" not in body
    assert bot_issues(h, OTHER) == []  # the advice alone opens no issue


async def test_a_security_policy_linking_the_disabled_form_is_flagged(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    h.state.put_file(REPO, "SECURITY.md", FORM_POLICY)
    await install(h)
    [issue] = bot_issues(h)
    assert "links to a form that is switched off" in issue["body"] and "404" in issue["body"]
    assert "No private way" not in issue["body"]
    assert f"https://github.com/{REPO}/blob/HEAD/SECURITY.md" in issue["body"]


async def test_a_security_policy_asking_for_public_issues_is_flagged(h: Harness) -> None:
    h.state.put_file(REPO, ".github/SECURITY.md", ISSUE_POLICY)
    await install(h)
    [issue] = bot_issues(h)
    assert "asks for public issues" in issue["body"]
    assert f"https://github.com/{REPO}/security/advisories/new" in issue["body"]  # PVR is on: link the form


async def test_an_org_wide_policy_is_checked_too(h: Harness) -> None:
    h.state.add_repo("octo-org/.github", installation_id=INSTALLATION)
    h.state.put_file("octo-org/.github", "SECURITY.md", ISSUE_POLICY)
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    assert "asks for public issues" in issue["body"]
    assert "https://github.com/octo-org/.github/blob/HEAD/SECURITY.md" in issue["body"]


async def test_an_email_contact_without_private_reporting_is_fine(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    h.state.put_file(REPO, "SECURITY.md", GOOD_POLICY)
    await install(h)
    assert h.writes() == []


async def test_private_repositories_are_skipped(h: Harness) -> None:
    await install(h)
    added = h.payloads.installation_repositories("added", INSTALLATION, added=[PRIVATE_REPO])
    await h.deliver("installation_repositories", added)
    await h.settle()
    assert not touched(h, PRIVATE_REPO)
    assert await queued_checks(h, PRIVATE_REPO) == []


async def test_channel_check_can_be_turned_off_in_the_config(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    h.state.put_file(REPO, ".github/secbot.yml", "channel_check:\n  enabled: false\n")
    await install(h)
    assert h.writes() == []
    assert len(await queued_checks(h)) == 1  # still re-checked daily, so turning it on again works


async def test_the_same_event_twice_opens_one_issue(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    payload = h.payloads.installation("created", INSTALLATION)
    await h.deliver("installation", payload)
    await h.deliver("installation", payload)  # redelivered by hand: a new delivery id
    await h.settle()
    await h.deliver("installation_repositories", h.payloads.installation_repositories("added", INSTALLATION, added=[REPO]))
    await h.settle()
    assert len(bot_issues(h)) == 1
    assert len(await queued_checks(h)) == 1


async def test_a_later_check_closes_the_issue_once_the_problem_is_fixed(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    await recheck(h)  # still broken: nothing changes
    assert h.state.issue(REPO, issue["number"])["state"] == "open"
    assert h.state.comments(REPO, issue["number"]) == []

    h.state.repo(REPO).pvr_enabled = True
    await recheck(h)
    closed = h.state.issue(REPO, issue["number"])
    assert (closed["state"], closed["state_reason"]) == ("closed", "completed")
    [comment] = h.state.comments(REPO, issue["number"])
    assert "working private channel" in comment["body"]
    await recheck(h)
    assert len(h.state.comments(REPO, issue["number"])) == 1
    assert len(await queued_checks(h)) == 1  # the running check handed its key to tomorrow's


async def test_the_issue_follows_a_changed_problem_and_reopens_when_it_comes_back(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    h.state.put_file(REPO, "SECURITY.md", FORM_POLICY)
    await recheck(h)
    body = h.state.issue(REPO, issue["number"])["body"]
    assert "switched off" in body and "No private way" not in body
    h.state.repo(REPO).pvr_enabled = True
    await recheck(h)
    assert h.state.issue(REPO, issue["number"])["state"] == "closed"
    h.state.repo(REPO).pvr_enabled = False
    await recheck(h)
    assert h.state.issue(REPO, issue["number"])["state"] == "open"
    assert len(bot_issues(h)) == 1


async def test_an_issue_a_maintainer_closed_stays_closed(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    h.state.update_issue(REPO, issue["number"], {"state": "closed", "state_reason": "not_planned"}, actor=MAINTAINER)
    mark = len(h.writes())
    await recheck(h)
    assert h.writes()[mark:] == []
    assert h.state.issue(REPO, issue["number"])["state"] == "closed"
    assert len(bot_issues(h)) == 1


async def test_checks_stop_when_the_repository_or_installation_goes(h: Harness) -> None:
    await install(h)
    assert await queued_checks(h) and await queued_checks(h, OTHER)
    removed = h.payloads.installation_repositories("removed", INSTALLATION, removed=[REPO])
    await h.deliver("installation_repositories", removed)
    await h.settle()
    assert await queued_checks(h) == []
    await recheck(h)  # a check already on its way when the repository went: it does not come back
    assert await queued_checks(h) == []
    assert await queued_checks(h, OTHER)
    await h.deliver("installation", h.payloads.installation("deleted", INSTALLATION))
    await h.settle()
    assert await queued_checks(h, OTHER) == []


# -- /sec setup ------------------------------------------------------------------------------------


def command_context(h: Harness, issue_number: int) -> Context:
    """The context bot/reports/verbs.py passes when a maintainer comments `/sec setup`."""
    comment = h.state.add_comment(REPO, issue_number, body="/sec setup", user=MAINTAINER)
    data = h.payloads.issue_comment("created", REPO, issue_number, comment["id"], MAINTAINER)
    github = h.services.github
    return Context(event=sansio.Event(data, event="issue_comment", delivery_id="setup"), services=h.services,
                   gh=github.client(INSTALLATION), log=logs.get("test.setup"))


def branch_file(h: Harness, path: str = "SECURITY.md") -> str | None:
    return h.state.repo(REPO).files.get((onboarding.SETUP_BRANCH, path))


async def test_setup_opens_one_security_policy_pull_request(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    h.state.repo(REPO).pvr_enabled = True
    assert await onboarding.open_security_md_pull_request(command_context(h, issue["number"]), issue["number"]) == "opened"
    [pull] = h.state.repo(REPO).pulls.values()
    assert (pull["head"]["ref"], pull["base"]["ref"]) == (onboarding.SETUP_BRANCH, "main")
    assert f"#{issue['number']}" in pull["body"]
    text = branch_file(h)
    assert text is not None and f"https://github.com/{REPO}/security/advisories/new" in text
    assert "2 working days" in text and "90 days" in text and "credited" in text
    assert PLACEHOLDER not in text
    assert (("main", "SECURITY.md") not in h.state.repo(REPO).files)  # nothing pushed to the default branch
    again = await onboarding.open_security_md_pull_request(command_context(h, issue["number"]), issue["number"])
    assert again == "exists"
    assert len(h.state.repo(REPO).pulls) == 1


async def test_setup_without_private_reporting_leaves_a_placeholder_the_check_keeps_flagging(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    h.state.put_file(REPO, ".github/secbot.yml", "policy:\n  acknowledge_within: 3 working days\n")
    await install(h)
    [issue] = bot_issues(h)
    assert await onboarding.open_security_md_pull_request(command_context(h, issue["number"]), issue["number"]) == "opened"
    text = branch_file(h)
    assert text is not None and PLACEHOLDER in text and "3 working days" in text
    assert "security/advisories/new]" not in text  # no link to a switched-off form
    [pull] = h.state.repo(REPO).pulls.values()
    assert PLACEHOLDER in pull["body"]
    h.state.put_file(REPO, "SECURITY.md", text)  # merged as it is
    await recheck(h)
    body = h.state.issue(REPO, issue["number"])["body"]
    assert "placeholder contact" in body and "No private way" not in body
    h.state.put_file(REPO, "SECURITY.md", text.replace(PLACEHOLDER, "security@hello.example"))
    await recheck(h)
    assert h.state.issue(REPO, issue["number"])["state"] == "closed"


async def test_setup_replaces_a_broken_policy_where_it_is(h: Harness) -> None:
    h.state.put_file(REPO, ".github/SECURITY.md", ISSUE_POLICY)
    await install(h)
    [issue] = bot_issues(h)
    assert await onboarding.open_security_md_pull_request(command_context(h, issue["number"]), issue["number"]) == "opened"
    text = branch_file(h, ".github/SECURITY.md")
    assert text is not None and "do not report security vulnerabilities in public issues" in text
    [put] = [r for r in h.writes() if r.method == "PUT"]
    assert put.json["sha"] and put.json["branch"] == onboarding.SETUP_BRANCH
    assert base64.b64decode(put.json["content"]).decode() == text


async def test_setup_without_write_permission_explains_once_and_can_be_retried(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    number = issue["number"]
    for _ in range(2):
        h.state.fail_next("POST", r"/git/refs$", 403)
        outcome = await onboarding.open_security_md_pull_request(command_context(h, number), number)
        assert outcome == "missing-permission"
    explained = [c for c in h.state.comments(REPO, number) if c["user"]["type"] == "Bot"]
    assert len(explained) == 1
    assert "Contents" in explained[0]["body"] and "Pull requests" in explained[0]["body"]
    assert h.state.repo(REPO).pulls == {}
    assert await onboarding.open_security_md_pull_request(command_context(h, number), number) == "opened"
    assert len(h.state.repo(REPO).pulls) == 1


async def test_setup_finishes_what_a_failed_attempt_started(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    number = issue["number"]
    h.state.fail_next("POST", r"/pulls$", 422)
    with pytest.raises(Exception):
        await onboarding.open_security_md_pull_request(command_context(h, number), number)
    assert branch_file(h) is not None and h.state.repo(REPO).pulls == {}
    assert await onboarding.open_security_md_pull_request(command_context(h, number), number) == "opened"
    assert len(h.state.repo(REPO).pulls) == 1


async def test_a_repository_made_public_is_checked_and_swept_and_one_made_private_is_not(h: Harness) -> None:
    """Issue 17, finding 15: a repository made public after the installation was never checked."""
    await install(h)
    assert bot_issues(h, PRIVATE_REPO) == [] and not touched(h, PRIVATE_REPO)
    report = h.state.report_vulnerability(REPO, summary="Auth bypass", description="details", user="jane")
    h.state.set_visibility(PRIVATE_REPO, private=False)
    await h.deliver("repository", h.payloads.repository("publicized", PRIVATE_REPO))
    await h.settle()
    [issue] = bot_issues(h, PRIVATE_REPO)  # no private reporting and no SECURITY.md there
    assert issue["title"] == onboarding.ISSUE_TITLE
    assert await queued_checks(h, PRIVATE_REPO)  # and again tomorrow
    assert h.state.advisory_comments(REPO, report["ghsa_id"])  # the sweep found the unannounced report
    h.state.set_visibility(PRIVATE_REPO, private=True)
    await h.deliver("repository", h.payloads.repository("privatized", PRIVATE_REPO))
    await h.settle()
    assert await queued_checks(h, PRIVATE_REPO) == []
