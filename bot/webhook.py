"""POST /webhook: check size and signature, store the delivery, answer. No GitHub calls here."""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import parse_qs

import orjson
from aiohttp import web

from bot import logs
from bot.errors import describe_error

log = logs.get("secbot.webhook")


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


def _answer(status: int, data: dict[str, object]) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def receive(request: web.Request) -> web.Response:
    from bot.app import INTAKE, SETTINGS  # the keys live with the app factory

    app = request.app
    settings = app[SETTINGS]
    length = request.content_length
    if length is not None and length > settings.max_body_bytes:
        return _json_error(413, "payload too large (GitHub sends at most 25 MB)")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _json_error(413, "payload too large (GitHub sends at most 25 MB)")
    assert settings.webhook_secret is not None  # serve refuses to start without it
    headers = request.headers
    if not signature_ok(settings.webhook_secret.get().encode(), body, headers.get("X-Hub-Signature-256")):
        log.warning("refused a delivery with a missing or wrong signature",
                    extra={"delivery": headers.get("X-GitHub-Delivery", "")[:80], "remote": request.remote})
        return _json_error(401, "missing or invalid X-Hub-Signature-256")
    event = headers.get("X-GitHub-Event", "")
    delivery = headers.get("X-GitHub-Delivery", "")
    if not event or not delivery or len(delivery) > 80 or len(event) > 60:
        return _json_error(400, "X-GitHub-Event and X-GitHub-Delivery headers are required")
    try:
        if request.content_type == "application/x-www-form-urlencoded":
            body = parse_qs(body.decode())["payload"][0].encode()
        data = orjson.loads(body)
    except (orjson.JSONDecodeError, UnicodeDecodeError, KeyError, IndexError):
        return _json_error(400, "the body is not valid JSON")
    if not isinstance(data, dict):
        return _json_error(400, "the body must be a JSON object")
    action = data.get("action")
    if event == "ping":
        _bound(delivery, event, action).info("ping", extra={"hook": (data.get("hook") or {}).get("id")})
        return _answer(200, {"ok": True, "pong": delivery})
    name = f"{event}.{action}" if isinstance(action, str) else event
    installation = data.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    intake = app[INTAKE]
    try:
        new = await intake.submit(intake.queue.delivery_row(delivery, name[:80], installation_id, body))
    except Exception as exc:  # noqa: BLE001 - the store is down: GitHub records a failure we can redeliver
        _bound(delivery, event, action).error("could not store a delivery", extra={"error": describe_error(exc)})
        return _json_error(503, "could not store the delivery; please redeliver")
    if not new:
        _bound(delivery, event, action).info("duplicate delivery ignored")
        return _answer(200, {"delivery": delivery, "queued": False, "duplicate": True})
    if log.isEnabledFor(logging.DEBUG):  # the common case: bind a logger only when it will write
        _bound(delivery, event, action).debug("delivery stored", extra={"installation": installation_id})
    return _answer(202, {"delivery": delivery, "queued": True})


def _bound(delivery: str, event: str, action: object) -> logs.Bound:
    return log.bind(delivery=delivery, event=event, action=action)
