"""Content-creation budget: keep each installation's writes under GitHub's secondary limits.

GitHub allows "generally no more than 80 content-generating requests per minute and no more
than 500 per hour" (REST and GraphQL, web UI included; some endpoints lower). Secbot counts
its own content-creating requests per installation in two fixed windows, one minute and one
hour, in the store, so every replica draws on the same budget. A request that does not fit
is not sent: `take` returns the time the blocking window ends, the GitHub client raises
`RateLimited`, and the worker puts the job back until then without counting an attempt. The
job is not dropped and no worker sleeps on it.

Defaults: 72 a minute and 450 an hour, 10 % under GitHub's numbers. The headroom covers what
these windows cannot see: our windows are aligned to the epoch, GitHub's are not documented
(a burst straddling one of our window boundaries can reach twice a window's limit within a
few seconds), clocks of replicas differ a little, and GitHub's own count may include writes
we do not classify as content creation. When GitHub answers with a secondary limit anyway,
`bot.github.client` honours its `retry-after` and defers the job as before.

Atomicity. One transaction per `take`, two statements, each a conditional upsert:

    INSERT INTO write_budget (installation_id, span, window_start, count) VALUES (:i, :span, :start, 1)
    ON CONFLICT (installation_id, span, window_start)
    DO UPDATE SET count = write_budget.count + 1 WHERE write_budget.count < :limit
    RETURNING count

When the window is full the WHERE is false, nothing is updated and no row is returned (the
same on SQLite and PostgreSQL). The hour is taken first, then the minute; if the minute is
full the transaction is rolled back, so the hour's increment is undone: a refused request
counts in neither window. On PostgreSQL the upsert holds the row lock until commit, so
concurrent takes on one installation queue behind each other on the hour row (always taken
first: no deadlock); on SQLite `Store.write` is BEGIN IMMEDIATE behind the process's write
lock. Two statements in one transaction rather than one clever statement, because "both or
neither" is what a transaction says plainly.

Ended windows are useless to fixed windows; `prune` deletes them, and `take` calls it at most
every `PRUNE_EVERY` seconds per process.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from bot import logs
from bot.clock import Clock
from bot.errors import describe_error
from bot.store import Store
from bot.store.tables import write_budget

MINUTE, HOUR = 60, 3600
DEFAULT_PER_MINUTE = 72
DEFAULT_PER_HOUR = 450
PRUNE_EVERY = 600.0

log = logs.get("secbot.budget")

# REST requests that create content on GitHub: POSTs that make a new issue, pull request,
# comment of any kind (issue, pull request review, commit, advisory), review or reaction, or a
# draft security advisory. Labels, assignees, locks, edits and deletions change existing
# content and are not counted; nor are reads, or the App's token requests.
_CONTENT_PATHS = re.compile(
    r"""^/repos/[^/]+/[^/]+/(
        issues                                      # create an issue
      | issues/\d+/comments                         # comment on an issue or pull request
      | pulls                                       # open a pull request
      | pulls/\d+/(comments|reviews)                # review comments, reviews
      | pulls/\d+/comments/\d+/replies              # reply to a review comment
      | commits/[^/]+/comments                      # commit comment
      | (issues|pulls)(/comments)?(/\d+)?/reactions  # reactions on issues, comments, review comments
      | comments/\d+/reactions                      # reaction on a commit comment
      | security-advisories                         # draft repository security advisory
      | security-advisories/[^/]+/comments          # comment on an advisory
    )/?$""",
    re.X,
)
_MUTATION = re.compile(rb'"query"\s*:\s*"\s*mutation\b')


def is_content_creation(method: str, path: str, body: bytes = b"") -> bool:
    """Whether GitHub counts this request as content creation (see `_CONTENT_PATHS`).

    `path` is the API path without the base URL or query. A GraphQL mutation counts too: the
    one Secbot sends (transferIssue) makes an issue in another repository.
    """
    if method != "POST":
        return False
    path = path.split("?", 1)[0]
    if path.endswith("/graphql"):
        return bool(_MUTATION.search(body or b""))
    return _CONTENT_PATHS.match(path) is not None


class Budget:
    """Per-installation budget of content-creating requests, shared through the store."""

    def __init__(self, store: Store, clock: Clock, *, per_minute: int = DEFAULT_PER_MINUTE,
                 per_hour: int = DEFAULT_PER_HOUR) -> None:
        if per_minute < 1 or per_hour < 1:
            raise ValueError("budget limits must be at least 1")
        self.store = store
        self.clock = clock
        self.windows = ((HOUR, per_hour), (MINUTE, per_minute))  # the hour first: see the docstring
        self._last_prune = 0.0
        stmt = store.insert(write_budget).values(
            installation_id=sa.bindparam("inst"), span=sa.bindparam("len"),
            window_start=sa.bindparam("start"), count=1,
        )
        self._take = stmt.on_conflict_do_update(
            index_elements=["installation_id", "span", "window_start"],
            set_={"count": write_budget.c.count + 1},
            where=write_budget.c.count < sa.bindparam("limit", type_=sa.Integer),
        ).returning(write_budget.c.count)

    async def take(self, installation_id: int) -> float | None:
        """Count one content-creating request: None when it fits, else when the full window ends.

        A refused request is counted in no window.
        """
        now = self.clock.now()
        blocked = await self._take_once(installation_id, now)
        if now - self._last_prune >= PRUNE_EVERY:
            self._last_prune = now
            try:
                await self.prune()
            except Exception as exc:  # noqa: BLE001 - pruning is housekeeping; the next round retries
                log.warning("pruning the write budget failed", extra={"error": describe_error(exc)})
        if blocked is not None:
            log.info("content-creation budget reached", extra={"installation": installation_id,
                                                               "until": round(blocked)})
        return blocked

    async def _take_once(self, installation_id: int, now: float) -> float | None:
        try:
            async with self.store.write() as conn:
                for span, limit in self.windows:
                    start = int(now // span) * span
                    params = {"inst": installation_id, "len": span, "start": start, "limit": limit}
                    if (await conn.execute(self._take, params)).first() is None:
                        raise _Full(float(start + span))
        except _Full as full:
            return full.until  # the transaction was rolled back: nothing counted
        return None

    async def used(self, installation_id: int) -> dict[int, int]:
        """Requests counted in the current windows, by window length (for tests and operators)."""
        now = self.clock.now()
        found: dict[int, int] = {}
        async with self.store.engine.connect() as conn:
            for span, _ in self.windows:
                row = (await conn.execute(sa.select(write_budget.c.count).where(
                    write_budget.c.installation_id == installation_id, write_budget.c.span == span,
                    write_budget.c.window_start == int(now // span) * span))).first()
                found[span] = int(row[0]) if row else 0
        return found

    async def prune(self) -> int:
        """Delete windows that have ended; returns how many rows went."""
        now = self.clock.now()
        stmt = sa.delete(write_budget).where(write_budget.c.window_start + write_budget.c.span <= now)
        async with self.store.write() as conn:
            result: Any = await conn.execute(stmt)
            return int(result.rowcount or 0)


class _Full(Exception):
    def __init__(self, until: float) -> None:
        self.until = until
