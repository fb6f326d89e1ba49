"""The pure `/sec` parser and the permission rule: no fakes needed."""

from __future__ import annotations

import random
from datetime import date

import pytest

from bot.reports.verbs import help_text
from bot.rules.commands import (
    ANYONE,
    MAINTAINERS,
    MAX_ASSIGNEES,
    MAX_COMMANDS,
    MUTATING,
    UNKNOWN,
    VERB_TABLE,
    VERBS,
    Command,
    may_run,
    parse,
    parse_cvss,
    parse_date,
)


def one(body: str) -> Command:
    commands = parse(body)
    assert len(commands) == 1, commands
    return commands[0]


def verbs(body: str) -> list[str]:
    return [c.verb for c in parse(body)]


# --- where commands are found -------------------------------------------------------------------


def test_finds_several_commands_in_order_with_their_line_numbers():
    body = "Thanks for the report!\n/sec ack\n\nLooking at it.\n  /sec assign @alice\n/sec status"
    assert [(c.verb, c.line) for c in parse(body)] == [("ack", 2), ("assign", 5), ("status", 6)]


@pytest.mark.parametrize("body", [None, "", "no commands here", 42, b"/sec ack"])
def test_returns_nothing_for_empty_or_non_text_bodies(body):
    assert parse(body) == []


def test_verb_and_arguments_are_case_insensitive():
    assert one("/SEC ACK") == Command("ack", line=1)
    assert one("/Sec Accept High").args["severity"] == "high"
    assert one("/sec REJECT Out_Of_Scope").args["reason"] == "out-of-scope"


def test_counts_lines_the_same_with_crlf_line_endings():
    assert [(c.verb, c.line) for c in parse("hi\r\n/sec ack\r\n\r\n/sec hide\r\n")] == [("ack", 2), ("hide", 4)]


@pytest.mark.parametrize(
    "line",
    [
        "/secure",
        "/security ack",
        "/sec-ack",
        "/sec:ack",
        "foo /sec ack",
        "use `/sec ack` to acknowledge",
        "`/sec ack`",
        "\\/sec ack",
        "- /sec ack",
        "**/sec ack**",
        "／sec ack",
    ],
)
def test_ignores_lines_where_sec_is_not_the_first_thing(line):
    assert parse(line) == []


def test_ignores_commands_in_backtick_and_tilde_fences():
    body = "```\n/sec ack\n```\n~~~~python\n/sec hide\n~~~~\n/sec status"
    assert verbs(body) == ["status"]


def test_fence_closes_only_with_the_same_character_at_least_as_long():
    body = "````\n```\n/sec ack\n~~~~\n/sec hide\n`````\n/sec status"
    assert [(c.verb, c.line) for c in parse(body)] == [("status", 7)]


def test_unclosed_fence_hides_the_rest_of_the_comment():
    assert parse("```\n/sec ack\n/sec hide") == []


def test_backtick_run_with_backticks_after_it_is_inline_code_not_a_fence():
    assert verbs("```not a fence```\n/sec ack") == ["ack"]


def test_ignores_a_fence_opened_in_a_list_item():
    assert verbs("- step:\n  ```\n  /sec ack\n  ```\n/sec status") == ["status"]


def test_html_comment_inside_a_fence_is_code_not_a_comment():
    assert verbs("```\n<!--\n```\n/sec ack") == ["ack"]


def test_ignores_indented_code_after_a_blank_line_or_at_the_start():
    assert parse("    /sec ack") == []
    assert parse("text\n\n    /sec ack\n\n    /sec hide") == []
    assert parse("text\n\n\t/sec ack") == []
    assert parse("  \t/sec ack") == []  # two spaces and a tab reach column 4


def test_indented_line_continuing_a_paragraph_is_still_a_command():
    assert verbs("please:\n    /sec ack") == ["ack"]


def test_ignores_indented_code_after_a_heading():
    assert parse("## Notes\n    /sec ack") == []


