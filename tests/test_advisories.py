"""Private reports end to end: acknowledgement, team, tracker, commands, publication, linking."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store.reports import Reports
from tests.e2e import MAINTAINER, REPO, REPORTER, Harness

TRACKER = "octo-org/security-inbox"
SUMMARY = "Heap overflow in the PNG chunk parser"
DESCRIPTION = "The zTXt length is trusted: sending a 0xFFFFFFF0 length overflows `buf` in png_read_chunk(). PoC-7f3a attached."
SECRET = "PoC-7f3a"
CONFIG = "security_team:\n  users: [maint]\ntracker:\n  repo: security-inbox\n"


pytestmark = pytest.mark.harness(config=CONFIG, setup=lambda h: h.state.set_permission(TRACKER, MAINTAINER, "maintain"))


async def report(h: Harness, twice: bool = False, description: str = DESCRIPTION) -> str:
    adv = h.state.report_vulnerability(REPO, summary=SUMMARY, description=description, user=REPORTER,
                                       vulnerabilities=[{"package": {"ecosystem": "pip", "name": "hello-world"},
                                                         "vulnerable_version_range": "< 2.3.1"}])
    payload = h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], REPORTER)
    await h.deliver("repository_advisory", payload)
    if twice:
        await h.deliver("repository_advisory", payload)
    await h.settle()
    return str(adv["ghsa_id"])


def reporter_messages(h: Harness, ghsa: str) -> list[str]:
    return [c["body"] for c in h.state.advisory_comments(REPO, ghsa) if c["user"]["login"].endswith("[bot]")]


def tracker_number(h: Harness) -> int:
    [issue] = [i for i in h.state.repo(TRACKER).issues.values()]
    return int(issue["number"])


async def command(h: Harness, repo: str, number: int, user: str, body: str, twice: bool = False) -> None:
    c = h.state.add_comment(repo, number, body=body, user=user)
    payload = h.payloads.issue_comment("created", repo, number, c["id"], user)
    await h.deliver("issue_comment", payload)
    if twice:
        await h.deliver("issue_comment", payload)
    await h.settle()


def public_text(h: Harness) -> str:
    """Everything readable in the public repository's issues."""
    repo = h.state.repo(REPO)
    out = []
    for issue in repo.issues.values():
        out += [issue["title"], issue["body"] or ""] + [c["body"] for c in h.state.comments(REPO, issue["number"])]
    return json.dumps(out)


async def test_a_private_report_is_acknowledged_at_once_and_the_team_brought_in(h: Harness) -> None:
    ghsa = await report(h, twice=True)
    [ack] = reporter_messages(h, ghsa)
    assert f"@{REPORTER}" in ack and "2 working days" in ack
    adv = h.state.advisory(REPO, ghsa)
    assert [u["login"] for u in adv["collaborating_users"]] == [REPORTER, MAINTAINER]  # merged, reporter kept
    tracker = h.state.issue(TRACKER, tracker_number(h))
    assert ghsa in tracker["title"] and SECRET in tracker["body"]  # the tracker is private
    assert [a["login"] for a in tracker["assignees"]] == [MAINTAINER]
    [rep] = await Reports(h.services.store).list()
    assert (rep.source, rep.ghsa_id, rep.reporter, rep.state) == ("advisory", ghsa, REPORTER, "new")
    assert SECRET not in public_text(h) and SECRET not in h.logs.text() and "png_read_chunk" not in h.logs.text()


async def test_a_public_tracker_gets_nothing(h: Harness) -> None:
    h.state.repo(TRACKER).data["private"] = False
    await report(h)
    assert h.state.repo(TRACKER).issues == {}
    assert "not private" in h.logs.text()


