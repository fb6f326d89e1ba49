"""The classifier's signal tables are well-formed data; what they make of texts is tested in test_detect.py."""

from __future__ import annotations

import re

from bot.rules import signals
from bot.rules.detect import REASON_NAMES

TABLES = {
    "CLASS": signals.CLASS, "REPORT": signals.REPORT, "TOPIC": signals.TOPIC, "BEG": signals.BEG,
    "NEGATIVE": signals.NEGATIVE, "PAYLOAD": signals.PAYLOAD, "PLAIN": signals.PLAIN,
    "PLAIN_NEGATIVE": signals.PLAIN_NEGATIVE,
}
WITHOUT_BEG_WEIGHT = {"TOPIC", "PAYLOAD", "PLAIN"}


def test_each_signal_has_a_name_a_pattern_that_compiles_and_its_weights():
    for table, entries in TABLES.items():
        assert entries, table
        for entry in entries:
            assert len(entry) == (3 if table in WITHOUT_BEG_WEIGHT else 4), (table, entry[0])
            name, pattern, *weights = entry
            assert isinstance(name, str) and isinstance(pattern, str) and re.compile(pattern), (table, name)
            assert all(isinstance(w, float) for w in weights), (table, name)


def test_signal_names_are_unique_and_are_the_reason_vocabulary():
    names = [entry[0] for entries in TABLES.values() for entry in entries] + list(signals.DERIVED)
    assert len(names) == len(set(names))
    assert set(names) | {f"lang:{code}" for code in signals.LANGS} == REASON_NAMES
    assert set(signals.WEAK_NEGATIVES) <= set(names)


def test_every_language_with_a_reason_has_words_or_a_script_to_tell_it_by():
    hinted = set(signals.STOP_WORD_PATTERNS) | {code for code, _ in signals.LETTERS} | {"zh", "ru", "ja", "ko"}
    assert set(signals.LANGS) <= hinted and "en" not in signals.LANGS
