"""Property-based fuzzing of the pure rules that read what strangers write (issue 17): a
repository's config file and the `/sec` commands in a comment. Whatever the text, they answer
(never raise), stay within their bounds, and take little time."""

from __future__ import annotations

import time
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.rules import commands, config

FUZZ = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# YAML-ish text: the characters that carry YAML's structure, often; anything else, sometimes.
YAML_CHARS = st.sampled_from(list(":-[]{}&*!|>#'\",.?%@` \n\t") + ["  ", "\n  ", "- ", ": ", "on", "yes", "1e9", "~"])
yamlish = st.lists(st.one_of(YAML_CHARS, st.text(max_size=8)), max_size=200).map("".join)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20), st.sampled_from(["2d", "3 working days", "UTC", "mon", "hide", "@maint"]))
keys = st.one_of(st.sampled_from(sorted(config.SCHEMA["properties"])), st.text(min_size=1, max_size=12))
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                          st.dictionaries(keys, inner, max_size=6)), max_leaves=40)


def _answers_with_a_config(text: str) -> None:
    began = time.perf_counter()
    cfg, problems = config.load(text)
    assert time.perf_counter() - began < 2
    assert isinstance(cfg, config.RepoConfig)
    assert all(isinstance(p, config.Problem) and p.message for p in problems)


@FUZZ
@given(yamlish)
def test_any_text_gives_a_config_and_its_problems(text: str) -> None:
    _answers_with_a_config(text)


@FUZZ
@given(documents)
def test_any_yaml_document_gives_a_config_and_its_problems(document: Any) -> None:
    _answers_with_a_config(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(st.dictionaries(keys, documents, max_size=8))
def test_a_config_that_is_right_where_it_matters_keeps_those_values(document: dict[str, Any]) -> None:
    document["security_team"] = {"users": ["maint"]}
    cfg, _ = config.load(yaml.safe_dump(document, allow_unicode=True))
    assert cfg.security_team.users == ("maint",)


# Comment bodies: command lines among Markdown that hides or quotes them.
LINE_PARTS = st.sampled_from(["/sec ", "/SEC ", " /sec", "> /sec ", "```", "~~~", "    ", "<!--", "-->", "- ", "1. ",
                              "ack", "accept", "high", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "reject",
                              "invalid", "assign", "@alice", "eta", "2026-12-31", "fixed", "1.2.3", "update",
                              "pause", "until", "status", "help", "hide", "not-security", "setup", "`", "\\", "\n"])
bodies = st.lists(st.one_of(LINE_PARTS, st.text(max_size=10)), max_size=300).map("".join)


@FUZZ
@given(bodies)
@example("\r0\n/sec ")  # a lone carriage return ends a line too (found by CI's run of this test)
def test_any_comment_gives_at_most_the_allowed_commands(body: str) -> None:
    began = time.perf_counter()
    found = commands.parse(body)
    assert time.perf_counter() - began < 2
    assert len(found) <= commands.MAX_COMMANDS
    for command in found:
        assert command.verb in commands.VERBS
        assert command.error is None or command.error  # an error is said, never empty
        # Lines end as in Markdown (CommonMark): "\r\n", "\n" or a lone "\r".
        assert 1 <= command.line <= body.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


@FUZZ
@given(st.text(max_size=2000))
def test_any_text_at_all_is_read_without_raising(text: str) -> None:
    commands.parse(text)
    config.parse(text)
