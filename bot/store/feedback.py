"""Maintainers' feedback on verdicts: one row per report and answer, the per-repository memory's
examples, and the export for retraining. Text is kept only here (and only until housekeeping
forgets it); everything else is labels, scores and feature names."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import cachetools
import orjson
import sqlalchemy as sa

from bot.rules.memory import MAX_EXAMPLES, Example
from bot.store import Store
from bot.store.tables import feedback


# Seconds a process keeps a repository's examples: the memory is read for most texts near a
# threshold (a query each, 7% of a worker's samples in a storm of edits, py-spy), and answers
# are rare. An answer recorded in this process is seen at once; one recorded by another
# worker process, at most this late.
EXAMPLES_TTL = 10.0
# At most this many feature names kept in all (about 3 MB): most repositories have no answers, and
# one with hundreds of long ones is read each time instead.
EXAMPLES_KEPT = 50_000


class Feedback:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._examples: cachetools.TTLCache[str, list[Example]] = cachetools.TTLCache(
            maxsize=EXAMPLES_KEPT, ttl=EXAMPLES_TTL, getsizeof=lambda found: 1 + sum(len(e.features) for e in found))

    async def record(self, *, key: str, now: float, repo: str, report_id: int | None, source: str, label: str,
                     verdict: str, score: float, reasons: Iterable[str], features: Iterable[str],
                     title: str | None, body: str | None, actor: str | None) -> bool:
        """Keep one answer, once per `key`; False when it was kept before."""
        row = {"key": key, "repo": repo.lower(), "report_id": report_id, "source": source, "label": label,
               "verdict": verdict, "score": score, "reasons": orjson.dumps(sorted(reasons)).decode(),
               "features": orjson.dumps(sorted(features)).decode(), "title": title, "body": body,
               "actor": actor, "created_at": now}
        async with self.store.write() as conn:
            result = await conn.execute(self.store.insert_ignore(feedback, ["key"]).values(**row))
        self._examples.pop(row["repo"], None)
        return result.rowcount == 1

    async def examples(self, repo: str) -> list[Example]:
        """The repository's `MAX_EXAMPLES` newest answers, newest first, as the memory reads them
        (kept for `EXAMPLES_TTL` seconds)."""
        key = repo.lower()
        found = self._examples.get(key)
        if found is None:
            stmt = (sa.select(feedback.c.label, feedback.c.features).where(feedback.c.repo == key)
                    .order_by(feedback.c.id.desc()).limit(MAX_EXAMPLES))
            found = [Example(label, frozenset(orjson.loads(features))) for label, features in await self.store.all(stmt)]
            with contextlib.suppress(ValueError):  # larger than the whole cache: not kept
                self._examples[key] = found
        return found

    async def export(self, *, repo: str | None = None, with_text: bool = True) -> AsyncIterator[dict[str, Any]]:
        """Every answer, oldest first (for retraining)."""
        stmt = sa.select(feedback).order_by(feedback.c.id)
        if repo:
            stmt = stmt.where(feedback.c.repo == repo.lower())
        async with self.store.engine.connect() as conn:
            for row in await conn.execute(stmt):
                m = dict(row._mapping)
                out = {"repo": m["repo"], "report": m["report_id"], "source": m["source"], "label": m["label"],
                       "verdict": m["verdict"], "score": m["score"], "reasons": orjson.loads(m["reasons"]),
                       "features": orjson.loads(m["features"]), "created_at": m["created_at"]}
                if with_text:
                    out["title"], out["body"] = m["title"], m["body"]
                yield out

    async def forget_text(self, before: float) -> int:
        """Delete the text of answers recorded before `before`; their labels and features stay."""
        async with self.store.write() as conn:
            stmt = (sa.update(feedback).where(feedback.c.created_at < before,
                                              sa.or_(feedback.c.title.is_not(None), feedback.c.body.is_not(None)))
                    .values(title=None, body=None))
            return (await conn.execute(stmt)).rowcount
