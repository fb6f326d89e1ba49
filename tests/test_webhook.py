"""POST /webhook: verify, store, answer; and the process settings it depends on."""

from __future__ import annotations

import asyncio
import gzip
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.jobs.queue import Queue
from bot.rules import lanes
from bot.web.app import create_app, server_options
from bot.web.keys import CLOCK, RECEIVER, STORE
from tests.conftest import delivery_headers, make_settings, sign

ISSUE_OPENED = {
    "action": "opened",
    "issue": {"number": 1, "title": "t", "body": "b", "user": {"login": "u", "type": "User"}},
    "repository": {"full_name": "o/r", "private": False},
    "installation": {"id": 42},
    "sender": {"login": "u", "type": "User"},
}


async def serve_app(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path, *, taken: Any = None,
                    **overrides: Any) -> TestClient:
    """The app on a test server with the options `secbot serve` gives aiohttp (`taken`: see create_app)."""
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", **overrides)
    server = await aiohttp_server(create_app(settings, routers=[], jobs={}, workers=False, taken=taken),
                                  **server_options(settings))
    return await aiohttp_client(server)


@pytest.fixture
async def client(aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> TestClient:
    return await serve_app(aiohttp_server, aiohttp_client, tmp_path)


async def jobs_of(client: TestClient) -> list[Any]:
    return await Queue(client.app[STORE], client.app[CLOCK]).list()


async def test_signed_ping_is_answered_200_and_not_stored(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    body = orjson.dumps({"zen": "Keep it logically awesome.", "hook": {"id": 1, "app_id": 7}})
    with caplog.at_level("INFO", logger="secbot.webhook"):
        resp = await client.post("/webhook", data=body, headers=delivery_headers("ping", body))
    assert resp.status == 200
    assert await jobs_of(client) == []
    assert [r.hook for r in caplog.records if r.getMessage() == "ping"] == [1]  # type: ignore[attr-defined]


async def test_signed_delivery_is_stored_once_and_answered_202(client: TestClient) -> None:
    body = orjson.dumps(ISSUE_OPENED)
    headers = delivery_headers("issues", body, delivery="abc-123")
    resp = await client.post("/webhook", data=body, headers=headers)
    assert resp.status == 202
    again = await client.post("/webhook", data=body, headers=headers)
    assert again.status == 200 and (await again.json())["duplicate"] is True
    [job] = await jobs_of(client)
    assert (job.kind, job.delivery_id, job.event, job.installation_id, job.state) == (
        "webhook", "abc-123", "issues.opened", 42, "queued"
    )
    assert job.payload == body  # the raw bytes, exactly as GitHub sent them


async def test_a_delivery_no_handler_takes_is_stored_as_done_and_never_claimed(
        aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    # Labels, assignees, closed issues: most of what GitHub sends. Kept like every delivery, but no
    # worker claims it, decodes its body or completes it. (`secbot serve` gives `lanes.taken`.)
    client = await serve_app(aiohttp_server, aiohttp_client, tmp_path, taken=lanes.taken)
    body = orjson.dumps({**ISSUE_OPENED, "action": "labeled", "label": {"name": "bug"}})
    resp = await client.post("/webhook", data=body, headers=delivery_headers("issues", body, delivery="lbl-1"))
    assert resp.status == 202 and (await resp.json())["queued"] is False
    taken = orjson.dumps(ISSUE_OPENED)
    resp = await client.post("/webhook", data=taken, headers=delivery_headers("issues", taken, delivery="opn-1"))
    assert resp.status == 202 and (await resp.json())["queued"] is True
    by_delivery = {j.delivery_id: j for j in await jobs_of(client)}
    assert (by_delivery["lbl-1"].state, by_delivery["opn-1"].state) == ("done", "queued")
    assert by_delivery["lbl-1"].payload == body and by_delivery["lbl-1"].finished_at is not None
    queue = Queue(client.app[STORE], client.app[CLOCK])
    assert [j.delivery_id for j in await queue.claim("w", 10)] == ["opn-1"]
    again = await client.post("/webhook", data=body, headers=delivery_headers("issues", body, delivery="lbl-1"))
    assert again.status == 200 and (await again.json())["duplicate"] is True  # a redelivery is still one


async def test_a_server_not_told_what_its_handlers_take_queues_every_delivery(client: TestClient) -> None:
    # Other handlers than those of handlers/ (an extension, a test's probe) may take anything.
    body = orjson.dumps({**ISSUE_OPENED, "action": "labeled", "label": {"name": "bug"}})
    resp = await client.post("/webhook", data=body, headers=delivery_headers("issues", body, delivery="lbl-2"))
    assert resp.status == 202 and (await resp.json())["queued"] is True
    assert [(j.delivery_id, j.state) for j in await jobs_of(client)] == [("lbl-2", "queued")]


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", "sha256=zz"])
async def test_missing_or_wrong_signature_is_refused_and_nothing_stored(client: TestClient, signature: str | None) -> None:
    body = orjson.dumps(ISSUE_OPENED)
    headers = delivery_headers("issues", body)
    if signature is None:
        del headers["X-Hub-Signature-256"]
    else:
        headers["X-Hub-Signature-256"] = signature
    resp = await client.post("/webhook", data=body, headers=headers)
    assert resp.status == 401
    assert await jobs_of(client) == []


async def test_signature_made_with_another_secret_is_refused(client: TestClient) -> None:
    body = orjson.dumps(ISSUE_OPENED)
    resp = await client.post("/webhook", data=body, headers=delivery_headers("issues", body, secret="other"))
    assert resp.status == 401


async def test_body_over_25_mib_is_refused_with_413(client: TestClient) -> None:
    body = b'{"a":"' + b"x" * (25 * 1024 * 1024) + b'"}'
    resp = await client.post("/webhook", data=body, headers=delivery_headers("issues", body))
    assert resp.status == 413
    assert await jobs_of(client) == []


async def test_truncated_json_is_refused_with_400(client: TestClient) -> None:
    body = orjson.dumps(ISSUE_OPENED)[:-10]
    resp = await client.post("/webhook", data=body, headers=delivery_headers("issues", body))
    assert resp.status == 400
    assert "JSON" in (await resp.json())["error"]
    assert await jobs_of(client) == []


# Bodies at the edges of JSON. What the webhook accepts, the workers parse with orjson: the two
# must agree, or a delivery would be stored that no worker can read.
EDGE_BODIES = [
    b"", b"   ", b"null", b"[1]", b'"text"', b"{}", b' {"a": 1} ', b'{"a": 1} x', b'{"a": 1}{"b": 2}',
    b"\xef\xbb\xbf{}", b'{"n": 123456789012345678901234567890}', b'{"n": -9223372036854775809}',
    b'{"n": 18446744073709551615}', b'{"f": 1e400}', b'{"n": NaN}', b'{"n": 01}', b'{"s": "\\ud800"}',
    b'{"s": "\xff"}', b'{"s": "tab\there"}', b'{"a": 1, "a": 2}', b"[" * 2000 + b"]" * 2000,
    b'{"deep": ' + b"[" * 600 + b"]" * 600 + b"}", b'{"a": [1, 2,]}', b"{'a': 1}",
]


def orjson_reads_an_object(body: bytes) -> bool:
    try:
        return isinstance(orjson.loads(body), dict)
    except orjson.JSONDecodeError:
        return False


@pytest.mark.parametrize("body", EDGE_BODIES, ids=range(len(EDGE_BODIES)))
async def test_the_webhook_accepts_exactly_the_bodies_the_workers_can_parse(client: TestClient, body: bytes) -> None:
    resp = await client.post("/webhook", data=body, headers=delivery_headers("issues", body))
    assert (resp.status == 202) == orjson_reads_an_object(body), resp.status
    if resp.status != 202:
        assert resp.status == 400 and await jobs_of(client) == []


@pytest.mark.parametrize(("fields", "event", "installation_id"), [
    ({"action": "opened", "installation": {"id": 7}}, "issues.opened", 7),
    ({"action": {"not": "a name"}, "installation": {"id": "7"}}, "issues", None),
    ({"action": 5, "installation": [7]}, "issues", None),
    ({"installation": {"id": True}}, "issues", None),
    ({"action": "closed", "installation": {"id": 123456789012345678901234567890}}, "issues.closed", None),
    ({"action": "opened"}, "issues.opened", None),
    ({"ref": "refs/heads/main", "installation": {"id": 8}}, "issues", 8),
    ({"hook": {"id": 1}, "action": None, "installation": None}, "issues", None),
])
async def test_event_name_and_installation_are_read_only_from_fields_of_the_right_type(
        client: TestClient, fields: dict[str, Any], event: str, installation_id: int | None) -> None:
    body = _dumps(fields)
    resp = await client.post("/webhook", data=body, headers=delivery_headers("issues", body))
    assert resp.status == 202
    [job] = await jobs_of(client)
    assert (job.event, job.installation_id, job.payload) == (event, installation_id, body)


def _dumps(data: Any) -> bytes:
    import json

    return json.dumps(data).encode()  # the standard library writes integers of any size


async def test_missing_event_header_is_refused_with_400(client: TestClient) -> None:
    body = orjson.dumps(ISSUE_OPENED)
    headers = delivery_headers("issues", body)
    del headers["X-GitHub-Event"]
    resp = await client.post("/webhook", data=body, headers=headers)
    assert resp.status == 400


async def test_form_encoded_delivery_is_accepted(client: TestClient) -> None:
    from urllib.parse import urlencode

    body = urlencode({"payload": orjson.dumps(ISSUE_OPENED).decode()}).encode()
    headers = delivery_headers("issues", body)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    resp = await client.post("/webhook", data=body, headers=headers)
    assert resp.status == 202


async def test_healthz_reports_the_store(client: TestClient) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["store"] == "up"


def test_serve_without_a_webhook_secret_exits_naming_the_variable(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "GITHUB_APP_ID": "1"}
    proc = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent, timeout=60)
    assert proc.returncode != 0
    assert "GITHUB_WEBHOOK_SECRET" in proc.stderr


def test_signature_helper_matches_githubs_scheme() -> None:
    # Example from GitHub's docs on validating deliveries.
    assert sign(b"Hello, World!", "It's a Secret to Everybody") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


# -- what an unsigned request can cost (issue 17) ----------------------------------------------------
# These speak HTTP over a raw socket: a test client would neither send a malformed header nor stop
# half-way through a body.


def head(headers: dict[str, str | bytes], *, length: int | None, path: str = "/webhook") -> bytes:
    lines = [f"POST {path} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    for name, value in headers.items():
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    if length is not None:
        lines.append(f"Content-Length: {length}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def status_of(reader: asyncio.StreamReader, timeout: float = 5.0) -> int:
    """The status of the next answer on the connection (its headers are read, its body is not)."""
    line = await asyncio.wait_for(reader.readline(), timeout)
    assert line.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), line
    while (await asyncio.wait_for(reader.readline(), timeout)) not in (b"\r\n", b""):
        pass
    return int(line.split()[1])


async def closed_within(reader: asyncio.StreamReader, timeout: float) -> float:
    """Seconds until the server closed the connection (whatever it sent before is read and dropped)."""
    started = time.monotonic()
    while True:
        try:
            data = await asyncio.wait_for(reader.read(65536), timeout - (time.monotonic() - started))
        except ConnectionResetError:
            data = b""
        if not data:
            return time.monotonic() - started


async def connect(client: TestClient) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    assert client.server.port is not None
    return await asyncio.open_connection("127.0.0.1", client.server.port)


async def test_a_compressed_body_is_refused_415_without_being_inflated(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import aiohttp.http_parser

    inflaters: list[object] = []
    real = aiohttp.http_parser.ZLibDecompressor
    monkeypatch.setattr(aiohttp.http_parser, "ZLibDecompressor",
                        lambda *a, **kw: inflaters.append(1) or real(*a, **kw))
    bomb = gzip.compress(b"{" + b" " * (64 * 1024 * 1024) + b"}", compresslevel=9)  # 64 MB in ~64 KB
    headers = {**delivery_headers("issues", bomb), "Content-Encoding": "gzip"}
    reader, writer = await connect(client)
    writer.write(head(headers, length=len(bomb)) + bomb)
    assert await status_of(reader) == 415
    writer.close()
    assert inflaters == []  # aiohttp never started to inflate it
    assert client.app[RECEIVER].held.peak == 0  # and the view read none of it
    assert await jobs_of(client) == []


async def test_an_unsigned_20_mb_body_is_refused_after_its_first_chunk_without_being_kept(client: TestClient) -> None:
    body_size = 20 * 1024 * 1024
    headers = delivery_headers("issues", b"")
    del headers["X-Hub-Signature-256"]
    reader, writer = await connect(client)
    writer.write(head(headers, length=body_size) + b"x" * 65536)  # the first chunk; the rest never comes
    assert await status_of(reader, timeout=3) == 401  # answered without waiting for the other 19.9 MB
    assert client.app[RECEIVER].held.peak == 0
    assert await closed_within(reader, 5) < 5  # and the connection is not kept for the rest
    writer.close()


@pytest.mark.parametrize("header", [
    "sha256=" + "é" * 64, b"sha256=" + b"\xff" * 64, "sha256=" + "\u0660" * 64,  # non-ASCII (Arabic-Indic digits)
    "sha1=" + "0" * 40, "SHA256=" + "0" * 64, "sha256:" + "0" * 64, "sha256=" + "0" * 63, "sha256=" + "0" * 65,
    "sha256=" + "g" * 64, "sha256=" + "00 " * 21 + "0", "sha256=", "", "=" * 71,
], ids=range(13))
async def test_a_malformed_signature_header_is_answered_401_never_500(client: TestClient, header: str | bytes) -> None:
    body = orjson.dumps(ISSUE_OPENED)
    headers: dict[str, str | bytes] = {**delivery_headers("issues", body), "X-Hub-Signature-256": header}
    reader, writer = await connect(client)
    writer.write(head(headers, length=len(body)) + body)
    assert await status_of(reader) == 401
    writer.close()
    assert await jobs_of(client) == []


async def test_a_signature_in_capitals_is_still_accepted(client: TestClient) -> None:
    body = orjson.dumps(ISSUE_OPENED)
    headers = delivery_headers("issues", body)
    headers["X-Hub-Signature-256"] = "sha256=" + headers["X-Hub-Signature-256"][7:].upper()
    assert (await client.post("/webhook", data=body, headers=headers)).status == 202


async def test_an_idle_connection_and_trickled_headers_are_closed_by_the_read_timeout(
        aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    client = await serve_app(aiohttp_server, aiohttp_client, tmp_path, read_timeout=1.0)
    idle_reader, idle_writer = await connect(client)
    reader, writer = await connect(client)
    request = head(delivery_headers("issues", b"{}"), length=2)

    async def trickle() -> None:
        for i in range(len(request) - 4):  # never the blank line that ends the headers
            writer.write(request[i:i + 1])
            await asyncio.sleep(0.05)

    trickling = asyncio.create_task(trickle())
    try:
        assert await closed_within(idle_reader, 6) < 3
        assert await closed_within(reader, 6) < 3
    finally:
        trickling.cancel()
        idle_writer.close()
        writer.close()


async def test_a_trickled_body_is_answered_408_and_its_connection_closed(
        aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    client = await serve_app(aiohttp_server, aiohttp_client, tmp_path, read_timeout=1.0)
    body = orjson.dumps(ISSUE_OPENED)
    reader, writer = await connect(client)
    started = time.monotonic()
    writer.write(head(delivery_headers("issues", body), length=len(body)) + body[:1])  # then one byte a while

    async def trickle() -> None:
        for i in range(1, len(body)):
            await asyncio.sleep(0.2)
            writer.write(body[i:i + 1])

    trickling = asyncio.create_task(trickle())
    try:
        assert await status_of(reader) == 408
        assert time.monotonic() - started < 3
        assert await closed_within(reader, 6) < 4
    finally:
        trickling.cancel()
        writer.close()
    assert client.app[RECEIVER].held.held == 0
    assert await jobs_of(client) == []


async def test_bodies_over_what_all_connections_may_hold_are_answered_503_at_once(
        aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    client = await serve_app(aiohttp_server, aiohttp_client, tmp_path, max_buffered_bytes=1024 * 1024)
    held = client.app[RECEIVER].held
    big = b'{"a":"' + b"x" * (900 * 1024) + b'"}'
    first_reader, first = await connect(client)
    first.write(head(delivery_headers("issues", big), length=len(big)) + big[:600 * 1024])  # and then it waits
    for _ in range(100):
        if held.held >= 600 * 1024:
            break
        await asyncio.sleep(0.02)
    assert held.held == 600 * 1024
    reader, writer = await connect(client)
    started = time.monotonic()
    writer.write(head(delivery_headers("issues", big), length=len(big)) + big)
    assert await status_of(reader) == 503
    assert time.monotonic() - started < 2  # at once, not after the first body's read timeout
    writer.close()
    assert held.peak <= 1024 * 1024
    first.write(big[600 * 1024:])  # the first body completes and is stored
    assert await status_of(first_reader) == 202
    first.close()
    assert held.held == 0
    assert len(await jobs_of(client)) == 1


async def test_a_wrongly_signed_body_is_held_only_under_the_limit_and_never_stored(
        aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    client = await serve_app(aiohttp_server, aiohttp_client, tmp_path, max_buffered_bytes=1024 * 1024)
    big = b"x" * (20 * 1024 * 1024)
    headers = {**delivery_headers("issues", b"{}"), "X-Hub-Signature-256": "sha256=" + "0" * 64}  # well-formed, wrong
    reader, writer = await connect(client)
    writer.write(head(headers, length=len(big)))
    for offset in range(0, 2 * 1024 * 1024, 65536):  # 2 MB of it
        writer.write(big[offset:offset + 65536])
    assert await status_of(reader) == 503
    writer.close()
    held = client.app[RECEIVER].held
    assert held.peak <= 1024 * 1024 and held.held == 0
    assert await jobs_of(client) == []


async def test_a_chunked_body_over_25_mib_is_refused_413_and_nothing_stays_held(
        aiohttp_server: Any, aiohttp_client: Any, tmp_path: Path) -> None:
    client = await serve_app(aiohttp_server, aiohttp_client, tmp_path, max_buffered_bytes=64 * 1024 * 1024)
    reader, writer = await connect(client)
    writer.write(head({**delivery_headers("issues", b"{}"), "Transfer-Encoding": "chunked"}, length=None))
    piece = b"x" * (1024 * 1024)
    for _ in range(27):  # no Content-Length to refuse it by: it is counted as it arrives
        try:
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            await writer.drain()
        except ConnectionError:  # refused, and the connection closed, before the rest was sent
            break
    status = await status_of(reader)
    writer.close()
    held = client.app[RECEIVER].held
    assert status == 413 and held.held == 0 and held.peak <= 25 * 1024 * 1024 + len(piece)
    assert await jobs_of(client) == []


async def test_a_delivery_sent_in_many_chunks_is_verified_and_stored_whole(client: TestClient) -> None:
    body = orjson.dumps({**ISSUE_OPENED, "padding": "p" * 300_000})
    headers = delivery_headers("issues", body, delivery="chunked-1")
    reader, writer = await connect(client)
    writer.write(head({**headers, "Transfer-Encoding": "chunked"}, length=None))
    for offset in range(0, len(body), 50_000):
        piece = body[offset:offset + 50_000]
        writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        await writer.drain()
        await asyncio.sleep(0.01)
    writer.write(b"0\r\n\r\n")
    assert await status_of(reader) == 202
    writer.close()
    [job] = await jobs_of(client)
    assert job.payload == body
    assert client.app[RECEIVER].held.held == 0


async def test_the_webhook_listener_serves_no_metrics(client: TestClient) -> None:
    assert (await client.get("/metrics")).status == 404


# -- fuzzing: whatever arrives, never a 5xx, and nothing stored without a good signature ------------

# A few seconds in the suite; SECBOT_FUZZ_EXAMPLES=3000 for a longer search (about a minute).
FUZZ_EXAMPLES = int(os.environ.get("SECBOT_FUZZ_EXAMPLES", "60"))

_header_text = st.one_of(st.text(max_size=90), st.binary(max_size=90).map(lambda b: b.decode("latin-1")))
_header_bytes = st.binary(max_size=90).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
_json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
).map(_dumps)  # the standard library writes integers of any size, and Infinity
_bodies = st.one_of(st.binary(max_size=3000), _json_bodies,
                    st.fixed_dictionaries({"action": st.text(max_size=20), "installation": st.fixed_dictionaries(
                        {"id": st.integers()})}).map(_dumps))


@st.composite
def requests(draw: Any) -> tuple[bytes, bool]:
    """(the raw request, whether it carries a good signature of its body)."""
    body = draw(_bodies)
    headers: dict[str, str | bytes] = {}
    signature = draw(st.sampled_from(["good", "none", "text", "bytes", "hex"]))
    if signature == "good":
        headers["X-Hub-Signature-256"] = sign(body)
    elif signature == "text":
        headers["X-Hub-Signature-256"] = draw(_header_text).replace("\r", "").replace("\n", "")
    elif signature == "bytes":
        headers["X-Hub-Signature-256"] = draw(_header_bytes)
    elif signature == "hex":
        headers["X-Hub-Signature-256"] = "sha256=" + draw(st.text("0123456789abcdefABCDEF", max_size=70))
    for name, choices in (("X-GitHub-Event", st.sampled_from(["issues", "ping", "issue_comment", ""]) | _header_bytes),
                          ("X-GitHub-Delivery", st.uuids().map(str) | _header_bytes),
                          ("Content-Type", st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                                                            "text/plain"]) | _header_bytes),
                          ("Content-Encoding", st.sampled_from(["identity", "gzip", "deflate", "br", ""])),
                          ("User-Agent", _header_bytes),
                          ("X-Fuzz", _header_bytes)):
        if draw(st.booleans()):
            headers[name] = draw(choices)
    chunked = draw(st.booleans())
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
        cut = draw(st.integers(0, len(body)))
        pieces = [p for p in (body[:cut], body[cut:]) if p]
        payload = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
    else:
        payload = body
    headers["Connection"] = "close"
    return head(headers, length=None if chunked else len(body)) + payload, signature == "good"


@hypothesis_settings(max_examples=FUZZ_EXAMPLES, deadline=3000, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(request=requests())
async def test_arbitrary_requests_never_get_a_5xx_and_only_signed_ones_are_stored(
        client: TestClient, request: tuple[bytes, bool]) -> None:
    raw, signed = request
    before = len(await jobs_of(client))
    reader, writer = await connect(client)
    writer.write(raw)
    try:
        status = await status_of(reader)
    finally:
        writer.close()
    assert status < 500, status
    if not signed:
        assert status in (400, 401, 413, 415), status
        assert len(await jobs_of(client)) == before
    elif status == 202:
        assert len(await jobs_of(client)) == before + 1
    assert client.app[RECEIVER].held.held == 0


def test_server_options_bound_idle_connections_and_never_inflate() -> None:
    options = server_options(make_settings(read_timeout=7.0))
    assert options == {"keepalive_timeout": 7.0, "lingering_time": 2.0, "auto_decompress": False}
    web.AppRunner(web.Application(), **options)  # each is an option aiohttp knows


async def test_a_flood_of_malformed_requests_is_counted_in_one_warning_not_logged_one_by_one(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    from bot.logs import MalformedRequests

    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    for f in logging.getLogger("aiohttp.server").filters:  # the filter is process-wide: start its minute now
        if isinstance(f, MalformedRequests):
            f.count, f.last = 0, float("-inf")
    for junk in (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                 b"POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                 b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n") * 4:
        reader, writer = await connect(client)
        writer.write(junk)
        assert await status_of(reader) == 400
        writer.close()
    from_server = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert [(r.levelname, getattr(r, "refused", None)) for r in from_server] == [("WARNING", 1)]
    assert all(r.exc_info is None for r in from_server)  # no traceback carrying the stranger's bytes
    resp = await client.get("/healthz")  # and the server still answers
    assert resp.status == 200


def test_the_malformed_request_count_comes_once_a_minute_with_the_ones_held_back() -> None:
    from aiohttp.http_exceptions import BadHttpMessage

    from bot.logs import MalformedRequests

    now = [0.0]
    f = MalformedRequests(every=60, clock=lambda: now[0])

    def record(exc: BaseException | None) -> logging.LogRecord:
        info = (type(exc), exc, None) if exc else None
        return logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1, "Error handling request", (), info)

    seen = []
    for t in (0, 1, 2, 59, 61, 62):
        now[0] = t
        r = record(BadHttpMessage("bad"))
        if f.filter(r):
            seen.append((t, r.levelname, r.refused))
    assert seen == [(0, "WARNING", 1), (61, "WARNING", 4)]
    assert f.filter(record(RuntimeError("a real bug"))) is True  # anything else passes untouched


@pytest.mark.parametrize(("event", "fields", "lane"), [
    ("repository_advisory", {"action": "reported"}, "reports"),
    ("issues", {"action": "opened"}, "reports"),
    ("issue_comment", {"action": "created", "comment": {"body": "Thanks!\n  /sec ack"}}, "reports"),
    ("discussion_comment", {"action": "edited", "comment": {"body": "/sec"}}, "reports"),
    ("issue_comment", {"action": "created", "comment": {"body": "see /sec ack and /security"}}, "public"),
    ("issue_comment", {"action": "created", "comment": {"body": 7}}, "public"),
    ("issues", {"action": "edited"}, "public"),
    ("issues", {"action": "labeled", "comment": {"body": "/sec ack"}}, "later"),
    ("issue_comment", {"action": "deleted", "comment": {"body": "/sec ack"}}, "later"),
    ("installation", {"action": "created"}, "public"),  # a maintainer waits for its onboarding
    ("installation", {"action": "deleted"}, "later"),
    ("push", {"ref": "refs/heads/main"}, "later"),
])
async def test_a_delivery_waits_in_the_lane_its_event_action_and_command_give(
        client: TestClient, event: str, fields: dict[str, Any], lane: str) -> None:
    body = orjson.dumps({**fields, "installation": {"id": 1}})
    resp = await client.post("/webhook", data=body, headers=delivery_headers(event, body))
    assert resp.status == 202
    [job] = await jobs_of(client)
    assert job.summary()["lane"] == lane
