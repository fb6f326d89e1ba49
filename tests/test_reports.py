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


async def test_lookups_ignore_case_and_are_served_by_an_index(store: Store, clock: FrozenClock) -> None:
    # GitHub's names are case-insensitive, so reports are looked up by lower(column); an index of
    # the column itself cannot serve that, and each lookup read every report (migration 0011).
    # Most reports have no tracker issue and no advisory: with statistics read (ANALYZE), an index
    # holding all those NULLs looked useless to SQLite's planner, and it read the table.
    import sqlalchemy as sa

    from bot.store.tables import reports as table

    rows = [dict(source_key=f"issue:o{i % 7}/r{i % 13}#{i}", source="issue", installation_id=1 + i % 3,
                 repo=f"o{i % 7}/r{i % 13}", issue_number=i, reporter=f"u{i % 11}", verdict="vulnerability", score=0.9,
                 reasons="[]", state="new", hidden=False, created_at=clock.now() - i, updated_at=clock.now(),
                 tracker_repo=None, tracker_number=None, ghsa_id=None, draft_ghsa_id=None)
            for i in range(1, 3001)]
    rows[0].update(tracker_repo="Acme/Private-Tracker", tracker_number=5, ghsa_id="GHSA-abcd-efgh-ijkl",
                   repo="Acme/Widget", reporter="Jane")
    rows[1].update(draft_ghsa_id="GHSA-mnop-qrst-uvwx")
    async with store.write() as conn:
        await conn.execute(sa.insert(table), rows)
        await conn.execute(sa.text("ANALYZE"))

    statements: list[tuple[str, object]] = []
    engines = [store.engine.sync_engine] + ([store._reader.engine] if store._reader is not None else [])

    def seen(conn: object, cursor: object, statement: str, parameters: object, *_: object) -> None:
        if "FROM reports" in statement:
            statements.append((statement, parameters))

    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", seen)
    reports = Reports(store)
    try:
        assert [r.issue_number for r in await reports.for_issue("acme/WIDGET", 1)] == [1]
        assert (await reports.for_tracker("ACME/private-tracker", 5)).issue_number == 1
        assert (await reports.by_ghsa("ghsa-ABCD-efgh-ijkl")).issue_number == 1
        assert (await reports.by_ghsa("GHSA-MNOP-QRST-UVWX")).issue_number == 2
        assert (await reports.by_draft("ghsa-mnop-qrst-uvwx")).issue_number == 2
        assert await reports.count_from_reporter(2, "JANE", clock.now() - 10) == 1
        assert [r.issue_number for r in await reports.from_reporter(2, "u3", besides=0, limit=2)] == [25, 58]
        assert [r.issue_number for r in await reports.recent("o1/R1", since=clock.now() - 100, besides=0)] == [92]
        assert await reports.latest_public_unlinked("O2/r2", "u2", clock.now() - 10_000, besides=0) is not None
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 9

    async with store.engine.connect() as conn:
        for statement, parameters in statements:
            if store.dialect == "sqlite":
                plan = " | ".join(str(r[-1]) for r in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
                assert "SCAN reports" not in plan and "INDEX" in plan, (statement, plan)
            else:  # the planner's choice on a small table aside: may an index serve it at all?
                await conn.exec_driver_sql("SET enable_seqscan = off")
                plan = " | ".join(r[0] for r in await conn.exec_driver_sql("EXPLAIN " + statement, parameters))
                assert "Seq Scan" not in plan and "Index" in plan, (statement, plan)
        await conn.rollback()
