"""Issue 19 end to end: public figures and their privacy rules, the hall of fame, release drafts,
/sec cve, /sec reward, publish-when-fixed reminders and the embargo."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.reports import onboarding
from bot.reports.transparency import add_to_hall_of_fame, funding_links
from bot.store.reports import Reports
from bot.web.badge import CACHE_SECONDS
from tests.e2e import INSTALLATION, MAINTAINER, REPO, REPORTER, Harness

TRACKER = "octo-org/security-inbox"
SECRET = "PoC-7f3a"
HOUR, DAY = 3600.0, 86400.0
CONFIG = ("security_team:\n  users: [maint]\ntracker:\n  repo: security-inbox\n"
          "policy:\n  acknowledge_within: 36h\n  publish_within: 3d\n"
          "transparency:\n  public_stats: true\n"
          "appreciation:\n  hall_of_fame: SECURITY-ACKNOWLEDGEMENTS.md\n"
          "  reward_instructions: Send your invoice to security@example.org.\n")


async def monday_9am(h: Harness) -> None:
    h.state.set_permission(TRACKER, MAINTAINER, "maintain")
    now = dt.datetime.fromtimestamp(h.clock.now(), dt.timezone.utc)  # type: ignore[union-attr]
    monday = (now + dt.timedelta(days=7 - now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    await h.advance(monday.timestamp() - h.clock.now())  # type: ignore[union-attr]


pytestmark = pytest.mark.harness(config=CONFIG, frozen=True, setup=monday_9am)


async def report(h: Harness, n: int = 0) -> str:
    adv = h.state.report_vulnerability(
        REPO, summary=f"Heap overflow in the PNG parser ({n})", user=REPORTER,
        description=f"zTXt length trusted. {SECRET}",
        vulnerabilities=[{"package": {"ecosystem": "pip", "name": "hello-world"}, "vulnerable_version_range": "< 2.3.1"}])
    await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], REPORTER))
    await h.settle()
    return str(adv["ghsa_id"])


async def tracker_of(h: Harness, ghsa: str) -> int:
    rep = next(r for r in await Reports(h.services.store).list() if r.ghsa_id == ghsa)
    assert rep.tracker_number is not None
    return rep.tracker_number


async def command(h: Harness, ghsa: str, body: str, twice: bool = False) -> None:
    number = await tracker_of(h, ghsa)
    c = h.state.add_comment(TRACKER, number, body=body, user=MAINTAINER)
    payload = h.payloads.issue_comment("created", TRACKER, number, c["id"], MAINTAINER)
    await h.deliver("issue_comment", payload)
    if twice:
        await h.deliver("issue_comment", payload)
    await h.settle()


async def publish(h: Harness, ghsa: str, twice: bool = False) -> None:
    h.state.update_advisory(REPO, ghsa, {"state": "published"}, actor=MAINTAINER)
    payload = h.payloads.repository_advisory("published", REPO, ghsa, MAINTAINER)
    await h.deliver("repository_advisory", payload)
    if twice:
        await h.deliver("repository_advisory", payload)
    await h.settle()


def tracker_notes(h: Harness, number: int) -> list[str]:
    return [c["body"] for c in h.state.comments(TRACKER, number) if c["user"]["login"].endswith("[bot]")]


def to_reporter(h: Harness, ghsa: str) -> list[str]:
    return [c["body"] for c in h.state.advisory_comments(REPO, ghsa) if c["user"]["login"].endswith("[bot]")]


async def get(h: Harness, path: str) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.get(str(h.server.make_url(path))) as resp:
            return resp.status, await resp.text(), resp.headers.copy()


async def fresh(h: Harness) -> None:
    """Let each process's short cache of the figures (bot/web/badge.py) expire."""
    await h.advance(CACHE_SECONDS + 1)


async def figures(h: Harness) -> tuple[dict[str, Any], str, dict[str, Any]]:
    status, stats, _ = await get(h, f"/stats/{REPO}.json")
    assert status == 200, stats
    status, svg, headers = await get(h, f"/badge/{REPO}.svg")
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
    status, shields, _ = await get(h, f"/badge/{REPO}.json")
    assert status == 200
    return json.loads(stats), svg, json.loads(shields)