@pytest.mark.parametrize(
    "body",
    [
        "> /sec ack",
        ">/sec ack",
        "  > /sec ack",
        "> > /sec ack",
        ">> /sec ack",
        "- > /sec ack",
        "1. > /sec ack",
        "* - > /sec ack",
        "> ```\n> /sec ack\n> ```",
    ],
)
def test_ignores_quoted_commands(body):
    assert parse(body) == []


def test_a_fence_inside_a_quote_does_not_hide_what_follows_the_quote():
    assert verbs("> ```\n> code\n\n/sec ack") == ["ack"]


def test_ignores_commands_inside_html_comments():
    assert parse("<!-- /sec ack -->") == []
    assert parse("<!--\n/sec ack\n/sec hide\n-->") == []
    assert verbs("<!-- secbot:ack report=4 -->\n/sec status") == ["status"]
    assert verbs("text <!-- start\n/sec ack\nend --> more\n/sec help") == ["help"]


def test_line_starting_inside_a_comment_is_not_a_command_even_after_it_closes():
    assert parse("<!--\n--> /sec ack") == []
    assert parse("<!-- note --> /sec ack") == []


def test_removes_inline_html_comments_from_arguments():
    assert one("/sec ack <!-- hidden -->") == Command("ack", line=1)
    assert one("/sec reject duplicate <!-- secret --> of #3").args["text"] == "of #3"


def test_a_comment_opened_on_a_command_line_hides_the_following_lines():
    assert verbs("/sec ack <!-- note\n/sec hide\n-->\n/sec status") == ["ack", "status"]


def test_comment_opener_inside_inline_code_is_text():
    assert verbs("Write `<!--` to start a comment.\n/sec ack") == ["ack"]


def test_comment_opener_in_a_quote_does_not_swallow_later_commands():
    assert verbs("> reporter wrote <!-- here\n\n/sec ack") == ["ack"]


def test_line_right_after_a_quote_counts_because_the_commenter_typed_it():
    assert verbs("> can you look?\n/sec ack") == ["ack"]


def test_stops_after_max_commands():
    commands = parse("/sec ack\n" * (MAX_COMMANDS + 5))
    assert len(commands) == MAX_COMMANDS
    assert commands[-1].line == MAX_COMMANDS


# --- verbs and their arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, verb",
    [
        ("/sec ack", "ack"),
        ("/sec resume", "resume"),
        ("/sec status", "status"),
        ("/sec hide", "hide"),
        ("/sec not-security", "not-security"),
        ("/sec notsecurity", "not-security"),
        ("/sec not_security", "not-security"),
        ("/sec help", "help"),
        ("/sec setup", "setup"),
        ("/sec ack   ", "ack"),
    ],
)
def test_parses_verbs_without_arguments(line, verb):
    assert one(line) == Command(verb, line=1)


@pytest.mark.parametrize("verb", ["ack", "resume", "status", "hide", "not-security", "setup"])
def test_rejects_arguments_to_verbs_that_take_none(verb):
    command = one(f"/sec {verb} please now")
    assert command.error == f"{verb} takes no arguments"
    assert command.args == {}


@pytest.mark.parametrize("verb", VERB_TABLE.values(), ids=lambda verb: verb.name)
def test_every_verb_of_the_table_is_found_by_its_name_and_its_other_spellings(verb):
    for spelling in (verb.name, verb.name.upper(), *verb.aliases):
        assert one(f"/sec {spelling} x").verb == verb.name
    assert UNKNOWN not in VERB_TABLE and VERBS == set(VERB_TABLE) | {UNKNOWN}


def test_help_ignores_what_follows_it():
    assert one("/sec help accept") == Command("help", line=1)


@pytest.mark.parametrize("verb", ["accept", "severity"])
@pytest.mark.parametrize("word", ["critical", "high", "medium", "low", "HIGH"])
def test_accept_and_severity_take_a_severity_word(verb, word):
    assert one(f"/sec {verb} {word}").args == {"severity": word.lower(), "cvss": None, "score": None}


