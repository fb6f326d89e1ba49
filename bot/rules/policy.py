"""Response targets and cadences as numbers: pure functions of a report, its timeline and the clock.

Durations come from the repository's `policy:` config. "N working days" counts days that are in
`working_days`, in the policy's time zone, keeping the time of day (a report at Friday 16:00 with
"2 working days" is due Tuesday 16:00).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

from bot.rules.config import WEEKDAYS, Duration, PolicyConfig

DAY = 86400.0
# Events after which the reporter has just heard from the project.
REPORTER_HEARD = {"reported", "acknowledged", "accepted", "rejected", "eta", "fixed", "update-sent", "status-update",
                  "published", "needs-info", "info-received"}
# Timeline events: the maintainers asked the reporter for something (`/sec needs-info`), and the
# reporter answered on the advisory (seen by the watchdog). In between, the report waits on them.
ASKED, ANSWERED = "needs-info", "info-received"
COUNTDOWN_DAYS = (30, 14, 7, 1)


@dataclasses.dataclass(frozen=True)
class Policy:
    acknowledge_within: Duration
    triage_within: Duration
    update_every: Mapping[str, Duration]
    disclosure_after: Duration
    working_days: frozenset[int]
    tz: zoneinfo.ZoneInfo
    publish_within: Duration = Duration(seconds=14 * 86400.0)

    @classmethod
    def from_config(cls, policy: PolicyConfig) -> "Policy":
        return cls(
            acknowledge_within=Duration.parse(policy.acknowledge_within),
            triage_within=Duration.parse(policy.triage_within),
            update_every={k: Duration.parse(v) for k, v in policy.update_every.as_dict().items()},
            disclosure_after=Duration.parse(policy.disclosure_after),
            working_days=frozenset(WEEKDAYS.index(d) for d in policy.working_days),
            tz=zoneinfo.ZoneInfo(policy.timezone),
            publish_within=Duration.parse(policy.publish_within),
        )

    def after(self, start: float, span: Duration) -> float:
        """`start` plus `span`, counting only working days for working-day spans."""
        when = start + span.seconds
        days = span.working_days
        if not days:
            return when
        local = dt.datetime.fromtimestamp(when, self.tz)
        whole, part = int(days), days - int(days)
        while whole > 0:
            local = _next_day(local, self.tz)
            if local.weekday() in self.working_days:
                whole -= 1
        result = local.timestamp() + part * DAY
        return result

    def day_start(self, day: dt.date) -> float:
        """Midnight at the start of `day` in the policy's time zone."""
        return dt.datetime.combine(day, dt.time(), self.tz).timestamp()

    def update_interval(self, state: str, severity: str | None) -> Duration:
        if state in ("new", "acknowledged"):
            return self.update_every["untriaged"]
        return self.update_every.get(severity or "medium", self.update_every["medium"])


