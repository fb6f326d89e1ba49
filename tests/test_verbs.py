"""`/sec` commands under attack and faults (issue 17, findings 2, 6, 9 and 12), end to end: the
real server against the GitHub emulator. Each test here failed on a742533."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.rules.commands import MAX_COMMANDS
from bot.store.reports import Report, Reports
from tests.e2e import MAINTAINER, REPO, REPORTER, Harness
from tests.test_public_reports import SECRET_MARK, VULN_BODY, VULN_TITLE

TRACKER = "octo-org/security-inbox"
TEAM = "security_team:\n  users: [maint]\n"
WITH_TRACKER = TEAM + "tracker:\n  repo: security-inbox\n"
FLOOD = "\n".join(["/sec help"] * 25 + ["/sec status"] * 15 + ["/sec frobnicate"] * 10)  # fifty commands


# A budget no test here reaches in its minute: what a full budget does is tested on its own.
pytestmark = pytest.mark.harness(config=TEAM, setup=lambda h: h.state.set_permission(TRACKER, MAINTAINER, "maintain"),
                                 writes_per_minute=600, writes_per_hour=6000)


async def open_report(h: Harness, user: str = REPORTER) -> int:
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=user)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], user))
    await h.settle()
    return int(issue["number"])


async def command(h: Harness, number: int, user: str, body: str, repo: str = REPO,
                  settle: bool = True) -> dict[str, Any]:
    c = h.state.add_comment(repo, number, body=body, user=user)
    await h.deliver("issue_comment", h.payloads.issue_comment("created", repo, number, c["id"], user))
    if settle:
        await h.settle()
    return c


def by_bot(comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in comments if c["user"]["login"].endswith("[bot]")]


def reactions_on(h: Harness, comment: dict[str, Any]) -> list[str]:
    return [r["content"] for r in h.state.reactions if r["_subject"] == comment["node_id"]]


async def notes(h: Harness, report: Report) -> list[str]:
    """Notes for the maintainers kept in a report's timeline (for want of a private tracker)."""
    return [e["detail"]["note"] for e in await Reports(h.services.store).timeline(report.id) if e["kind"] == "note"]


def everything_public(h: Harness, number: int) -> str:
    issue = h.state.issue(REPO, number)
    return json.dumps([issue["title"], issue["body"], [c["body"] for c in h.state.comments(REPO, number)]])


# -- finding 2: one report's status lands in another reporter's advisory -----------------------------