async def walk(h: Harness, n: int, ack: float | None, triage: float, outcome: str, fix: float = 0.0) -> None:
    """One report: acknowledged `ack` hours after it arrived (or never), accepted or rejected at
    `triage` hours, and for "published", fixed and published at `fix` hours."""
    ghsa = await report(h, n)
    start = h.clock.now()  # type: ignore[union-attr]
    if ack is not None:
        await h.advance(ack * HOUR)
        await command(h, ghsa, "/sec ack")
    await h.advance(start + triage * HOUR - h.clock.now())  # type: ignore[union-attr]
    if outcome == "rejected":
        await command(h, ghsa, "/sec reject invalid")
        return
    await command(h, ghsa, "/sec accept high")
    await h.advance(start + fix * HOUR - h.clock.now())  # type: ignore[union-attr]
    await command(h, ghsa, f"/sec fixed 2.3.{n}")
    await publish(h, ghsa)


async def test_figures_hidden_below_three_reports_and_hand_computed_from_five(h: Harness) -> None:
    assert (await get(h, f"/stats/{REPO}.json"))[0] == 404  # nothing known yet: the same 404 as any repository
    await onboarding.schedule_check(h.services.queue, INSTALLATION, REPO, h.clock.now())  # type: ignore[union-attr]
    await h.settle()
    await fresh(h)
    stats, svg, shields = await figures(h)  # 0 closed reports
    assert stats == {"repository": REPO, "enough_reports": False, "minimum_reports": 3}
    assert "not enough reports yet" in svg and shields["message"] == "not enough reports yet"

    await walk(h, 1, ack=2, triage=5, outcome="published", fix=48)
    await walk(h, 2, ack=10, triage=20, outcome="rejected")
    await fresh(h)
    two = await figures(h)  # 2 closed reports
    assert two[0]["enough_reports"] is False and "median" not in json.dumps(two)

    # An open report (acknowledged, even accepted) changes nothing, nor does time passing.
    ghsa = await report(h, 99)
    await h.advance(HOUR)
    await command(h, ghsa, "/sec ack\n/sec accept critical")
    await h.advance(40 * DAY)
    assert await figures(h) == two

    await walk(h, 3, ack=30, triage=40, outcome="published", fix=100)
    await walk(h, 4, ack=1, triage=3, outcome="published", fix=72)
    await walk(h, 5, ack=None, triage=60, outcome="rejected")
    await fresh(h)
    stats, svg, shields = await figures(h)  # 5 closed reports
    # By hand: first responses 2, 10, 30, 1, 60 h (median 10); triage 5, 20, 40, 3, 60 h (median 20);
    # published fixes 48, 100, 72 h (median 72 h = 3 days); within 36 h: 4 of 5.
    assert stats["enough_reports"] is True
    assert stats["median_first_response_hours"] == 10.0
    assert stats["median_triage_hours"] == 20.0
    assert stats["median_published_fix_days"] == 3.0
    assert stats["acknowledged_within_target"] == 0.8
    assert stats["acknowledge_target"] == "36 hours"
    assert shields == {"schemaVersion": 1, "label": "security response", "color": "green", "cacheSeconds": 3600,
                       "message": "median first reply 10 h, 80% on time"}
    assert "median first reply 10 h, 80% on time" in svg
    # No count of reports anywhere: how many arrive, or are open, stays private.
    assert not any(key in stats for key in ("reports", "open", "count"))

    # The open report moving on, and months passing, change nothing; only a close does.
    before = await figures(h)
    await command(h, ghsa, "/sec fixed 2.4.0")
    await h.advance(200 * DAY)
    assert await figures(h) == before
    await publish(h, ghsa)
    await fresh(h)
    assert (await figures(h))[0] != before[0]
    assert SECRET not in json.dumps(await figures(h))


async def test_the_badge_costs_no_github_call_and_is_404_when_not_published(h: Harness) -> None:
    await onboarding.schedule_check(h.services.queue, INSTALLATION, REPO, h.clock.now())  # type: ignore[union-attr]
    await h.settle()
    mark = len(h.state.requests)
    for _ in range(20):
        await figures(h)
    assert h.calls_since(mark) == []
    status, _, headers = await get(h, f"/badge/{REPO}.svg")
    etag = headers["ETag"]
    async with aiohttp.ClientSession() as session:
        async with session.get(str(h.server.make_url(f"/badge/{REPO}.svg")), headers={"If-None-Match": etag}) as resp:
            assert resp.status == 304
    assert (await get(h, "/badge/octo-org/unknown.svg"))[0] == 404
    assert (await get(h, "/badge/octo-org/bad%20name.svg"))[0] == 404
    # Switched off: the next daily check removes the figures.
    h.state.put_file(REPO, ".github/secbot.yml", CONFIG.replace("public_stats: true", "public_stats: false"))
    h.services.configs.clear()
    await onboarding.schedule_check(h.services.queue, INSTALLATION, REPO, h.clock.now())  # type: ignore[union-attr]
    await h.settle()
    await fresh(h)
    assert (await get(h, f"/badge/{REPO}.svg"))[0] == 404


