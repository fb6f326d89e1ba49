"""The optional second opinion: ask the operator's language model whether an uncertain public
text is a vulnerability report, and move the verdict one tier by its answer.

`second_opinion(ctx, cfg, title, body, verdict)` is the one call the public flow makes, after
classifying and before acting. It asks nothing, and returns the verdict as it was, unless all of
these hold: the operator set an endpoint (`SECBOT_LLM_URL`), the repository switched it on
(`detection.llm.enabled`), and the verdict is in the uncertain tier (bot/rules/second_opinion.py).
Private text (a private report, or any text of a private repository) is never sent unless the
repository also set `detection.llm.private`.

What it costs and how it fails:
- the prompt is fixed (`templates/second_opinion.md`, which no repository can override); the text
  goes as data in the user message, cut to a bounded length;
- an answer is remembered (by a hash of endpoint, model, prompt and text; never the text) for a
  week, so a redelivery, a retry or an edit that changes nothing asks again for nothing and gets
  the same answer;
- each question draws on two hourly budgets kept in the store, one per installation and one for
  all of them, so every replica shares them; a question that does not fit is not asked;
- a 429 makes every replica stop asking for its Retry-After (a minute when it gives none);
- a timeout, a refusal or a broken reply leaves the verdict as it was, with the outcome recorded
  as a reason name. The log line says what happened, never what was asked or answered.
"""

from __future__ import annotations

import asyncio
import hashlib

from bot.jobs.context import Context
from bot.llm.client import LlmBusy, LlmError
from bot.render import render
from bot.rules.config import RepoConfig
from bot.rules.detect import Verdict
from bot.rules.second_opinion import BUDGET, ERROR, NO, UNCLEAR, YES, asks_about, moved, question, read_answer

PROMPT = "second_opinion"  # templates/second_opinion.md
ANSWER_TTL = 7 * 86400.0
BACKOFF_KEY = "llm:backoff"
HOUR = 3600


def may_ask(ctx: Context, cfg: RepoConfig, verdict: Verdict, *, private: bool = False) -> bool:
    """Whether `second_opinion` would ask about this verdict (budgets and back-off aside): an
    endpoint set, the repository's consent, a verdict in the uncertain tier, and, for private text,
    the repository's explicit consent to send it."""
    wanted = cfg.detection.llm
    if ctx.services.llm is None or not wanted.enabled or not asks_about(verdict):
        return False
    return not (private or (ctx.data.get("repository") or {}).get("private")) or wanted.private


async def second_opinion(ctx: Context, cfg: RepoConfig, title: str, body: str | None, verdict: Verdict, *,
                         private: bool = False) -> Verdict:
    """`verdict`, moved one tier by the language model's answer when one was asked for and given;
    with the outcome as a reason (`llm:yes`, `llm:no`, `llm:unclear`, `llm:error`, `llm:budget`)
    whenever a question was due. `private`: the text is a private report's."""
    llm = ctx.services.llm
    if llm is None or not may_ask(ctx, cfg, verdict, private=private):
        return verdict
    settings = ctx.services.settings
    now = ctx.clock.now()
    system = render(PROMPT)
    user = question(title, body)
    key = "llm:answer:" + hashlib.sha256("\0".join((llm.endpoint, llm.model, system, user)).encode()).hexdigest()
    known = await ctx.facts.get(key, now)
    if isinstance(known, bool):
        return _outcome(ctx, verdict, known, "remembered")
    if await ctx.facts.get(BACKOFF_KEY, now) is not None:
        return _outcome(ctx, verdict, None, "backing-off", reason=BUDGET)
    window = int(now // HOUR) * HOUR
    budgets = [(f"llm:budget:installation:{ctx.installation_id or 0}:{window}", settings.llm_per_installation_hour),
               (f"llm:budget:all:{window}", settings.llm_per_hour)]
    if not await ctx.facts.take(budgets, now, window + HOUR):
        return _outcome(ctx, verdict, None, "budget-spent", reason=BUDGET)
    started = asyncio.get_running_loop().time()
    try:
        reply = await llm.complete(system, user)
    except LlmBusy as busy:
        await ctx.facts.remember(BACKOFF_KEY, {"until": now + busy.retry_after}, now, busy.retry_after)
        return _outcome(ctx, verdict, None, "rate-limited", reason=BUDGET, status=429, wait=round(busy.retry_after))
    except LlmError as exc:
        return _outcome(ctx, verdict, None, exc.kind, reason=ERROR, status=exc.status, started=started)
    answer = read_answer(reply)
    if answer is None:
        return _outcome(ctx, verdict, None, "unclear", reason=UNCLEAR, started=started, answer_chars=len(reply))
    await ctx.facts.remember(key, answer, now, ANSWER_TTL)
    return _outcome(ctx, verdict, answer, "answered", started=started)


def _outcome(ctx: Context, verdict: Verdict, answer: bool | None, outcome: str, *, reason: str | None = None,
             started: float | None = None, **fields: object) -> Verdict:
    reason = reason or (YES if answer else NO)
    if ctx.services.llm is not None:
        ctx.services.llm.outcomes[outcome] += 1
    after = moved(verdict, answer, reason)
    extra: dict[str, object] = {"outcome": outcome, "reason": reason, "verdict_before": verdict.kind,
                                "verdict": after.kind, **{k: v for k, v in fields.items() if v is not None}}
    if started is not None:
        extra["ms"] = round((asyncio.get_running_loop().time() - started) * 1000)
    ctx.log.info("second opinion", extra=extra)
    return after
