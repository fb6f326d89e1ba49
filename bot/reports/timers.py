"""A report's pending jobs: its timers (status updates to the reporter, reminders and escalations,
the disclosure countdown) and the poll of its advisory (bot/reports/watch.py).

Each timer is one pending job per report in the durable queue (singleton key
`timer:<name>:<report id>`), moved on every change that matters (`reschedule`). When it runs
(`fire`), it does at most one thing — the latest step that is due, so a restart after downtime
sends one update, not a burst — and sets itself again from now. Every message is keyed, so a
retry or a second replica never sends it twice. Timers pause with `/sec pause` and stop when the
report closes.
"""

from __future__ import annotations

from typing import Any

from bot.clock import iso
from bot.jobs.context import Context
from bot.render import render
from bot.reports import away, outreach
from bot.rules.config import RepoConfig
from bot.rules.policy import (
    Holds,
    Policy,
    Step,
    countdown_steps,
    due_and_next,
    holds,
    last_heard,
    next_update,
    target_steps,
)
from bot.store.reports import Report

TIMER = "report_timer"
NAMES = ("update", "targets", "countdown")

POLL = "advisory_poll"
ACTIVE_EVERY = 15 * 60.0  # poll interval while the report changed lately
QUIET_EVERY = 2 * 3600.0  # poll interval otherwise
ACTIVE_FOR = 7 * 86400.0  # "lately"


def _key(name: str, report_id: int) -> str:
    return f"timer:{name}:{report_id}"


def poll_key(report_id: int) -> str:
    return f"poll:{report_id}"


def interval(last_change: float, now: float) -> float:
    """How long until the next poll of a report that last changed at `last_change`."""
    return ACTIVE_EVERY if now - last_change < ACTIVE_FOR else QUIET_EVERY


def reachable(report: Report) -> bool:
    """Timers only make sense where the bot can talk privately about the report."""
    return bool(report.ghsa_id or report.draft_ghsa_id or report.linked_report_id or report.tracker_number)


# -- scheduling --------------------------------------------------------------------------------


async def reschedule(ctx: Context, report: Report) -> None:
    """Set or clear the report's pending timers (and its advisory poll) after a change that matters."""
    await schedule_poll(ctx, report)
    if not report.is_open or not reachable(report) or ctx.gh is None:
        for name in NAMES:
            await ctx.queue.cancel(_key(name, report.id))
        return
    cfg = await ctx.config_for(report.repo)
    policy = Policy.from_config(cfg.policy)
    now = ctx.clock.now()
    hold = await held(ctx, report, cfg)
    for name in NAMES:
        at = await _plan(ctx, report, policy, name, now, hold)
        if at is None:
            await ctx.queue.cancel(_key(name, report.id))
            continue
        if report.paused_until and report.paused_until > at:
            at = report.paused_until
        await ctx.queue.schedule(TIMER, {"report_id": report.id, "timer": name}, run_at=at,
                                 singleton_key=_key(name, report.id), installation_id=report.installation_id)


async def schedule_poll(ctx: Context, report: Report, *, soon: bool = False) -> None:
    """Make sure the report's advisory is polled: at once with `soon`, else within its interval.

    Never moves a pending poll later (a report that keeps changing is still polled), and stops
    polling a closed report or one without an advisory.
    """
    key = poll_key(report.id)
    if not report.is_open or outreach.advisory_of(report) is None or report.installation_id is None:
        await ctx.queue.cancel(key)
        return
    now = ctx.clock.now()
    at = now if soon else now + interval(report.updated_at, now)
    await schedule_by(ctx, POLL, {"report_id": report.id}, key, at, report.installation_id)


async def schedule_by(ctx: Context, kind: str, payload: dict[str, Any], key: str, at: float,
                      installation_id: int) -> None:
    """Queue job `key` to run no later than `at` (a pending one due earlier is left alone).

    Works from inside the job of that key too: the queue takes a job's singleton key away when
    the job starts, so its successor can be queued while it runs.
    """
    await ctx.queue.schedule(kind, payload, run_at=at, singleton_key=key, installation_id=installation_id,
                             sooner_only=True)


async def _done(ctx: Context, report: Report, steps: list[Step]) -> set[str]:
    return {s.key for s in steps if await ctx.ledger.result(f"timer:{report.id}:{s.key}") is not None}


async def held(ctx: Context, report: Report, cfg: RepoConfig) -> Holds:
    """When the report's targets stood still: waiting on the reporter, the maintainers away."""
    timeline = await ctx.reports.timeline(report.id)
    return holds(timeline, report.created_at, ctx.clock.now(), await away.windows(ctx, report.repo, cfg))


