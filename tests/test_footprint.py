"""What each long-running process imports (issue 20: memory). Each module a process holds costs its
resident memory for the life of the process; these lists keep the heavy ones where they are needed.

- `secbot serve` with worker processes answers webhooks and stores them: no handlers, no rules
  engine (the detector, the config schema with jsonschema and YAML), no templates (Jinja2), no
  Alembic (a schema that is behind is upgraded by a short-lived `secbot migrate`), no emulator,
- a worker process (`secbot work`) runs the handlers: no web server parts, no setup page, no
  Alembic, no metrics exporter, no emulator.
- neither holds cryptography or PyJWT: their JWTs are signed by short-lived processes
  (`bot.github.client.sign_apart`, about 10 MB each process does without).
- neither holds SQLAlchemy's ORM (Secbot uses Core only; `bot.store.database._async_engines`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("alembic", "mako", "pygments", "jinja2", "yaml", "jsonschema", "handlers", "bot.rules.detect",
         "bot.rules.config", "bot.reports", "bot.emulator", "bot.web", "aiohttp.web", "prometheus_client",
         "hypothesis", "selenium", "pytest", "cryptography", "jwt", "sqlalchemy.orm")


def imported_after(code: str) -> set[str]:
    probe = (f"{code}\nimport sys\n"
             f"print('\\n'.join(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in {HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", probe], check=True, cwd=ROOT, capture_output=True, text=True)
    return {m for m in out.stdout.split() if m}


def tops(modules: set[str]) -> set[str]:
    return {next(h for h in HEAVY if m == h or m.startswith(h + ".")) for m in modules}


def test_the_server_with_worker_processes_holds_no_handler_rule_template_or_migration_module() -> None:
    # What `secbot serve` imports before it starts (bot/__main__.py, bot/web/app.py, the webhook view).
    found = tops(imported_after("import bot.__main__, bot.web.app, bot.web.webhook, bot.jobs.process, bot.store\n"
                                "bot.store.Store.open('sqlite+aiosqlite:///' + __import__('tempfile').mktemp())"))
    assert found <= {"bot.web", "aiohttp.web", "prometheus_client"}, found


def test_a_worker_process_holds_no_web_server_setup_page_migration_or_emulator_module() -> None:
    # What `secbot work` imports (bot/__main__.py: handlers, then bot.jobs.process and the store).
    found = tops(imported_after("import bot.__main__, handlers, bot.jobs.process, bot.store\n"
                                "bot.store.Store.open('sqlite+aiosqlite:///' + __import__('tempfile').mktemp())"))
    assert found <= {"handlers", "bot.rules.detect", "bot.rules.config", "bot.reports", "jinja2", "yaml",
                     "jsonschema"}, found


def test_an_app_that_signs_apart_imports_neither_cryptography_nor_jwt_even_once_it_has_signed() -> None:
    # `secbot serve` with worker processes and `secbot work` (bot/web/app.py, bot/jobs/process.py).
    from bot.emulator import GitHubState  # (it makes a key with cryptography: here, not in the probe)

    found = tops(imported_after(
        "import aiohttp, asyncio\nfrom bot.clock import SystemClock\nfrom bot.github.client import GitHubApp\n"
        "async def build():\n    async with aiohttp.ClientSession() as s:\n"
        f"        app = GitHubApp(s, app_id='1', private_key_pem={GitHubState().private_key_pem!r}, base_url='http://x',"
        " clock=SystemClock(), sign_apart=True)\n"
        "        assert (await app.jwt()).count('.') == 2\n"
        "asyncio.run(build())"))
    assert not found & {"cryptography", "jwt"}, found
