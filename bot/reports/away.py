"""Away mode: the maintainers are away until a day (`/sec away until YYYY-MM-DD`, or `away.until`).

While away, each new reporter is told when to expect an answer (the acknowledgement says so),
the repository's reports' response targets and status updates wait (bot/rules/policy.py `holds`:
the away span counts as time the targets stood still), and with `away.pause_private_reporting`
private vulnerability reporting is turned off through the API and on again afterwards, the public
redirect saying where to write meanwhile. It ends by itself: an `away_end` job at the end of the
span turns private reporting back on and sets the reports' timers again.

The spans live in the store's facts (`away:<repo>`, kept a year, at most MAX_WINDOWS), not only
in the config: a report that arrived while the maintainers were away keeps its moved targets after
they are back. `/sec away` takes precedence over the config; `/sec away off` ends a span early.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import gidgethub

from bot.clock import iso
from bot.jobs.context import Context
from bot.reports.channel import forget_channel
from bot.rules.config import RepoConfig
from bot.rules.policy import Policy

JOB_KIND = "away_end"
KEEP = 365 * 86400.0
MAX_WINDOWS = 20
PVR = "/repos/{owner}/{repo}/private-vulnerability-reporting"


def fact_key(repo: str) -> str:
    return f"away:{repo.lower()}"


def paused_key(repo: str) -> str:
    return f"away-pvr:{repo.lower()}"


def end_key(repo: str) -> str:
    return f"away-end:{repo.lower()}"


@dataclasses.dataclass(frozen=True)
class Away:
    """A running away span of a repository."""

    start: float
    until: float
    message: str | None

    def for_template(self, policy: Policy) -> dict[str, Any]:
        answer_by = policy.after(self.until, policy.acknowledge_within)
        return {"until": iso(self.until)[:10], "answer_by": iso(answer_by)[:10], "message": self.message}


async def _memory(ctx: Context, repo: str) -> dict[str, Any]:
    return await ctx.facts.get(fact_key(repo), ctx.clock.now()) or {"windows": []}


async def windows(ctx: Context, repo: str, cfg: RepoConfig) -> list[tuple[float, float]]:
    """The repository's away spans, past and running ((from, until) pairs); a span from the config
    is recorded the first time it is seen, so it outlives a later edit of the file."""
    memory = await _memory(ctx, repo)
    spans = [(float(a), float(b)) for a, b in memory.get("windows") or ()]
    configured = _configured(cfg)
    now = ctx.clock.now()
    if configured is not None and configured > now and memory.get("ignore_config") != cfg.away.until:
        # A span from /sec away running now takes precedence; the config's is recorded once.
        if not any(b == configured for _, b in spans) and not any(a <= now < b for a, b in spans):
            spans.append((now, configured))
            await _keep(ctx, repo, {**memory, "windows": spans, "message": cfg.away.message})
    return spans


def _configured(cfg: RepoConfig) -> float | None:
    if not cfg.away.until:
        return None
    return Policy.from_config(cfg.policy).day_start(dt.date.fromisoformat(cfg.away.until))


async def current(ctx: Context, repo: str, cfg: RepoConfig) -> Away | None:
    """The away span running now, if any."""
    now = ctx.clock.now()
    running = [(a, b) for a, b in await windows(ctx, repo, cfg) if a <= now < b]
    if not running:
        return None
    start, until = max(running, key=lambda w: w[1])
    memory = await _memory(ctx, repo)
    return Away(start=start, until=until, message=memory.get("message") or cfg.away.message)


async def _keep(ctx: Context, repo: str, memory: dict[str, Any]) -> None:
    memory["windows"] = [list(w) for w in memory.get("windows") or ()][-MAX_WINDOWS:]
    await ctx.facts.remember(fact_key(repo), memory, ctx.clock.now(), KEEP)


async def set_away(ctx: Context, repo: str, installation_id: int | None, cfg: RepoConfig, *, until: dt.date | None,
                   message: str, actor: str) -> str:
    """`/sec away until DAY [text]` (or `off`, `until=None`): record it, pause or restore private
    reporting; returns the answer for the maintainers. The caller sets the repository's reports'
    timers again (bot/reports/timers.py `retime`)."""
    now = ctx.clock.now()
    memory = await _memory(ctx, repo)
    spans = [(float(a), float(b)) for a, b in memory.get("windows") or ()]
    running = [(a, b) for a, b in spans if a <= now < b]
    spans = [(a, min(b, now) if (a, b) in running else b) for a, b in spans]  # a new span or off ends the old
    policy = Policy.from_config(cfg.policy)
    if until is not None:
        end = policy.day_start(until)
        if end <= now:
            return f"That day has passed: /sec away needs a day after today ({iso(now)[:10]})."
        spans.append((now, end))
        memory.update(message=message or None, command=True, by=actor)
    else:
        memory.update(command=bool(memory.get("command")), ignore_config=cfg.away.until)
    memory["windows"] = spans
    await _keep(ctx, repo, memory)
    note = await sync(ctx, repo, installation_id, cfg)
    if until is None:
        return "Welcome back: response targets and status updates run again." + note
    return (f"Away until {until.isoformat()}: new reporters are told when to expect an answer, and response targets "
            "and status updates wait until then." + note)


async def sync(ctx: Context, repo: str, installation_id: int | None, cfg: RepoConfig) -> str:
    """Bring private reporting and the end job in line with the away span: paused while away when
    `away.pause_private_reporting` says so (only if it was on: Secbot turns on again only what it
    turned off), restored afterwards. Returns a sentence for the maintainers ("" when nothing)."""
    running = await current(ctx, repo, cfg)
    now = ctx.clock.now()
    if running is not None and installation_id is not None:
        await ctx.queue.schedule(JOB_KIND, {"repo": repo, "installation_id": installation_id}, run_at=running.until,
                                 singleton_key=end_key(repo), installation_id=installation_id)
    paused = await ctx.facts.get(paused_key(repo), now)
    want_paused = running is not None and cfg.away.pause_private_reporting
    if want_paused and not paused:
        return await _pause(ctx, repo, running)
    if not want_paused and paused:
        return await _restore(ctx, repo)
    return ""


async def _pause(ctx: Context, repo: str, running: Away | None) -> str:
    assert ctx.gh is not None and running is not None
    owner, name = repo.split("/", 1)
    url_vars = {"owner": owner, "repo": name}
    try:
        state = await ctx.gh.getitem(PVR, url_vars)
        if not state.get("enabled"):
            return ""  # off already: not Secbot's to turn on later
        if ctx.dry_run:
            ctx.log.info("dry run: would turn private vulnerability reporting off while away")
            return ""
        await ctx.facts.remember(paused_key(repo), {"paused": True, "until": running.until}, ctx.clock.now(), KEEP)
        await ctx.gh.delete(PVR, url_vars)
    except gidgethub.BadRequest as exc:
        if exc.status_code not in (403, 404, 422):
            raise
        await ctx.facts.remember(paused_key(repo), None, ctx.clock.now(), 0.0)
        ctx.log.warning("could not turn private vulnerability reporting off while away",
                        extra={"repo": repo, "status": exc.status_code})
        return (" Private reporting could not be turned off (the App needs the Administration: write permission "
                "for that); it stays on.")
    await forget_channel(ctx, owner, name)
    ctx.log.info("private vulnerability reporting turned off while away", extra={"repo": repo})
    return " Private vulnerability reporting is off until then; the public redirect says where to write meanwhile."


async def _restore(ctx: Context, repo: str) -> str:
    assert ctx.gh is not None
    owner, name = repo.split("/", 1)
    try:
        await ctx.gh.put(PVR, {"owner": owner, "repo": name}, data=b"")
    except gidgethub.BadRequest as exc:
        if exc.status_code not in (403, 404, 422):
            raise
        ctx.log.warning("could not turn private vulnerability reporting on again after away",
                        extra={"repo": repo, "status": exc.status_code})
        return " Private reporting could not be turned on again: turn it on in the repository's settings."
    await ctx.facts.remember(paused_key(repo), None, ctx.clock.now(), 0.0)
    await forget_channel(ctx, owner, name)
    ctx.log.info("private vulnerability reporting turned on again after away", extra={"repo": repo})
    return " Private vulnerability reporting is on again."


async def paused_by_away(ctx: Context, repo: str) -> bool:
    """Whether Secbot turned private reporting off for an away span (the channel check accepts it)."""
    return bool(await ctx.facts.get(paused_key(repo), ctx.clock.now()))


async def end(ctx: Context, repo: str, installation_id: int) -> bool:
    """The `away_end` job: the span is over (or was moved): restore private reporting. Returns
    whether the repository is still covered (then its timers are to be set again)."""
    if ctx.gh is None or not await ctx.installations.still_covered(installation_id, repo):
        return False
    await sync(ctx, repo, installation_id, await ctx.config())
    return True


async def redirect_note(ctx: Context, repo: str, cfg: RepoConfig) -> dict[str, str] | None:
    """For the public redirect while Secbot has private reporting paused: where to write meanwhile
    (`away.contact`) and until when; None otherwise (the redirect names the channel as usual)."""
    if not cfg.away.contact or not await paused_by_away(ctx, repo):
        return None
    running = await current(ctx, repo, cfg)
    if running is None:
        return None
    return {"away_contact": cfg.away.contact, "away_until": iso(running.until)[:10]}