async def test_a_tracker_made_public_later_gets_nothing_more(h: Harness) -> None:
    ghsa = await report(h)
    number = tracker_number(h)
    before = len(h.state.comments(TRACKER, number))
    body_before = h.state.issue(TRACKER, number)["body"]
    h.state.repo(TRACKER).data["private"] = False
    await command(h, TRACKER, number, MAINTAINER, "/sec accept high\n/sec status")
    assert h.state.advisory(REPO, ghsa)["state"] == "draft"  # the command still worked
    assert len(h.state.comments(TRACKER, number)) == before + 1  # only the maintainer's own comment
    assert h.state.issue(TRACKER, number)["body"] == body_before
    messages = reporter_messages(h, ghsa)
    assert any("accepted" in m for m in messages)
    # Issue 17, finding 9: the status is for the maintainers. It went to the advisory, which the
    # reporter reads; now it is kept in the report's timeline, and the command's comment, now on a
    # public page, is minimized.
    assert not any("**Status of" in m for m in messages)
    [rep] = await Reports(h.services.store).list()
    notes = [e["detail"]["note"] for e in await Reports(h.services.store).timeline(rep.id) if e["kind"] == "note"]
    assert len(notes) == 1 and "**Status of" in notes[0] and "accepted" in notes[0]
    assert h.state.minimized(TRACKER, h.state.comments(TRACKER, number)[-1]["id"]) == "outdated"


async def test_the_whole_life_every_message_once_even_when_each_delivery_comes_twice(h: Harness) -> None:
    ghsa = await report(h, twice=True)
    number = tracker_number(h)
    await command(h, TRACKER, number, MAINTAINER, "/sec ack", twice=True)
    await command(h, TRACKER, number, MAINTAINER, "/sec accept high", twice=True)
    assert h.state.advisory(REPO, ghsa)["state"] == "draft" and h.state.advisory(REPO, ghsa)["severity"] == "high"
    await command(h, TRACKER, number, MAINTAINER, "/sec eta 2026-12-24\n/sec fixed 2.3.1", twice=True)
    vulns = h.state.advisory(REPO, ghsa)["vulnerabilities"]
    assert vulns and all(v["patched_versions"] == "2.3.1" for v in vulns)
    h.state.update_advisory(REPO, ghsa, {"state": "published"}, actor=MAINTAINER)
    published = h.payloads.repository_advisory("published", REPO, ghsa, MAINTAINER)
    await h.deliver("repository_advisory", published)
    await h.deliver("repository_advisory", published)
    await h.settle()
    messages = reporter_messages(h, ghsa)
    kinds = ["reached the maintainers", "acknowledged", "accepted", "target date", "fixed", "published"]
    assert len(messages) == len(kinds)
    for text, kind in zip(messages, kinds):
        assert kind in text, (kind, text[:80])
    [rep] = await Reports(h.services.store).list()
    assert (rep.state, rep.severity, rep.eta, rep.fixed_version) == ("published", "high", "2026-12-24", "2.3.1")
    assert h.state.issue(TRACKER, number)["state"] == "closed"
    timeline = [e["kind"] for e in await Reports(h.services.store).timeline(rep.id)]
    assert timeline == ["reported", "acknowledged", "accepted", "eta", "fixed", "published"]
    errors = [line for line in h.logs.lines if '"job failed"' in line]
    assert all("ActionBusy" in line for line in errors), errors  # only the twin deliveries waiting their turn


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("/sec ack", lambda r, adv: r.state == "acknowledged"),
        ("/sec accept CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", lambda r, adv: r.severity == "critical" and adv["state"] == "draft"),
        ("/sec reject duplicate same as GHSA-xxxx", lambda r, adv: r.state == "rejected" and adv["state"] == "closed"),
        ("/sec assign @sec-lead", lambda r, adv: "sec-lead" in [u["login"] for u in adv["collaborating_users"]]),
        ("/sec severity low", lambda r, adv: r.severity == "low" and adv["severity"] == "low"),
        ("/sec eta 2027-01-15", lambda r, adv: r.eta == "2027-01-15"),
        ("/sec pause until 2027-02-01", lambda r, adv: r.paused_until is not None),
        ("/sec update We reproduced it and are working on a patch.", lambda r, adv: True),
    ],
)
async def test_commands_from_a_maintainer_take_effect_and_from_others_do_not(h: Harness, text: str, check) -> None:  # type: ignore[no-untyped-def]
    ghsa = await report(h)
    number = tracker_number(h)
    h.state.set_permission(TRACKER, "bystander", "read")
    before = await Reports(h.services.store).list()
    await command(h, TRACKER, number, "bystander", text)
    assert await Reports(h.services.store).list() == before  # nothing changed
    assert "only the repository's maintainers" in h.state.comments(TRACKER, number)[-1]["body"]
    await command(h, TRACKER, number, MAINTAINER, text)
    [rep] = await Reports(h.services.store).list()
    assert check(rep, h.state.advisory(REPO, ghsa))
    last = h.state.comments(TRACKER, number)[-1]
    assert last["user"]["login"].endswith("[bot]") and "only the repository's maintainers" not in last["body"]


