"""Report records: create once per source, follow their state, keep a timeline.

Nothing here talks to GitHub. Report text is stored only in `original_title`/`original_body`
(for `hide` and its undo); everything else is identifiers, verdicts and signal names.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import sqlalchemy as sa

from bot.errors import ReportableError
from bot.rules.lifecycle import NEW, REJECTED
from bot.rules.lifecycle import OPEN as OPEN_STATES
from bot.store import Store
from bot.store.tables import report_events, reports

__all__ = ["StateChanged", "Report", "Reports", "NEW", "NOTE", "OPEN_STATES", "REJECTED"]

NOTE = "note"  # timeline event: a note for the maintainers kept here, for want of a private tracker


class StateChanged(ReportableError):
    """The report changed state under us; the job retries with fresh data."""


@dataclasses.dataclass(frozen=True)
class Report:
    id: int
    source_key: str
    source: str
    installation_id: int | None
    repo: str
    issue_number: int | None
    comment_id: int | None
    ghsa_id: str | None
    reporter: str
    verdict: str
    score: float
    reasons: tuple[str, ...]
    state: str
    severity: str | None
    reject_reason: str | None
    original_title: str | None
    original_body: str | None
    draft_ghsa_id: str | None
    hidden: bool
    linked_report_id: int | None
    created_at: float
    updated_at: float
    cvss: str | None = None
    eta: str | None = None
    fixed_version: str | None = None
    paused_until: float | None = None
    tracker_repo: str | None = None
    tracker_number: int | None = None
    acknowledged_at: float | None = None
    accepted_at: float | None = None
    fixed_at: float | None = None
    closed_at: float | None = None
    cve_id: str | None = None
    reward: str | None = None
    embargo_until: float | None = None

    @classmethod
    def from_row(cls, row: Any) -> "Report":
        m = dict(row._mapping)
        m["reasons"] = tuple(orjson.loads(m["reasons"] or "[]"))
        m["hidden"] = bool(m["hidden"])
        return cls(**{f.name: m[f.name] for f in dataclasses.fields(cls)})

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def summary(self) -> dict[str, Any]:
        """What `secbot reports --json` prints: identifiers and state, never report text."""
        return {
            "id": self.id, "repo": self.repo, "source": self.source, "number": self.issue_number,
            "comment_id": self.comment_id, "ghsa_id": self.ghsa_id or self.draft_ghsa_id,
            "reporter": self.reporter, "verdict": self.verdict, "state": self.state,
            "severity": self.severity, "hidden": self.hidden, "cve_id": self.cve_id, "reward": self.reward,
        }


def issue_key(repo: str, number: int) -> str:
    return f"issue:{repo.lower()}#{number}"


def comment_key(repo: str, comment_id: int) -> str:
    return f"comment:{repo.lower()}:{comment_id}"


def discussion_key(repo: str, number: int) -> str:
    return f"discussion:{repo.lower()}#{number}"


def discussion_comment_key(repo: str, comment_id: int) -> str:
    return f"discussion-comment:{repo.lower()}:{comment_id}"


def advisory_key(repo: str, ghsa_id: str) -> str:
    return f"advisory:{repo.lower()}:{ghsa_id}"


# Built once: the lookups of every public text a job considers (see `Store.first`).
_BY_SOURCE_KEY = sa.select(reports).where(reports.c.source_key == sa.bindparam("source_key"))


def _lowered(column: sa.Column[Any], value: str) -> sa.ColumnElement[bool]:
    """`column` equals `value` without regard to case, for a column most reports leave empty: it
    says `IS NOT NULL` too, which lets the planner use the partial index of its lowered values
    (migration 0011)."""
    return sa.and_(column.is_not(None), sa.func.lower(column) == value.lower())


class Reports:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, report_id: int) -> Report | None:
        row = await self.store.point(sa.select(reports).where(reports.c.id == report_id))
        return Report.from_row(row) if row else None

    async def by_key(self, source_key: str) -> Report | None:
        row = await self.store.point(_BY_SOURCE_KEY, {"source_key": source_key})
        return Report.from_row(row) if row else None

    async def for_issue(self, repo: str, number: int) -> list[Report]:
        """Reports that came from an issue or from comments on it."""
        stmt = sa.select(reports).where(sa.func.lower(reports.c.repo) == repo.lower(), reports.c.issue_number == number)
        return [Report.from_row(r) for r in await self.store.all(stmt.order_by(reports.c.id))]

    async def for_tracker(self, repo: str, number: int) -> Report | None:
        """The report whose tracking issue this is."""
        return await self._one(sa.and_(_lowered(reports.c.tracker_repo, repo), reports.c.tracker_number == number))

    async def by_ghsa(self, ghsa_id: str) -> Report | None:
        """The report of advisory `ghsa_id`: a private report, or a public one hidden in that draft."""
        return await self._one(sa.or_(_lowered(reports.c.ghsa_id, ghsa_id), _lowered(reports.c.draft_ghsa_id, ghsa_id)))

    async def by_draft(self, ghsa_id: str) -> Report | None:
        """The public report moved into the draft advisory `ghsa_id` by `hide`."""
        return await self._one(_lowered(reports.c.draft_ghsa_id, ghsa_id))

    async def latest_public_unlinked(self, repo: str, reporter: str, since: float, *, besides: int) -> int | None:
        """The newest report from an issue or comment by `reporter` in `repo` since `since` that is
        linked to no other report (and is not report `besides`)."""
        stmt = (
            sa.select(reports.c.id)
            .where(sa.func.lower(reports.c.repo) == repo.lower(), sa.func.lower(reports.c.reporter) == reporter.lower(),
                   reports.c.source.in_(("issue", "comment")), reports.c.linked_report_id.is_(None),
                   reports.c.created_at >= since, reports.c.id != besides)
            .order_by(reports.c.created_at.desc()).limit(1)
        )
        return await self.store.scalar(stmt)

    async def count_from_reporter(self, installation_id: int | None, reporter: str, since: float) -> int:
        """How many reports `reporter` sent to an installation (any of its repositories, any
        source) created at `since` or later: the flood rate's count."""
        stmt = sa.select(sa.func.count()).select_from(reports).where(
            reports.c.installation_id == installation_id, sa.func.lower(reports.c.reporter) == reporter.lower(),
            reports.c.created_at >= since)
        return int(await self.store.scalar(stmt) or 0)

    async def from_reporter(self, installation_id: int | None, reporter: str, *, besides: int,
                            limit: int = 50) -> list["Report"]:
        """`reporter`'s other reports to an installation, newest first (the triage card's history)."""
        stmt = (sa.select(reports).where(reports.c.installation_id == installation_id,
                                         sa.func.lower(reports.c.reporter) == reporter.lower(), reports.c.id != besides)
                .order_by(reports.c.created_at.desc(), reports.c.id.desc()).limit(limit))
        return [Report.from_row(r) for r in await self.store.all(stmt)]

    async def recent(self, repo: str, *, since: float, besides: int, limit: int = 200) -> list["Report"]:
        """`repo`'s reports created at `since` or later, newest first, not `besides` (the triage
        card compares a new report with them)."""
        stmt = (sa.select(reports).where(sa.func.lower(reports.c.repo) == repo.lower(), reports.c.created_at >= since,
                                         reports.c.id != besides)
                .order_by(reports.c.created_at.desc(), reports.c.id.desc()).limit(limit))
        return [Report.from_row(r) for r in await self.store.all(stmt)]

    async def list(self, repo: str | None = None, state: str | None = None, limit: int = 10_000) -> list[Report]:
        stmt = sa.select(reports).order_by(reports.c.id).limit(limit)
        if repo:
            stmt = stmt.where(sa.func.lower(reports.c.repo) == repo.lower())
        if state:
            stmt = stmt.where(reports.c.state == state)
        return [Report.from_row(r) for r in await self.store.all(stmt)]

    async def closed_for_stats(self, repo: str, window: float) -> list[Report]:
        """The reports of `repo` that went through the private lifecycle (an advisory, or a draft
        one for a hidden public report, unless undone as a false alarm) and are closed (published
        or rejected), closed within
        `window` seconds before the latest such close. Open reports are never returned."""
        private = sa.or_(reports.c.ghsa_id.is_not(None), reports.c.draft_ghsa_id.is_not(None))
        # A public issue hidden by mistake and undone with /sec not-security was no report at all.
        false_alarm = sa.and_(reports.c.source != "advisory", reports.c.reject_reason == "not-security")
        where = sa.and_(sa.func.lower(reports.c.repo) == repo.lower(), reports.c.state.in_(("published", "rejected")),
                        reports.c.closed_at.is_not(None), private, sa.not_(false_alarm))

        def closed(conn: sa.Connection) -> list[Any]:
            latest = conn.execute(sa.select(sa.func.max(reports.c.closed_at)).where(where)).scalar()
            if latest is None:
                return []
            return list(conn.execute(sa.select(reports).where(where, reports.c.closed_at > latest - window)
                                     .order_by(reports.c.id)))

        return [Report.from_row(r) for r in await self.store.read(closed)]

    async def count_by_state(self) -> list[tuple[str, int]]:
        stmt = sa.select(reports.c.state, sa.func.count()).group_by(reports.c.state)
        return sorted((str(state), int(n)) for state, n in await self.store.all(stmt))

    async def escalations_by_target(self) -> list[tuple[str, int]]:
        """Escalations recorded in the reports' timelines: one per response target that slipped."""
        stmt = (sa.select(report_events.c.detail, sa.func.count())
                .where(report_events.c.kind == "escalate-assignees").group_by(report_events.c.detail))
        found = {"acknowledge": 0, "triage": 0}
        for detail, n in await self.store.all(stmt):
            target = "acknowledge" if detail and '"acknowledge:' in detail else "triage"
            found[target] += int(n)
        return sorted(found.items())

    async def _one(self, where: Any) -> Report | None:
        row = await self.store.first(sa.select(reports).where(where))
        return Report.from_row(row) if row else None

    async def create(self, *, now: float, **fields: Any) -> tuple[Report, bool]:
        """Insert a report unless its source already has one; returns (report, created)."""
        row = {
            "state": NEW, "hidden": False, "created_at": now, "updated_at": now, **fields,
            "reasons": orjson.dumps(list(fields.get("reasons", ()))).decode(),
        }
        async with self.store.write() as conn:
            result = await conn.execute(self.store.insert_ignore(reports, ["source_key"]).values(**row))
            created = result.rowcount == 1
            found = (await conn.execute(sa.select(reports).where(reports.c.source_key == row["source_key"]))).one()
            report = Report.from_row(found)
            if created:
                await conn.execute(sa.insert(report_events).values(
                    report_id=report.id, at=now, actor=row["reporter"], kind="reported",
                    detail=orjson.dumps({"source": row["source"], "verdict": row["verdict"]}).decode()))
        return report, created

    async def update(self, report_id: int, *, now: float, event: str | None = None, actor: str | None = None,
                     detail: dict[str, Any] | None = None, expect_state: str | None = None, **fields: Any) -> Report:
        """Change a report and add an event to its timeline, in one transaction.

        With `expect_state`, nothing happens unless the report is still in that state (two jobs
        racing to move a report: the second gets `StateChanged` and retries on fresh data).
        """
        async with self.store.write() as conn:
            if fields or expect_state is not None:
                stmt = sa.update(reports).where(reports.c.id == report_id).values(updated_at=now, **fields)
                if expect_state is not None:
                    stmt = stmt.where(reports.c.state == expect_state)
                if (await conn.execute(stmt)).rowcount == 0 and expect_state is not None:
                    raise StateChanged(f"report {report_id} left state {expect_state} meanwhile")
            if event:
                await conn.execute(sa.insert(report_events).values(
                    report_id=report_id, at=now, actor=actor, kind=event,
                    detail=orjson.dumps(detail).decode() if detail else None))
            row = (await conn.execute(sa.select(reports).where(reports.c.id == report_id))).one()
        return Report.from_row(row)

    async def add_note(self, report_id: int, *, now: float, key: str, body: str) -> bool:
        """Keep a note for the maintainers in the report's timeline, once per `key` (a retry
        finds it); False when it was kept before. The report itself is not touched: a note is
        no change to it (its `updated_at` paces the advisory poll)."""
        async with self.store.write() as conn:
            kept = await conn.execute(sa.select(report_events.c.detail).where(
                report_events.c.report_id == report_id, report_events.c.kind == NOTE))
            if any(detail and orjson.loads(detail).get("key") == key for (detail,) in kept):
                return False
            await conn.execute(sa.insert(report_events).values(
                report_id=report_id, at=now, actor="secbot", kind=NOTE,
                detail=orjson.dumps({"key": key, "note": body}).decode()))
        return True

    async def timeline(self, report_id: int) -> list[dict[str, Any]]:
        stmt = sa.select(report_events).where(report_events.c.report_id == report_id).order_by(report_events.c.at, report_events.c.id)
        return [{**dict(r._mapping), "detail": orjson.loads(r.detail) if r.detail else None}
                for r in await self.store.all(stmt)]
