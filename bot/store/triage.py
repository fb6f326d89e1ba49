"""Triage cards (bot/reports/triage.py makes them): one per report, the first one kept wins."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from bot.store import Store
from bot.store.tables import triage_cards


class TriageCards:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, report_id: int) -> dict[str, Any] | None:
        row = await self.store.point(sa.select(triage_cards.c.card).where(triage_cards.c.report_id == report_id))
        return orjson.loads(row[0]) if row else None

    async def keep(self, report_id: int, card: dict[str, Any], now: float) -> dict[str, Any]:
        """Keep `card` unless the report has one already; returns the one kept (a twin job on
        another replica may have kept its own first: both then post and show that one)."""
        stmt = self.store.insert_ignore(triage_cards, ["report_id"]).values(
            report_id=report_id, card=orjson.dumps(card).decode(), created_at=now)
        async with self.store.write() as conn:
            await conn.execute(stmt)
            row = (await conn.execute(sa.select(triage_cards.c.card).where(
                triage_cards.c.report_id == report_id))).one()
        return orjson.loads(row[0])
