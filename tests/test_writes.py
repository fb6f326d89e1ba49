"""Once-only writes (bot/reports/writes.py) against the emulator: a hidden marker counts only on
what the app itself wrote, and a create GitHub may have made is looked for before it is sent again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.emulator.state import DROP
from bot.reports import onboarding, writes
from bot.store.ledger import CLAIM_TTL
from bot.store.reports import Reports
from tests.e2e import REPO, REPORTER, Harness
from tests.test_onboarding import bot_issues, command_context, install, recheck
from tests.test_public_reports import VULN_BODY, VULN_TITLE

BOT = "secbot[bot]"
STRANGER = "bystander"


@pytest.fixture
async def h(tmp_path: Path):
    async with Harness(tmp_path) as harness:
        yield harness
    harness.state.assert_no_violations()


def forged(kind: str, report_id: int, key: str) -> str:
    """A comment anyone could write: the bot's marker, which is no secret (report ids count up from
    1, and the key's digest is computed from the key alone)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"Nothing to see here.\n\n<!-- secbot:{kind} key={digest} report={report_id} -->\n"


def by_bot(comments: list[dict]) -> list[dict]:
    return [c for c in comments if c["user"]["login"] == BOT]


async def only_report_id(h: Harness) -> int:
    [report] = await Reports(h.services.store).list()
    return report.id


async def test_a_strangers_comment_carrying_the_redirect_marker_does_not_stop_the_redirect(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    h.state.add_comment(REPO, issue["number"], body=forged("redirect", 1, "redirect:1"), user=STRANGER)
    # The first attempt's comment does not get through, so the retry looks for one before posting.
    h.state.fail_next("POST", r"/issues/\d+/comments$", 502, times=4)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    assert await only_report_id(h) == 1  # the stranger guessed right
    [redirect] = by_bot(h.state.comments(REPO, issue["number"]))
    assert f"https://github.com/{REPO}/security/advisories/new" in redirect["body"]
    assert len(h.state.comments(REPO, issue["number"])) == 2  # the stranger's and the bot's


async def test_a_reporters_advisory_comment_carrying_the_marker_does_not_stop_the_acknowledgement(h: Harness) -> None:
    adv = h.state.report_vulnerability(REPO, summary="Heap overflow in the PNG parser", description="Details.",
                                       user=REPORTER)
    h.state.add_advisory_comment(REPO, adv["ghsa_id"], body=forged("to-reporter", 1, "ack:1"), user=REPORTER)
    h.state.fail_next("POST", r"/security-advisories/[^/]+/comments$", 502, times=4)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], REPORTER))
    await h.settle()
    assert await only_report_id(h) == 1
    [ack] = by_bot(h.state.advisory_comments(REPO, adv["ghsa_id"]))
    assert f"@{REPORTER}" in ack["body"]


async def test_a_strangers_resolved_marker_does_not_stop_the_closing_note(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    h.state.add_comment(REPO, issue["number"], body=f"<!-- secbot:onboarding-resolved repo={REPO} -->", user=STRANGER)
    h.state.repo(REPO).pvr_enabled = True
    await recheck(h)
    assert h.state.issue(REPO, issue["number"])["state"] == "closed"
    [note] = by_bot(h.state.comments(REPO, issue["number"]))
    assert "working private channel" in note["body"]


async def test_without_its_login_from_start_up_the_app_asks_for_it(h: Harness) -> None:
    h.services.bot_login = None  # GET /app failed when the app started
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    h.state.add_comment(REPO, issue["number"], body=forged("redirect", 1, "redirect:1"), user=STRANGER)
    h.state.fail_next("POST", r"/issues/\d+/comments$", 502, times=4)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    assert len(by_bot(h.state.comments(REPO, issue["number"]))) == 1
    assert h.services.bot_login == BOT


# -- a create GitHub may have made although it answered an error (finding 19) --------------------


@pytest.mark.parametrize("status", [502, DROP], ids=["502", "dropped"])
async def test_a_redirect_github_made_but_did_not_confirm_is_posted_once(h: Harness, status: int) -> None:
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    h.state.fail_next("POST", r"/issues/\d+/comments$", status, applied=True)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    [redirect] = h.state.comments(REPO, issue["number"])
    assert redirect["user"]["login"] == BOT
    posts = [r for r in h.state.requests if r.method == "POST" and r.path.endswith("/comments")]
    assert len(posts) == 1  # looked for, found: not sent again
    [report] = await Reports(h.services.store).list()
    assert await h.services.ledger.result(f"redirect:{report.id}") == {"comment_id": redirect["id"]}


async def test_an_acknowledgement_github_made_but_did_not_confirm_is_posted_once(h: Harness) -> None:
    adv = h.state.report_vulnerability(REPO, summary="Heap overflow in the PNG parser", description="Details.",
                                       user=REPORTER)
    h.state.fail_next("POST", r"/security-advisories/[^/]+/comments$", 502, applied=True)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], REPORTER))
    await h.settle()
    assert len(by_bot(h.state.advisory_comments(REPO, adv["ghsa_id"]))) == 1


@pytest.mark.parametrize("status", [502, 503, DROP], ids=["502", "503", "dropped"])
async def test_a_redirect_github_did_not_make_is_posted_after_looking(h: Harness, status: int) -> None:
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    h.state.fail_next("POST", r"/issues/\d+/comments$", status, times=2)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    assert len(by_bot(h.state.comments(REPO, issue["number"]))) == 1
    calls = [(r.method, "list" if r.method == "GET" else "post") for r in h.state.requests
             if r.path == f"/repos/{REPO}/issues/{issue['number']}/comments"]
    assert calls == [("POST", "post"), ("GET", "list"), ("POST", "post"), ("GET", "list"), ("POST", "post")]