def _next_day(local: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The same wall-clock time on the next calendar day (DST-safe)."""
    naive = local.replace(tzinfo=None) + dt.timedelta(days=1)
    return naive.replace(tzinfo=tz)


@dataclasses.dataclass(frozen=True)
class Step:
    """One thing a timer does at a time: `kind` names it, `key` makes it happen once."""

    at: float
    kind: str  # update | remind | escalate-assignees | escalate-team | countdown
    key: str
    detail: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Holds:
    """When a report's response targets stand still: while it waits on its reporter (`/sec
    needs-info` until they answer) and while the maintainers are away (`/sec away`, `away.until`).

    `held` is how long they stood still since the report came in (the union of those spans, up to
    `now` and, for an away span, up to its planned end): the targets move that much later.
    `waiting` is set while the reporter has not answered: no target is due then at all.
    `away_until` is the end of an away span still running: no status update goes out before it.
    """

    held: float = 0.0
    waiting: bool = False
    away_until: float | None = None


NO_HOLDS = Holds()


def last_heard(timeline: list[Mapping[str, Any]], created_at: float) -> float:
    times = [e["at"] for e in timeline if e["kind"] in REPORTER_HEARD]
    return max(times) if times else created_at


def next_update(policy: Policy, state: str, severity: str | None, heard: float, hold: Holds = NO_HOLDS) -> float | None:
    """When the reporter should next hear about progress: None while the report waits on them,
    and never before the maintainers are back from an away span."""
    if hold.waiting:
        return None
    due = policy.after(heard, policy.update_interval(state, severity))
    return max(due, hold.away_until) if hold.away_until else due




def holds(timeline: list[Mapping[str, Any]], created_at: float, now: float,
          away: Sequence[tuple[float, float]] = ()) -> Holds:
    """A report's holds from its timeline and the repository's away windows ((from, until) pairs)."""
    spans: list[tuple[float, float]] = []
    asked: float | None = None
    for event in timeline:
        if event["kind"] == ASKED and asked is None:
            asked = float(event["at"])
        elif event["kind"] == ANSWERED and asked is not None:
            spans.append((asked, float(event["at"])))
            asked = None
    if asked is not None:
        spans.append((asked, now))
    away_until = None
    for start, until in away:
        if until > created_at:
            spans.append((max(start, created_at), until))  # the planned end, even in the future
            if start <= now < until:
                away_until = max(until, away_until or until)
    return Holds(held=_union_length(spans, created_at), waiting=asked is not None, away_until=away_until)


def _union_length(spans: list[tuple[float, float]], floor: float) -> float:
    total, reach = 0.0, floor
    for start, end in sorted(spans):
        start = max(start, reach)
        if end > start:
            total += end - start
            reach = end
    return total


def target_steps(policy: Policy, report: Any, hold: Holds = NO_HOLDS) -> list[Step]:
    """Reminders before a response target slips, and escalations after (each step once). The
    targets count from the report's arrival moved on by the time they were held; none is due
    while the report waits on its reporter."""
    steps: list[Step] = []
    targets = []
    if hold.waiting:
        return steps
    start = report.created_at + hold.held
    if report.acknowledged_at is None and report.accepted_at is None:
        targets.append(("acknowledge", policy.after(start, policy.acknowledge_within)))
    if report.accepted_at is None:
        targets.append(("triage", policy.after(start, policy.triage_within)))
    for name, due in targets:
        span = max(3600.0, due - start)
        steps += [
            Step(due - span * 0.25, "remind", f"{name}:remind", {"target": name, "due": due}),
            Step(due, "escalate-assignees", f"{name}:escalate-1", {"target": name, "due": due}),
            Step(due + span * 0.5, "escalate-team", f"{name}:escalate-2", {"target": name, "due": due}),
        ]
    return sorted(steps + publish_steps(policy, report), key=lambda s: s.at)


def publish_steps(policy: Policy, report: Any) -> list[Step]:
    """After `/sec fixed`: remind the maintainers to publish the advisory when it is not published
    within `policy.publish_within`, then escalate to the team half that span later. An embargo
    (`/sec embargo until DATE`) moves both to its day; the steps are keyed by their due time, so
    an embargo set after a reminder brings the reminder back when it ends."""
    fixed_at = getattr(report, "fixed_at", None)
    if getattr(report, "state", None) != "fixed" or fixed_at is None:
        return []
    due = policy.after(fixed_at, policy.publish_within)
    embargo = getattr(report, "embargo_until", None)
    if embargo and embargo > due:
        due = embargo
    span = max(3600.0, due - fixed_at)
    detail = {"target": "publish", "due": due}
    return [Step(due, "remind", f"publish:remind:{int(due)}", detail),
            Step(due + span * 0.5, "escalate-team", f"publish:escalate:{int(due)}", detail)]


def countdown_steps(policy: Policy, report: Any) -> list[Step]:
    deadline = policy.after(report.created_at, policy.disclosure_after)
    return [Step(deadline - days * DAY, "countdown", f"countdown:{days}", {"days": days, "deadline": deadline})
            for days in COUNTDOWN_DAYS if deadline - days * DAY > report.created_at]


def due_and_next(steps: list[Step], now: float, done: set[str]) -> tuple[Step | None, float | None]:
    """The one step to perform now (the latest overdue one: after downtime, no burst), and when
    the next one is due."""
    pending = [s for s in steps if s.key not in done]
    overdue = [s for s in pending if s.at <= now]
    upcoming = [s.at for s in pending if s.at > now]
    return (overdue[-1] if overdue else None), (min(upcoming) if upcoming else None)