@pytest.mark.parametrize(
    "vector, score, severity",
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "critical"),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "high"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "medium"),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9, "medium"),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4, "medium"),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, "low"),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "critical"),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, None),
    ],
)
def test_derives_the_severity_from_a_cvss3_base_score(vector, score, severity):
    assert one(f"/sec accept {vector}").args == {"severity": severity, "cvss": vector, "score": score}


def test_scores_only_the_base_metrics_of_a_cvss3_vector():
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:R/MAV:P"
    assert one(f"/sec severity {vector}").args["score"] == 9.8


def test_normalises_a_lower_case_vector():
    assert one("/sec accept cvss:3.1/av:n/ac:l/pr:n/ui:n/s:u/c:h/i:h/a:h").args["cvss"] == (
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    )


def test_keeps_a_cvss4_vector_without_a_severity():
    vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:Amber"
    assert one(f"/sec accept {vector}").args == {"severity": None, "cvss": vector, "score": None}
    assert parse_cvss(vector.replace("U:Amber", "U:amber")) == (vector, None)


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # a base metric missing
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L",  # a metric twice
        "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # an unknown value
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:X",  # an unknown metric
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",  # an empty pair
        "CVSS:3.1/AVN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # no colon
        "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",  # an unsupported version
        "CVSS:4.0/AV:N/AC:L/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",  # AT missing
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:R/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",  # UI:R is 3.x only
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/\u017f:U/C:H/I:H/A:H",  # long s upper-cases to S
        "CVSS:",
    ],
)
def test_refuses_malformed_cvss_vectors(vector):
    command = one(f"/sec accept {vector}")
    assert command.error is not None and command.error.startswith("accept needs a valid CVSS")
    assert command.args == {}
    assert parse_cvss(vector) is None


@pytest.mark.parametrize("verb", ["accept", "severity"])
@pytest.mark.parametrize("tail", ["", "severe", "high please", "9.8", "AV:N/AC:L"])
def test_accept_and_severity_need_exactly_one_severity_or_vector(verb, tail):
    command = one(f"/sec {verb} {tail}")
    assert command.verb == verb
    assert command.error == f"{verb} needs a severity (critical, high, medium, low) or a CVSS vector"


@pytest.mark.parametrize(
    "word, reason",
    [
        ("invalid", "invalid"),
        ("duplicate", "duplicate"),
        ("out-of-scope", "out-of-scope"),
        ("out_of_scope", "out-of-scope"),
        ("outofscope", "out-of-scope"),
        ("not-security", "not-security"),
        ("not_security", "not-security"),
        ("beg-bounty", "beg-bounty"),
        ("begbounty", "beg-bounty"),
        ("beg_bounty", "beg-bounty"),
        ("Duplicate:", "duplicate"),
    ],
)
def test_reject_takes_a_reason_and_its_spellings(word, reason):
    assert one(f"/sec reject {word}").args == {"reason": reason, "text": ""}


def test_reject_keeps_the_rest_of_the_line_as_text():
    assert one("/sec reject duplicate   of #12, fixed in 1.2  ").args == {"reason": "duplicate", "text": "of #12, fixed in 1.2"}


@pytest.mark.parametrize("tail", ["", "spam", "because it is spam"])
def test_reject_without_a_known_reason_is_an_error(tail):
    command = one(f"/sec reject {tail}")
    assert command.error == "reject needs a reason: invalid, duplicate, out-of-scope, not-security or beg-bounty"


@pytest.mark.parametrize(
    "tail, users",
    [
        ("@alice", ("alice",)),
        ("alice", ("alice",)),
        ("@alice @bob-smith", ("alice", "bob-smith")),
        ("@alice,@bob", ("alice", "bob")),
        ("alice, bob ,carol", ("alice", "bob", "carol")),
        ("@Alice @alice", ("Alice",)),
        ("a" * 39, ("a" * 39,)),
    ],
)
def test_assign_takes_one_or_more_logins(tail, users):
    assert one(f"/sec assign {tail}").args == {"users": users}


