"""Advisory polls and sweeps end to end: what GitHub sends no webhook for is still seen, once."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bot.clock import FrozenClock
from bot.jobs.queue import QUEUED, Queue
from bot.reports import timers, watch
from bot.reports.timers import POLL, interval, poll_key
from bot.reports.watch import SWEEP, sweep_key
from bot.store import Store
from bot.store.reports import Report, Reports, advisory_key
from tests.e2e import INSTALLATION, MAINTAINER, REPO, REPORTER, Harness

CONFIG = "security_team:\n  users: [maint]\n"
REFUSAL = "only the repository's maintainers"


pytestmark = pytest.mark.harness(config=CONFIG)


async def report(h: Harness, *, announce: bool = True) -> tuple[str, Report]:
    """A private report; with `announce`, GitHub's `repository_advisory.reported` arrives."""
    adv = h.state.report_vulnerability(REPO, summary="Path traversal in the upload handler",
                                       description="`../` in the file name writes outside the upload directory.",
                                       user=REPORTER)
    if announce:
        await h.deliver("repository_advisory", h.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], REPORTER))
        await h.settle_due_soon()
    found = await Reports(h.services.store).list()
    return str(adv["ghsa_id"]), found[-1] if found else None  # type: ignore[return-value]


async def poll(h: Harness, rep: Report) -> int:
    """Make the report's poll due now and let it run; returns the request mark before it."""
    mark = len(h.state.requests)
    await h.services.queue.schedule(POLL, {"report_id": rep.id}, singleton_key=poll_key(rep.id),
                                    installation_id=INSTALLATION)
    await h.settle_due_soon()
    return mark


async def sweep(h: Harness) -> int:
    mark = len(h.state.requests)
    await h.services.queue.schedule(SWEEP, {"installation_id": INSTALLATION}, singleton_key=sweep_key(INSTALLATION),
                                    installation_id=INSTALLATION)
    await h.settle_due_soon()
    return mark


async def fresh(h: Harness, rep: Report) -> Report:
    found = await Reports(h.services.store).get(rep.id)
    assert found is not None
    return found


def bot_comments(h: Harness, ghsa: str) -> list[str]:
    return [c["body"] for c in h.state.advisory_comments(REPO, ghsa) if c["user"]["login"].endswith("[bot]")]


def count(texts: list[str], word: str) -> int:
    return sum(word in t for t in texts)


async def queued_polls(h: Harness, rep: Report) -> list[Any]:
    return [j for j in await h.services.queue.list(state=QUEUED, kind=POLL) if j.singleton_key == poll_key(rep.id)]


def statuses(h: Harness, mark: int, path: str) -> list[int]:
    return [r.status for r in h.calls_since(mark) if r.method == "GET" and r.path == path]


async def timeline(h: Harness, rep: Report) -> list[tuple[str, str | None]]:
    return [(e["kind"], e["actor"]) for e in await Reports(h.services.store).timeline(rep.id)]


async def notes(h: Harness, rep: Report) -> list[str]:
    """Notes for the maintainers kept in the report's timeline (there is no tracker here)."""
    return [e["detail"]["note"] for e in await Reports(h.services.store).timeline(rep.id) if e["kind"] == "note"]


# -- the poll ---------------------------------------------------------------------------------------


async def test_acceptance_in_the_web_interface_is_picked_up_and_the_reporter_told_once(h: Harness) -> None:
    ghsa, rep = await report(h)
    await poll(h, rep)
    assert (await fresh(h, rep)).state == "new"
    h.state.update_advisory(REPO, ghsa, {"state": "draft", "severity": "high"}, actor=MAINTAINER)
    await poll(h, rep)
    await poll(h, rep)
    got = await fresh(h, rep)
    assert (got.state, got.severity) == ("accepted", "high") and got.accepted_at is not None
    assert count(bot_comments(h, ghsa), "**accepted**") == 1
    assert ("accepted", "github-ui") in await timeline(h, rep)
    [job] = await queued_polls(h, rep)  # still watched, often: it just changed
    assert job.run_at == pytest.approx(h.services.clock.now() + timers.ACTIVE_EVERY, abs=60)


