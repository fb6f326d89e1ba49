"""`secbot demo`: the real bot on SQLite against the built-in GitHub emulator, no account needed.

It plays a few scenarios through real webhooks and prints what the reporter and the
maintainers saw on "GitHub" (the emulator's state), then checks nothing was sent that
GitHub's API description does not allow.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import logs
from bot.app import SERVICES, create_app
from bot.emulator import GitHubState, run_emulator
from bot.settings import Secret, Settings

REPO = "octo-org/hello-world"
WIDTH = 96


def _say(text: str = "", indent: int = 0) -> None:
    for line in text.splitlines() or [""]:
        wrapped = textwrap.wrap(line, WIDTH - indent) or [""]
        for part in wrapped:
            print(" " * indent + part)


def _comment(c: dict[str, Any]) -> None:
    body = "\n".join(line for line in c["body"].splitlines() if not line.startswith("<!-- secbot"))
    _say(f"💬 {c['user']['login']} commented:", 2)
    _say(body.strip(), 6)
    _say()


class Demo:
    def __init__(self, state: GitHubState, emu: Any, app: web.Application) -> None:
        self.state, self.emu, self.app = state, emu, app

    async def settle(self) -> None:
        queue = self.app[SERVICES].queue
        for _ in range(500):
            if await queue.busy() == 0:
                return
            await asyncio.sleep(0.02)

    async def issue(self, user: str, title: str, body: str) -> int:
        issue = self.state.open_issue(REPO, title=title, body=body, user=user)
        await self.emu.deliver("issues", self.emu.payloads.issues("opened", REPO, issue["number"], user))
        await self.settle()
        return int(issue["number"])

    async def comment(self, number: int, user: str, body: str) -> dict[str, Any]:
        made = self.state.add_comment(REPO, number, body=body, user=user)
        await self.emu.deliver("issue_comment", self.emu.payloads.issue_comment("created", REPO, number, made["id"], user))
        await self.settle()
        return made

    def show(self, number: int, since: int = 0) -> None:
        issue = self.state.issue(REPO, number)
        labels = ", ".join(lb["name"] for lb in issue["labels"]) or "none"
        assignees = ", ".join(a["login"] for a in issue["assignees"]) or "none"
        _say(f"#{number} “{issue['title']}” — {issue['state']}{', locked' if issue['locked'] else ''};"
             f" labels: {labels}; assignees: {assignees}", 2)
        for c in self.state.comments(REPO, number)[since:]:
            if c["user"]["login"].endswith("[bot]"):
                _say()
                _comment(c)


async def play(state: GitHubState, emu: Any, app: web.Application) -> None:
    d = Demo(state, emu, app)
    _say("Scenario 1 — an ordinary bug report")
    n = await d.issue("alice", "Crash when the config file is empty",
                      "Running `hello --config empty.yml` raises IndexError.\n\n```\nTraceback ...\nIndexError: list index out of range\n```")
    d.show(n)
    _say("  Secbot stays silent: no comment, no label.\n")

    _say("Scenario 2 — a vulnerability filed as a public issue")
    n = await d.issue("reporter-jane", "Path traversal in extract_all() writes outside the target directory",
                      "A tar member named `../../home/user/.bashrc` is written outside the output directory "
                      "(arbitrary file write). Steps to reproduce: ...")
    d.show(n)

    _say("Scenario 3 — a report in a comment, then a maintainer hides it with /sec hide")
    n = await d.issue("bob", "Support zip64 archives", "Large archives fail to open.")
    await d.comment(n, "mallory-researcher", "FYI the upload endpoint has an SQL injection: the `name` field is "
                    "concatenated into the query, `' OR 1=1 --` returns every user's password hash.")
    await d.comment(n, "maint", "/sec hide")
    d.show(n)
    advisories = state.repo(REPO).advisories
    for ghsa, adv in advisories.items():
        collaborators = ", ".join(u["login"] for u in adv.get("collaborating_users") or [])
        _say(f"  🔒 private draft advisory {ghsa} “{adv['summary']}” — state {adv['state']}; "
             f"credited: {', '.join(c['login'] for c in adv.get('credits') or [])}; collaborators: {collaborators}")
    left = [c["user"]["login"] for c in state.comments(REPO, n)]
    _say(f"  Public comments left on #{n}: {', '.join(left)} — the one with the details is gone.\n")

    _say("Scenario 4 — a false alarm, undone by a maintainer with /sec not-security")
    n = await d.issue("carol", "XSS: HTML in file names is not escaped in the CLI output",
                      "If a file is named <script>alert(1)</script>.txt, `hello ls` prints the tag unescaped. "
                      "An attacker could inject script via crafted file names.")
    d.show(n)
    _say("  The maintainers know a terminal does not run scripts, so this is no vulnerability:", 2)
    await d.comment(n, "maint", "/sec not-security")
    issue = state.issue(REPO, n)
    _say(f"  After the undo: labels: {', '.join(lb['name'] for lb in issue['labels']) or 'none'}; "
         f"bot comments: {sum(1 for c in state.comments(REPO, n) if c['user']['login'].endswith('[bot]'))}\n")

    _say("Scenario 5 — someone without write access tries a command")
    n = await d.issue("dave", "Docs typo", "“recieve” in README.")
    before = len(state.comments(REPO, n))
    await d.comment(n, "dave", "/sec hide")
    d.show(n, since=before)


async def run_demo(keep: Path | None = None) -> int:
    logs.setup("WARNING", "text")
    state = GitHubState()
    state.add_installation(1, "octo-org")
    state.add_repo(REPO, installation_id=1, pvr_enabled=True)
    state.set_permission(REPO, "maint", "maintain")
    for user in ("alice", "bob", "carol", "dave", "reporter-jane", "mallory-researcher"):
        state.add_user(user)
    state.put_file(REPO, ".github/secbot.yml", "security_team:\n  users: [maint]\n")
    with tempfile.TemporaryDirectory() as tmp:
        db = (keep or Path(tmp)) / "secbot-demo.db"
        async with run_emulator(state) as emu:
            settings = Settings(
                webhook_secret=Secret(state.webhook_secret), app_id=str(state.app_id),
                private_key=Secret(state.private_key_pem), api_url=emu.base_url,
                database_url=f"sqlite+aiosqlite:///{db}", poll_interval=0.02, log_format="text",
            )
            app = create_app(settings)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            state.webhook_url = f"http://127.0.0.1:{port}/webhook"
            _say(f"Secbot demo: the real bot (SQLite at {db.name}) on 127.0.0.1:{port}, GitHub emulated at {emu.base_url}.")
            _say(f"Repository {REPO}: private vulnerability reporting on; security team: @maint.\n")
            try:
                await play(state, emu, app)
            finally:
                with contextlib.suppress(Exception):
                    await runner.cleanup()
    problems = len(state.violations) + len(state.response_errors)
    _say(f"Every request Secbot made was checked against GitHub's OpenAPI description: "
         f"{len(state.requests)} requests, {problems} problems.")
    return 1 if problems else 0