async def test_status_behind_two_hidden_reports_answers_each_with_its_own_state_and_never_on_an_advisory(
        h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", TEAM + "public_reports:\n  action: hide\n")
    issue = h.state.open_issue(REPO, title="How do I list archive members?", body="Is there a flag?", user="bystander")
    for who in (REPORTER, "second-reporter"):
        c = h.state.add_comment(REPO, issue["number"], body=VULN_BODY, user=who)
        await h.deliver("issue_comment", h.payloads.issue_comment("created", REPO, issue["number"], c["id"], who))
        await h.settle()
    store = Reports(h.services.store)
    first, second = await store.list()
    assert first.draft_ghsa_id and second.draft_ghsa_id and first.hidden and second.hidden
    # The first report moved on in a private place: accepted, high, with a target date.
    await store.update(first.id, now=h.services.clock.now(), state="accepted", severity="high", eta="2027-01-15",
                       accepted_at=h.services.clock.now(), event="accepted", actor=MAINTAINER)

    await command(h, issue["number"], MAINTAINER, "/sec status")

    for mine, other in ((first, second), (second, first)):
        on_advisory = [c["body"] for c in by_bot(h.state.advisory_comments(REPO, mine.draft_ghsa_id or ""))]
        assert not any("Status of" in body for body in on_advisory)  # its reporter reads it
        [note] = await notes(h, mine)
        assert f"Status of {mine.draft_ghsa_id}" in note and str(other.draft_ghsa_id) not in note
    [note] = await notes(h, first)
    assert "accepted, severity high, target fix date 2027-01-15" in note
    [note] = await notes(h, second)
    assert ": new." in note and "high" not in note and "2027-01-15" not in note
    assert "Status of" not in everything_public(h, issue["number"])


async def test_status_behind_two_reports_goes_to_each_reports_own_tracker_issue(h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", WITH_TRACKER)
    number = await open_report(h)
    c = h.state.add_comment(REPO, number, body=VULN_BODY, user="second-reporter")
    await h.deliver("issue_comment", h.payloads.issue_comment("created", REPO, number, c["id"], "second-reporter"))
    await h.settle()
    await command(h, number, MAINTAINER, "/sec ack")  # each report gets its tracker issue
    store = Reports(h.services.store)
    first, second = await store.list()
    await store.update(first.id, now=h.services.clock.now(), state="accepted", severity="critical",
                       event="accepted", actor=MAINTAINER)
    await command(h, number, MAINTAINER, "/sec status")
    for report, state in ((first, "accepted, severity critical"), (second, "acknowledged")):
        fresh = await store.get(report.id)
        assert fresh is not None and fresh.tracker_number is not None
        statuses = [c["body"] for c in by_bot(h.state.comments(TRACKER, fresh.tracker_number)) if "Status of" in c["body"]]
        assert len(statuses) == 1 and f"Status of report {report.id}**: {state}" in statuses[0]


# -- finding 6: one stranger's comment yields fifty bot comments ------------------------------------


async def test_a_strangers_fifty_commands_get_one_reaction_and_nothing_else(h: Harness) -> None:
    number = await open_report(h)
    [report] = await Reports(h.services.store).list()
    before = len(h.writes())
    flood = await command(h, number, "bystander", FLOOD)
    new = h.writes()[before:]
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in new] == [("POST", "reactions")]
    assert reactions_on(h, flood) == ["-1"]
    assert by_bot(h.state.comments(REPO, number))[-1]["id"] < flood["id"]  # no comment after it
    assert await notes(h, report) == []  # nor a note for the maintainers at a stranger's bidding
    await command(h, number, "bystander", FLOOD)  # a second comment: again one reaction
    assert len(h.writes()) == before + 2


async def test_ten_flooding_comments_do_not_delay_hiding_a_new_report(tmp_path: Path) -> None:
    """The flood spent the hour's budget and a real report in a `hide` repository stayed public
    for half an hour. Now a stranger's comment costs one courtesy write, and command replies can
    never take the third of each window kept for security work."""
    async with Harness(tmp_path, frozen=True) as h:
        assert h.clock is not None
        h.state.put_file(REPO, ".github/secbot.yml", TEAM + "public_reports:\n  action: hide\n")
        await h.advance((h.clock.now() // 3600 + 1) * 3600 - h.clock.now())  # the start of an hour
        issue = h.state.open_issue(REPO, title="Feature request: zstd archives", body="Please?", user="bystander")
        for _ in range(10):
            await command(h, issue["number"], "bystander", FLOOD, settle=False)
        await h.settle()
        for _ in range(10):  # ten minutes for whatever the flood queued
            await h.advance(60)
        number = await open_report(h)
        got = h.state.issue(REPO, number)
        assert SECRET_MARK not in everything_public(h, number)
        assert got["state"] == "closed" and got["locked"]
        [report] = await Reports(h.services.store).list()
        assert report.hidden and report.draft_ghsa_id
        assert by_bot(h.state.comments(REPO, issue["number"])) == []
    h.state.assert_no_violations()


async def test_enabled_false_runs_no_command(h: Harness) -> None:
    number = await open_report(h)
    h.state.put_file(REPO, ".github/secbot.yml", TEAM + "enabled: false\n")
    h.services.configs.clear()  # (read again at once, not within five minutes)
    before = len(h.writes())
    await command(h, number, MAINTAINER, "/sec hide\n/sec help\n/sec status\n/sec ack")
    assert h.writes()[before:] == []
    [report] = await Reports(h.services.store).list()
    assert (report.state, report.hidden) == ("new", False)


async def test_a_maintainers_comment_is_read_up_to_the_cap_and_answered_once(h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", WITH_TRACKER)
    number = await open_report(h)
    await command(h, number, MAINTAINER, "/sec ack")
    [report] = await Reports(h.services.store).list()
    tracker = (await Reports(h.services.store).get(report.id)).tracker_number  # type: ignore[union-attr]
    assert tracker is not None
    before = len(by_bot(h.state.comments(TRACKER, tracker)))
    c = await command(h, tracker, MAINTAINER, "\n".join(["/sec status"] * (MAX_COMMANDS + 5)), repo=TRACKER)
    replies = by_bot(h.state.comments(TRACKER, tracker))[before:]
    assert len(replies) == 1 and replies[0]["body"].count("Status of") == MAX_COMMANDS == 10
    assert reactions_on(h, c) == ["+1"]


# -- finding 9: without a tracker, notes for the maintainers went to the advisory -------------------


async def test_a_command_typed_in_an_advisory_is_answered_where_only_maintainers_read(h: Harness) -> None:
    from tests.test_watch import poll

    adv = h.state.report_vulnerability(REPO, summary="Path traversal in the upload handler",
                                       description="`../` in the file name writes outside the upload directory.",
                                       user=REPORTER)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], REPORTER))
    await h.settle_due_soon()
    [report] = await Reports(h.services.store).list()
    await poll(h, report)
    h.state.add_advisory_comment(REPO, adv["ghsa_id"], body="/sec pause\n/sec status", user=MAINTAINER)
    await poll(h, report)
    on_advisory = [c["body"] for c in by_bot(h.state.advisory_comments(REPO, adv["ghsa_id"]))]
    assert len(on_advisory) == 1 and "reached the maintainers" in on_advisory[0]  # the acknowledgement only
    [note] = await notes(h, report)
    assert "Timers paused until /sec resume" in note and "Timers are paused" in note


# -- finding 12: the reaction told that a report was rejected ---------------------------------------


async def test_the_reaction_on_a_public_issue_is_the_same_after_a_private_rejection(h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", WITH_TRACKER)
    number = await open_report(h)
    await command(h, number, MAINTAINER, "/sec ack")
    [report] = await Reports(h.services.store).list()
    tracker = (await Reports(h.services.store).get(report.id)).tracker_number  # type: ignore[union-attr]
    assert tracker is not None

    asked = [(who, text) for who in ("bystander", MAINTAINER)
             for text in ("/sec status", "/sec accept high", "/sec help", "/sec frobnicate")]

    async def ask_everything() -> tuple[dict[tuple[str, str], list[str]], int]:
        """Each question's reactions, and how many comments the bot wrote on the public issue."""
        start = len(by_bot(h.state.comments(REPO, number)))
        reactions = {q: reactions_on(h, await command(h, number, *q)) for q in asked}
        return reactions, len(by_bot(h.state.comments(REPO, number))) - start

    before = await ask_everything()
    await command(h, tracker, MAINTAINER, "/sec reject invalid", repo=TRACKER)  # in private
    assert (await Reports(h.services.store).get(report.id)).state == "rejected"  # type: ignore[union-attr]
    after = await ask_everything()
    assert after == before
    reactions, _ = before
    assert reactions[("bystander", "/sec status")] == ["-1"] and reactions[(MAINTAINER, "/sec status")] == ["+1"]
    assert reactions[(MAINTAINER, "/sec frobnicate")] == ["confused"]


# -- lifecycle commands typed on a public issue --------------------------------------------------------


@pytest.mark.parametrize("config", [TEAM, WITH_TRACKER])
async def test_a_lifecycle_command_on_a_public_issue_is_done_minimized_and_answered_privately(
        h: Harness, config: str) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", config)
    number = await open_report(h)
    c = await command(h, number, MAINTAINER, "Thanks!\n/sec accept critical\n/sec eta 2027-01-15")
    [report] = await Reports(h.services.store).list()
    assert (report.state, report.severity, report.eta) == ("accepted", "critical", "2027-01-15")
    assert h.state.minimized(REPO, c["id"]) == "outdated"
    assert reactions_on(h, c) == ["+1"]
    public = json.dumps([x["body"] for x in by_bot(h.state.comments(REPO, number))])
    assert "critical" not in public and "2027-01-15" not in public and "Accepted" not in public
    if report.tracker_number:
        answers = [x["body"] for x in by_bot(h.state.comments(TRACKER, report.tracker_number))
                   if "<!-- secbot:to-maintainers" in x["body"]]  # (not the messages to relay to the reporter)
    else:
        answers = await notes(h, report)
    assert len(answers) == 1 and "Accepted (critical)" in answers[0] and "2027-01-15" in answers[0]
    # hide, not-security and status say nothing of how a report is handled: their comments stay.
    kept = await command(h, number, MAINTAINER, "/sec status")
    assert h.state.minimized(REPO, kept["id"]) is None