async def test_closing_in_the_web_interface_rejects_the_report_and_polling_stops(h: Harness) -> None:
    ghsa, rep = await report(h)
    h.state.update_advisory(REPO, ghsa, {"state": "closed"}, actor=MAINTAINER)
    await poll(h, rep)
    got = await fresh(h, rep)
    assert (got.state, got.reject_reason) == ("rejected", "invalid")
    assert ("rejected", "github-ui") in await timeline(h, rep)
    assert await queued_polls(h, rep) == []
    mark = await poll(h, rep)  # a poll already on its way when the report closed
    assert h.calls_since(mark) == []
    assert await queued_polls(h, rep) == []


async def test_severity_edited_in_the_web_interface_follows(h: Harness) -> None:
    ghsa, rep = await report(h)
    await poll(h, rep)
    h.state.update_advisory(REPO, ghsa, {"severity": "critical"}, actor=MAINTAINER)
    await poll(h, rep)
    assert (await fresh(h, rep)).severity == "critical"
    assert await timeline(h, rep) == [("reported", REPORTER), ("severity", "github-ui")]


async def test_publication_seen_by_polling_and_by_the_webhook_thanks_the_reporter_once(h: Harness) -> None:
    ghsa, rep = await report(h)
    h.state.update_advisory(REPO, ghsa, {"state": "draft"}, actor=MAINTAINER)
    h.state.update_advisory(REPO, ghsa, {"state": "published"}, actor=MAINTAINER)
    await poll(h, rep)
    await h.deliver("repository_advisory", h.payloads.repository_advisory("published", REPO, ghsa, MAINTAINER))
    await h.settle_due_soon()
    assert (await fresh(h, rep)).state == "published"
    assert count(bot_comments(h, ghsa), "**published**") == 1
    assert await queued_polls(h, rep) == []


async def test_an_unchanged_advisory_costs_304s(h: Harness) -> None:
    ghsa, rep = await report(h)
    await poll(h, rep)
    await poll(h, rep)  # the first poll read every comment; from here on they are asked `since` the newest
    mark = await poll(h, rep)
    assert statuses(h, mark, f"/repos/{REPO}/security-advisories/{ghsa}") == [304]
    assert statuses(h, mark, f"/repos/{REPO}/security-advisories/{ghsa}/comments") == [304]
    assert [r for r in h.calls_since(mark) if r.method != "GET"] == []


# -- commands in advisory comments ------------------------------------------------------------------


async def test_an_ack_in_an_advisory_comment_runs_once_however_often_it_is_polled(h: Harness) -> None:
    ghsa, rep = await report(h)
    await poll(h, rep)
    h.state.add_advisory_comment(REPO, ghsa, body="Thanks, looking.\n/sec ack", user=MAINTAINER)
    await poll(h, rep)
    await poll(h, rep)
    assert (await fresh(h, rep)).state == "acknowledged"
    messages = bot_comments(h, ghsa)
    assert count(messages, "**acknowledged**") == 1
    # The answer is for the maintainers: without a tracker it is kept in the timeline, once; the
    # advisory, which the reporter reads, does not get it (issue 17, finding 9).
    assert count(messages, "Acknowledged. The reporter has been told.") == 0
    assert count(await notes(h, rep), "Acknowledged. The reporter has been told.") == 1
    assert ("acknowledged", MAINTAINER) in await timeline(h, rep)


async def test_an_edited_advisory_comment_is_not_run_again(h: Harness) -> None:
    ghsa, rep = await report(h)
    await poll(h, rep)
    comment = h.state.add_advisory_comment(REPO, ghsa, body="/sec eta 2027-01-15", user=MAINTAINER)
    await poll(h, rep)
    h.state.advance(120)
    h.state.edit_advisory_comment(REPO, ghsa, comment["id"], "Planned:\n\n/sec eta 2027-03-01")
    await poll(h, rep)
    assert (await fresh(h, rep)).eta == "2027-01-15"


