"""A real `secbot serve` posts status updates to an advisory at the cadence a repository configures."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.emulator import GitHubState, run_emulator
from tests.conftest import free_port, wait_port
from tests.test_process import ROOT

REPO = "octo-org/hello-world"
pytestmark = pytest.mark.slow


async def test_serve_posts_status_updates_at_a_cadence_of_seconds(tmp_path: Path) -> None:
    state = GitHubState()
    state.jwt_wall_clock = True  # the bot signs with the real clock; the emulator's stands still
    state.add_installation(1, "octo-org")
    state.add_repo(REPO, installation_id=1)
    state.put_file(REPO, ".github/secbot.yml", "policy:\n  update_every:\n    untriaged: 3s\n")
    async with run_emulator(state) as emu:
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "GITHUB_API_URL": emu.base_url,
            "GITHUB_APP_ID": str(state.app_id), "GITHUB_PRIVATE_KEY": state.private_key_pem,
            "GITHUB_WEBHOOK_SECRET": state.webhook_secret, "HOST": "127.0.0.1", "PORT": str(port),
            "SECBOT_POLL_SECONDS": "0.1", "LOG_LEVEL": "WARNING", "SECBOT_METRICS_PORT": "off",
        }
        log = (tmp_path / "serve.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            await asyncio.to_thread(wait_port, port, proc, tmp_path / "serve.log")
            state.webhook_url = f"http://127.0.0.1:{port}/webhook"
            adv = state.report_vulnerability(REPO, summary="Token leak in debug log", user="jane",
                                             description="The bearer token is logged at debug level.")
            assert await emu.deliver("repository_advisory",
                                     emu.payloads.repository_advisory("reported", REPO, adv["ghsa_id"], "jane")) == 202
            seen: dict[int, float] = {}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and len(seen) < 4:
                for c in state.advisory_comments(REPO, adv["ghsa_id"]):
                    seen.setdefault(c["id"], time.monotonic())
                await asyncio.sleep(0.05)
        finally:
            proc.terminate()
            proc.wait(20)
    bodies = [c["body"] for c in state.advisory_comments(REPO, adv["ghsa_id"])]
    assert "reached the maintainers" in bodies[0]
    assert len(bodies) >= 4 and all(b.startswith("Status update") for b in bodies[1:4])
    times = sorted(seen.values())
    gaps = [b - a for a, b in zip(times, times[1:4])]
    assert all(2.5 <= g <= 5.0 for g in gaps), gaps
    state.assert_no_violations()

