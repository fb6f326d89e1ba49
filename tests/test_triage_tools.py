"""The tools a report flood needs (issue 18, points 2-6), end to end against the emulator:
needs-info waits on the reporter, reclassify, the flood note, away mode, canned replies. And none
of them lets a report's text reach a public place."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from bot.jobs.queue import QUEUED
from bot.reports import floods
from bot.reports.timers import POLL, TIMER, poll_key
from bot.rules.config import load
from bot.store.reports import Report, Reports
from tests.e2e import INSTALLATION, MAINTAINER, REPO, REPORTER, Harness
from tests.test_timers import monday_9am

TRACKER = "octo-org/security-inbox"
CONFIG = "security_team:\n  users: [maint]\ntracker:\n  repo: security-inbox\n"
SUMMARY = "Heap overflow in parse_header via crafted Content-Length"
SECRET = "AAAA-secret-poc-7f3e9"  # a word only the report holds
DESCRIPTION = f"Send Content-Length: -1 to /upload; the payload {SECRET} overwrites the heap."
HOUR, DAY = 3600.0, 86400.0


async def on_monday_9am(h: Harness) -> None:
    h.state.set_permission(TRACKER, MAINTAINER, "maintain")
    await h.advance(monday_9am(h) - h.clock.now())  # type: ignore[union-attr]


pytestmark = pytest.mark.harness(config=CONFIG, frozen=True, setup=on_monday_9am)


async def report(h: Harness, user: str = REPORTER, n: int = 0) -> tuple[str, Report]:
    adv = h.state.report_vulnerability(REPO, summary=f"{SUMMARY} ({n})", description=DESCRIPTION, user=user)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], user))
    await h.settle()
    found = await Reports(h.services.store).list()
    return str(adv["ghsa_id"]), found[-1]


def tracker_issue(h: Harness, rep: Report) -> int:
    assert rep.tracker_number is not None
    return rep.tracker_number


async def fresh(h: Harness, rep: Report) -> Report:
    got = await Reports(h.services.store).get(rep.id)
    assert got is not None
    return got


async def command(h: Harness, rep: Report, body: str) -> dict[str, Any]:
    number = tracker_issue(h, await fresh(h, rep))
    c = h.state.add_comment(TRACKER, number, body=body, user=MAINTAINER)
    await h.deliver("issue_comment", h.payloads.issue_comment("created", TRACKER, number, c["id"], MAINTAINER))
    await h.settle()
    return c


def to_reporter(h: Harness, ghsa: str) -> list[str]:
    return [c["body"] for c in h.state.advisory_comments(REPO, ghsa) if c["user"]["login"].endswith("[bot]")]


def in_tracker(h: Harness, rep: Report) -> list[str]:
    return [c["body"] for c in h.state.comments(TRACKER, tracker_issue(h, rep)) if c["user"]["login"].endswith("[bot]")]


async def poll(h: Harness, rep: Report) -> None:
    await h.services.queue.schedule(POLL, {"report_id": rep.id}, singleton_key=poll_key(rep.id),
                                    installation_id=INSTALLATION)
    await h.settle()


async def run_days(h: Harness, days: float, step: float = 6 * HOUR) -> None:
    for _ in range(int(days * DAY / step)):
        await h.advance(step)


async def timer_at(h: Harness, rep: Report, name: str) -> float | None:
    for job in await h.services.queue.list(state=QUEUED, kind=TIMER):
        if job.singleton_key == f"timer:{name}:{rep.id}":
            return float(job.run_at)
    return None


def public_text(h: Harness) -> str:
    """Everything written to the public repository outside its advisories, and the logs."""
    writes = [r.json for r in h.writes() if r.path.startswith(f"/repos/{REPO}/")
              and not r.path.startswith(f"/repos/{REPO}/security-advisories")]
    issues = [[i["title"], i["body"]] for i in h.state.repo(REPO).issues.values()]
    return json.dumps([writes, issues]) + h.logs.text()


# -- needs-info ----------------------------------------------------------------------------------


async def test_needs_info_asks_the_reporter_holds_the_targets_and_the_reporters_answer_resumes_them(h: Harness) -> None:
    ghsa, rep = await report(h)
    await command(h, rep, "/sec needs-info poc Please show it against 2.3.0.")
    [ask] = [b for b in to_reporter(h, ghsa) if "proof of concept" in b]
    assert "Please show it against 2.3.0." in ask and "answer here" in ask
    assert await timer_at(h, rep, "targets") is None and await timer_at(h, rep, "update") is None
    await run_days(h, 10)  # nobody answers: no reminder, no escalation, no status update
    assert not [b for b in in_tracker(h, rep) if "Reminder" in b or "passed on" in b]
    assert not [b for b in to_reporter(h, ghsa) if b.startswith("Status update")]

    h.state.add_advisory_comment(REPO, ghsa, body="Here is the PoC: curl -H 'Content-Length: -1' ...", user=REPORTER)
    answered = h.clock.now()  # type: ignore[union-attr]
    await poll(h, await fresh(h, rep))
    kinds = [e["kind"] for e in await Reports(h.services.store).timeline(rep.id)]
    assert kinds.count("needs-info") == 1 and kinds.count("info-received") == 1
    [note] = [b for b in in_tracker(h, rep) if "The reporter answered" in b]
    assert "curl" not in note  # the maintainers read the answer on the advisory
    at = await timer_at(h, rep, "targets")
    assert at is not None and at > answered  # running again, moved on by the ten days held
    await run_days(h, 3)
    assert [b for b in in_tracker(h, rep) if "Reminder" in b]  # the acknowledge target runs again
    await poll(h, await fresh(h, rep))  # the answer read again: resumed once
    kinds = [e["kind"] for e in await Reports(h.services.store).timeline(rep.id)]
    assert kinds.count("info-received") == 1


async def test_needs_info_on_other_comments_from_others_keeps_waiting(h: Harness) -> None:
    ghsa, rep = await report(h)
    await command(h, rep, "/sec needs-info split")
    assert [b for b in to_reporter(h, ghsa) if "One vulnerability per report" in b]
    h.state.add_advisory_comment(REPO, ghsa, body="Looking at it.", user=MAINTAINER)
    await poll(h, await fresh(h, rep))
    assert await timer_at(h, rep, "targets") is None


# -- reclassify ----------------------------------------------------------------------------------

RECLASSIFY = ("/sec reclassify Crash when the upload size header is negative\n"
              "Startup of the upload handler fails on a negative size header; it should refuse it with a 400.\n")


async def test_reclassify_opens_a_public_issue_with_only_the_maintainers_text_closes_the_advisory_tells_the_reporter(
        h: Harness) -> None:
    ghsa, rep = await report(h)
    before = set(h.state.repo(REPO).issues)
    c = await command(h, rep, RECLASSIFY)
    [number] = set(h.state.repo(REPO).issues) - before
    issue = h.state.issue(REPO, number)
    assert issue["title"] == "Crash when the upload size header is negative"
    assert issue["body"].startswith("Startup of the upload handler fails on a negative size header")
    assert SECRET not in json.dumps(issue) and SUMMARY not in json.dumps(issue) and "Content-Length" not in issue["body"]
    assert h.state.advisory(REPO, ghsa)["state"] == "closed"
    [told] = [b for b in to_reporter(h, ghsa) if "moved it to a public issue" in b]
    assert f"/{REPO}/issues/{number}" in told
    got = await fresh(h, rep)
    assert (got.state, got.reject_reason) == ("rejected", "not-security")
    assert [b for b in in_tracker(h, rep) if "Reclassified" in b]
    # A redelivery of the comment, and a second reclassify, open nothing more.
    await h.deliver("issue_comment", h.payloads.issue_comment("created", TRACKER, tracker_issue(h, got), c["id"],
                                                              MAINTAINER))
    await h.settle()
    await command(h, rep, RECLASSIFY)
    assert set(h.state.repo(REPO).issues) - before == {number}
    assert len([b for b in to_reporter(h, ghsa) if "moved it to a public issue" in b]) == 1
    assert SECRET not in public_text(h)


async def test_reclassify_without_a_title_is_refused_and_opens_nothing(h: Harness) -> None:
    ghsa, rep = await report(h)
    before = set(h.state.repo(REPO).issues)
    await command(h, rep, "/sec reclassify")
    assert set(h.state.repo(REPO).issues) == before
    assert h.state.advisory(REPO, ghsa)["state"] == "triage"
    assert [b for b in in_tracker(h, rep) if "reclassify needs the public issue's title" in b]


# -- floods --------------------------------------------------------------------------------------


@pytest.mark.harness(config=CONFIG + "floods:\n  reports_per_day: 2\n", frozen=True, setup=on_monday_9am)
async def test_a_reporter_beyond_the_daily_rate_gets_one_polite_note(h: Harness) -> None:
    sent = [await report(h, n=n) for n in range(4)]
    notes = {ghsa: [b for b in to_reporter(h, ghsa) if "in the order it arrived" in b] for ghsa, _ in sent}
    assert [len(n) for n in notes.values()] == [0, 0, 1, 0]
    assert "3 reports" in notes[sent[2][0]][0]
    cfg, _ = load(CONFIG + "floods:\n  reports_per_day: 2\n")
    rate = await floods.rate(_ctx(h), await fresh(h, sent[3][1]), cfg)
    assert (rate.count, rate.limit, rate.over) == (4, 2, True)
    assert "flood" in [e["kind"] for e in await Reports(h.services.store).timeline(sent[2][1].id)]
    # Another reporter is not counted with them, and a day later the count starts again.
    _, other = await report(h, user="bystander", n=9)
    assert (await floods.rate(_ctx(h), await fresh(h, other), cfg)).count == 1
    await h.advance(DAY + HOUR)
    ghsa, later = await report(h, n=10)
    assert (await floods.rate(_ctx(h), await fresh(h, later), cfg)).count == 1
    assert not [b for b in to_reporter(h, ghsa) if "in the order it arrived" in b]


def _ctx(h: Harness) -> Any:
    """What floods.rate reads (a Context's report store): as the triage card calls it."""
    return type("StoreOnly", (), {"reports": Reports(h.services.store)})()


# -- away ----------------------------------------------------------------------------------------


def _day(h: Harness, days: int) -> dt.date:
    return (dt.datetime.fromtimestamp(h.clock.now(), dt.timezone.utc) + dt.timedelta(days=days)).date()  # type: ignore[union-attr]


async def test_away_holds_the_targets_tells_new_reporters_and_switches_back_by_itself(h: Harness) -> None:
    ghsa, rep = await report(h)
    planned = await timer_at(h, rep, "targets")
    until = _day(h, 10)
    back = dt.datetime.combine(until, dt.time(), dt.timezone.utc).timestamp()
    await command(h, rep, f"/sec away until {until.isoformat()} Back after the holidays.")
    shifted = await timer_at(h, rep, "targets")
    assert planned is not None and shifted is not None and shifted >= back > planned
    assert (await timer_at(h, rep, "update") or 0) >= back
    new_ghsa, _ = await report(h, user="bystander", n=1)
    [ack] = [b for b in to_reporter(h, new_ghsa) if "thank you for reporting this privately" in b]
    assert f"away until {until.isoformat()}" in ack and "Back after the holidays." in ack
    assert not [r for r in h.writes() if r.path.endswith("/private-vulnerability-reporting")]  # not configured
    await run_days(h, 9)
    assert not [b for b in in_tracker(h, rep) if "Reminder" in b or "passed on" in b]
    await run_days(h, 5)
    assert [b for b in in_tracker(h, rep) if "Reminder" in b]  # back: the targets run again by themselves


async def test_away_off_restores_the_timers(h: Harness) -> None:
    _, rep = await report(h)
    planned = await timer_at(h, rep, "targets")
    await command(h, rep, f"/sec away until {_day(h, 20).isoformat()}")
    assert (await timer_at(h, rep, "targets") or 0) > planned + 15 * DAY  # type: ignore[operator]
    await command(h, rep, "/sec away off")
    assert await timer_at(h, rep, "targets") == pytest.approx(planned, abs=HOUR)


@pytest.mark.harness(config=CONFIG + "away:\n  pause_private_reporting: true\n  contact: security@example.org\n",
                     frozen=True, setup=on_monday_9am)
async def test_away_pauses_private_reporting_only_when_configured_and_restores_it(h: Harness) -> None:
    _, rep = await report(h)
    await command(h, rep, f"/sec away until {_day(h, 3).isoformat()}")
    assert h.state.repo(REPO).pvr_enabled is False
    # Meanwhile a report filed in public is sent to the contact, and nothing of it is repeated.
    from tests.test_public_reports import SECRET_MARK, VULN_BODY, VULN_TITLE

    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user="bystander")
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], "bystander"))
    await h.settle()
    [redirect] = [c["body"] for c in h.state.comments(REPO, issue["number"]) if c["user"]["login"].endswith("[bot]")]
    assert "example.org" in redirect and "private reporting is paused" in redirect
    assert SECRET_MARK not in redirect
    await run_days(h, 4)
    assert h.state.repo(REPO).pvr_enabled is True
    toggles = [r.method for r in h.writes() if r.path.endswith("/private-vulnerability-reporting")]
    assert toggles == ["DELETE", "PUT"]


