"""The triage card's pure rules (bot/rules/triage.py) and its store (bot/store/triage.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.rules import triage as rules
from bot.store import Store
from bot.store.reports import Reports
from bot.store.triage import TriageCards


def test_claims_name_paths_symbols_options_endpoints_versions_and_ids() -> None:
    text = ("Overflow in src/png/chunk.c via `png_read_chunk()` and Parser::parse_header(buf), see also lib/x.py. "
            "Run with --unsafe-mode, then POST /api/v1/upload. Version 2.3.0 and v2.2 are affected "
            "(CVE-2021-44228, ghsa-jfh8-c2jp-5v3q). https://github.com/o/r/blob/v2.3.0/src/png/read.c#L3 "
            "Mail me at a@b.example.com. Tested on 10.1.2.3; CVSS 9.8. e.g. this (see below).")
    c = rules.extract_claims("Overflow", text, own_ghsa="GHSA-xxxx-xxxx-xxxx")
    assert c.paths == ("src/png/read.c", "src/png/chunk.c", "lib/x.py")
    assert set(c.symbols) == {"png_read_chunk", "Parser::parse_header"}
    assert c.options == ("--unsafe-mode",) and c.endpoints == ("POST /api/v1/upload",)
    assert c.versions == ("2.3.0", "2.2") and c.refs == ("v2.3.0",)
    assert c.cves == ("CVE-2021-44228",) and c.ghsas == ("GHSA-jfh8-c2jp-5v3q",)


def test_the_reports_own_advisory_is_not_a_claim() -> None:
    assert rules.extract_claims("", "See GHSA-jfh8-c2jp-5v3q", own_ghsa="GHSA-JFH8-C2JP-5V3Q").ghsas == ()


def test_substance_finds_a_poc_impact_scanner_output_payment_ai_use_and_templated_prose() -> None:
    slop = ("Dear Team, I hope this message finds you well. I have discovered a critical vulnerability. "
            "It is important to note that this vulnerability could potentially lead to data loss. "
            "Severity: High\nConfidence: Medium\nWhat bounty do you pay? This report was written with ChatGPT.")
    s = rules.substance("Critical vulnerability", slop)
    assert s.poc == () and s.scanner_output and s.payment and s.ai_disclosure and s.generic
    real = rules.substance("x", "Steps to reproduce:\n1. run\n```\n$ curl -X POST http://h/x\n```\nImpact: an attacker can read files.",
                           ["< 2.3.1"])
    assert set(real.poc) == {"code block", "commands", "reproduction steps"}
    assert real.impact and real.affected_versions and not real.payment and not real.generic


def test_a_path_is_found_by_its_tail_or_as_a_folder_and_versions_by_their_tag() -> None:
    paths = frozenset({"src/png/chunk.c", "docs/index.md"})
    assert rules.find_path("chunk.c", paths) == "src/png/chunk.c"
    assert rules.find_path("./src/png", paths) == "src/png"
    assert rules.find_path("src/png/missing.c", paths) is None
    assert rules.match_version("2.3.0", ["v2.2.0", "v2.3.0"]) == "v2.3.0"
    assert rules.match_version("v1.0", ["pkg@1.0"]) == "pkg@1.0"
    assert rules.match_version("9.9.9", ["v2.3.0"]) is None


def test_similarity_is_one_for_the_same_words_and_low_for_unrelated_texts() -> None:
    a = "Heap overflow in the PNG chunk parser through the zTXt length"
    assert rules.similarity(rules.features(a), rules.features(a.upper())) == 1.0
    assert rules.similarity(rules.features(a), rules.features("Typo in the README installation section")) < rules.SIMILAR
    best = rules.closest(a, [("x", "A typo"), ("y", a + " again")])
    assert [k for k, _ in best] == ["y"] and best[0][1] >= rules.DUPLICATE


@pytest.mark.parametrize(("card", "step"), [
    ({"duplicates": [{"ghsa_id": "GHSA-1", "similarity": 0.8, "state": "published"}], "substance": {"poc": ["x"]}},
     "duplicate"),
    ({"substance": {"payment": True, "poc": []}}, "beg-bounty"),
    ({"substance": {"payment": True, "poc": ["commands"]}, "claims": []}, "acknowledge"),
    ({"substance": {"poc": []}}, "needs-poc"),
    ({"substance": {"poc": ["code block"]}, "claims": [{"status": "missing"}, {"status": "missing"}, {"status": "found"}]},
     "needs-poc"),
    ({"substance": {"poc": ["code block"]}, "identifiers": [{"id": "CVE-1", "status": "published"}]}, "needs-poc"),
])
def test_the_suggestion(card: dict[str, Any], step: str) -> None:
    assert rules.suggest(card).step == step


@pytest.mark.parametrize("text", ["a" * 100_000, "a/" * 50_000, "f(" * 50_000, "v1." * 33_000, "`a." * 33_000,
                                  "--a-" * 25_000, "/api" * 25_000, "1." * 50_000, "CVE-2020-" * 11_000])
def test_a_strangers_text_is_read_in_bounded_time_and_bounded_claims(text: str) -> None:
    started = time.perf_counter()
    c = rules.extract_claims("t", text * 3)  # beyond MAX_TEXT: cut there
    rules.substance("t", text)
    rules.features(text)
    assert time.perf_counter() - started < 3.0
    assert len(c.paths) <= rules.MAX_PATHS and len(c.symbols) <= rules.MAX_SYMBOLS and len(c.versions) <= rules.MAX_VERSIONS


async def test_a_report_keeps_its_first_card(store: Store) -> None:
    cards = TriageCards(store)
    assert await cards.get(7) is None
    assert await cards.keep(7, {"suggestion": {"step": "acknowledge"}}, 1.0) == {"suggestion": {"step": "acknowledge"}}
    assert await cards.keep(7, {"suggestion": {"step": "duplicate"}}, 2.0) == {"suggestion": {"step": "acknowledge"}}
    assert (await cards.get(7) or {})["suggestion"]["step"] == "acknowledge"


async def test_a_reporters_history_and_a_repositorys_recent_reports(store: Store) -> None:
    reports = Reports(store)
    made = []
    for n, (who, repo, inst) in enumerate([("Eve", "o/r", 1), ("eve", "o/other", 1), ("eve", "o/r", 2), ("bob", "o/r", 1)]):
        rep, _ = await reports.create(now=100.0 + n, source_key=f"advisory:{repo}:GHSA-{n}", source="advisory",
                                      installation_id=inst, repo=repo, ghsa_id=f"GHSA-{n}", reporter=who,
                                      verdict="vulnerability", score=1.0, reasons=())
        made.append(rep)
    history = await reports.from_reporter(1, "EVE", besides=made[0].id)
    assert [r.ghsa_id for r in history] == ["GHSA-1"]  # the same installation, any repository, not itself
    recent = await reports.recent("O/R", since=101.0, besides=made[3].id)
    assert [r.ghsa_id for r in recent] == ["GHSA-2"]
    assert (await reports.by_ghsa("ghsa-1")) == made[1]


async def test_migration_0010_goes_down_and_up(databases: Any) -> None:
    from alembic import command

    from bot.store import migrate

    store, _, _ = await databases.open("sqlite")
    async with store.write() as conn:
        await conn.run_sync(lambda c: command.downgrade(migrate._config(c), "0008"))
    await migrate.upgrade(store)
    assert await TriageCards(store).keep(1, {"a": 1}, 1.0) == {"a": 1}