@pytest.mark.parametrize(
    "tail",
    ["", "@", "@org/team", "-alice", "alice-", "al--ice", "al_ice", "a" * 40, "@alice @b!ob", "@alice@bob", "ålice"],
)
def test_assign_refuses_anything_but_github_logins(tail):
    assert one(f"/sec assign {tail}").error == "assign needs one or more GitHub logins, like @alice @bob"


def test_assign_refuses_more_logins_than_github_allows():
    logins = " ".join(f"@user{i}" for i in range(MAX_ASSIGNEES + 1))
    assert one(f"/sec assign {logins}").error == f"assign takes at most {MAX_ASSIGNEES} logins"


@pytest.mark.parametrize("text", ["2025-07-01", "2025/07/01", " 2025-07-01 "])
def test_eta_takes_an_iso_date(text):
    assert one(f"/sec eta {text}").args == {"date": date(2025, 7, 1)}


@pytest.mark.parametrize("tail", ["", "soon", "2025-02-30", "2025-7-1", "2025-07/01", "01/07/2025", "2025-07-01 maybe"])
def test_eta_without_a_real_date_is_an_error(tail):
    assert one(f"/sec eta {tail}").error == "eta needs a date as YYYY-MM-DD"


@pytest.mark.parametrize("version", ["1.2.3", "v2.0.0-rc.1", "1.0.0+build.5", "2024.06", "1.2.3.post1", "release-4"])
def test_fixed_takes_a_version(version):
    assert one(f"/sec fixed {version}").args == {"version": version}


@pytest.mark.parametrize("tail", ["", "latest", "1.2.3 and 1.2.4", "-1.2", "1.2;rm", "1" * 65])
def test_fixed_without_a_version_is_an_error(tail):
    assert one(f"/sec fixed {tail}").error == "fixed needs a version, like 1.2.3 or v2.0.0-rc.1"


def test_update_takes_the_rest_of_the_line():
    assert one("/sec update  The fix is in review.  ").args == {"text": "The fix is in review."}


def test_update_alone_takes_the_following_lines_up_to_the_next_command():
    body = "/sec update\n\nHello,\n\nthe fix is ready:\n\n    pip install -U foo\n\n\n/sec eta 2025-07-01\nbye"
    update, eta = parse(body)
    assert update == Command("update", {"text": "Hello,\n\nthe fix is ready:\n\n    pip install -U foo"}, line=1)
    assert eta.line == 10


def test_multiline_update_runs_to_the_end_and_keeps_quoted_and_fenced_lines_as_text():
    body = "/sec update\n> /sec ack\n```\n/sec hide\n```\ndone  \n\n"
    assert one(body).args == {"text": "> /sec ack\n```\n/sec hide\n```\ndone"}


def test_multiline_update_leaves_out_html_comments():
    assert one("/sec update\nHi <!-- internal -->there\n<!--\nsecret\n-->\nbye").args == {"text": "Hi there\nbye"}


def test_update_without_text_is_an_error():
    assert one("/sec update\n\n   \n").error == "update needs text for the reporter, on the same line or on the lines below it"
    assert [c.error is not None for c in parse("/sec update\n/sec ack")] == [True, False]


def test_pause_alone_or_until_a_date():
    assert one("/sec pause").args == {"until": None}
    assert one("/sec pause UNTIL 2025/08/01").args == {"until": date(2025, 8, 1)}


@pytest.mark.parametrize("tail", ["until", "until tomorrow", "2025-08-01", "for a week"])
def test_pause_with_anything_else_is_an_error(tail):
    assert one(f"/sec pause {tail}").error == "pause takes nothing, or until YYYY-MM-DD"


def test_unknown_verbs_and_a_bare_sec_are_unknown():
    assert one("/sec frobnicate now") == Command("unknown", {"word": "frobnicate"}, line=1)
    assert one("/sec") == Command("unknown", {"word": ""}, line=1)
    assert one("/sec   ").args == {"word": ""}
    assert one("/sec " + "x" * 100).args == {"word": "x" * 30}