@pytest.mark.harness(config=CONFIG + "away:\n  pause_private_reporting: true\n", frozen=True, setup=on_monday_9am)
async def test_away_without_the_permission_leaves_private_reporting_on_and_says_so(h: Harness) -> None:
    _, rep = await report(h)
    h.state.pvr_toggle_refused = True
    await command(h, rep, f"/sec away until {_day(h, 3).isoformat()}")
    assert h.state.repo(REPO).pvr_enabled is True
    assert [b for b in in_tracker(h, rep) if "could not be turned off" in b]


# -- canned replies ------------------------------------------------------------------------------


async def test_reject_with_a_canned_reply_sends_its_text(h: Harness) -> None:
    ghsa, rep = await report(h)
    await command(h, rep, "/sec reject beg-bounty spf")
    [closed] = [b for b in to_reporter(h, ghsa) if "**closed**" in b]
    assert "SPF, DKIM and DMARC" in closed
    assert h.state.advisory(REPO, ghsa)["state"] == "closed"


@pytest.mark.harness(config=CONFIG + "templates:\n  canned_self_xss: 'Self-XSS is out of scope here, see our policy.'\n",
                     frozen=True, setup=on_monday_9am)
async def test_a_canned_reply_is_overridable_per_repository(h: Harness) -> None:
    ghsa, rep = await report(h)
    await command(h, rep, "/sec reject self-xss")
    [closed] = [b for b in to_reporter(h, ghsa) if "**closed**" in b]
    assert "Self-XSS is out of scope here, see our policy." in closed and "paste or type" not in closed
    assert (await fresh(h, rep)).reject_reason == "not-security"


