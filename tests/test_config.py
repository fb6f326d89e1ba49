"""Repository config: one schema, defaults for everything, problems reported with their place."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.jobs.context import ConfigCache
from bot.rules import config
from bot.rules.config import Duration


def test_an_empty_or_missing_file_means_all_defaults() -> None:
    for text in (None, "", "# nothing\n"):
        cfg, problems = config.parse(text)
        assert problems == []
        assert cfg == config.defaults()
    assert config.defaults()["labels"] == ["security", "needs-triage"]
    assert config.defaults()["policy"]["update_every"]["high"] == "7d"


def test_every_key_has_a_default_and_a_description() -> None:
    def walk(schema: dict, path: str) -> None:  # type: ignore[type-arg]
        assert schema.get("description"), path
        if schema.get("type") == "object":
            for k, sub in schema["properties"].items():
                walk(sub, f"{path}.{k}")
        else:
            assert "default" in schema, path

    walk(config.SCHEMA, "")


def test_unknown_keys_and_bad_values_are_reported_and_replaced_by_defaults() -> None:
    text = """\
labels: [security]
lables: [oops]
detection:
  vulnerability_threshold: 3
public_reports:
  action: delete
policy:
  update_every:
    critical: 12h
    low: whenever
"""
    cfg, problems = config.parse(text)
    found = {(p.path, p.line) for p in problems}
    assert found == {
        ("lables", 2),
        ("detection.vulnerability_threshold", 4),
        ("public_reports.action", 6),
        ("policy.update_every.low", 10),
    }
    assert cfg["labels"] == ["security"]
    assert cfg["detection"]["vulnerability_threshold"] == 0.5
    assert cfg["public_reports"]["action"] == "redirect"
    assert cfg["policy"]["update_every"] == {**config.defaults()["policy"]["update_every"], "critical": "12h"}
    assert "did you mean 'labels'" in next(p.message for p in problems if p.path == "lables")


def test_invalid_yaml_is_a_problem_not_a_crash() -> None:
    cfg, problems = config.parse("labels: [a\n  b: }")
    assert cfg == config.defaults()
    assert len(problems) == 1 and "YAML" in problems[0].message


def test_security_team_logins_lose_their_at_sign() -> None:
    cfg, problems = config.parse("security_team:\n  users: ['@alice', bob]\n  teams: [sec-team]\n")
    assert problems == []
    assert cfg["security_team"] == {"users": ["alice", "bob"], "teams": ["sec-team"]}


def test_durations() -> None:
    assert Duration.parse("45s").seconds == 45
    assert Duration.parse("30m").seconds == 1800
    assert Duration.parse("36h").seconds == 36 * 3600
    assert Duration.parse("2d").seconds == 2 * 86400
    assert Duration.parse("3 working days") == Duration(working_days=3)
    assert Duration.parse("1 business day") == Duration(working_days=1)
    assert Duration.parse(90).seconds == 90


def test_check_config_prints_each_problem_with_its_line_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "secbot.yml"
    bad.write_text("labels: [security]\npolicy:\n  timezone: Mars/Olympus\n")
    run = subprocess.run([sys.executable, "-m", "bot", "check-config", str(bad)], capture_output=True, text=True)
    assert run.returncode == 1
    assert f"{bad}:3: policy.timezone:" in run.stdout
    good = tmp_path / "good.yml"
    good.write_text("security_team:\n  users: [alice]\npolicy:\n  update_every:\n    high: 5 working days\n")
    run = subprocess.run([sys.executable, "-m", "bot", "check-config", str(good)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


# -- ConfigCache: one read per repository at a time ----------------------------------------------


class _SlowGitHub:
    """An installation client whose reads of `.github/secbot.yml` wait for `release` and count."""

    def __init__(self, text: str, fail_first: BaseException | None = None) -> None:
        self.text = text
        self.fail_first = fail_first
        self.reads = 0
        self.release = asyncio.Event()

    async def getitem(self, url: str, url_vars: dict[str, object]) -> dict[str, object]:
        self.reads += 1
        await self.release.wait()
        if self.fail_first is not None:
            exc, self.fail_first = self.fail_first, None
            raise exc
        return {"type": "file", "encoding": "base64", "content": base64.b64encode(self.text.encode()).decode()}


async def test_config_read_by_several_jobs_at_once_is_read_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    gh = _SlowGitHub("lables: [security]\n")
    cache = ConfigCache(FrozenClock())
    jobs = [asyncio.create_task(cache.get(gh, "octo-org", "Hello-World")) for _ in range(3)]  # type: ignore[arg-type]
    await asyncio.sleep(0)
    gh.release.set()
    results = await asyncio.gather(*jobs)
    assert gh.reads == 1
    assert all(r is results[0] for r in results)
    assert results[0][0]["labels"] == config.defaults()["labels"]
    problems = [r for r in caplog.records if r.getMessage() == "repository config problem"]
    assert len(problems) == 1 and "lables" in problems[0].config_problem  # type: ignore[attr-defined]


async def test_a_failed_config_read_fails_its_caller_and_the_waiters_read_again() -> None:
    gh = _SlowGitHub("labels: [sec]\n", fail_first=RuntimeError("GitHub is down"))
    cache = ConfigCache(FrozenClock())
    first = asyncio.create_task(cache.get(gh, "octo-org", "hello-world"))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get(gh, "octo-org", "hello-world"))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    gh.release.set()
    with pytest.raises(RuntimeError, match="GitHub is down"):
        await first
    assert (await second)[0]["labels"] == ["sec"]
    assert gh.reads == 2


async def test_a_cancelled_config_read_leaves_its_waiters_to_read() -> None:
    gh = _SlowGitHub("labels: [sec]\n")
    cache = ConfigCache(FrozenClock())
    first = asyncio.create_task(cache.get(gh, "octo-org", "hello-world"))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get(gh, "octo-org", "hello-world"))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    gh.release.set()
    assert (await second)[0]["labels"] == ["sec"]
    assert first.cancelled() and gh.reads == 2