async def test_update_reaches_the_reporter_with_the_maintainers_words(h: Harness) -> None:
    ghsa = await report(h)
    await command(h, TRACKER, tracker_number(h), MAINTAINER, "/sec update We reproduced it; patch next week.")
    assert "We reproduced it; patch next week." in reporter_messages(h, ghsa)[-1]


async def test_status_and_invalid_transitions_are_answered_in_the_tracker(h: Harness) -> None:
    await report(h)
    number = tracker_number(h)
    await command(h, TRACKER, number, MAINTAINER, "/sec fixed 1.0.0")
    assert "accept it first" in h.state.comments(TRACKER, number)[-1]["body"]
    await command(h, TRACKER, number, MAINTAINER, "/sec status")
    assert "Status of" in h.state.comments(TRACKER, number)[-1]["body"]


async def test_without_the_advisory_comments_api_messages_go_to_the_tracker(h: Harness) -> None:
    h.state.fail_next("POST", r"/security-advisories/[^/]+/comments$", 404, times=5)
    await report(h)
    relayed = h.state.comments(TRACKER, tracker_number(h))
    assert any("For the reporter" in c["body"] for c in relayed)
    assert "advisory comments are not available" in h.logs.text()


async def test_a_redirected_reporter_who_reports_privately_is_linked_and_the_issue_closed_on_publication(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title="RCE via crafted PNG", user=REPORTER,
                               body="Sending a crafted PNG with a huge zTXt chunk overflows the heap; remote code execution.")
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    ghsa = await report(h)
    public, private = await Reports(h.services.store).list()
    assert public.linked_report_id == private.id and private.linked_report_id == public.id
    h.state.update_advisory(REPO, ghsa, {"state": "draft"}, actor=MAINTAINER)
    h.state.update_advisory(REPO, ghsa, {"state": "published"}, actor=MAINTAINER)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("published", REPO, ghsa, MAINTAINER))
    await h.settle()
    got = h.state.issue(REPO, issue["number"])
    assert got["state"] == "closed" and ghsa in h.state.comments(REPO, issue["number"])[-1]["body"]


async def test_announcement_issue_on_publication_when_enabled(h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", CONFIG + "announcements:\n  enabled: true\n")
    ghsa = await report(h)
    h.state.update_advisory(REPO, ghsa, {"state": "draft"}, actor=MAINTAINER)
    h.state.update_advisory(REPO, ghsa, {"state": "published"}, actor=MAINTAINER)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("published", REPO, ghsa, MAINTAINER))
    await h.settle()
    [announcement] = [i for i in h.state.repo(REPO).issues.values() if ghsa in i["title"]]
    assert "announcement" in [lb["name"] for lb in announcement["labels"]]
    assert SECRET not in announcement["body"]


