"""Public response-time figures on the webhook port: JSON, an SVG badge, a shields.io endpoint.

    GET /stats/OWNER/REPO.json   the figures
    GET /badge/OWNER/REPO.svg    the badge, drawn here
    GET /badge/OWNER/REPO.json   shields.io's endpoint JSON (img.shields.io/endpoint?url=...)

Each answer is read from one fact in the store (bot/reports/transparency.py keeps it, computed
when a report closes): no GitHub call per request, no report read. Each process keeps what it read
for CACHE_SECONDS (at most CACHE_ENTRIES repositories, unknown names included), so a flood of
badge requests costs the store one read per repository every few seconds and leaves the intake
alone; the figures it shows can lag a close by that long. A repository that does not
publish its figures, or that Secbot does not know, gets the same 404, so nobody learns whether a
repository uses Secbot from here. Answers carry an ETag and may be cached for five minutes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson
from aiohttp import web
from cachetools import TTLCache

from bot.rules.transparency import Figures, shields, svg
from bot.store.facts import Facts
from bot.web.keys import CLOCK, STORE

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
CACHE = "public, max-age=300"
CACHE_SECONDS = 10.0
CACHE_ENTRIES = 4096
_MISSING = object()
READ: web.AppKey["TTLCache[str, Any]"] = web.AppKey("badge_reads")


def routes(app: web.Application) -> None:
    clock = app[CLOCK]
    app[READ] = TTLCache(maxsize=CACHE_ENTRIES, ttl=CACHE_SECONDS, timer=clock.now)
    app.router.add_get("/stats/{owner}/{repo}.json", stats_json)
    app.router.add_get("/badge/{owner}/{repo}.svg", badge_svg)
    app.router.add_get("/badge/{owner}/{repo}.json", badge_shields)


async def _figures(request: web.Request) -> dict | None:  # type: ignore[type-arg]
    owner, repo = request.match_info["owner"], request.match_info["repo"]
    if not (_NAME.fullmatch(owner) and _NAME.fullmatch(repo)):
        return None
    key = f"public-stats:{owner}/{repo}".lower()
    cache = request.app[READ]
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = await Facts(request.app[STORE]).get(key, request.app[CLOCK].now())
        cache[key] = found
    return found if isinstance(found, dict) else None


def _as_figures(data: dict) -> Figures:  # type: ignore[type-arg]
    if not data.get("enough_reports"):
        return Figures(enough=False)
    hours = data.get("median_first_response_hours")
    return Figures(enough=True, first_response=None if hours is None else float(hours) * 3600.0,
                   within_target=data.get("acknowledged_within_target"))


def _answer(request: web.Request, body: bytes, content_type: str) -> web.Response:
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"Cache-Control": CACHE, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, headers=headers)


def _missing() -> web.Response:
    return web.json_response({"message": "no public figures for this repository"}, status=404,
                             headers={"Cache-Control": CACHE})


async def stats_json(request: web.Request) -> web.Response:
    data = await _figures(request)
    if data is None:
        return _missing()
    return _answer(request, orjson.dumps(data), "application/json")


async def badge_svg(request: web.Request) -> web.Response:
    data = await _figures(request)
    if data is None:
        return _missing()
    response = _answer(request, svg(_as_figures(data)).encode(), "image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


async def badge_shields(request: web.Request) -> web.Response:
    data = await _figures(request)
    if data is None:
        return _missing()
    return _answer(request, orjson.dumps(shields(_as_figures(data))), "application/json")
