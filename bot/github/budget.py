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
first: no deadlock). On SQLite on a file the two run in SQLite's writer process, in a savepoint
of their own within its next transaction (`all_or_none` in `bot.store.backend`): a take shares
the commit of the deliveries, claims and completions under way instead of pausing the writer
for a transaction and an fsync of its own, and a refused one undoes only its own increment.
Two statements in one transaction rather than one clever statement, because "both or
neither" is what a transaction says plainly.

Ended windows are useless to fixed windows; `prune` deletes them, and `take` calls it at most
every `PRUNE_EVERY` seconds per process.

Classes of writes. Not every write is equally urgent: a redirect, a hide or a reporter's
acknowledgement keeps a report from being read or lost; the answer to a `/sec` command is a
courtesy to someone who can wait. So each write has a class, and a class may only fill a window
up to its share of the limit; the count is shared, so a lower class stops where a higher one
still has room:

    class      what                                                  share   a minute  an hour
    security   redirects, hides, reporter messages, tracker issues,   all       72       450
               minimizing a command, everything not said otherwise
    reply      answers and reactions to maintainers' commands         2/3       48       300
    courtesy   the one reaction a stranger's command gets             1/3       24       150

(at the default limits). However many commands arrive, a third of every window is left for
security work, and strangers cannot spend more than a third on reactions nor crowd out the
maintainers' answers. A reply that does not fit is deferred like any write (the job runs again
when the window ends, its commands already recorded as done); a courtesy write that does not fit
is dropped by its caller, since a reaction an hour late helps no one. In SQL the share is only
the `limit` of the conditional upsert above, so a class costs nothing.

The caller says the class: `with spending(REPLY): ...` around the writes. The class travels in a
context variable because the writes go through gidgethub's `post()`, whose signature cannot
carry it; a context variable belongs to one asyncio task (one job), so concurrent jobs never see
each other's class, and the block ends it. Writes outside any block are `security`: an unlabelled
write is never starved by command traffic.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Iterator
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

SECURITY = "security"  # may fill each window
REPLY = "reply"  # may fill each window up to two thirds: a third stays for security work
COURTESY = "courtesy"  # may fill each window up to a third; its caller drops what does not fit
SHARES = {SECURITY: 3, REPLY: 2, COURTESY: 1}  # thirds of each window's limit

_CLASS: contextvars.ContextVar[str] = contextvars.ContextVar("secbot_write_class", default=SECURITY)


@contextlib.contextmanager
def spending(write_class: str) -> Iterator[None]:
    """Count the content-creating writes made inside this block as `write_class`."""
    if write_class not in SHARES:
        raise ValueError(f"unknown write class {write_class!r}")
    token = _CLASS.set(write_class)
    try:
        yield
    finally:
        _CLASS.reset(token)


def current_class() -> str:
    """The class of a write made here and now (`security` outside any `spending` block)."""
    return _CLASS.get()


def share(limit: int, write_class: str) -> int:
    """How far a window of `limit` may be filled by writes of `write_class` (at least one)."""
    return max(1, limit * SHARES[write_class] // 3)

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
        self._take = store.backend.prepare(stmt.on_conflict_do_update(
            index_elements=["installation_id", "span", "window_start"],
            set_={"count": write_budget.c.count + 1},
            where=write_budget.c.count < sa.bindparam("limit", type_=sa.Integer),
        ).returning(write_budget.c.count))

    async def take(self, installation_id: int, write_class: str | None = None) -> float | None:
        """Count one content-creating request of `write_class` (by default the class of the
        enclosing `spending` block): None when it fits, else when the window that is full for
        that class ends.

        A refused request is counted in no window.
        """
        now = self.clock.now()
        write_class = write_class or current_class()
        if write_class not in SHARES:
            raise ValueError(f"unknown write class {write_class!r}")
        blocked = await self._take_once(installation_id, now, write_class)
        if now - self._last_prune >= PRUNE_EVERY:
            self._last_prune = now
            try:
                await self.prune()
            except Exception as exc:  # noqa: BLE001 - pruning is housekeeping; the next round retries
                log.warning("pruning the write budget failed", extra={"error": describe_error(exc)})
        if blocked is not None:
            log.info("content-creation budget reached", extra={"installation": installation_id,
                                                               "until": round(blocked), "write_class": write_class})
        return blocked

    async def _take_once(self, installation_id: int, now: float, write_class: str) -> float | None:
        """One transaction of the store's busiest writes (`bot.store.backend`: on SQLite on a file,
        a call of the writer process sharing the commit of deliveries, claims and completions)."""
        starts = [(span, int(now // span) * span) for span, _ in self.windows]
        full = await self.store.backend.all_or_none(self._take, [
            {"inst": installation_id, "len": span, "start": start, "limit": share(limit, write_class)}
            for (span, start), (_, limit) in zip(starts, self.windows)])
        if full is None:
            return None
        span, start = starts[full]
        return float(start + span)  # the transaction was rolled back: nothing counted

    async def used(self, installation_id: int) -> dict[int, int]:
        """Requests counted in the current windows, by window length (for tests and operators)."""
        now = self.clock.now()
        found: dict[int, int] = {}

        def count(conn: sa.Connection) -> None:
            for span, _ in self.windows:
                row = conn.execute(sa.select(write_budget.c.count).where(
                    write_budget.c.installation_id == installation_id, write_budget.c.span == span,
                    write_budget.c.window_start == int(now // span) * span)).first()
                found[span] = int(row[0]) if row else 0

        await self.store.read(count)
        return found

    async def prune(self) -> int:
        """Delete windows that have ended; returns how many rows went."""
        now = self.clock.now()
        stmt = sa.delete(write_budget).where(write_budget.c.window_start + write_budget.c.span <= now)
        async with self.store.write() as conn:
            result: Any = await conn.execute(stmt)
            return int(result.rowcount or 0)
