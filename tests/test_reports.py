"""Report records and their timelines, on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.clock import FrozenClock
from bot.store import Store
from bot.store.reports import Reports, issue_key


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
