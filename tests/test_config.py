"""Repository config: one schema, defaults for everything, problems reported with their place."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import operator
import subprocess
import sys
import time
import typing
from pathlib import Path
from typing import Any, Literal

import pytest

from bot.clock import FrozenClock
from bot.jobs.context import ConfigCache
from bot.rules import config
from bot.rules.config import Duration, RepoConfig


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
        ("detection.vulnerability_threshold", 4),  # renamed: read as detection.thresholds.public
        ("detection.thresholds.public", 4),  # and 3 is out of range there
        ("public_reports.action", 6),
        ("policy.update_every.low", 10),
    }
    assert cfg["labels"] == ["security"]
    assert cfg["detection"]["thresholds"]["public"] == config.Thresholds().public
    assert cfg["public_reports"]["action"] == "redirect"
    assert cfg["policy"]["update_every"] == {**config.defaults()["policy"]["update_every"], "critical": "12h"}
    assert "did you mean 'labels'" in next(p.message for p in problems if p.path == "lables")


def test_the_old_threshold_key_still_works_and_says_it_was_renamed() -> None:
    cfg, problems = config.load("detection:\n  vulnerability_threshold: 0.7\n")
    assert cfg.detection.thresholds.public == 0.7
    assert [(p.path, p.line) for p in problems] == [("detection.vulnerability_threshold", 2)]
    assert "renamed to detection.thresholds.public" in problems[0].message
    cfg, problems = config.load("detection:\n  vulnerability_threshold: 0.7\n  thresholds:\n    public: 0.8\n")
    assert cfg.detection.thresholds.public == 0.8 and "ignored" in problems[0].message
    assert cfg.detection.verdict_thresholds() == config.Thresholds(public=0.8, notify=config.Thresholds().notify,
                                                                    beg_bounty=0.5)


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


# -- RepoConfig: the typed view the rest of Secbot reads ------------------------------------------


def test_a_repository_without_a_file_gets_every_default_as_attributes() -> None:
    for text in (None, "", "# nothing\n"):
        cfg, problems = config.load(text)
        assert problems == []
        assert cfg == RepoConfig.default()
    cfg = RepoConfig.default()
    assert cfg.enabled is True and cfg.dry_run is False
    assert cfg.labels == ("security", "needs-triage")
    assert cfg.detection.thresholds.public == config.Thresholds().public
    assert cfg.detection.thresholds.notify == config.Thresholds().notify
    assert cfg.public_reports.uncertain == "notify"
    assert cfg.public_reports.action == "redirect" and cfg.public_reports.private_repo is None
    assert cfg.policy.update_every.high == "7d"
    assert cfg.policy.working_days == ("mon", "tue", "wed", "thu", "fri")
    assert cfg.templates.override("redirect") is None
    assert cfg.as_dict() == config.defaults()  # nothing lost on the way: the same document, typed


def test_a_parsed_file_reads_as_attributes_with_the_problems_parse_finds() -> None:
    text = """\
enabled: true
dry_run: true
security_team:
  users: ['@alice', bob]
  teams: [sec-team]
labels: [security]
lables: [oops]
detection:
  comments: false
  exempt_labels: [wontfix]
public_reports:
  action: hide
  private_repo: security-inbox
policy:
  update_every:
    critical: 12h
  timezone: Europe/Berlin
templates:
  redirect: "Thanks, {{ reporter }}."
