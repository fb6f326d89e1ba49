"""`/sec hide` and `/sec not-security` end to end, and what a refused command does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.store.reports import Reports
from tests.e2e import INSTALLATION, MAINTAINER, REPO, REPORTER, Harness
from tests.test_public_reports import SECRET_MARK, VULN_BODY, VULN_TITLE

pytestmark = pytest.mark.harness(config="security_team:\n  users: [maint]\n")


async def open_report(h: Harness) -> int:
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    return int(issue["number"])


async def command(h: Harness, number: int, user: str, body: str, delivery_id: str | None = None) -> dict:
    c = h.state.add_comment(REPO, number, body=body, user=user)
    await h.deliver("issue_comment", h.payloads.issue_comment("created", REPO, number, c["id"], user), delivery_id)
    await h.settle()
    return c


def everything_public(h: Harness, number: int) -> str:
    issue = h.state.issue(REPO, number)
    return json.dumps([issue["title"], issue["body"], [c["body"] for c in h.state.comments(REPO, number)]])


async def test_hide_leaves_the_report_only_in_the_draft_advisory_and_not_security_restores_it(h: Harness) -> None:
    number = await open_report(h)
    assert SECRET_MARK in everything_public(h, number)  # the reporter's own public text, before hiding
    await command(h, number, MAINTAINER, "Thanks, moving this.\n/sec hide")
    issue = h.state.issue(REPO, number)
    assert SECRET_MARK not in everything_public(h, number) and VULN_TITLE not in everything_public(h, number)
    assert issue["state"] == "closed" and issue["locked"]
    [advisory] = h.state.repo(REPO).advisories.values()
    assert advisory["state"] == "draft" and SECRET_MARK in advisory["description"]
    assert advisory["summary"] == VULN_TITLE
    assert {c["login"] for c in advisory["credits"]} == {REPORTER}
    assert REPORTER in {u["login"] for u in advisory["collaborating_users"]}
    bot_comment = next(c for c in h.state.comments(REPO, number) if c["user"]["login"].endswith("[bot]"))
    assert advisory["ghsa_id"] in bot_comment["body"]
    [report] = await Reports(h.services.store).list()
    assert report.hidden and report.original_body == VULN_BODY  # kept privately, for the undo
    # No write to a public place ever carried the report: only the advisory creation did.
    public = [r for r in h.writes() if "/security-advisories" not in r.path]
    assert SECRET_MARK not in json.dumps([r.json for r in public])
    assert SECRET_MARK not in h.logs.text()

    await command(h, number, MAINTAINER, "/sec not-security")
    issue = h.state.issue(REPO, number)
    assert (issue["title"], issue["body"], issue["state"], issue["locked"]) == (VULN_TITLE, VULN_BODY, "open", False)
    assert issue["labels"] == []
    assert not any(c["user"]["login"].endswith("[bot]") for c in h.state.comments(REPO, number))
    assert advisory["ghsa_id"] and h.state.advisory(REPO, advisory["ghsa_id"])["state"] == "closed"
    [report] = await Reports(h.services.store).list()
    assert report.state == "rejected" and report.reject_reason == "not-security"
    timeline = await Reports(h.services.store).timeline(report.id)
    assert [e["kind"] for e in timeline][-1] == "not-security" and timeline[-1]["actor"] == MAINTAINER


async def test_hide_as_the_configured_action_transfers_to_the_private_repository(h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml",
                     "public_reports:\n  action: hide\n  private_repo: security-inbox\n")
    number = await open_report(h)
    assert h.state.moved_to(REPO, number) is not None
    [advisory] = h.state.repo(REPO).advisories.values()
    assert SECRET_MARK in advisory["description"]


async def test_hide_never_moves_a_report_into_a_public_repository(h: Harness) -> None:
    """Issue 17, finding 4: the configured private_repo was never checked private; the report
    went to a public repository and was recorded as hidden."""
    h.state.add_repo("octo-org/not-so-private", installation_id=INSTALLATION, pvr_enabled=False)
    h.state.put_file(REPO, ".github/secbot.yml", "public_reports:\n  action: hide\n  private_repo: not-so-private\n")
    number = await open_report(h)
    assert h.state.moved_to(REPO, number) is None
    assert SECRET_MARK not in everything_public(h, number)  # its text was replaced in place instead
    assert h.state.repo("octo-org/not-so-private").issues == {}
    [report] = await Reports(h.services.store).list()
    assert report.hidden
    await command(h, number, MAINTAINER, "/sec not-security")
    issue = h.state.issue(REPO, number)
    assert (issue["title"], issue["body"], issue["state"]) == (VULN_TITLE, VULN_BODY, "open")  # and undone in place


async def test_hide_copies_the_latest_text_and_text_put_back_is_hidden_again(h: Harness) -> None:
    """Issue 17, finding 8: edits to a handled report were ignored, so a proof of concept added by
    an edit never reached the advisory, and text put back into a hidden issue stayed public."""
    number = await open_report(h)
    added = VULN_BODY + "\nPoC: ADDED-BY-EDIT-5J1Q\n"
    h.state.update_issue(REPO, number, {"body": added}, actor=REPORTER)
    await h.deliver("issues", h.payloads.issues("edited", REPO, number, REPORTER, changes={"body": {"from": VULN_BODY}}))
    await h.settle()
    await command(h, number, MAINTAINER, "/sec hide")
    [advisory] = h.state.repo(REPO).advisories.values()
    assert "ADDED-BY-EDIT-5J1Q" in advisory["description"]
    assert "ADDED-BY-EDIT-5J1Q" not in everything_public(h, number)

    put_back = added + "\nand again: PUT-BACK-8W3Z\n"
    h.state.update_issue(REPO, number, {"title": VULN_TITLE, "body": put_back}, actor=REPORTER)
    await h.deliver("issues", h.payloads.issues("edited", REPO, number, REPORTER, changes={"body": {"from": ""}}))
    await h.settle()
    assert "PUT-BACK-8W3Z" not in everything_public(h, number) and VULN_TITLE not in everything_public(h, number)
    assert "PUT-BACK-8W3Z" in h.state.advisory(REPO, advisory["ghsa_id"])["description"]
    await command(h, number, MAINTAINER, "/sec not-security")
    assert h.state.issue(REPO, number)["body"] == put_back  # the undo restores the latest text


async def test_a_command_from_someone_without_write_access_is_refused_once_and_changes_nothing(h: Harness) -> None:
    number = await open_report(h)
    before = len(h.writes())
    await command(h, number, "bystander", "/sec not-security\n/sec hide")
    new = h.writes()[before:]
    comments = [r for r in new if r.path.endswith("/comments")]
    reactions = [r for r in new if r.path.endswith("/reactions")]
    # Issue 17, finding 6: someone who may not give commands gets one reaction and no comment.
    assert len(comments) == 0 and len(reactions) == 1 and len(new) == 1
    assert reactions[0].json == {"content": "-1"}
    assert not h.state.comments(REPO, number)[-1]["user"]["login"].endswith("[bot]")
    assert h.state.issue(REPO, number)["labels"] != []


async def test_a_redelivered_command_does_nothing_twice(h: Harness) -> None:
    number = await open_report(h)
    c = h.state.add_comment(REPO, number, body="/sec help", user=MAINTAINER)
    payload = h.payloads.issue_comment("created", REPO, number, c["id"], MAINTAINER)
    await h.deliver("issue_comment", payload)
    await h.deliver("issue_comment", payload)  # a manual redelivery arrives with a fresh delivery id
    await h.settle()
    helps = [x for x in h.state.comments(REPO, number) if "<!-- secbot:help" in x["body"]]
    assert len(helps) == 1


async def test_commands_inside_code_blocks_and_quotes_are_ignored(h: Harness) -> None:
    number = await open_report(h)
    before = len(h.writes())
    await command(h, number, MAINTAINER, "> /sec not-security\n\n```\n/sec hide\n```\n")
    assert h.writes()[before:] == []


async def test_write_access_taken_away_stops_commands_within_a_minute(tmp_path: Path) -> None:
    """Issue 17, finding 17: a permission answer was trusted for ten minutes after it was revoked."""
    async with Harness(tmp_path, frozen=True) as h:
        h.state.set_permission(REPO, "helper", "write")
        number = await open_report(h)
        first = await command(h, number, "helper", "/sec status")  # anyone may: caches "write" for helper
        assert h.state.reactions[-1]["_subject"] == first["node_id"]
        h.state.set_permission(REPO, "helper", "read")
        await h.advance(61)
        before = len(h.writes())
        second = await command(h, number, "helper", "/sec not-security")
        assert h.state.comments(REPO, number)[-1]["id"] == second["id"]  # no refusal comment (finding 6)
        assert h.state.reactions[-1]["content"] == "-1" and h.state.reactions[-1]["_subject"] == second["node_id"]
        assert h.state.issue(REPO, number)["labels"] != []  # the labels the redirect put on stay
        assert len(h.writes()) == before + 1  # the reaction, nothing else
    h.state.assert_no_violations()
