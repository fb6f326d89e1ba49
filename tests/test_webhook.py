"""POST /webhook: verify, store, answer; and the process settings it depends on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from bot.app import CLOCK, STORE, create_app
from bot.queue import Queue
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


async def test_signed_ping_is_answered_200_and_not_stored(client: TestClient) -> None:
    body = orjson.dumps({"zen": "Keep it logically awesome.", "hook": {"id": 1, "app_id": 7}})
    resp = await client.post("/webhook", data=body, headers=delivery_headers("ping", body))
    assert resp.status == 200
    assert await jobs_of(client) == []


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