"""
    cfg, problems = config.load(text)
    document, parse_problems = config.parse(text)
    assert problems == parse_problems and [(p.path, p.line) for p in problems] == [("lables", 7)]
    assert cfg == RepoConfig.from_dict(document) and cfg.as_dict() == document
    assert cfg.dry_run is True
    assert cfg.security_team.users == ("alice", "bob") and cfg.security_team.teams == ("sec-team",)
    assert cfg.labels == ("security",)
    assert cfg.detection.comments is False and cfg.detection.enabled is True
    assert cfg.detection.exempt_labels == ("wontfix",)
    assert cfg.public_reports.action == "hide" and cfg.public_reports.private_repo == "security-inbox"
    assert cfg.policy.update_every.critical == "12h" and cfg.policy.update_every.high == "7d"
    assert cfg.policy.timezone == "Europe/Berlin"
    assert cfg.templates.override("redirect") == "Thanks, {{ reporter }}."
    assert cfg.templates.override("beg_bounty") is None
    # Only the templates SCHEMA lets a repository override; never a method or a private name.
    assert cfg.templates.override("tracker_relay") is None
    assert cfg.templates.override("override") is None and cfg.templates.override("__class__") is None


def test_a_repo_config_is_frozen_all_the_way_down() -> None:
    cfg, _ = config.load("labels: [a, b]\nsecurity_team:\n  users: [alice]\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.enabled = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.policy.update_every.high = "1d"  # type: ignore[misc]
    assert isinstance(cfg.labels, tuple) and isinstance(cfg.security_team.users, tuple)
    hash(cfg)  # a frozen dataclass hashes its fields: any list or dict left inside would raise here


def _expected_type(schema: dict[str, Any]) -> Any:
    """The Python type a leaf of SCHEMA reads as in RepoConfig."""
    if "enum" in schema:
        return Literal[tuple(schema["enum"])]
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    python = {"boolean": bool, "number": float, "integer": int, "string": str, "null": type(None), "array": tuple[str, ...]}
    return functools.reduce(operator.or_, [python[t] for t in types])


def test_every_schema_key_has_a_field_and_every_field_a_key() -> None:
    """RepoConfig is written by hand (so that editors and type checkers know its attributes); this
    walk keeps it and SCHEMA the same tree: same keys in the same order, matching types."""

    def walk(schema: dict[str, Any], cls: type, path: str) -> None:
        keys = list(schema["properties"])
        fields = [f.name for f in dataclasses.fields(cls)]
        assert fields == keys, (
            f"{cls.__name__} ({path or 'top level'}) and SCHEMA disagree: keys without a field "
            f"{sorted(set(keys) - set(fields))}, fields without a key {sorted(set(fields) - set(keys))}")
        hints = typing.get_type_hints(cls)
        for key, sub in schema["properties"].items():
            where = f"{path}.{key}" if path else key
            if sub.get("type") == "object":
                assert dataclasses.is_dataclass(hints[key]), where
                walk(sub, hints[key], where)
            else:
                assert hints[key] == _expected_type(sub), f"{where}: the field says {hints[key]}, SCHEMA {_expected_type(sub)}"

    walk(config.SCHEMA, RepoConfig, "")


def test_a_document_that_disagrees_with_the_fields_is_refused_not_half_read() -> None:
    extra = {**config.defaults(), "detection": {**config.defaults()["detection"], "new_key": 1}}
    with pytest.raises(ValueError, match=r"DetectionConfig and SCHEMA disagree at detection.*\['new_key'\]"):
        RepoConfig.from_dict(extra)
    missing = {k: v for k, v in config.defaults().items() if k != "dry_run"}
    with pytest.raises(ValueError, match=r"RepoConfig and SCHEMA disagree at \(top\).*\['dry_run'\]"):
        RepoConfig.from_dict(missing)


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
    assert results[0][0].labels == RepoConfig.default().labels
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
    assert (await second)[0].labels == ("sec",)
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
    assert (await second)[0].labels == ("sec",)
    assert first.cancelled() and gh.reads == 2


HOSTILE_CONFIGS = {
    # Issue 17, finding 3: 612 bytes of aliases froze every webhook for 7-10 s, 702 bytes for 119 s.
    "aliases": "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join(["*" + chr(97 + i)] * 9) + "]\n" for i in range(9)),
    "deep nesting": "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 40)),
    "deep flow nesting": "a: " + "[" * 30000,
    "too large": "# " + "x" * (config.MAX_CONFIG_BYTES + 1),
}


@pytest.mark.parametrize("text", list(HOSTILE_CONFIGS.values()), ids=list(HOSTILE_CONFIGS))
def test_a_hostile_config_is_refused_at_once_for_the_defaults(text: str) -> None:
    began = time.perf_counter()
    cfg, problems = config.parse(text)
    assert time.perf_counter() - began < 2  # seconds; the alias bomb took minutes
    assert cfg == config.defaults()
    [problem] = problems
    assert problem.path == "" and "using all defaults" in problem.message


def test_aliases_are_refused_with_their_line() -> None:
    [problem] = config.parse("security_team:\n  users: &team [maint]\nlabels: *team\n")[1]
    assert "anchors and aliases" in problem.message and problem.line == 2
