"""POST /webhook: verify the signature as the body streams in, store the delivery, answer.
No GitHub calls here.

What an unsigned request can cost is bounded before anything else is done: a compressed body
(GitHub sends none) is refused before it is read; a request whose X-Hub-Signature-256 header is
missing or malformed is refused before its body is read; a body is hashed chunk by chunk as it
arrives and kept only up to GitHub's 25 MB, must arrive within `Settings.read_timeout`, and
all bodies held at once share `Settings.max_buffered_bytes` (beyond it: 503 at once). The
server options that bound the rest (headers, idle connections, no inflating) are
`bot.web.app.server_options`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import orjson
import simdjson
from aiohttp import web

from bot import logs
from bot.errors import describe_error
from bot.rules import lanes
from bot.settings import Settings
from bot.web import metrics
from bot.web.keys import INTAKE, METRICS, RECEIVER

log = logs.get("secbot.webhook")
# Checking that a body is JSON and reading three fields from it needs no Python objects for the
# rest: simdjson validates the whole document and leaves it on its own tape, where orjson would
# build every dict and string (the figures: bench/README.md). The workers parse it in full.
_parser = simdjson.Parser()
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
# GitHub's event names and delivery ids are short printable ASCII; anything else cannot be
# stored or labelled safely (a header's undecodable bytes arrive as lone surrogates).
_TOKEN = re.compile(r"[!-~]+")


class Held:
    """Bytes of webhook bodies held in memory across all connections, under one limit.

    A body takes its bytes as they arrive and gives them back once it is answered; what would
    go over the limit is refused (`take` is False), so many slow or large unsigned uploads at
    once cost at most `limit` bytes instead of growing until the process is killed."""

    __slots__ = ("limit", "held", "peak")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self.peak = 0  # the most held at once, for tests and the attack bench

    def take(self, n: int) -> bool:
        held = self.held + n
        if held > self.limit:
            return False
        self.held = held
        if held > self.peak:
            self.peak = held
        return True

    def give(self, n: int) -> None:
        self.held -= n


class Receiver:
    """What POST /webhook needs from the settings, prepared once per app."""

    __slots__ = ("mac", "held", "max_body", "read_timeout", "taken")

    def __init__(self, settings: Settings, taken: Callable[[str, str | None], bool] | None = None) -> None:
        """`taken`: whether some handler takes a delivery of this event and action
        (`bot.rules.lanes.taken` for the handlers of `handlers/`); the others are stored as done,
        never claimed. None: every delivery is queued for the workers (a server with other handlers)."""
        assert settings.webhook_secret is not None  # serve refuses to start without it
        # Keyed once: each request copies it (the key schedule is not recomputed per body).
        self.mac = hmac.new(settings.webhook_secret.get().encode(), digestmod=hashlib.sha256)
        self.held = Held(settings.max_buffered_bytes)
        self.max_body = settings.max_body_bytes
        self.read_timeout = settings.read_timeout
        self.taken = taken


class _Refused(Exception):
    """A request refused while its body was read: (outcome, status, message)."""

    def __init__(self, outcome: str, status: int, message: str) -> None:
        self.outcome, self.status, self.message = outcome, status, message


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _refuse(status: int, message: str) -> web.Response:
    """An answer to a request that proved nothing: the connection is closed after it (once
    aiohttp has read and dropped what is left of the body for a moment, so the client sees it)."""
    response = _json_error(status, message)
    response.force_close()
    return response


TOO_LARGE_MESSAGE = "payload too large (GitHub sends at most 25 MB)"


def parse_signature(header: str | None) -> bytes | None:
    """The digest an X-Hub-Signature-256 header carries, or None when it is missing or malformed:
    another scheme, another length, anything but hexadecimal digits (non-ASCII included)."""
    if header is None:
        return None
    match = _SIGNATURE.fullmatch(header.strip())
    return bytes.fromhex(match.group(1)) if match else None


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    expected = parse_signature(header)
    return expected is not None and hmac.compare_digest(hmac.new(secret, body, hashlib.sha256).digest(), expected)


def _answer(status: int, data: dict[str, object]) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def receive(request: web.Request) -> web.Response:
    event, outcome, response = await _receive(request)
    request.app[METRICS].count_delivery(event, outcome)
    return response


async def _receive(request: web.Request) -> tuple[str, str, web.Response]:
    """(event label, outcome, answer). The label is the event header once the signature is good."""
    unverified = metrics.UNVERIFIED
    receiver = request.app[RECEIVER]
    headers = request.headers
    if "Content-Encoding" in headers and not _identity(headers):
        # Checked before a byte of the body is read: a compressed body would be inflated first
        # (40 gzip uploads of 24 KB each once took the server from 150 MB to 2 GB).
        return unverified, metrics.BAD_ENCODING, _refuse(
            415, "Content-Encoding must be identity: GitHub sends webhook bodies uncompressed")
    length = request.content_length
    if length is not None and length > receiver.max_body:
        return unverified, metrics.TOO_LARGE, _refuse(413, TOO_LARGE_MESSAGE)
    expected = parse_signature(headers.get("X-Hub-Signature-256"))
    if expected is None:
        return _bad_signature(request)
    try:
        body = await _read_signed(request, receiver, expected)
    except _Refused as refused:
        if refused.outcome == metrics.BAD_SIGNATURE:
            return _bad_signature(request)
        return unverified, refused.outcome, _refuse(refused.status, refused.message)
    try:
        return await _store(request, body)
    finally:
        receiver.held.give(len(body))


def _identity(headers: Any) -> bool:
    return all(v.strip().lower() in ("identity", "") for v in headers.getall("Content-Encoding"))


def _bad_signature(request: web.Request) -> tuple[str, str, web.Response]:
    delivery = request.headers.get("X-GitHub-Delivery", "")[:80]
    log.warning("refused a delivery with a missing or wrong signature",
                extra={"delivery": delivery.encode("ascii", "replace").decode(), "remote": request.remote})
    return metrics.UNVERIFIED, metrics.BAD_SIGNATURE, _refuse(401, "missing or invalid X-Hub-Signature-256")


async def _read_signed(request: web.Request, receiver: Receiver, expected: bytes) -> bytes:
    """The body, hashed as it arrives; raises `_Refused` when it is too large, too slow, over the
    bytes all connections may hold, unreadable, or not signed with the webhook secret. The
    bytes it returns are held in `receiver.held` until the caller gives them back."""
    content = request.content
    held = receiver.held
    mac = receiver.mac.copy()
    chunks: list[bytes] = []
    size = 0
    deadline = None
    try:
        while True:
            try:
                chunk = content.read_nowait()  # what has arrived (usually the whole body, at once)
                if not chunk:
                    if content.at_eof():
                        break
                    if deadline is None:
                        deadline = asyncio.get_running_loop().time() + receiver.read_timeout
                    async with asyncio.timeout_at(deadline):
                        chunk = await content.readany()
                    if not chunk:
                        break
            except TimeoutError:
                raise _Refused(metrics.TOO_SLOW, 408, f"the body did not arrive within {receiver.read_timeout:g} s") from None
            except Exception:  # noqa: BLE001 - the connection broke or the framing was bad: nothing to store
                raise _Refused(metrics.BAD_REQUEST, 400, "the body could not be read") from None
            if size + len(chunk) > receiver.max_body:
                raise _Refused(metrics.TOO_LARGE, 413, TOO_LARGE_MESSAGE)
            if not held.take(len(chunk)):
                raise _Refused(metrics.BUSY, 503, "too many webhook bodies are being received at once; please redeliver")
            size += len(chunk)  # what `held` holds for this body
            mac.update(chunk)
            chunks.append(chunk)
        if not hmac.compare_digest(mac.digest(), expected):
            raise _Refused(metrics.BAD_SIGNATURE, 401, "")
    except BaseException:
        held.give(size)
        raise
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _store(request: web.Request, body: bytes) -> tuple[str, str, web.Response]:
    headers = request.headers
    event = headers.get("X-GitHub-Event", "")
    delivery = headers.get("X-GitHub-Delivery", "")
    if len(delivery) > 80 or len(event) > 60 or not _TOKEN.fullmatch(event) or not _TOKEN.fullmatch(delivery):
        return event, metrics.BAD_REQUEST, _json_error(400, "X-GitHub-Event and X-GitHub-Delivery headers are required")
    try:
        if headers.get("Content-Type", "").lower().startswith("application/x-www-form-urlencoded"):
            body = parse_qs(body.decode())["payload"][0].encode()
        summary = _summary(body, event in _COMMENTED)
    except (ValueError, KeyError, IndexError):  # UnicodeDecodeError is a ValueError
        return event, metrics.BAD_JSON, _json_error(400, "the body is not valid JSON")
    if summary is None:
        return event, metrics.BAD_JSON, _json_error(400, "the body must be a JSON object")
    action, installation_id, hook_id, command = summary
    if event == "ping":
        _bound(delivery, event, action).info("ping", extra={"hook": hook_id})
        return event, metrics.PING, _answer(200, {"ok": True, "pong": delivery})
    name = f"{event}.{action}" if isinstance(action, str) else event
    intake = request.app[INTAKE]
    try:
        # A delivery no handler takes is stored all the same, as done: no worker claims it.
        taken = request.app[RECEIVER].taken
        done = taken is not None and not taken(event, action if isinstance(action, str) else None)
        row = intake.queue.delivery_row(delivery, name[:80], installation_id, body,
                                        lanes.lane_of(event, action, command=command), done=done)
        new = await intake.submit(row)
    except Exception as exc:  # noqa: BLE001 - the store is down: GitHub records a failure we can redeliver
        _bound(delivery, event, action).error("could not store a delivery", extra={"error": describe_error(exc)})
        return event, metrics.STORE_DOWN, _json_error(503, "could not store the delivery; please redeliver")
    if not new:
        _bound(delivery, event, action).info("duplicate delivery ignored")
        return event, metrics.DUPLICATE, _answer(200, {"delivery": delivery, "queued": False, "duplicate": True})
    if log.isEnabledFor(logging.DEBUG):  # the common case: bind a logger only when it will write
        _bound(delivery, event, action).debug("delivery stored", extra={"installation": installation_id})
    return event, metrics.STORED, _answer(202, {"delivery": delivery, "queued": not done})


# Events whose `comment.body` may hold a `/sec` command, which puts the delivery in the first lane.
_COMMENTED = frozenset({"issue_comment", "discussion_comment"})


def _summary(body: bytes, commented: bool = False) -> tuple[str | None, int | None, object, bool] | None:
    """Validate the body as JSON; return its `action`, `installation.id`, `hook.id` and (when
    `commented`) whether `comment.body` holds a `/sec` command line, or None if it is not a JSON
    object. Raises ValueError if it is not JSON (or not UTF-8).

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
        return _fields(data, dict, commented) if isinstance(data, dict) else None
    try:
        return _fields(doc, simdjson.Object, commented) if isinstance(doc, simdjson.Object) else None
    finally:
        del doc