async def test_nothing_of_the_report_reaches_a_public_place_through_these_tools(h: Harness) -> None:
    ghsa, rep = await report(h)
    await command(h, rep, "/sec needs-info impact")
    await command(h, rep, f"/sec away until {_day(h, 5).isoformat()}")
    await command(h, rep, "/sec status")
    await command(h, rep, RECLASSIFY)
    assert SECRET not in public_text(h) and SUMMARY not in public_text(h)


async def test_resume_ends_a_wait_on_the_reporter_answered_elsewhere(h: Harness) -> None:
    _, rep = await report(h)
    await command(h, rep, "/sec needs-info versions")
    assert await timer_at(h, rep, "targets") is None
    await command(h, rep, "/sec resume")
    assert await timer_at(h, rep, "targets") is not None
    assert [b for b in in_tracker(h, rep) if "no longer waiting on the reporter" in b]


@pytest.mark.harness(config=CONFIG + "away:\n  until: '2099-01-10'\n  message: Back in January.\n", frozen=True,
                     setup=on_monday_9am)
async def test_away_from_the_config_tells_new_reporters_and_holds_their_targets(h: Harness) -> None:
    ghsa, rep = await report(h)
    [ack] = [b for b in to_reporter(h, ghsa) if "thank you for reporting this privately" in b]
    assert "away until 2099-01-10" in ack and "Back in January." in ack
    assert (await timer_at(h, rep, "targets") or 0) >= dt.datetime(2099, 1, 10, tzinfo=dt.timezone.utc).timestamp()
