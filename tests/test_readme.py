"""README stays true: the configuration reference matches the schema, the command table matches the
verb table, the set-up commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from bot.reports.verbs import help_text
from bot.rules.commands import VERB_TABLE
from bot.rules.config import reference_markdown

README = Path(__file__).parent.parent / "README.md"
TEMPLATES = Path(__file__).parent.parent / "templates"
# Commands whose words tell how a report is handled: typed on a public page, they tell everyone.
LIFECYCLE = re.compile(r"/sec (ack|accept|reject|assign|severity|eta|fixed|update|pause|resume)\b")


def test_configuration_reference_matches_the_schema() -> None:
    text = README.read_text()
    m = re.search(r"<!-- config-reference:start[^>]*-->\n(.*?)\n<!-- config-reference:end -->", text, re.S)
    assert m, "README lost its configuration reference markers"
    assert m.group(1).strip() == reference_markdown().strip(), (
        "README's configuration reference drifted from bot/rules/config.py: regenerate it with "
        "python -c 'from bot.rules.config import reference_markdown; print(reference_markdown())'"
    )


def test_readme_opens_with_the_two_set_up_commands() -> None:
    first_block = README.read_text().split("```sh\n", 1)[1].split("```", 1)[0]
    assert first_block.splitlines()[0].startswith("scripts/dev demo")
    assert first_block.splitlines()[1].startswith("scripts/dev test")


def test_where_things_live_names_every_folder_of_the_engine() -> None:
    """README's map of the tree lists each package of bot/ (a new folder needs its line)."""
    section = README.read_text().split("### Where things live", 1)[1].split("```", 2)[1]
    mapped = {line.split()[0].rstrip("/") for line in section.splitlines() if line.strip()}
    root = README.parent
    packages = {str(p.parent.relative_to(root)) for p in (root / "bot").rglob("__init__.py")
                if "migrations" not in p.parts}
    assert packages - mapped == set()
    assert {"handlers", "templates", "tests", "bench"} <= mapped


def _commands_section() -> str:
    text = README.read_text()
    assert "\n## Commands\n" in text, "README lost its Commands section"
    return text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]


def _cells(row: str) -> list[str]:
    """A Markdown table row's cells, split on unescaped pipes, with escaped pipes unescaped."""
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_command_table_lists_every_verb_with_its_arguments_and_who_may_run_it() -> None:
    rows = [line for line in _commands_section().splitlines() if line.startswith("|")]
    assert [_cells(row) for row in rows[:2]] == [["command", "who may run it", "what it does"], ["---"] * 3]
    found = []
    for row in rows[2:]:
        command, who, what = _cells(row)
        assert command.startswith("`/sec ") and command.endswith("`") and what, row
        found.append((command.strip("`"), who))
    expected = [(f"/sec {verb.name} {verb.usage}".rstrip(), verb.who) for verb in VERB_TABLE.values()]
    assert found == expected, (
        "README's /sec command table drifted from VERB_TABLE in bot/rules/commands.py: one row per verb, in "
        "the table's order, `/sec <name> <usage>` (pipes escaped as \\|), then who may run it: "
        + "; ".join(f"{command} | {who}" for command, who in expected)
    )


def test_no_text_invites_lifecycle_commands_on_a_public_issue() -> None:
    """Issue 17, finding 13: README and the tracker template invited `/sec accept critical` and
    `/sec eta` on the public issue, where the command's own words show severity and dates. No
    sentence of README, the templates or the help may place such a command, or steering with
    commands, on a public issue or page, unless it is the one saying that such a comment gets
    minimized."""
    texts = {"README.md": README.read_text(), "the help": help_text()}
    texts |= {f"templates/{p.name}": p.read_text() for p in sorted(TEMPLATES.glob("*.md"))}
    offending = []
    for name, text in texts.items():
        for block in re.split(r"\n\s*\n|\n(?=\s*\|)|\n(?=\s*(?:\d+\.|-) )", text):
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(block.split())):
                if not re.search(r"\b(on|in) (the|a) public (issue|page)", sentence, re.I) or "minimiz" in sentence:
                    continue
                if LIFECYCLE.search(sentence) or re.search(r"\bsteer", sentence, re.I):
                    offending.append(f"{name}: {sentence[:160]}")
    assert offending == []