def _fields(doc: Any, obj: type, commented: bool) -> tuple[str | None, int | None, object, bool]:
    """(action, installation.id, hook.id, a /sec command in comment.body) of a parsed payload,
    each a plain value or None (the last a bool). The comment's text is read only when
    `commented` (the document is parsed already: reading one string of it costs next to nothing).

    Which keys are there is read first: simdjson's `get` raises and catches an exception for a
    missing key, which costs several times what listing the top-level keys does (bench/README.md),
    and most deliveries have no `hook`, `push` has no `action`."""
    keys = set(doc.keys())
    action = doc.get("action") if "action" in keys else None
    installation = doc.get("installation") if "installation" in keys else None
    hook = doc.get("hook") if "hook" in keys else None
    installation_id = installation.get("id") if isinstance(installation, obj) else None
    hook_id = hook.get("id") if isinstance(hook, obj) else None
    command = False
    if commented and "comment" in keys:
        comment = doc.get("comment")
        if isinstance(comment, obj) and "body" in set(comment.keys()):
            command = lanes.is_command(comment.get("body"))
    return (action if isinstance(action, str) else None,
            installation_id if type(installation_id) is int else None,
            hook_id if isinstance(hook_id, (int, str)) else None,
            command)


def _bound(delivery: str, event: str, action: object) -> logs.Bound:
    return log.bind(delivery=delivery, event=event, action=action)