async def test_a_claim_taken_over_from_a_dead_job_looks_before_posting(h: Harness) -> None:
    """Job 999 claimed the redirect, posted it, and died before recording it; a new job (its first
    attempt) takes the claim over once it is abandoned, and finds the comment."""
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    posted = h.state.add_comment(REPO, issue["number"], body=writes.marked("Thanks!", "redirect", 1, "redirect:1"),
                                 user=BOT)
    await h.services.ledger.claim_write("redirect:1", 999, h.services.clock.now() - CLAIM_TTL - 1)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    assert await only_report_id(h) == 1
    assert h.state.comments(REPO, issue["number"]) == [posted]
    assert await h.services.ledger.result("redirect:1") == {"comment_id": posted["id"]}


# -- every other create: looked for (the app's own, by marker) before it is sent again -------------

TRACKER = "octo-org/security-inbox"
TRACKED = "security_team:\n  users: [maint]\ntracker:\n  repo: security-inbox\n"


async def private_report(h: Harness, summary: str = "Heap overflow in the PNG parser") -> str:
    adv = h.state.report_vulnerability(REPO, summary=summary, description="Details.", user=REPORTER)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], REPORTER))
    await h.settle()
    return str(adv["ghsa_id"])


def issues_by_bot(h: Harness, repo: str) -> list[dict]:
    return [i for i in h.state.repo(repo).issues.values() if i["user"]["login"] == BOT and "pull_request" not in i]


@pytest.mark.parametrize("status", [502, DROP], ids=["502", "dropped"])
async def test_a_tracker_issue_github_made_but_did_not_confirm_is_opened_once(h: Harness, status: int) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", TRACKED)
    h.state.fail_next("POST", f"^/repos/{TRACKER}/issues$", status, applied=True)
    ghsa = await private_report(h)
    [tracker] = issues_by_bot(h, TRACKER)
    assert ghsa in tracker["title"]
    [report] = await Reports(h.services.store).list()
    assert report.tracker_number == tracker["number"]


async def test_an_onboarding_issue_github_made_but_did_not_confirm_is_opened_once(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    h.state.fail_next("POST", f"^/repos/{REPO}/issues$", 502, applied=True)
    await install(h)
    await h.settle()  # and the retry, had the check failed
    assert len(bot_issues(h)) == 1
    await recheck(h)
    assert len(bot_issues(h)) == 1


async def test_a_strangers_issue_carrying_the_onboarding_marker_is_not_taken_for_the_bots(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    h.state.open_issue(REPO, title="Make sure security reports can reach you privately", user=STRANGER,
                       body=f"<!-- secbot:onboarding repo={REPO} -->")
    h.state.fail_next("POST", f"^/repos/{REPO}/issues$", 502)  # not made: the bot looks, and must not stop there
    await install(h)
    await h.settle()
    [issue] = bot_issues(h)
    assert "No private way to report a vulnerability" in issue["body"]


async def test_an_announcement_github_made_but_did_not_confirm_is_opened_once(h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", "announcements:\n  enabled: true\n")
    ghsa = await private_report(h)
    h.state.update_advisory(REPO, ghsa, {"state": "draft"}, actor="maint")
    h.state.update_advisory(REPO, ghsa, {"state": "published"}, actor="maint")
    h.state.fail_next("POST", f"^/repos/{REPO}/issues$", DROP, applied=True)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("published", REPO, ghsa, "maint"))
    await h.settle()
    [announcement] = issues_by_bot(h, REPO)
    assert ghsa in announcement["title"] and "<!-- secbot:announcement " in announcement["body"]


async def test_a_draft_advisory_github_made_but_did_not_confirm_is_created_once(h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", "public_reports:\n  action: hide\n")
    # A private report whose text carries the draft's marker: its author is the reporter, never the app.
    h.state.report_vulnerability(REPO, summary="Forged", description=forged("draft", 1, "draft:1"), user=STRANGER)
    h.state.fail_next("POST", f"^/repos/{REPO}/security-advisories$", 502)  # not made: look, and go on
    h.state.fail_next("POST", f"^/repos/{REPO}/security-advisories$", 502, applied=True)  # made: look, and find it
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    drafts = [a for a in h.state.repo(REPO).advisories.values() if a["author"]["login"] == BOT]
    [draft] = drafts
    [report] = await Reports(h.services.store).list()
    assert report.draft_ghsa_id == draft["ghsa_id"] and report.hidden
    assert [u["login"] for u in draft["collaborating_users"]] == [REPORTER]
    assert VULN_TITLE not in h.state.issue(REPO, issue["number"])["title"]


async def test_a_pull_request_github_made_but_did_not_confirm_is_opened_once(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    h.state.fail_next("POST", f"^/repos/{REPO}/pulls$", 502, applied=True)
    assert await onboarding.open_security_md_pull_request(command_context(h, issue["number"]), issue["number"]) == "opened"
    assert len(h.state.repo(REPO).pulls) == 1
    assert await onboarding.open_security_md_pull_request(command_context(h, issue["number"]), issue["number"]) == "exists"


async def test_the_missing_permission_note_github_made_but_did_not_confirm_is_posted_once(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    await install(h)
    [issue] = bot_issues(h)
    h.state.fail_next("POST", r"/git/refs$", 403)
    h.state.fail_next("POST", r"/issues/\d+/comments$", 502, applied=True)
    ctx = command_context(h, issue["number"])
    assert await onboarding.open_security_md_pull_request(ctx, issue["number"]) == "missing-permission"
    assert len([c for c in by_bot(h.state.comments(REPO, issue["number"])) if "setup-permission" in c["body"]]) == 1
