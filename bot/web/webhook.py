"""POST /webhook: check size and signature, store the delivery, answer. No GitHub calls here."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any
from urllib.parse import parse_qs

import orjson
import simdjson
from aiohttp import web

from bot import logs
from bot.errors import describe_error
from bot.web import metrics
from bot.web.keys import INTAKE, METRICS, SETTINGS

log = logs.get("secbot.webhook")
# Checking that a body is JSON and reading three fields from it needs no Python objects for the
# rest: simdjson validates the whole document and leaves it on its own tape, where orjson would
# build every dict and string (the figures: bench/README.md). The workers parse it in full.
_parser = simdjson.Parser()


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _too_large() -> web.Response:
    return _json_error(413, "payload too large (GitHub sends at most 25 MB)")


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


def _answer(status: int, data: dict[str, object]) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def receive(request: web.Request) -> web.Response:
    event, outcome, response = await _receive(request)
    request.app[METRICS].count_delivery(event, outcome)
    return response


async def _receive(request: web.Request) -> tuple[str, str, web.Response]:
    """(event label, outcome, answer). The label is the event header once the signature is good."""
    unverified = metrics.UNVERIFIED
    settings = request.app[SETTINGS]
    length = request.content_length
    if length is not None and length > settings.max_body_bytes:
        return unverified, metrics.TOO_LARGE, _too_large()
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return unverified, metrics.TOO_LARGE, _too_large()
    assert settings.webhook_secret is not None  # serve refuses to start without it
    headers = request.headers
    if not signature_ok(settings.webhook_secret.get().encode(), body, headers.get("X-Hub-Signature-256")):
        log.warning("refused a delivery with a missing or wrong signature",
                    extra={"delivery": headers.get("X-GitHub-Delivery", "")[:80], "remote": request.remote})
        return unverified, metrics.BAD_SIGNATURE, _json_error(401, "missing or invalid X-Hub-Signature-256")
    event = headers.get("X-GitHub-Event", "")
    delivery = headers.get("X-GitHub-Delivery", "")
    if not event or not delivery or len(delivery) > 80 or len(event) > 60:
        return event, metrics.BAD_REQUEST, _json_error(400, "X-GitHub-Event and X-GitHub-Delivery headers are required")
    try:
        if headers.get("Content-Type", "").lower().startswith("application/x-www-form-urlencoded"):
            body = parse_qs(body.decode())["payload"][0].encode()
        summary = _summary(body)
    except (ValueError, KeyError, IndexError):  # UnicodeDecodeError is a ValueError
        return event, metrics.BAD_JSON, _json_error(400, "the body is not valid JSON")
    if summary is None:
        return event, metrics.BAD_JSON, _json_error(400, "the body must be a JSON object")
    action, installation_id, hook_id = summary
    if event == "ping":
        _bound(delivery, event, action).info("ping", extra={"hook": hook_id})
        return event, metrics.PING, _answer(200, {"ok": True, "pong": delivery})
    name = f"{event}.{action}" if isinstance(action, str) else event
    intake = request.app[INTAKE]
    try:
        new = await intake.submit(intake.queue.delivery_row(delivery, name[:80], installation_id, body))
    except Exception as exc:  # noqa: BLE001 - the store is down: GitHub records a failure we can redeliver
        _bound(delivery, event, action).error("could not store a delivery", extra={"error": describe_error(exc)})
        return event, metrics.STORE_DOWN, _json_error(503, "could not store the delivery; please redeliver")
    if not new:
        _bound(delivery, event, action).info("duplicate delivery ignored")
        return event, metrics.DUPLICATE, _answer(200, {"delivery": delivery, "queued": False, "duplicate": True})
    if log.isEnabledFor(logging.DEBUG):  # the common case: bind a logger only when it will write
        _bound(delivery, event, action).debug("delivery stored", extra={"installation": installation_id})
    return event, metrics.STORED, _answer(202, {"delivery": delivery, "queued": True})


def _summary(body: bytes) -> tuple[str | None, int | None, object] | None:
    """Validate the body as JSON; return its `action`, `installation.id` and `hook.id`, or None
    if it is not a JSON object. Raises ValueError if it is not JSON (or not UTF-8).

    Only these plain values leave: the parsed document is released before the request waits
    for its commit (the parser holds one document at a time, and a payload kept alive across
    that wait by every request in flight would reach the GC's older generations).
    What simdjson accepts, orjson (the workers' parser) must accept too: a byte order mark is
    refused here as it is there, and what simdjson cannot hold (integers beyond 64 bits,
    nesting beyond its depth) is left to orjson to decide.
    """
    if body.startswith(b"\xef\xbb\xbf"):
        raise ValueError("a byte order mark before the JSON")
    try:
        doc = _parser.parse(body)
    except RuntimeError:
        data = orjson.loads(body)
        return _fields(data, dict) if isinstance(data, dict) else None
    try:
        return _fields(doc, simdjson.Object) if isinstance(doc, simdjson.Object) else None
    finally:
        del doc


def _fields(doc: Any, obj: type) -> tuple[str | None, int | None, object]:
    """(action, installation.id, hook.id) of a parsed payload, each a plain value or None.

    Which keys are there is read first: simdjson's `get` raises and catches an exception for a
    missing key, which costs several times what listing the top-level keys does (bench/README.md),
    and most deliveries have no `hook`, `push` has no `action`."""
    keys = set(doc.keys())
    action = doc.get("action") if "action" in keys else None
    installation = doc.get("installation") if "installation" in keys else None
    hook = doc.get("hook") if "hook" in keys else None
    installation_id = installation.get("id") if isinstance(installation, obj) else None
    hook_id = hook.get("id") if isinstance(hook, obj) else None
    return (action if isinstance(action, str) else None,
            installation_id if type(installation_id) is int else None,
            hook_id if isinstance(hook_id, (int, str)) else None)


def _bound(delivery: str, event: str, action: object) -> logs.Bound:
    return log.bind(delivery=delivery, event=event, action=action)
