"""Promises kept on schedule: a report walked through 120 simulated days, a restart, pauses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.rules import config
from bot.rules.policy import Policy
from bot.store.reports import Reports
from tests.e2e import MAINTAINER, REPO, REPORTER, Harness

TRACKER = "octo-org/security-inbox"
CONFIG = "security_team:\n  users: [maint]\ntracker:\n  repo: security-inbox\n"
HOUR, DAY = 3600.0, 86400.0
STEP = 6 * HOUR


def monday_9am(h: Harness) -> float:
    now = dt.datetime.fromtimestamp(h.clock.now(), dt.timezone.utc)  # type: ignore[union-attr]
    monday = (now + dt.timedelta(days=7 - now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    return monday.timestamp()


async def start_on_monday_9am(h: Harness) -> None:
    h.state.set_permission(TRACKER, MAINTAINER, "maintain")
    await h.advance(monday_9am(h) - h.clock.now())  # type: ignore[union-attr]


pytestmark = pytest.mark.harness(config=CONFIG, frozen=True, setup=start_on_monday_9am)


async def report(h: Harness) -> str:
    adv = h.state.report_vulnerability(REPO, summary="Auth bypass in token refresh", user=REPORTER,
                                       description="Expired refresh tokens are accepted.")
    await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], REPORTER))
    await h.settle()
    return str(adv["ghsa_id"])


def to_reporter(h: Harness, ghsa: str) -> list[tuple[float, str]]:
    return [(_ts(c["created_at"]), c["body"]) for c in h.state.advisory_comments(REPO, ghsa)
            if c["user"]["login"].endswith("[bot]")]


def in_tracker(h: Harness) -> list[tuple[float, str]]:
    [issue] = h.state.repo(TRACKER).issues.values()
    return [(_ts(c["created_at"]), c["body"]) for c in h.state.comments(TRACKER, issue["number"])
            if c["user"]["login"].endswith("[bot]")]


def _ts(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


async def command(h: Harness, body: str) -> None:
    [issue] = h.state.repo(TRACKER).issues.values()
    c = h.state.add_comment(TRACKER, issue["number"], body=body, user=MAINTAINER)
    await h.deliver("issue_comment", h.payloads.issue_comment("created", TRACKER, issue["number"], c["id"], MAINTAINER))
    await h.settle()


async def run_days(h: Harness, days: float) -> None:
    for _ in range(int(days * DAY / STEP)):
        await h.advance(STEP)


async def test_one_report_through_120_days(h: Harness) -> None:
    policy = Policy.from_config(config.RepoConfig.default().policy)
    start = h.clock.now()  # type: ignore[union-attr]
    ghsa = await report(h)
    await run_days(h, 4)  # nobody acknowledges: reminder, then escalations
    tracker = [body for _, body in in_tracker(h)]
    assert sum("Reminder" in b for b in tracker) == 1  # the acknowledge target, before it slips
    escalations = [b for b in tracker if "passed on" in b]
    assert len(escalations) == 2 and all("@maint" in b for b in escalations)  # after: assignees, then team
    await command(h, "/sec ack")
    await run_days(h, 4)
    await command(h, "/sec accept high")
    accepted_at = h.clock.now()  # type: ignore[union-attr]
    tracker = [body for _, body in in_tracker(h)]
    assert sum("Reminder" in b for b in tracker) == 2  # the triage target's reminder came on day 5
    assert sum("passed on" in b for b in tracker) == 3  # and its first escalation on day 7
    await run_days(h, 40)
    await command(h, "/sec fixed 3.1.4")
    await run_days(h, 46)  # disclosure warnings at 30, 14, 7 and 1 days before day 90
    h.state.update_advisory(REPO, ghsa, {"state": "published"}, actor=MAINTAINER)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("published", REPO, ghsa, MAINTAINER))
    await h.settle()
    published_at = h.clock.now()  # type: ignore[union-attr]
    await run_days(h, 26)
    assert h.clock.now() - start >= 120 * DAY  # type: ignore[union-attr]

    messages = to_reporter(h, ghsa)
    # After acceptance (high): a status update 7 days after the reporter last heard anything,
    # within one simulation step; before it, 3 working days.
    times = [t for t, _ in messages]
    for i, (t, body) in enumerate(messages):
        if body.startswith("Status update"):
            gap = t - times[i - 1]
            if t > accepted_at:
                assert 7 * DAY <= gap <= 7 * DAY + STEP, gap / DAY
            else:
                assert 3 * DAY <= gap <= 5 * DAY + STEP, gap / DAY  # 3 working days, weekends skipped
    assert sum(b.startswith("Status update") for _, b in messages if _ > accepted_at) >= 8
    assert not [t for t, _ in messages if t > published_at + STEP]  # silence after publication
    # The reporter never waits longer than the cadence allows while the report is open.
    longest = max(b - a for a, b in zip(times, times[1:]))
    assert longest <= 7 * DAY + STEP
    countdown = [b for _, b in in_tracker(h) if "Disclosure deadline in" in b]
    assert [int(b.split("**")[1].split()[0]) for b in countdown] == [30, 14, 7, 1]
    deadline = policy.after(start, policy.disclosure_after)
    assert deadline > published_at - 90 * DAY
    [rep] = await Reports(h.services.store).list()
    assert rep.state == "published"
    assert await h.services.queue.busy() == 0
    pending = [j for j in await h.services.queue.list(state="queued") if j.kind == "report_timer"]
    assert pending == []  # every timer stopped with publication


async def test_a_restart_in_the_middle_sends_one_update_not_a_burst(h: Harness) -> None:
    ghsa = await report(h)
    await command(h, "/sec accept critical")  # updates every 2 days
    before = len(to_reporter(h, ghsa))
    await h.stop()
    h.clock.advance(10 * DAY)  # type: ignore[union-attr]
    h.state.advance(10 * DAY)
    await h.start()
    await h.settle()
    after = to_reporter(h, ghsa)
    assert len(after) == before + 1 and after[-1][1].startswith("Status update")
    await run_days(h, 2)
    assert len(to_reporter(h, ghsa)) == before + 2  # and the cadence goes on from now


async def test_pause_and_resume(h: Harness) -> None:
    ghsa = await report(h)
    await command(h, "/sec accept critical")
    before = len(to_reporter(h, ghsa))
    await command(h, "/sec pause")
    await run_days(h, 10)
    assert len(to_reporter(h, ghsa)) == before
    await command(h, "/sec resume")
    await run_days(h, 0.5)
    assert len(to_reporter(h, ghsa)) == before + 1


async def test_a_custom_update_restarts_the_cadence(h: Harness) -> None:
    ghsa = await report(h)
    await command(h, "/sec accept critical")
    await run_days(h, 1.5)
    await command(h, "/sec update Patch is in review.")
    sent = h.clock.now()  # type: ignore[union-attr]
    await run_days(h, 1.5)
    assert not [t for t, b in to_reporter(h, ghsa) if t > sent and b.startswith("Status update")]
    await run_days(h, 1)
    assert [t for t, b in to_reporter(h, ghsa) if t > sent and b.startswith("Status update")]


async def test_two_replicas_on_postgresql_post_each_scheduled_message_once(tmp_path: Path, pg_database: str) -> None:
    from aiohttp.test_utils import TestServer

    import handlers
    from bot.web.app import create_app

    async with Harness(tmp_path, frozen=True, database_url=pg_database) as h:
        h.state.put_file(REPO, ".github/secbot.yml", CONFIG)
        h.state.set_permission(TRACKER, MAINTAINER, "maintain")
        second = TestServer(create_app(h.settings, clock=h.clock, routers=handlers.ROUTERS, jobs=handlers.JOBS),
                            host="127.0.0.1")
        await second.start_server()
        try:
            ghsa = await report(h)
            await command(h, "/sec accept critical")
            await run_days(h, 30)
        finally:
            await second.close()
        messages = to_reporter(h, ghsa) + in_tracker(h)
        markers = [body.rsplit("<!-- secbot:", 1)[1] for _, body in messages]
        assert len(markers) == len(set(markers))  # no message twice
        updates = [t for t, b in to_reporter(h, ghsa) if b.startswith("Status update")]
        assert len(updates) >= 12  # every 2 days for 30 days, none lost
    h.state.assert_no_violations()


async def test_missed_targets_show_in_the_metrics(h: Harness) -> None:
    await report(h)
    await run_days(h, 3)  # the acknowledge target slips
    from tests.test_metrics import scrape_text

    text = await scrape_text(h.app)
    assert 'secbot_missed_targets_total{target="acknowledge"} 1.0' in text
    assert 'secbot_missed_targets_total{target="triage"} 0.0' in text


async def test_timers_stop_when_the_app_is_uninstalled(h: Harness) -> None:
    from tests.e2e import INSTALLATION

    ghsa = await report(h)
    await command(h, "/sec accept critical")
    before = len(to_reporter(h, ghsa))
    await h.deliver("installation", h.payloads.installation("deleted", INSTALLATION))
    await h.settle()
    await run_days(h, 10)
    assert len(to_reporter(h, ghsa)) == before
    assert [j for j in await h.services.queue.list(state="dead")] == []  # stopped, not failing
