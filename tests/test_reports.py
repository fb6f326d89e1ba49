"""Report records and once-only writes, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.clock import FrozenClock
from bot.store import Store
from bot.store.reports import ActionBusy, Reports, issue_key


async def test_a_source_gets_one_report_and_a_timeline(store: Store, clock: FrozenClock) -> None:
    reports = Reports(store)
    fields = dict(source_key=issue_key("o/r", 1), source="issue", repo="o/r", issue_number=1, reporter="jane",
                  verdict="vulnerability", score=0.9, reasons=("vuln-term:xss",))
    first, created = await reports.create(now=clock.now(), **fields)
    again, created_again = await reports.create(now=clock.now(), **fields)
    assert created and not created_again and first.id == again.id
    await reports.update(first.id, now=clock.now(), event="redirected", actor="secbot", detail={"channel": "pvr"})
    assert [e["kind"] for e in await reports.timeline(first.id)] == ["reported", "redirected"]
    assert first.summary()["reporter"] == "jane" and "original_body" not in first.summary()


async def test_a_once_only_write_is_claimed_by_one_job(store: Store, clock: FrozenClock) -> None:
    reports = Reports(store)
    assert await reports.claim_action("redirect:1", 10, clock.now()) is None  # job 10 performs it
    with pytest.raises(ActionBusy):
        await reports.claim_action("redirect:1", 11, clock.now())  # job 11 must wait
    assert await reports.claim_action("redirect:1", 10, clock.now()) is None  # job 10's retry carries on
    assert await reports.action_result("redirect:1") is None  # claimed, not done
    await reports.record_action("redirect:1", 1, {"comment_id": 5}, clock.now())
    assert await reports.claim_action("redirect:1", 11, clock.now()) == {"comment_id": 5}
    assert await reports.action_result("redirect:1") == {"comment_id": 5}


async def test_a_claim_abandoned_by_a_dead_job_is_taken_over(store: Store, clock: FrozenClock) -> None:
    from bot.store.reports import CLAIM_TTL

    reports = Reports(store)
    assert await reports.claim_action("tracker:9", 1, clock.now()) is None
    clock.advance(CLAIM_TTL + 1)
    assert await reports.claim_action("tracker:9", 2, clock.now()) is None  # job 1 never came back
    with pytest.raises(ActionBusy):
        await reports.claim_action("tracker:9", 1, clock.now())  # and now job 2 holds it
