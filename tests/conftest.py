"""Shared fixtures: a frozen clock, stores on SQLite and PostgreSQL, signed deliveries, the end-to-end harness."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from bot.clock import FrozenClock
from bot.settings import Secret, Settings
from bot.store import Store
from bot.store.migrate import upgrade

if TYPE_CHECKING:
    from tests.e2e import Harness

FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOK_SECRET = "test-webhook-secret"
PG_URL = os.environ.get("TEST_DATABASE_URL")


def pg_async_url() -> str:
    from bot.settings import async_database_url

    assert PG_URL
    return async_database_url(PG_URL)


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "harness(config=None, setup=None, **Harness options): what `h` puts in place")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if os.environ.get("CI") and not PG_URL:
        raise pytest.UsageError("CI must set TEST_DATABASE_URL: PostgreSQL tests may not be skipped there")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(name="h")
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """`h`: the real Secbot against the GitHub emulator (tests/e2e.py); at teardown, no request GitHub would refuse.

    A test module says what to put in place with a mark (a test's own mark replaces its module's), e.g.
        pytestmark = pytest.mark.harness(config=CONFIG, frozen=True, setup=start_on_monday_9am)
    config: the text of the repository's .github/secbot.yml; setup: called with the started harness (awaited
    if it returns an awaitable); anything else goes to Harness (frozen=True, or a setting such as dry_run=True)."""
    from tests.e2e import REPO, Harness  # here: tests/e2e.py imports this module

    mark = request.node.get_closest_marker("harness")
    options = dict(mark.kwargs) if mark else {}
    config, setup = options.pop("config", None), options.pop("setup", None)
    async with Harness(tmp_path, **options) as h:
        if config is not None:
            h.state.put_file(REPO, ".github/secbot.yml", config)
        if setup is not None and inspect.isawaitable(done := setup(h)):
            await done
        yield h
    h.state.assert_no_violations()


class Databases:
    """Open a store on a fresh database: a file in tmp_path, or a fresh PostgreSQL schema."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self._schemas: list[str] = []
        self._stores: list[Store] = []

    async def open(self, kind: str, pool_size: int = 5, revision: str = "head") -> tuple[Store, str, dict[str, Any]]:
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{self.tmp_path / 'secbot.db'}"
            args: dict[str, Any] = {}
        else:
            if not PG_URL:
                pytest.skip("TEST_DATABASE_URL is not set")
            schema = f"t_{uuid.uuid4().hex[:12]}"
            admin = Store.open(pg_async_url(), pool_size=1)
            async with admin.engine.begin() as conn:
                await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            await admin.close()
            self._schemas.append(schema)
            url = pg_async_url()
            args = {"server_settings": {"search_path": schema}}
        store = Store.open(url, pool_size=pool_size, connect_args=args)
        await upgrade(store, revision)
        self._stores.append(store)
        return store, url, args

    async def close(self) -> None:
        for store in self._stores:
            await store.close()
        if self._schemas:
            admin = Store.open(pg_async_url(), pool_size=1)
            async with admin.engine.begin() as conn:
                for schema in self._schemas:
                    await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await admin.close()


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[Databases]:
    dbs = Databases(tmp_path)
    yield dbs
    await dbs.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: Any, databases: Databases) -> Store:
    s, _, _ = await databases.open(request.param)
    return s


@pytest.fixture
async def pg_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test (async URL), dropped afterwards; for tests that
    run several processes or apps on one database (a schema search path cannot be passed to them)."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"secbot_{uuid.uuid4().hex[:10]}"
    admin = Store.open(pg_async_url(), pool_size=1)
    async with admin.engine.connect() as conn:
        await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_async_url().rsplit("/", 1)[0] + f"/{name}"
    finally:
        async with admin.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: "subprocess.Popen[bytes]", log: Path | None = None, timeout: float = 30.0) -> None:
    """Wait until a started server process accepts connections (fail if it exits first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited" + (f":\n{log.read_text()[-3000:]}" if log else "")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        webhook_secret=Secret(WEBHOOK_SECRET),
        database_url="sqlite+aiosqlite:///:memory:",
        log_format="text",
        poll_interval=0.05,
    )
    values.update(overrides)
    return Settings(**values)


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_headers(event: str, body: bytes, delivery: str | None = None, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
    }


def fixture(name: str) -> dict[str, Any]:
    """A webhook payload from tests/fixtures/webhooks (real examples; see its README)."""
    return json.loads((FIXTURES / "webhooks" / f"{name}.json").read_text())
