"""The secbot command line: classify keeps order and reports bad lines; help lists every command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent


def secbot(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_classify_writes_one_verdict_per_line_in_order() -> None:
    lines = [
        {"title": "SQL injection in /api/search", "body": "The q parameter is concatenated into SQL; ' OR 1=1 -- dumps all users."},
        {"title": "Typo in README", "body": "recieve -> receive"},
    ]
    run = secbot("classify", stdin="".join(json.dumps(x) + "\n" for x in lines))
    assert run.returncode == 0, run.stderr
    out = [json.loads(x) for x in run.stdout.splitlines()]
    assert [o["verdict"] for o in out] == ["vulnerability", "none"]
    assert all(0 <= o["score"] <= 1 and isinstance(o["reasons"], list) for o in out)


def test_classify_reports_bad_lines_without_losing_the_others() -> None:
    run = secbot("classify", stdin='{"title": "Typo", "body": "x"}\nnot json\n')
    assert run.returncode == 1
    first, second = (json.loads(x) for x in run.stdout.splitlines())
    assert first["verdict"] == "none" and "error" in second and "not json" not in second["error"]


def test_help_lists_every_command() -> None:
    run = secbot("--help")
    for command in ("serve", "migrate", "jobs", "reports", "feedback", "retry", "check-config", "classify", "demo"):
        assert command in run.stdout


def test_serve_leaves_what_exists_at_startup_out_of_later_garbage_collections(monkeypatch: Any) -> None:
    """A full collection walking every module, schema and table took 40-80 ms (bench/webhook.py)."""
    import asyncio
    import gc

    from aiohttp import web

    from bot import __main__ as cli
    from tests.conftest import make_settings

    started: list[web.Application] = []
    monkeypatch.setattr(web, "run_app", lambda app, **kw: started.append(app))
    settings = make_settings(app_id="1", private_key=None)
    monkeypatch.setattr(type(settings), "setup_mode", property(lambda self: False))
    monkeypatch.setattr(type(settings), "check_serve", lambda self: None)
    assert cli.serve(settings, routers=[], jobs={}) == 0
    [app] = started
    assert cli._freeze_startup_objects in app.on_startup
    gc.unfreeze()
    try:
        asyncio.run(cli._freeze_startup_objects(app))
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_serve_stores_what_no_handler_takes_as_done_by_the_handlers_table(monkeypatch: Any) -> None:
    # The table of handlers/ (checked against their routes in tests/test_lanes.py), read without
    # importing them: a delivery it does not list is stored as done, never claimed.
    from bot import __main__ as cli
    from bot.rules import lanes

    given: list[Any] = []
    monkeypatch.setattr(cli, "serve", lambda settings, **kw: given.append(kw.get("taken")) or 0)
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "s")
    assert cli.main(["serve"]) == 0
    assert given == [lanes.taken]


def test_serve_runs_the_workers_in_cores_less_one_processes_unless_told(monkeypatch: Any) -> None:
    from bot import __main__ as cli
    from bot.jobs import process

    asked: list[int] = []
    monkeypatch.setattr(cli, "serve", lambda settings, **kw: asked.append(kw["worker_processes"]) or 0)
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "s")
    monkeypatch.setattr(process.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert cli.main(["serve"]) == 0
    assert cli.main(["serve", "--workers-processes", "0"]) == 0
    monkeypatch.setattr(process.os, "sched_getaffinity", lambda pid: {0})
    assert cli.main(["serve"]) == 0
    assert asked == [3, 0, 1]
    assert cli.main(["serve", "--workers-processes", "-1"]) == 2