async def test_one_hall_of_fame_pull_request_per_publication_without_a_declined_credit(h: Harness) -> None:
    h.state.add_user("helper-bob")
    h.state.put_file(REPO, "SECURITY-ACKNOWLEDGEMENTS.md", "# Security acknowledgements\n\n## 2020\n\n- old entry\n")
    ghsa = await report(h)
    await command(h, ghsa, "/sec accept high")
    h.state.update_advisory(REPO, ghsa, {"credits": [{"login": REPORTER, "type": "reporter"},
                                                     {"login": "bystander", "type": "analyst"},
                                                     {"login": "helper-bob", "type": "remediation_developer"}]},
                            actor=MAINTAINER)
    for credit in h.state.advisory(REPO, ghsa)["credits_detailed"]:
        credit["state"] = "declined" if credit["user"]["login"] == "bystander" else "accepted"
    await publish(h, ghsa, twice=True)
    await h.advance(20 * 60)  # the watchdog's poll sees the publication too
    pulls = list(h.state.repo(REPO).pulls.values())
    assert len(pulls) == 1
    [pull] = pulls
    assert pull["base"]["ref"] == "main" and ghsa in pull["title"]
    text = h.state.repo(REPO).files[(pull["head"]["ref"], "SECURITY-ACKNOWLEDGEMENTS.md")]
    year = h.state.advisory(REPO, ghsa)["published_at"][:4]
    assert f"## {year}" in text and text.index(f"## {year}") < text.index("## 2020") and "- old entry" in text
    assert f"[{REPORTER}](https://github.com/{REPORTER})" in text and "helper-bob" in text
    assert "bystander" not in text
    assert f"({h.state.advisory(REPO, ghsa)['html_url']})" in text
    assert SECRET not in text and SECRET not in pull["body"]


async def test_fixed_drafts_the_security_release_once_and_it_stays_a_draft(h: Harness) -> None:
    h.state.add_tag(REPO, "v2.3.1")
    ghsa = await report(h)
    await command(h, ghsa, "/sec accept high")
    await command(h, ghsa, "/sec fixed 2.3.1", twice=True)
    releases = list(h.state.repo(REPO).releases.values())
    assert len(releases) == 1
    [release] = releases
    assert release["draft"] is True and release["name"] == "Security update 2.3.1" and release["tag_name"] == "v2.3.1"
    body = release["body"]
    for part in ("Heap overflow in the PNG parser", "Severity: high", "hello-world: affected \\< 2.3.1, fixed in 2.3.1",
                 'pip install --upgrade "hello-world>=2.3.1"', ghsa, f"Thank you to {REPORTER}", "CVE: none assigned"):
        assert part in body, part
    assert SECRET not in body
    number = await tracker_of(h, ghsa)
    assert any("draft release" in note for note in tracker_notes(h, number))
    await publish(h, ghsa)
    assert all(r["draft"] for r in h.state.repo(REPO).releases.values())  # Secbot never publishes it
    [announcement] = [n for n in tracker_notes(h, number) if "Announcement text" in n]
    assert "# Security update 2.3.1" in announcement and h.state.advisory(REPO, ghsa)["html_url"] in announcement
    assert not [r for r in h.state.requests if r.method == "PATCH" and "/releases/" in r.path]
    assert SECRET not in h.logs.text() and "zTXt" not in h.logs.text()


async def test_a_release_is_drafted_for_a_tag_that_does_not_exist_yet(h: Harness) -> None:
    ghsa = await report(h)
    await command(h, ghsa, "/sec accept low\n/sec fixed 3.0.0")
    [release] = h.state.repo(REPO).releases.values()
    assert release["draft"] and release["tag_name"] == "3.0.0" and "tags/3.0.0" not in h.state.repo(REPO).refs
    assert "does not exist yet" in release["body"]


