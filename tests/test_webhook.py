"""POST /webhook: verify, store, answer; and the process settings it depends on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from bot.jobs.queue import Queue
from bot.web.app import create_app
from bot.web.keys import CLOCK, STORE
from tests.conftest import delivery_headers, make_settings, sign

ISSUE_OPENED = {
    "action": "opened",
    "issue": {"number": 1, "title": "t", "body": "b", "user": {"login": "u", "type": "User"}},
    "repository": {"full_name": "o/r", "private": False},
    "installation": {"id": 42},
    "sender": {"login": "u", "type": "User"},
}


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> TestClient:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    return await aiohttp_client(create_app(settings, routers=[], jobs={}, workers=False))


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