async def test_beg_bounty_private_reports_get_the_validation_reply_and_a_note(h: Harness) -> None:
    ghsa = await report(h, description="Your site lacks X-Frame-Options and HSTS headers and has no DMARC record. "
                                       "Critical! What is the bounty amount? I will share details after payment.")
    assert "scanner findings" in reporter_messages(h, ghsa)[0]
    assert any("beg-bounty" in c["body"] for c in h.state.comments(TRACKER, tracker_number(h)))


def test_secbot_reports_json_lists_the_reports(tmp_path: Path) -> None:
    import asyncio

    async def make() -> str:
        async with Harness(tmp_path) as h:
            h.state.put_file(REPO, ".github/secbot.yml", CONFIG)
            await report(h)
        h.state.assert_no_violations()
        return f"sqlite:///{tmp_path / 'e2e.db'}"

    url = asyncio.run(make())
    run = subprocess.run([sys.executable, "-m", "bot", "reports", "--json"], capture_output=True, text=True,
                         env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}, cwd=Path(__file__).parent.parent)
    assert run.returncode == 0, run.stderr
    [row] = [json.loads(x) for x in run.stdout.splitlines()]
    assert {k: row[k] for k in ("repo", "source", "reporter", "state")} == {
        "repo": REPO, "source": "advisory", "reporter": REPORTER, "state": "new"}
    assert row["ghsa_id"].startswith("GHSA-") and "severity" in row and "id" in row and "number" in row
    assert SECRET not in run.stdout


@pytest.mark.parametrize(
    ("setup", "text", "check"),
    [
        ("/sec accept medium", "/sec fixed v2.0.0-rc.1", lambda r: r.state == "fixed" and r.fixed_version == "v2.0.0-rc.1"),
        ("/sec pause", "/sec resume", lambda r: r.paused_until is None),
    ],
)
async def test_fixed_and_resume_need_their_first_step_and_a_maintainer(h: Harness, setup: str, text: str, check) -> None:  # type: ignore[no-untyped-def]
    await report(h)
    number = tracker_number(h)
    await command(h, TRACKER, number, MAINTAINER, setup)
    h.state.set_permission(TRACKER, "bystander", "read")
    before = await Reports(h.services.store).list()
    await command(h, TRACKER, number, "bystander", text)
    assert await Reports(h.services.store).list() == before
    await command(h, TRACKER, number, MAINTAINER, text)
    [rep] = await Reports(h.services.store).list()
    assert check(rep)


async def test_status_and_help_are_answered_to_anyone_who_can_read_the_tracker(h: Harness) -> None:
    await report(h)
    number = tracker_number(h)
    h.state.set_permission(TRACKER, "bystander", "read")
    await command(h, TRACKER, number, "bystander", "/sec status\n/sec help")
    # One reply per comment (issue 17, finding 6): the status and the help together.
    [reply] = [c["body"] for c in h.state.comments(TRACKER, number)[-1:] if c["user"]["login"].endswith("[bot]")]
    assert "Status of" in reply and "/sec accept" in reply and reply.index("Status of") < reply.index("/sec accept")


async def test_lifecycle_commands_on_the_public_issue_answer_only_with_a_reaction(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title="RCE via crafted PNG", user=REPORTER,
                               body="Sending a crafted PNG with a huge zTXt chunk overflows the heap; remote code execution.")
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    ghsa = await report(h)  # linked to the public issue
    bot_before = len([c for c in h.state.comments(REPO, issue["number"]) if c["user"]["login"].endswith("[bot]")])
    await command(h, REPO, issue["number"], MAINTAINER, "/sec accept critical\n/sec status")
    bot_after = [c for c in h.state.comments(REPO, issue["number"]) if c["user"]["login"].endswith("[bot]")]
    assert len(bot_after) == bot_before  # a reaction, no words: the state stays private
    assert "Status of" not in public_text(h)
    assert any("accepted" in m for m in reporter_messages(h, ghsa))