async def test_cve_requested_then_shown_in_the_tracker_and_to_the_reporter(h: Harness) -> None:
    ghsa = await report(h)
    await command(h, ghsa, "/sec cve")
    number = await tracker_of(h, ghsa)
    assert "applies to an accepted report" in tracker_notes(h, number)[-1]
    assert h.state.repo(REPO).cve_requests == []
    await command(h, ghsa, "/sec accept high\n/sec cve")
    assert h.state.repo(REPO).cve_requests == [ghsa]
    assert "CVE requested" in tracker_notes(h, number)[-1]
    h.state.assign_cve(REPO, ghsa, "CVE-2026-12345")
    await h.advance(20 * 60)  # the advisory poll notices
    [rep] = await Reports(h.services.store).list()
    assert rep.cve_id == "CVE-2026-12345"
    assert "CVE-2026-12345" in to_reporter(h, ghsa)[-1]
    assert "| CVE | CVE-2026-12345 |" in h.state.issue(TRACKER, number)["body"]
    await h.advance(20 * 60)
    assert sum("CVE-2026-12345" in m for m in to_reporter(h, ghsa)) == 1  # told once
    assert "CVE-2026-12345" not in json.dumps([i["body"] for i in h.state.repo(REPO).issues.values()])


async def test_reward_recorded_told_privately_with_instructions_and_funding(h: Harness) -> None:
    h.state.put_file(REPO, ".github/FUNDING.yml", "github: [octo-org]\ncustom: https://opencollective.com/hello\n")
    ghsa = await report(h)
    await command(h, ghsa, "/sec reward $500 and a T-shirt", twice=True)
    messages = [m for m in to_reporter(h, ghsa) if "$500" in m]
    assert len(messages) == 1
    assert "Send your invoice to security@" in messages[0] and "example.org." in messages[0]
    assert "https://github.com/sponsors/octo-org" in messages[0] and "https://opencollective.com/hello" in messages[0]
    [rep] = await Reports(h.services.store).list()
    assert rep.reward == "$500 and a T-shirt" and rep.summary()["reward"] == "$500 and a T-shirt"
    assert "Reward recorded" in tracker_notes(h, await tracker_of(h, ghsa))[-1]
    assert "$500" not in json.dumps([i["body"] for i in h.state.repo(REPO).issues.values()])
    url = h.settings.database_url.replace("sqlite+aiosqlite", "sqlite")
    out = subprocess.run([sys.executable, "-m", "bot", "reports"], env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0 and "reward: $500 and a T-shirt" in out.stdout, out.stderr


async def test_publish_within_reminds_then_escalates_and_an_embargo_holds_it(h: Harness) -> None:
    ghsa = await report(h)
    await command(h, ghsa, "/sec accept high\n/sec fixed 2.3.1")
    number = await tracker_of(h, ghsa)
    await h.advance(2.9 * DAY)
    assert not any("not published yet" in n for n in tracker_notes(h, number))
    await h.advance(0.2 * DAY)
    assert sum("not published yet" in n for n in tracker_notes(h, number)) == 1
    await h.advance(1.6 * DAY)
    assert sum("still not" in n and "@maint" in n for n in tracker_notes(h, number)) == 1

    other = await report(h, 2)
    await command(h, other, "/sec accept high\n/sec fixed 2.3.2")
    until = (dt.datetime.fromtimestamp(h.clock.now(), dt.timezone.utc) + dt.timedelta(days=10)).date()  # type: ignore[union-attr]
    await command(h, other, f"/sec embargo until {until.isoformat()}")
    held = await tracker_of(h, other)
    assert "Embargo until" in tracker_notes(h, held)[-1]
    for _ in range(8):
        await h.advance(DAY)
    assert not any("not published yet" in n for n in tracker_notes(h, held))
    for _ in range(3):
        await h.advance(DAY)
    assert sum("not published yet" in n for n in tracker_notes(h, held)) == 1


def test_hall_of_fame_file_keeps_years_newest_first_and_adds_nothing_twice() -> None:
    text = add_to_hall_of_fame(None, 2026, ["- a"])
    assert text.startswith("# Security acknowledgements") and "## 2026\n\n- a\n" in text
    text = add_to_hall_of_fame(text, 2026, ["- b", "- a"])
    assert text.count("- a") == 1 and text.index("- b") < text.index("- a")
    text = add_to_hall_of_fame(text, 2027, ["- c"])
    assert text.index("## 2027") < text.index("## 2026")
    assert add_to_hall_of_fame(text, 2027, ["- c"]) == text


def test_funding_links_are_read_safely() -> None:
    assert funding_links("github: [alice, bob]\nko_fi: carol\n") == [
        "https://github.com/sponsors/alice", "https://github.com/sponsors/bob", "https://ko-fi.com/carol"]
    assert funding_links("custom: ['javascript:alert(1)', 'https://example.org/give']") == ["https://example.org/give"]
    assert funding_links("github: [a](http://evil)") == [] and funding_links("- [") == [] and funding_links(None) == []


async def test_the_store_hands_over_closed_private_reports_of_the_window_only(store: Any) -> None:
    reports = Reports(store)
    made = {}
    for name, source, ghsa, state, closed in [
        ("published", "advisory", "GHSA-1", "published", 400 * DAY),
        ("rejected", "advisory", "GHSA-2", "rejected", 300 * DAY),
        ("open", "advisory", "GHSA-3", "accepted", None),
        ("too-old", "advisory", "GHSA-4", "published", 10 * DAY),
        ("public-redirect", "issue", None, "rejected", 350 * DAY),
        ("other-repo", "advisory", "GHSA-5", "published", 390 * DAY),
    ]:
        rep, _ = await reports.create(now=DAY, source_key=f"k:{name}", source=source, installation_id=1,
                                      repo="o/other" if name == "other-repo" else REPO, ghsa_id=ghsa,
                                      reporter="r", verdict="vulnerability", score=1.0, reasons=())
        made[name] = await reports.update(rep.id, now=DAY, state=state, closed_at=closed)
    found = await reports.closed_for_stats(REPO.upper(), 365 * DAY)
    assert sorted(r.ghsa_id for r in found) == ["GHSA-1", "GHSA-2"]
    assert await reports.closed_for_stats("o/none", 365 * DAY) == []


async def test_migration_0008_goes_down_and_up(databases: Any) -> None:
    from alembic import command

    from bot.store import migrate

    store, _, _ = await databases.open("sqlite")
    async with store.write() as conn:
        await conn.run_sync(lambda c: command.downgrade(migrate._config(c), "0007"))
    await migrate.upgrade(store)
    rep, _ = await Reports(store).create(now=1.0, source_key="k", source="advisory", installation_id=1, repo=REPO,
                                         ghsa_id="GHSA-x", reporter="r", verdict="vulnerability", score=1.0, reasons=())
    rep = await Reports(store).update(rep.id, now=2.0, cve_id="CVE-2026-1", reward="$5", embargo_until=3.0)
    assert (rep.cve_id, rep.reward, rep.embargo_until) == ("CVE-2026-1", "$5", 3.0)


async def test_without_the_optional_permissions_the_maintainers_are_told_once_and_nothing_retries(h: Harness) -> None:
    h.state.fail_next("POST", r"/releases$", 403, times=5)
    h.state.fail_next("POST", r"/git/refs$", 403, times=5)
    ghsa = await report(h)
    await command(h, ghsa, "/sec accept high\n/sec fixed 2.3.1")
    number = await tracker_of(h, ghsa)
    assert h.state.repo(REPO).releases == {}
    await publish(h, ghsa, twice=True)
    await h.advance(20 * 60)
    assert h.state.repo(REPO).pulls == {}
    notes = tracker_notes(h, number)
    assert sum("draft the security release" in n for n in notes) == 1
    assert sum("open the hall-of-fame pull request" in n for n in notes) == 1
    assert sum(1 for r in h.state.requests if r.method == "POST" and r.path.endswith("/releases")) == 1
    assert sum(1 for r in h.state.requests if r.method == "POST" and r.path.endswith("/git/refs")) == 1
    [rep] = await Reports(h.services.store).list()
    assert rep.state == "published"


async def test_the_onboarding_issue_suggests_the_badge_for_the_readme(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False  # no private channel: the onboarding issue opens
    await onboarding.schedule_check(h.services.queue, INSTALLATION, REPO, h.clock.now())  # type: ignore[union-attr]
    await h.settle()
    [issue] = [i for i in h.state.repo(REPO).issues.values() if i["title"] == onboarding.ISSUE_TITLE]
    assert "### Show your response times" in issue["body"]
    assert f"/badge/{REPO}.svg)](" in issue["body"] and f"/stats/{REPO}.json)" in issue["body"]
