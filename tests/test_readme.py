"""README stays true: the configuration reference matches the schema, the set-up commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from bot.rules.config import reference_markdown

README = Path(__file__).parent.parent / "README.md"


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
