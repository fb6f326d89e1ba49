"""End-to-end harness: the real Secbot server on a real port, talking HTTP to the GitHub emulator.

    async with Harness(tmp_path) as h:
        h.state.open_issue(...)
        await h.deliver("issues", h.payloads.issues("opened", REPO, 1, "reporter"))
        await h.settle()
        ... assert on h.state (what GitHub now holds) and h.writes() (what the bot wrote)

Tests usually take the `h` fixture (tests/conftest.py) instead: the same, put in place by a `harness`
mark, and checked at teardown for requests GitHub would refuse.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

import handlers
from bot import logs
from bot.clock import FrozenClock
from bot.emulator import GitHubState, run_emulator
from bot.jobs.queue import QUEUED, RUNNING
from bot.settings import Secret
from bot.web.app import create_app
from bot.web.keys import SERVICES
from tests.conftest import make_settings

REPO = "octo-org/hello-world"
INSTALLATION = 987654
MAINTAINER = "maint"
REPORTER = "reporter-jane"


class LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines)


def seeded_state() -> GitHubState:
    state = GitHubState()
    state.add_installation(INSTALLATION, "octo-org")
    state.add_repo(REPO, installation_id=INSTALLATION, pvr_enabled=True)
    state.add_repo("octo-org/security-inbox", installation_id=INSTALLATION, private=True, pvr_enabled=False)
    state.set_permission(REPO, MAINTAINER, "maintain")
    state.set_permission(REPO, "sec-lead", "admin")
    state.add_user(REPORTER)
    state.add_user("bystander")
    return state


class Harness:
    def __init__(self, tmp_path: Path, state: GitHubState | None = None, *, frozen: bool = False,
                 **settings: Any) -> None:
        self.tmp_path = tmp_path
        self.state = state or seeded_state()
        self.settings_overrides = settings
        self.logs = LogCapture()
        # With frozen=True the bot and the emulator share a clock that moves only by `advance`.
        self.clock: FrozenClock | None = FrozenClock(self.state.now().timestamp()) if frozen else None

    async def __aenter__(self) -> "Harness":
        root = logging.getLogger()
        root.addHandler(self.logs)
        self._level = root.level
        root.setLevel(logging.DEBUG)
        self._emu_cm = run_emulator(self.state)
        self.emu = await self._emu_cm.__aenter__()
        self.payloads = self.emu.payloads
        values = dict(
            app_id=str(self.state.app_id), private_key=Secret(self.state.private_key_pem),
            webhook_secret=Secret(self.state.webhook_secret), api_url=self.emu.base_url,
            database_url=f"sqlite+aiosqlite:///{self.tmp_path / 'e2e.db'}", poll_interval=0.02, retry_seconds=0.2,
        )
        settings = make_settings(**{**values, **self.settings_overrides})
        self.settings = settings
        await self.start()
        return self

    async def start(self) -> None:
        """Start (or, after `stop`, restart) the bot on the same database."""
        asked_before = self._app_asked()
        self.app = create_app(self.settings, clock=self.clock, routers=handlers.ROUTERS, jobs=handlers.JOBS)
        self.server = TestServer(self.app, host="127.0.0.1")
        await self.server.start_server()
        self.state.webhook_url = str(self.server.make_url("/webhook"))
        if self.clock is not None and self.services.github is not None:
            await self._identity_asked(asked_before)

    async def _identity_asked(self, before: int, timeout: float = 10.0) -> None:
        """With a frozen clock: wait until the emulator has answered the bot's GET /app. The bot
        asks who it is in the background at start (bot/jobs/process.learn_bot_login), with a JWT
        minted on the shared clock; a test that moved the clock on before that request arrived
        made the emulator see an expired JWT (CI saw it once), which no real clock does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._app_asked() <= before and loop.time() < deadline:
            await asyncio.sleep(0.005)

    def _app_asked(self) -> int:
        """How many GET /app the emulator has answered."""
        return sum(1 for r in self.state.requests if r.method == "GET" and r.path == "/app" and r.status)

    async def stop(self) -> None:
        await self.server.close()

    async def advance(self, seconds: float) -> None:
        """Move the shared frozen clock, then let the jobs that became due run."""
        assert self.clock is not None, "Harness(frozen=True) has a clock to move"
        self.clock.advance(seconds)
        self.state.advance(seconds)
        await self.settle()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()
        await self._emu_cm.__aexit__(*exc)
        logging.getLogger().removeHandler(self.logs)
        logging.getLogger().setLevel(self._level)

    @property
    def services(self) -> Any:
        return self.app[SERVICES]

    async def deliver(self, event: str, payload: dict[str, Any], delivery_id: str | None = None) -> int:
        return await self.emu.deliver(event, payload, delivery_id=delivery_id)

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait until no job is running or due, nor (with the real clock) waiting to be retried.

        Timers set for later stay queued; with a frozen clock, `advance` makes them due."""
        queue = self.services.queue
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if await queue.busy() == 0:
                if self.clock is not None:
                    return
                # With the real clock, wait for retries too (jobs put back after a failure), but
                # not for timers set for later.
                if not [j for j in await queue.list(state="queued") if j.last_error is not None]:
                    return
            assert asyncio.get_running_loop().time() < deadline, f"jobs did not settle: {await queue.counts()}"
            await asyncio.sleep(0.02)

    async def settle_due_soon(self, within: float = 60.0, timeout: float = 15.0) -> None:
        """Wait until no job is running or due within `within` seconds of the bot's clock, retried or not.

        Unlike `settle`, a job is waited for by when it runs, not by whether it failed: a retry or a
        deferral set for later than that, like the next poll or sweep, stays queued. With a frozen
        clock nothing comes due by itself: use `settle`, and `advance`."""
        queue = self.services.queue
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            soon = self.services.clock.now() + within
            pending = [j for j in await queue.list() if j.state == RUNNING or (j.state == QUEUED and j.run_at < soon)]
            if not pending:
                return
            assert asyncio.get_running_loop().time() < deadline, [j.summary() for j in pending]
            await asyncio.sleep(0.02)

    def writes(self) -> list[Any]:
        """Requests the bot made that change something at GitHub (not token requests)."""
        return [r for r in self.state.requests
                if r.method in ("POST", "PATCH", "PUT", "DELETE") and not r.path.endswith("/access_tokens")]

    def calls_since(self, mark: int) -> list[Any]:
        return [r for r in self.state.requests[mark:] if not r.path.endswith("/access_tokens")]
