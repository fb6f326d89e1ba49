"""What follows a public text Secbot acted on (issue 16, points 2, 5 and 7 closed): edits that change
its verdict, the maintainers' answers to a heads-up given in the private tracker, `/sec` commands
in discussion comments, and phishing discussions. The leak checks of tests/test_public_paths.py
run on every path: no report text in a public write, a log line or a stored error.

The classifier is pinned with `verdict` (tests/test_public_paths.py), so which text lands in which
tier is not assumed here.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.rules.followups import (
    KEEP,
    NOTE_HARMLESS,
    UPGRADE,
    after_edit,
    may_answer_from_tracker,
    spam_action,
)
from bot.store.feedback import Feedback
from bot.store.reports import Reports
from tests.e2e import MAINTAINER, REPO, REPORTER, Harness
from tests.test_public_paths import (
    PHISH_BODY,
    PHISH_MARK,
    TRACKER,
    assert_no_leak,
    notes,
    open_issue,
    verdict,  # noqa: F401  (a fixture)
)
from tests.test_public_reports import SECRET_MARK, VULN_BODY, VULN_TITLE

pytestmark = pytest.mark.harness(config="security_team:\n  users: [maint]\n")
INBOX = "octo-org/security-inbox"
HARMLESS = "Thanks, I found the option in the docs; nothing to see here."


def redirects(h: Harness, number: int) -> list[dict[str, Any]]:
    return [c for c in h.state.comments(REPO, number) if "<!-- secbot:redirect " in c["body"]]


async def edit_issue(h: Harness, number: int, body: str, title: str | None = None) -> None:
    issue = h.state.issue(REPO, number)
    issue["body"] = body
    if title is not None:
        issue["title"] = title
    await h.deliver("issues", h.payloads.issues("edited", REPO, number, issue["user"]["login"],
                                                changes={"body": {"from": "(before)"}}))
    await h.settle()


# -- the pure rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "then", "now", "source", "hidden", "expected"), [
    ("possible", "possible", "vulnerability", "issue", False, UPGRADE),
    ("possible", "possible", "vulnerability", "discussion_comment", False, UPGRADE),
    ("possible", "possible", "vulnerability", "pull_request", False, KEEP),  # never a public redirect
    ("possible", "possible", "possible", "issue", False, KEEP),
    ("possible", "possible", "none", "issue", False, NOTE_HARMLESS),
    ("new", "vulnerability", "none", "issue", False, NOTE_HARMLESS),
    ("acknowledged", "beg_bounty", "none", "comment", False, NOTE_HARMLESS),
    ("new", "vulnerability", "vulnerability", "issue", False, KEEP),
    ("new", "vulnerability", "none", "issue", True, KEEP),  # hidden: follow_edit hides it again
    ("rejected", "possible", "vulnerability", "issue", False, KEEP),  # the maintainers' answer stands
    ("spam", "phishing", "vulnerability", "issue", False, KEEP),
])
def test_after_edit(state: str, then: str, now: str, source: str, hidden: bool, expected: str) -> None:
    assert after_edit(state=state, verdict_then=then, kind_now=now, source=source, hidden=hidden) == expected


def test_only_write_access_on_the_public_repository_answers_from_the_tracker() -> None:
    for level in ("write", "maintain", "admin", "ADMIN"):
        assert may_answer_from_tracker("confirm", source="issue", permission_on_public_repo=level)
    for level in ("read", "triage", "none", None):
        assert not may_answer_from_tracker("hide", source="comment", permission_on_public_repo=level)
    assert not may_answer_from_tracker("ack", source="issue", permission_on_public_repo="admin")
    assert not may_answer_from_tracker("confirm", source="advisory", permission_on_public_repo="admin")


def test_spam_is_taken_out_of_view_the_least_destructive_way() -> None:
    assert [spam_action(s) for s in ("comment", "discussion_comment", "issue", "discussion", "pull_request")] == [
        "minimize", "minimize", "close", "lock", "none"]


# -- point 1: edits that change the verdict -----------------------------------------------------------


async def test_a_possible_issue_edited_into_a_confident_report_is_redirected_once(h: Harness, verdict: Any) -> None:
    verdict("possible")
    number = await open_issue(h, body="I think there may be a problem with archive paths.")
    assert h.writes() == []
    verdict("vulnerability", 0.95)
    await edit_issue(h, number, VULN_BODY)
    [redirect] = redirects(h, number)
    assert f"@{REPORTER}" in redirect["body"]
    assert {lb["name"] for lb in h.state.issue(REPO, number)["labels"]} == {"security", "needs-triage"}
    [report] = await Reports(h.services.store).list()
    assert (report.state, report.verdict, report.original_body) == ("new", "vulnerability", VULN_BODY)
    kinds = [e["kind"] for e in await Reports(h.services.store).timeline(report.id)]
    assert kinds.count("upgraded") == 1 and kinds.count("heads-up") == 1
    assert any("Edited into a security report" in n for n in await notes(h, report.id))
    # A redelivery and another edit: never a second redirect.
    await edit_issue(h, number, VULN_BODY)
    await edit_issue(h, number, VULN_BODY + "\nMore details.")
    assert len(redirects(h, number)) == 1
    assert [e["kind"] for e in await Reports(h.services.store).timeline(report.id)].count("upgraded") == 1
    assert [r async for r in Feedback(h.services.store).export()] == []  # an edit is no maintainer's answer
    await assert_no_leak(h, SECRET_MARK, "extract_all")


@pytest.mark.harness(config=TRACKER)
async def test_the_upgrade_is_told_in_the_heads_up_thread_of_the_tracker(h: Harness, verdict: Any) -> None:
    verdict("possible")
    number = await open_issue(h, body="Maybe a problem with archive paths?")
    verdict("vulnerability", 0.95)
    await edit_issue(h, number, VULN_BODY)
    [tracker] = h.state.repo(INBOX).issues.values()
    said = [c["body"] for c in h.state.comments(INBOX, tracker["number"])]
    assert len(said) == 2 and "Possible security report" in said[0] and "Edited into a security report" in said[1]
    assert "new" in tracker["body"]  # the tracker issue shows the report's state now
    assert len(redirects(h, number)) == 1
    await assert_no_leak(h, SECRET_MARK)


@pytest.mark.harness(config="security_team:\n  users: [maint]\npublic_reports:\n  action: hide\n")
async def test_with_action_hide_the_upgrade_moves_the_edited_text_into_a_draft_advisory(h: Harness,
                                                                                      verdict: Any) -> None:
    verdict("possible")
    number = await open_issue(h, body="Maybe a problem with archive paths?")
    verdict("vulnerability", 0.95)
    await edit_issue(h, number, VULN_BODY)
    [advisory] = h.state.repo(REPO).advisories.values()
    assert SECRET_MARK in advisory["description"]  # the latest text, not the first
    issue = h.state.issue(REPO, number)
    assert SECRET_MARK not in issue["body"] and issue["locked"]
    await assert_no_leak(h, SECRET_MARK)


async def test_an_ordinary_issue_edited_into_a_possible_report_gets_its_heads_up(h: Harness, verdict: Any) -> None:
    verdict("possible", only_for=SECRET_MARK)
    number = await open_issue(h, title="Extraction question", body="How do I extract into a folder?")
    assert await Reports(h.services.store).list() == []
    await edit_issue(h, number, VULN_BODY)
    [report] = await Reports(h.services.store).list(state="possible")
    assert report.issue_number == number and len(await notes(h, report.id)) == 1
    await edit_issue(h, number, VULN_BODY + "\n(edited again)")
    assert len(await notes(h, report.id)) == 1  # one heads-up
    assert h.writes() == []
    await assert_no_leak(h, SECRET_MARK)


async def test_a_redirected_report_edited_into_a_harmless_text_undoes_nothing_and_is_noted(h: Harness,
                                                                                         verdict: Any) -> None:
    verdict("vulnerability", 0.95, only_for=SECRET_MARK)
    number = await open_issue(h)
    assert len(redirects(h, number)) == 1
    await edit_issue(h, number, HARMLESS)
    assert len(redirects(h, number)) == 1 and h.state.issue(REPO, number)["labels"]  # nothing public undone
    [report] = await Reports(h.services.store).list()
    assert report.state == "new" and report.original_body == HARMLESS
    edited = [e for e in await Reports(h.services.store).timeline(report.id) if e["kind"] == "edited"]
    assert edited[-1]["detail"]["verdict"] == "none"
    [note] = [n for n in await notes(h, report.id) if n.startswith("**Edited**")]
    assert "undid nothing" in note and "/sec not-security" in note and SECRET_MARK not in note
    await edit_issue(h, number, HARMLESS + " (typo)")
    assert len([n for n in await notes(h, report.id) if n.startswith("**Edited**")]) == 1  # told once
    await assert_no_leak(h, SECRET_MARK)


# -- point 4: phishing in a discussion ------------------------------------------------------------------


async def test_a_phishing_discussion_is_locked_as_spam_and_the_maintainers_told(h: Harness, verdict: Any) -> None:
    verdict("phishing", 0.9, only_for=PHISH_MARK)
    d = h.state.open_discussion(REPO, title="Security Vulnerability Detected", body=PHISH_BODY, user="bystander")
    payload = h.payloads.discussion("created", REPO, d["number"])
    await h.deliver("discussion", payload, delivery_id="phish-1")
    await h.settle()
    await h.deliver("discussion", payload, delivery_id="phish-1")  # redelivered
    await h.deliver("discussion", h.payloads.discussion("edited", REPO, d["number"], changes={}))
    await h.settle()
    got = h.state.discussion(REPO, d["number"])
    assert got["locked"] and got["active_lock_reason"] == "spam" and got["body"] == PHISH_BODY  # not deleted
    assert h.state.discussion_comments(REPO, d["number"]) == []  # never answered
    [report] = await Reports(h.services.store).list(state="spam")
    [note] = await notes(h, report.id)
    assert "locked the discussion as spam" in note and PHISH_MARK not in note
    locks = [r for r in h.writes() if r.path == "/graphql" and "lockLockable" in (r.json or {}).get("query", "")]
    assert len(locks) == 1
    await assert_no_leak(h, PHISH_MARK, "@alice")
    h.state.assert_no_violations()


# -- point 2: the answer to a heads-up, given in the private tracker ---------------------------------


async def tracker_comment(h: Harness, user: str, body: str) -> dict[str, Any]:
    [tracker] = h.state.repo(INBOX).issues.values()
    c = h.state.add_comment(INBOX, tracker["number"], body=body, user=user)
    await h.deliver("issue_comment", h.payloads.issue_comment("created", INBOX, tracker["number"], c["id"], user))
    await h.settle()
    return c


def tracker_said(h: Harness) -> list[str]:
    [tracker] = h.state.repo(INBOX).issues.values()
    return [c["body"] for c in h.state.comments(INBOX, tracker["number"]) if c["user"]["login"].endswith("[bot]")]


@pytest.mark.harness(config=TRACKER)
async def test_confirm_in_the_tracker_redirects_on_the_public_issue_and_is_remembered(h: Harness,
                                                                                    verdict: Any) -> None:
    verdict("possible")
    number = await open_issue(h)
    assert "answer here, in this issue, or on that page" in tracker_said(h)[0]
    await tracker_comment(h, MAINTAINER, "/sec confirm")
    [redirect] = redirects(h, number)
    assert f"@{REPORTER}" in redirect["body"]
    [report] = await Reports(h.services.store).list()
    assert (report.state, report.verdict) == ("new", "vulnerability")
    rows = [r async for r in Feedback(h.services.store).export()]
    assert [(r["label"], r["verdict"]) for r in rows] == [("security", "possible")]
    assert "Confirmed" in tracker_said(h)[-1]
    await tracker_comment(h, MAINTAINER, "/sec confirm")  # again: nothing more in public
    assert len(redirects(h, number)) == 1
    await assert_no_leak(h, SECRET_MARK, "extract_all")
    h.state.assert_no_violations()


@pytest.mark.harness(config=TRACKER + "public_reports:\n  action: hide\n")
async def test_hide_in_the_tracker_moves_the_public_text_into_a_draft_advisory(h: Harness, verdict: Any) -> None:
    verdict("possible")
    number = await open_issue(h)
    await tracker_comment(h, MAINTAINER, "/sec hide")
    [advisory] = h.state.repo(REPO).advisories.values()
    assert SECRET_MARK in advisory["description"]
    issue = h.state.issue(REPO, number)
    assert SECRET_MARK not in issue["body"] and issue["locked"] and issue["state"] == "closed"
    assert "Hidden" in tracker_said(h)[-1]
    await assert_no_leak(h, SECRET_MARK)
    h.state.assert_no_violations()


@pytest.mark.harness(config=TRACKER + "public_reports:\n  uncertain: comment\n")
async def test_not_security_in_the_tracker_takes_back_the_pointer_and_teaches_the_memory(h: Harness,
                                                                                       verdict: Any) -> None:
    verdict("possible")
    number = await open_issue(h)
    assert len(h.state.comments(REPO, number)) == 1  # the neutral pointer
    await tracker_comment(h, MAINTAINER, "/sec not-security")
    assert h.state.comments(REPO, number) == []
    [report] = await Reports(h.services.store).list()
    assert (report.state, report.reject_reason) == ("rejected", "not-security")
    assert [r["label"] async for r in Feedback(h.services.store).export()] == ["not_security"]
    await assert_no_leak(h, SECRET_MARK)


@pytest.mark.harness(config=TRACKER)
async def test_only_write_access_on_the_public_repository_answers_a_heads_up_from_the_tracker(h: Harness,
                                                                                            verdict: Any) -> None:
    h.state.set_permission(INBOX, "triager", "write")  # may write in the tracker, only read the public repository
    h.state.set_permission(REPO, "triager", "read")
    verdict("possible")
    number = await open_issue(h)
    await tracker_comment(h, "triager", "/sec confirm")
    assert h.state.comments(REPO, number) == []
    [report] = await Reports(h.services.store).list()
    assert report.state == "possible"
    assert [r async for r in Feedback(h.services.store).export()] == []
    assert "triager" in tracker_said(h)[-1]  # refused, in the tracker
    await assert_no_leak(h, SECRET_MARK)


# -- point 3: /sec commands in discussion comments --------------------------------------------------------


async def discussion_comment(h: Harness, number: int, user: str, body: str) -> dict[str, Any]:
    c = h.state.add_discussion_comment(REPO, number, body=body, user=user)
    await h.deliver("discussion_comment", h.payloads.discussion_comment("created", REPO, number, c["id"]))
    await h.settle()
    return c


def ours(h: Harness, number: int) -> list[dict[str, Any]]:
    return [c for c in h.state.discussion_comments(REPO, number) if c["user"]["login"].endswith("[bot]")]


def reactions(h: Harness, comment: dict[str, Any]) -> list[str]:
    """The reactions on a comment (GraphQL's addReaction, stored as REST contents)."""
    return [r["content"] for r in h.state.reactions if r["_subject"] == comment["node_id"]]


async def test_commands_in_a_discussion_answer_its_possible_report(h: Harness, verdict: Any) -> None:
    d = h.state.open_discussion(REPO, title="Roadmap", body="What is planned?", user="bystander")
    verdict("possible", only_for=SECRET_MARK)
    reported = await discussion_comment(h, d["number"], REPORTER, VULN_BODY)
    [report] = await Reports(h.services.store).list(state="possible")
    # Someone without write access: nothing run, nothing said.
    refused = await discussion_comment(h, d["number"], "bystander", "/sec not-security")
    assert ours(h, d["number"]) == [] and (await Reports(h.services.store).get(report.id)).state == "possible"
    assert reactions(h, refused) == ["-1"]  # one 👎, as on an issue comment
    # A maintainer confirms: the redirect as a reply in the discussion, once.
    confirmed = await discussion_comment(h, d["number"], MAINTAINER, "/sec confirm")
    assert reactions(h, confirmed) == ["+1"]
    [reply] = ours(h, d["number"])
    assert "<!-- secbot:redirect " in reply["body"] and f"@{REPORTER}" in reply["body"]
    assert (await Reports(h.services.store).get(report.id)).state == "new"
    assert [r["label"] async for r in Feedback(h.services.store).export()] == ["security"]
    # Help is answered in the discussion.
    await discussion_comment(h, d["number"], MAINTAINER, "/sec help")
    assert len(ours(h, d["number"])) == 2 and "Secbot commands" in ours(h, d["number"])[-1]["body"]
    # A false alarm after all: the redirect reply is taken back.
    await discussion_comment(h, d["number"], MAINTAINER, "/sec not-security")
    assert all("<!-- secbot:redirect " not in c["body"] for c in ours(h, d["number"]))
    assert (await Reports(h.services.store).get(report.id)).state == "rejected"
    assert any(c["id"] == reported["id"] for c in h.state.discussion_comments(REPO, d["number"]))
    await assert_no_leak(h, SECRET_MARK, "extract_all")
    h.state.assert_no_violations()


async def test_hide_in_a_discussion_deletes_the_reported_comment_into_a_draft_advisory(h: Harness,
                                                                                     verdict: Any) -> None:
    d = h.state.open_discussion(REPO, title="Roadmap", body="What is planned?", user="bystander")
    verdict("vulnerability", 0.95, only_for=SECRET_MARK)
    reported = await discussion_comment(h, d["number"], REPORTER, VULN_BODY)
    assert len(ours(h, d["number"])) == 1  # redirected
    command = await discussion_comment(h, d["number"], MAINTAINER, "/sec hide")
    ids = [c["id"] for c in h.state.discussion_comments(REPO, d["number"])]
    assert reported["id"] not in ids and command["id"] in ids
    [advisory] = h.state.repo(REPO).advisories.values()
    assert SECRET_MARK in advisory["description"]
    [report] = await Reports(h.services.store).list()
    assert report.hidden
    await assert_no_leak(h, SECRET_MARK)
    h.state.assert_no_violations()


@pytest.mark.harness(config=TRACKER)
async def test_confirm_in_the_tracker_redirects_in_the_discussion(h: Harness, verdict: Any) -> None:
    verdict("possible", only_for=SECRET_MARK)
    d = h.state.open_discussion(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    await h.deliver("discussion", h.payloads.discussion("created", REPO, d["number"]))
    await h.settle()
    assert ours(h, d["number"]) == []
    await tracker_comment(h, MAINTAINER, "/sec confirm")
    [reply] = ours(h, d["number"])
    assert "<!-- secbot:redirect " in reply["body"]
    await assert_no_leak(h, SECRET_MARK)
    h.state.assert_no_violations()


async def test_a_command_in_a_discussion_comment_is_not_read_as_a_report(h: Harness, verdict: Any) -> None:
    verdict("vulnerability", 0.95)
    d = h.state.open_discussion(REPO, title="Roadmap", body="What is planned?", user="bystander")
    verdict("vulnerability", 0.95, only_for=SECRET_MARK)
    await discussion_comment(h, d["number"], REPORTER, "/sec help\n" + VULN_BODY)
    assert await Reports(h.services.store).list() == [] and ours(h, d["number"]) == []  # a stranger: nothing


async def test_a_lifecycle_command_in_a_discussion_is_minimized_and_answered_privately(h: Harness,
                                                                                     verdict: Any) -> None:
    d = h.state.open_discussion(REPO, title="Roadmap", body="What is planned?", user="bystander")
    verdict("vulnerability", 0.95, only_for=SECRET_MARK)
    await discussion_comment(h, d["number"], REPORTER, VULN_BODY)
    [report] = await Reports(h.services.store).list()
    command = await discussion_comment(h, d["number"], MAINTAINER, "/sec severity high")
    assert h.state.minimized(REPO, command["id"]) == "outdated"  # its words say how the report is handled
    assert len(ours(h, d["number"])) == 1  # the redirect only: the answer went to the maintainers
    assert (await Reports(h.services.store).get(report.id)).severity == "high"
    assert any("Severity: high" in n for n in await notes(h, report.id))
    await assert_no_leak(h, SECRET_MARK)


@pytest.mark.harness(config=TRACKER)
async def test_the_tracker_issue_of_a_possible_report_says_how_to_answer_it_there(h: Harness, verdict: Any) -> None:
    verdict("possible")
    await open_issue(h)
    [tracker] = h.state.repo(INBOX).issues.values()
    assert "Answer it here: `/sec confirm`" in tracker["body"] and f"write access to `{REPO}`" in tracker["body"]
    await tracker_comment(h, MAINTAINER, "/sec not-security")
    assert "Answer it here" not in h.state.issue(INBOX, tracker["number"])["body"]  # answered: no longer asked


async def test_a_possible_comment_edited_into_a_confident_report_is_redirected_once(h: Harness, verdict: Any) -> None:
    issue = h.state.open_issue(REPO, title="Support zip64", body="Would be nice.", user="bystander")
    verdict("possible", only_for="archive")
    c = h.state.add_comment(REPO, issue["number"], body="Something odd with archive paths?", user=REPORTER)
    payload = h.payloads.issue_comment("created", REPO, issue["number"], c["id"], REPORTER)
    await h.deliver("issue_comment", payload)
    await h.settle()
    assert h.writes() == []
    verdict("vulnerability", 0.95, only_for=SECRET_MARK)
    for n in range(2):  # the edit, then a redelivery of it
        c["body"] = VULN_BODY
        await h.deliver("issue_comment", h.payloads.issue_comment("edited", REPO, issue["number"], c["id"], REPORTER,
                                                                  changes={"body": {"from": "(before)"}}),
                        delivery_id="edit-1")
        await h.settle()
    assert len(redirects(h, issue["number"])) == 1
    [report] = await Reports(h.services.store).list()
    assert (report.source, report.state) == ("comment", "new")
    await assert_no_leak(h, SECRET_MARK, "extract_all")


async def test_a_possible_discussion_comment_edited_into_a_confident_report_is_redirected_in_it(h: Harness,
                                                                                             verdict: Any) -> None:
    d = h.state.open_discussion(REPO, title="Roadmap", body="What is planned?", user="bystander")
    verdict("possible", only_for="archive")
    c = await discussion_comment(h, d["number"], REPORTER, "Something odd with archive paths?")
    verdict("vulnerability", 0.95, only_for=SECRET_MARK)
    for _ in range(2):
        c["body"] = VULN_BODY
        await h.deliver("discussion_comment", h.payloads.discussion_comment("edited", REPO, d["number"], c["id"],
                                                                            changes={"body": {"from": "(before)"}}))
        await h.settle()
    [reply] = ours(h, d["number"])
    assert "<!-- secbot:redirect " in reply["body"] and f"@{REPORTER}" in reply["body"]
    [report] = await Reports(h.services.store).list()
    assert report.state == "new"
    await assert_no_leak(h, SECRET_MARK, "extract_all")
    h.state.assert_no_violations()
