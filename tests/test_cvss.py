"""The pure CVSS module: vectors checked against the specification's tables, 3.x base scores, bands.

How `/sec accept` and `/sec severity` use it (the command's arguments and errors) is in test_commands.py.
"""

from __future__ import annotations

import pytest

from bot.rules.cvss import MAX_VECTOR_CHARS, band, base_score, parse_cvss


@pytest.mark.parametrize(
    ("metrics", "score"),
    [
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
        ("AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        ("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ],
)
@pytest.mark.parametrize("version", ["3.0", "3.1"])
def test_scores_a_cvss3_vector_as_the_specifications_calculator_does(metrics, score, version):
    assert parse_cvss(f"CVSS:{version}/{metrics}") == (f"CVSS:{version}/{metrics}", score)
    assert base_score(dict(pair.split(":") for pair in metrics.split("/")), version) == score


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.0, None), (0.1, "low"), (3.9, "low"), (4.0, "medium"), (6.9, "medium"), (7.0, "high"), (8.9, "high"),
     (9.0, "critical"), (10.0, "critical")],
)
def test_bands_follow_the_specifications_qualitative_ratings(score, expected):
    assert band(score) == expected


def test_keeps_the_order_given_and_upper_cases_names_and_values():
    assert parse_cvss("cvss:3.1/c:h/i:h/a:h/av:n/ac:l/pr:n/ui:n/s:u") == (
        "CVSS:3.1/C:H/I:H/A:H/AV:N/AC:L/PR:N/UI:N/S:U", 9.8)


def test_a_cvss4_vector_is_checked_but_not_scored():
    vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    assert parse_cvss(vector) == (vector, None)
    assert parse_cvss(vector + "/U:red") == (vector + "/U:Red", None)


@pytest.mark.parametrize(
    "text",
    [None, 3.1, "", "CVSS:3.1/", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" + "/E:X" * MAX_VECTOR_CHARS,
     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:\u0397"],
)
def test_refuses_what_is_not_a_vector_too_long_or_not_ascii(text):
    assert parse_cvss(text) is None
