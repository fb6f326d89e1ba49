"""Turns a claimed job into handler calls.

Webhook jobs go through the gidgethub routers of `handlers/`, each matching handler called on
its own in a fixed order (router order, then source order), so one failure does not stop the
others; the job fails (and is retried) if any handler failed, and handlers are idempotent.
Scheduled jobs go to the function registered for their kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import orjson
from gidgethub import routing, sansio

from bot import logs
from bot.errors import RateLimited, ReportableError, describe_error
from bot.github.turns import in_lane
from bot.jobs.context import Context, Services
from bot.jobs.queue import WEBHOOK, Job
from bot.rules import lanes

Handler = Callable[[sansio.Event, Context], Awaitable[None]]
JobHandler = Callable[[Any, Context], Awaitable[None]]

log = logs.get("secbot.dispatch")


class HandlerErrors(ReportableError):
    """One or more handlers failed; `str()` holds only safe descriptions."""


def caused_by_app(data: Mapping[str, Any], app_id: str | None, bot_login: str | None) -> bool:
    """Events our own writes caused: made through this app, or sent by its bot account."""
    via = (data.get("comment") or data.get("issue") or {}).get("performed_via_github_app") or {}
    if app_id is not None and str(via.get("id")) == str(app_id):
        return True
    sender = data.get("sender") or {}
    return bot_login is not None and sender.get("type") == "Bot" and sender.get("login") == bot_login


def routes_taken(routers: Sequence[routing.Router]) -> dict[str, frozenset[str] | None] | None:
    """The deliveries these routers take, as `bot.rules.lanes.TAKEN` writes them (by event type:
    the actions routed, or None for every action); None when a route is on another field than the
    action, so that the name of a delivery cannot tell.

    Reads gidgethub's route tables; if their shape is not the one known here, says None."""
    table: dict[str, frozenset[str] | None] = {}
    for router in routers:
        shallow, deep = getattr(router, "_shallow_routes", None), getattr(router, "_deep_routes", None)
        if not isinstance(shallow, dict) or not isinstance(deep, dict):
            return None
        for event in shallow:
            table[event] = None
        for event, keys in deep.items():
            if not isinstance(keys, dict) or set(keys) - {"action"}:
                return None
            if event not in table or table[event] is not None:
                table[event] = (table.get(event) or frozenset()) | frozenset(keys.get("action", ()))
    return table


class Dispatcher:
    def __init__(self, services: Services, routers: Sequence[routing.Router], jobs: Mapping[str, JobHandler]) -> None:
        self.services = services
        self.routers = list(routers)
        self.jobs = dict(jobs)
        self._taken = routes_taken(self.routers)

    def may_handle(self, event_name: str) -> bool:
        """Whether any handler takes a delivery of this name ("issues.labeled"), decided from the
        name alone, before the body is read: most of what GitHub sends (labels, assignees, edits
        of other fields) no handler wants, and parsing a 10-20 KB body to learn that is the
        largest cost of such a job. True (read the body) unless every route is on the event's
        type and at most its action, which the name holds."""
        if self._taken is None:
            return True
        kind, _, action = event_name.partition(".")
        return lanes.taken(kind, action or None, self._taken)

    def handlers_for(self, event: sansio.Event) -> list[Handler]:
        ordered: list[Handler] = []
        for router in self.routers:
            found = sorted(router.fetch(event), key=lambda f: (f.__module__, f.__code__.co_firstlineno))
            ordered.extend(f for f in found if f not in ordered)
        return ordered

    def _client(self, installation_id: int | None) -> Any:
        gh = self.services.github
        return gh.client(installation_id) if gh is not None and installation_id else None

    async def run(self, job: Job) -> None:
        with in_lane(job.lane):  # its GitHub requests wait for their turns in its lane (bot/github/turns.py)
            await self._run(job)

    async def _run(self, job: Job) -> None:
        if job.kind == WEBHOOK:
            await self.run_delivery(job)
            return
        handler = self.jobs.get(job.kind)
        if handler is None:
            raise HandlerErrors(f"no handler for job kind {job.kind!r}")
        payload = job.data()
        event = sansio.Event(payload.get("event_data", {}), event=job.kind, delivery_id=f"job-{job.id}")
        ctx = Context(
            event=event, services=self.services, gh=self._client(job.installation_id),
            log=logs.get("secbot.job", job=job.id, kind=job.kind, installation=job.installation_id), job_id=job.id,
            job_attempt=job.attempts,
        )
        await handler(payload, ctx)

    async def run_delivery(self, job: Job) -> None:
        if not self.may_handle(job.event or ""):
            return
        data = orjson.loads(job.payload)
        name = (job.event or "").split(".", 1)[0]
        event = sansio.Event(data, event=name, delivery_id=job.delivery_id or "")
        repo = (data.get("repository") or {}).get("full_name")
        installation_id = (data.get("installation") or {}).get("id")
        bound = logs.get("secbot.handler", delivery=job.delivery_id, event=job.event, installation=installation_id,
                         repo=repo, job=job.id)
        settings = self.services.settings
        if caused_by_app(data, settings.app_id, self.services.bot_login):
            bound.debug("ignored: caused by this app")
            return
        handlers = self.handlers_for(event)
        if not handlers:
            bound.debug("no handler for this event")
            return
        ctx = Context(event=event, services=self.services, gh=self._client(installation_id), log=bound, job_id=job.id,
                      job_attempt=job.attempts)
        failures: list[str] = []
        rate_limited: RateLimited | None = None
        for handler in handlers:
            name = f"{handler.__module__}.{handler.__name__}"
            try:
                await handler(event, ctx)
            except RateLimited as exc:
                rate_limited = exc
                bound.warning("handler deferred by a rate limit", extra={"handler": name})
            except Exception as exc:  # noqa: BLE001 - every handler gets its turn
                failures.append(f"{name}: {describe_error(exc)}")
                bound.error("handler failed", extra={"handler": name, "error": describe_error(exc)})
        if failures:
            raise HandlerErrors("; ".join(failures))
        if rate_limited is not None:
            raise rate_limited