async def test_a_command_from_someone_without_write_access_is_refused_once(h: Harness) -> None:
    ghsa, rep = await report(h)
    await poll(h, rep)
    h.state.add_advisory_comment(REPO, ghsa, body="/sec accept critical", user=REPORTER)
    await poll(h, rep)
    await poll(h, rep)
    got = await fresh(h, rep)
    assert (got.state, got.severity) == ("new", None)
    # Issue 17, finding 6: someone who may not give commands gets no comment (and an advisory
    # comment cannot carry a reaction), nor a note anywhere.
    assert count(bot_comments(h, ghsa), REFUSAL) == 0
    assert await notes(h, rep) == []


async def test_without_the_comments_api_the_poll_still_follows_the_advisory(h: Harness) -> None:
    ghsa, rep = await report(h)
    h.state.fail_next("GET", r"/security-advisories/[^/]+/comments$", 404, times=2)
    h.state.update_advisory(REPO, ghsa, {"state": "closed"}, actor=MAINTAINER)
    await poll(h, rep)
    assert (await fresh(h, rep)).state == "rejected"


async def test_comments_api_missing_is_logged_once(h: Harness) -> None:
    ghsa, rep = await report(h)
    h.state.fail_next("GET", r"/security-advisories/[^/]+/comments$", 404, times=2)
    await poll(h, rep)
    await poll(h, rep)
    assert h.logs.text().count("advisory comments cannot be read here") == 1
    assert await queued_polls(h, rep)


# -- the sweep --------------------------------------------------------------------------------------


async def test_a_sweep_finds_a_report_no_webhook_announced_and_acknowledges_it_once(h: Harness) -> None:
    await h.deliver("installation", h.payloads.installation("created", INSTALLATION))
    await h.settle_due_soon()
    [job] = await h.services.queue.list(state=QUEUED, kind=SWEEP)  # the first sweep ran and set the next
    assert job.run_at == pytest.approx(h.services.clock.now() + watch.SWEEP_EVERY, abs=60)
    ghsa, rep = await report(h, announce=False)
    assert rep is None
    await sweep(h)
    [rep] = await Reports(h.services.store).list()
    assert (rep.ghsa_id, rep.reporter, rep.state) == (ghsa, REPORTER, "new")
    assert count(bot_comments(h, ghsa), f"@{REPORTER}") == 1
    assert await queued_polls(h, rep)  # and from now on it is polled
    mark = await sweep(h)
    assert [r for r in h.calls_since(mark) if r.method != "GET"] == []
    assert len(bot_comments(h, ghsa)) == 1
    assert not any(r.path.startswith("/repos/octo-org/security-inbox/") for r in h.state.requests)  # private


async def test_a_sweep_acknowledges_a_report_recorded_by_an_attempt_that_stopped_before_the_thanks(
        h: Harness) -> None:
    await h.deliver("installation", h.payloads.installation("created", INSTALLATION))
    await h.settle_due_soon()
    ghsa, _ = await report(h, announce=False)
    adv = h.state.advisory(REPO, ghsa)
    await Reports(h.services.store).create(  # what `receive` records first, before any write
        now=h.services.clock.now(), source_key=advisory_key(REPO, ghsa), source="advisory",
        installation_id=INSTALLATION, repo=REPO, ghsa_id=ghsa, reporter=REPORTER, verdict="vulnerability",
        score=0.9, reasons=(), severity=adv.get("severity"), original_title=adv["summary"],
        original_body=adv["description"])
    await sweep(h)
    assert count(bot_comments(h, ghsa), f"@{REPORTER}") == 1
    [rep] = await Reports(h.services.store).list()
    assert await queued_polls(h, rep)
    await sweep(h)
    assert count(bot_comments(h, ghsa), f"@{REPORTER}") == 1  # once acknowledged, the sweep leaves it