def test_a_verb_with_a_unicode_lookalike_is_unknown():
    assert one("/sec ac\u212a").verb == "unknown"  # KELVIN SIGN lower-cases to "k"


@pytest.mark.parametrize(
    "line",
    [
        "/sec accept @everyone-secret",
        "/sec severity @everyone-secret",
        "/sec reject @everyone-secret",
        "/sec assign @everyone-secret!",
        "/sec eta @everyone-secret",
        "/sec fixed @everyone-secret",
        "/sec pause @everyone-secret",
        "/sec ack @everyone-secret",
        "/sec accept CVSS:3.1/@everyone-secret",
    ],
)
def test_error_messages_never_repeat_the_commenters_text(line):
    command = one(line)
    assert command.error is not None
    assert "everyone" not in command.error and "@" not in command.error.split(" like ")[0]


def test_commands_are_immutable():
    command = one("/sec assign @alice")
    with pytest.raises(AttributeError):
        command.verb = "hide"  # type: ignore[misc]
    with pytest.raises(TypeError):
        command.args["users"] = ("mallory",)  # type: ignore[index]
    assert hash(command) == hash(Command("assign", {"users": ("alice",)}, line=1))


# --- parse_date ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-02-29", date(2024, 2, 29)),
        ("2024/02/29", date(2024, 2, 29)),
        ("2023-02-29", None),
        ("0000-01-01", None),
        ("2024-13-01", None),
        ("٢٠٢٤-٠١-٠١", None),  # Arabic-Indic digits
        ("2024-01-01T00:00", None),
        (None, None),
        (20240101, None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


# --- never raises -------------------------------------------------------------------------------

_FRAGMENTS = [
    "/sec", "/SEC ", "/sec ack", "/sec accept ", "/sec update", "/sec assign @", "/sec eta 2024-",
    "CVSS:3.1/", "AV:N/", "S:C/", "```", "~~~", "`", "``", "<!--", "-->", ">", "> ", "- ", "1. ",
    "    ", "\t", "\n", "\r\n", "\r", " ", "#", "@", "/", ":", "-", "_", "0", "9", "\u212a", "\u017f",
    "\u00a0", "\u2028", "\ufeff", "\U0001f600", "\ud800", "é", "\x00", "\x0b", "\x0c",
]


def test_never_raises_on_random_markdown_like_or_unicode_input():
    rng = random.Random(20240601)
    for _ in range(3000):
        if rng.random() < 0.5:
            body = "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(0, 60)))
        else:
            body = "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 80)))
        for command in parse(body):
            assert command.verb in VERBS
            assert command.line >= 1


@pytest.mark.parametrize(
    "body",
    [
        "\n" * 1_000_000 + "/sec ack",
        "`" * 500_000 + "<!--\n/sec ack",
        ("` " * 10 + "``  ") * 40_000 + "<!--\n/sec ack",
        "<!--" * 250_000 + "\n/sec ack",
        "```\n" * 250_000 + "/sec ack",
        "> " * 500_000 + "\n/sec ack",
        "/sec update\n" + "text\n" * 200_000,
        "/sec assign " + "a," * 500_000,
        "/sec accept CVSS:3.1/" + "AV:N/" * 200_000,
        "- " * 500_000 + "/sec ack",
    ],
)
def test_handles_megabyte_comments(body):
    for command in parse(body):
        assert command.verb in VERBS


# --- who may run what ---------------------------------------------------------------------------


def test_mutating_verbs_are_all_but_status_help_and_unknown():
    assert MUTATING == VERBS - {"status", "help", "unknown"}


@pytest.mark.parametrize("verb", VERB_TABLE.values(), ids=lambda verb: verb.name)
def test_a_verb_anyone_may_run_changes_nothing(verb):
    assert verb.who in (ANYONE, MAINTAINERS)
    if verb.who == ANYONE:
        assert not verb.mutating and verb.moves is None


@pytest.mark.parametrize("verb", VERB_TABLE.values(), ids=lambda verb: verb.name)
def test_who_may_run_a_verb_is_what_its_table_entry_says(verb):
    """In the private tracker; elsewhere a stranger runs nothing (issue 17, finding 6)."""
    assert may_run(verb.name, permission="read", login="eve", team_users=(), private_place=True) == (verb.who == ANYONE)
    assert not may_run(verb.name, permission="read", login="eve", team_users=())
    assert may_run(verb.name, permission="write", login="eve", team_users=())


@pytest.mark.parametrize("permission", ["admin", "maintain", "write", "ADMIN"])
@pytest.mark.parametrize("verb", sorted(VERBS))
def test_write_access_runs_everything(permission, verb):
    assert may_run(verb, permission=permission, login="alice", team_users=())


@pytest.mark.parametrize("permission", ["triage", "read", "none", None, "", "owner"])
def test_others_run_only_read_only_verbs(permission):
    # Issue 17, findings 2 and 6: anyone's `/sec status` sent a report's state to the maintainers'
    # places (the advisory, then) and `/sec help` fifty times was fifty comments. Others now run
    # the read-only verbs only in the private tracker, and nothing on public pages or advisories.
    private = {v for v in VERBS if may_run(v, permission=permission, login="eve", team_users=["alice"],
                                           private_place=True)}
    assert private == {"status", "help", "unknown"}
    assert {v for v in VERBS if may_run(v, permission=permission, login="eve", team_users=["alice"])} == set()


def test_security_team_users_run_everything_whatever_their_case_or_at_sign():
    for verb in MUTATING:
        assert may_run(verb, permission="read", login="Alice", team_users=["@alice", "bob"])
        assert may_run(verb, permission=None, login="bob", team_users=("BOB",))


def test_security_team_members_run_everything():
    assert may_run("accept", permission="none", login="carol", team_users=(), team_member=True)


def test_a_single_string_of_team_users_is_one_login_not_its_letters():
    assert not may_run("ack", permission="read", login="a", team_users="alice")
    assert may_run("ack", permission="read", login="alice", team_users="alice")


@pytest.mark.parametrize("login", ["dependabot[bot]", "secbot[BOT]"])
def test_bots_run_nothing(login):
    for verb in VERBS:
        assert not may_run(verb, permission="admin", login=login, team_users=[login], team_member=True)


def test_an_unknown_verb_or_an_empty_login_runs_nothing():
    assert not may_run("delete", permission="admin", login="alice", team_users=())
    assert not may_run("ack", permission="read", login="", team_users=[""])


# --- help ---------------------------------------------------------------------------------------

HELP_TEXT = help_text()


def test_help_lists_every_command_with_an_example():
    for verb in VERBS - {"unknown"}:
        assert f"| `{verb}` |" in HELP_TEXT
        assert f"`/sec {verb}" in HELP_TEXT


def test_help_text_itself_contains_no_commands():
    assert parse(HELP_TEXT) == []


def test_the_help_message_is_rendered_from_the_verb_table():
    message = HELP_TEXT
    for verb in VERB_TABLE.values():
        examples = " or ".join(f"`{example}`" for example in verb.examples)
        assert f"\n| `{verb.name}` | {verb.help} | {examples} |\n" in message
    anyone = [verb.name for verb in VERB_TABLE.values() if verb.who == ANYONE]
    assert anyone == ["status", "help"] and "may also ask for `status` and `help`." in message
    assert f"at most {MAX_COMMANDS} are read per comment" in message


def test_a_command_not_understood_is_named_before_the_help():
    assert help_text([]) == HELP_TEXT
    assert help_text(["a <b>"]) == "That command was not understood: a \\<b\\>.\n\n" + HELP_TEXT


@pytest.mark.parametrize("verb", VERB_TABLE.values(), ids=lambda verb: verb.name)
def test_every_example_in_the_help_is_a_command_secbot_understands(verb):
    assert verb.examples
    for example in verb.examples:
        command = one(example)
        assert command.verb == verb.name and command.ok, example
