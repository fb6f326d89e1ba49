"""The secbot command line: classify keeps order and reports bad lines; help lists every command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    for command in ("serve", "migrate", "jobs", "reports", "retry", "check-config", "classify", "demo"):
        assert command in run.stdout