async def test_a_sweep_brings_back_the_poll_of_an_open_report(h: Harness) -> None:
    await h.deliver("installation", h.payloads.installation("created", INSTALLATION))
    await h.settle_due_soon()
    ghsa, rep = await report(h)
    await poll(h, rep)
    await h.services.queue.cancel(poll_key(rep.id))  # lost
    await sweep(h)
    [job] = await queued_polls(h, rep)
    assert job.run_at == pytest.approx(h.services.clock.now() + timers.ACTIVE_EVERY, abs=60)
    h.state.update_advisory(REPO, ghsa, {"state": "closed"}, actor=MAINTAINER)
    await poll(h, rep)
    await sweep(h)
    assert await queued_polls(h, rep) == []  # closed reports are not brought back


async def test_repositories_added_are_swept(h: Harness) -> None:
    ghsa, _ = await report(h, announce=False)
    added = h.payloads.installation_repositories("added", INSTALLATION, added=[REPO])
    await h.deliver("installation_repositories", added)
    await h.settle_due_soon()
    [rep] = await Reports(h.services.store).list()
    assert rep.ghsa_id == ghsa and len(bot_comments(h, ghsa)) == 1


async def test_sweeps_stop_when_the_installation_goes(h: Harness) -> None:
    await h.deliver("installation", h.payloads.installation("created", INSTALLATION))
    await h.settle_due_soon()
    await h.deliver("installation", h.payloads.installation("deleted", INSTALLATION))
    await h.settle_due_soon()
    mark = await sweep(h)
    assert h.calls_since(mark) == []
    assert await h.services.queue.list(state=QUEUED, kind=SWEEP) == []


# -- scheduling -------------------------------------------------------------------------------------


async def test_a_running_poll_sets_its_successor_and_never_pushes_an_earlier_one_back(store: Store,
                                                                                    clock: FrozenClock) -> None:
    """On both databases: the successor is queued while the poll runs; an earlier pending poll stays."""
    queue = Queue(store, clock)
    await queue.schedule(POLL, {"report_id": 7}, singleton_key=poll_key(7), installation_id=INSTALLATION)
    [job] = await queue.claim("w1", 5)
    ctx = SimpleNamespace(store=store, queue=queue, clock=clock, job_id=job.id)
    await timers.schedule_by(ctx, POLL, {"report_id": 7}, poll_key(7), clock.now() + 900, INSTALLATION)  # type: ignore[arg-type]
    assert await queue.complete(job)
    [successor] = await queue.list(state=QUEUED)
    assert (successor.singleton_key, successor.run_at) == (poll_key(7), clock.now() + 900)
    await timers.schedule_by(ctx, POLL, {"report_id": 7}, poll_key(7), clock.now() + 7200, INSTALLATION)  # type: ignore[arg-type]
    await timers.schedule_by(ctx, POLL, {"report_id": 7}, poll_key(7), clock.now() + 60, INSTALLATION)  # type: ignore[arg-type]
    [moved] = await queue.list(state=QUEUED)
    assert (moved.id, moved.run_at) == (successor.id, clock.now() + 60)


def test_polls_are_frequent_while_a_report_is_active_and_rare_when_quiet() -> None:
    now = 1_800_000_000.0
    assert interval(now - 3600, now) == timers.ACTIVE_EVERY
    assert interval(now - 6.9 * 86400, now) == timers.ACTIVE_EVERY
    assert interval(now - 8 * 86400, now) == timers.QUIET_EVERY


async def test_schedule_poll_never_moves_a_pending_poll_later_and_cancels_for_closed_reports(h: Harness) -> None:
    from gidgethub import sansio

    from bot import logs
    from bot.jobs.context import Context

    ghsa, rep = await report(h)
    ctx = Context(event=sansio.Event({}, event="test", delivery_id="t"), services=h.services, gh=None,
                  log=logs.get("test"))
    await timers.schedule_poll(ctx, rep, soon=True)  # due now: runs, then sets itself in 15 minutes
    await h.settle_due_soon()
    [job] = await queued_polls(h, rep)
    await timers.schedule_poll(ctx, rep)  # 15 minutes from now is not earlier: nothing moves
    [same] = await queued_polls(h, rep)
    assert same.run_at == job.run_at
    await Reports(h.services.store).update(rep.id, now=h.services.clock.now(), state="rejected")
    await timers.schedule_poll(ctx, await fresh(h, rep))
    assert await queued_polls(h, rep) == []