async def retime(ctx: Context, repo: str) -> None:
    """Set the timers of a repository's open reports again (their holds changed: away mode)."""
    for report in await ctx.reports.list(repo=repo):
        if report.is_open:
            await reschedule(ctx, report)


async def _plan(ctx: Context, report: Report, policy: Policy, name: str, now: float, hold: Holds) -> float | None:
    """When timer `name` should next run (None: never)."""
    if name == "update":
        timeline = await ctx.reports.timeline(report.id)
        return next_update(policy, report.state, report.severity, last_heard(timeline, report.created_at), hold)
    steps = target_steps(policy, report, hold) if name == "targets" else countdown_steps(policy, report)
    step, upcoming = due_and_next(steps, now, await _done(ctx, report, steps))
    return now if step is not None else upcoming


# -- a timer is due ----------------------------------------------------------------------------


async def fire(ctx: Context, report_id: int, name: str) -> None:
    """Timer `name` of a report is due: do its one due step, then set it again."""
    reports = ctx.reports
    report = await reports.get(report_id)
    if report is None or not report.is_open:
        return
    if not await ctx.installations.still_covered(report.installation_id, report.repo):
        return  # uninstalled, suspended or repository removed: the timers stop here
    now = ctx.clock.now()
    if report.paused_until and report.paused_until > now:
        await reschedule(ctx, report)
        return
    cfg = await ctx.config_for(report.repo)
    policy = Policy.from_config(cfg.policy)
    hold = await held(ctx, report, cfg)
    if name == "update":
        timeline = await reports.timeline(report.id)
        due = next_update(policy, report.state, report.severity, last_heard(timeline, report.created_at), hold)
        if due is not None and due <= now:
            following = policy.after(now, policy.update_interval(report.state, report.severity))
            await outreach.tell_reporter(ctx, report, key=f"timer:{report.id}:update:{int(due)}",
                                         template="status_update", next_update=iso(following)[:10])
            report = await reports.update(report.id, now=now, event="status-update", actor="secbot")
    else:
        steps = target_steps(policy, report, hold) if name == "targets" else countdown_steps(policy, report)
        step, _ = due_and_next(steps, now, await _done(ctx, report, steps))
        if step is not None:
            await _perform(ctx, report, step, cfg)
    await reschedule(ctx, report)


async def _perform(ctx: Context, report: Report, step: Step, cfg: RepoConfig) -> None:
    reports = ctx.reports
    key = f"timer:{report.id}:{step.key}"
    team = cfg.security_team
    org = report.repo.split("/", 1)[0]
    if step.kind == "escalate-assignees":
        mentions = [f"@{u}" for u in team.users]
    elif step.kind == "escalate-team":
        mentions = [f"@{org}/{t}" for t in team.teams] or [f"@{u}" for u in team.users]
    else:
        mentions = []
    body = render("timer_" + step.kind.split("-")[0], step=step.kind, target=step.detail.get("target"),
                  due=iso(step.detail.get("due") or step.detail.get("deadline")), days=step.detail.get("days"),
                  mentions=mentions, report=outreach.view(report))
    await outreach.tell_maintainers(ctx, report, key=key, body=body)
    # Mark the earlier steps of this target done too: after downtime only the latest is sent.
    await ctx.ledger.record(key, report.id, {"at": step.at}, ctx.clock.now())
    await reports.update(report.id, now=ctx.clock.now(), event="reminder" if step.kind == "remind" else step.kind,
                         actor="secbot", detail={"step": step.key})


async def describe(ctx: Context, report: Report) -> list[str]:
    """Human lines about the report's pending timers, for `/sec status`."""
    if not report.is_open or ctx.gh is None:
        return []
    cfg = await ctx.config_for(report.repo)
    policy = Policy.from_config(cfg.policy)
    now = ctx.clock.now()
    hold = await held(ctx, report, cfg)
    lines = []
    labels = {"update": "next update to the reporter", "targets": "next response-target check",
              "countdown": "next disclosure-deadline warning"}
    for name in NAMES:
        at = await _plan(ctx, report, policy, name, now, hold)
        if at is not None:
            lines.append(f"{labels[name]}: {iso(max(at, now))}")
    if hold.waiting:
        lines.append("response targets: on hold until the reporter answers /sec needs-info on the advisory")
    elif hold.away_until:
        lines.append(f"response targets: on hold while the maintainers are away, until {iso(hold.away_until)}")
    deadline = policy.after(report.created_at, policy.disclosure_after)
    lines.append(f"disclosure deadline: {iso(deadline)}")
    return lines
