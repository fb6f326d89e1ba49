"""Templates: the built-in ones, and repositories' own wording, which runs bounded (issue 17,
finding 3: an override rendered a 200 MB comment with 783 MB of memory, and nested loops ran
unbounded on the event loop)."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest

from bot.render import MAX_OVERRIDE_OUTPUT, render

REDIRECT: dict[str, Any] = dict(reporter="jane", channel={"kind": "pvr", "url": "https://example.test/form", "contact": None},
                                hidden=False, source="issue", ghsa_id=None, advisory_url=None, bounty_policy="")
BUILT_IN = render("redirect", None, **REDIRECT)


def test_an_override_within_its_bounds_is_used() -> None:
    override = ("Thanks {{ reporter | mention }}! {% for i in range(3) %}{{ i }}{% endfor %} {{ 'ab' * 2 }} "
                "{{ ['a', 'b'] | join(', ') }} {{ 'abc' | replace('b', 'x') }} {{ 'a' ~ 'b' }} {{ 2 ** 10 }}")
    assert render("redirect", override, **REDIRECT) == "Thanks @jane! 012 abab a, b axc ab 1024\n"


def test_an_override_may_be_as_long_as_a_comment() -> None:
    text = render("redirect", "{{ 'x' * %d }}" % (MAX_OVERRIDE_OUTPUT - 100), **REDIRECT)
    assert text == "x" * (MAX_OVERRIDE_OUTPUT - 100) + "\n"


HOSTILE = {
    "a huge repetition": '{{ "x" * 200000000 }}',
    "a huge repetition, the other way round": '{{ 200000000 * "x" }}',
    "nested loops that print nothing": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "a loop that prints too much": '{% for i in range(100000) %}{{ "y" * 60000 }}{% endfor %}',
    "%-formatting with a huge width": '{{ "%999999999d" % 1 }}',
    "str.format with a huge width": '{{ "{:>999999999}".format(1) }}',
    "format_map": '{{ "{x}".format_map({"x": 1}) }}',
    "a padding method": '{{ "x".center(999999999) }}',
    "a padding filter": '{{ "x" | center(999999999) }}',
    "a replace method that multiplies": '{{ ("x" * 60000).replace("x", "x" * 60000) }}',
    "a replace filter that multiplies": '{{ ("x" * 60000) | replace("x", "yy") }}',
    "a join that multiplies": '{{ range(60000) | join("," * 60000) }}',
    "a repeated list": '{{ ["x" * 60000] * 60000 }}',
    "doubling by ~": '{% set a = "x" * 60000 %}{% set b = a ~ a %}{% set c = b ~ b %}{{ c ~ c }}',
    "doubling by +": '{% set a = "x" * 60000 %}{% set b = a + a %}{{ b + b }}',
    "squaring numbers": "{% set a = 2 ** 64 %}{% set b = a * a %}{% set c = b * b %}{% set d = c * c %}"
                        "{% set e = d * d %}{% set f = e * e %}{% set g = f * f %}{{ g * g }}",
    "a tower of powers": "{{ 9 ** 99 ** 9 }}",
    "endless recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "a mutation": "{{ [].append(1) }}",
}


@pytest.mark.parametrize("override", list(HOSTILE.values()), ids=list(HOSTILE))
def test_an_override_past_its_bounds_falls_back_to_the_built_in_text_at_once(override: str) -> None:
    tracemalloc.start()
    began = time.perf_counter()
    try:
        text = render("redirect", override, **REDIRECT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert text == BUILT_IN
    assert peak < 8 * 1024 * 1024  # bytes; the unbounded renderer took hundreds of MB
    assert time.perf_counter() - began < 5  # seconds (well under one); unbounded: minutes
