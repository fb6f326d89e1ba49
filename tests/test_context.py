"""The pure context evidence (bot/rules/context.py): what GitHub says about a text moves its score a
little, with reason names only, and never makes a confident public report on its own."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from bot.rules import context
from bot.rules.detect import TextContext, Thresholds, Verdict

TH = Thresholds(public=0.5, notify=0.35)
REPO = "octo-org/hello-world"
TREE = frozenset({"src/auth/session.py", "src/api/export.py", "README.md", "docs/index.md"})


def ctx(**kw: object) -> TextContext:
    return TextContext(repo_full_name=REPO, **kw)  # type: ignore[arg-type]


def test_a_security_title_lifts_a_borderline_text_to_the_heads_up_but_never_to_public() -> None:
    low = Verdict("none", 0.30, ("security-topic:password",))
    lifted = context.apply(low, "[SECURITY] session cookie survives logout", "", ctx(), TH)
    assert lifted.kind == "possible" and "context:security-title" in lifted.reasons
    near = Verdict("none", 0.34, ())
    most = context.apply(near, "[security] x", "### Impact\nx\n### Affected versions\n1.0",
                         ctx(labels=("security",)), Thresholds(public=0.45, notify=0.35))
    assert most.score >= 0.45 and most.kind == "possible"  # words alone said none: a heads-up at most


def test_a_possible_report_with_a_security_form_and_own_files_becomes_confident() -> None:
    body = "### Impact\nAny user reads other tenants' exports.\n### Steps to reproduce\nsee src/api/export.py line 40"
    v = context.apply(Verdict("possible", 0.42, ("plain:other-party-data",)), "Export bug", body,
                      ctx(repo_paths=TREE), TH)
    assert v.kind == "vulnerability"
    claimless = context.apply(Verdict("possible", 0.42, ("security-topic:password", "learned:0.70")), "Export bug",
                              body, ctx(repo_paths=TREE), TH)
    assert claimless.kind == "possible"  # no claim the rules can name: never public, whatever the context
    assert {"context:security-form", "context:names-own-files"} <= set(v.reasons)


def test_a_link_into_someone_elses_repository_lowers_the_score() -> None:
    body = "Upstream has https://github.com/other/lib/security/advisories/GHSA-xxxx-xxxx-xxxx, do we ship it?"
    v = context.apply(Verdict("vulnerability", 0.55, ("report:vulnerability",)), "Upstream CVE", body, ctx(), TH)
    assert v.kind == "possible" and "context:other-repository" in v.reasons
    own = f"It is in https://github.com/{REPO}/blob/main/src/auth/session.py#L10 and https://github.com/other/lib/issues/1"
    assert "context:own-repository" in context.evidence("t", own, ctx()).reasons


def test_paths_missing_from_the_tree_count_against_and_nothing_is_said_without_a_tree() -> None:
    body = "The bug is in lib/handlers/upload_handler.rb and lib/core/parser.rb."
    assert "context:names-missing-files" in context.evidence("t", body, ctx(repo_paths=TREE)).reasons
    assert context.evidence("t", body, ctx()).reasons == ()  # tree unknown: no claim either way
    assert "context:names-own-files" in context.evidence("t", "see `auth/session.py`", ctx(repo_paths=TREE)).reasons


def test_other_kinds_are_left_to_their_words_and_the_shift_is_bounded() -> None:
    beg = Verdict("beg_bounty", 0.7, ("payment-ask",))
    assert context.apply(beg, "[SECURITY] bounty?", "", ctx(labels=("security",)), TH) is beg
    ev = context.evidence("[SECURITY] x", "### Impact\n### Severity\n### CVSS\nsee src/api/export.py",
                          ctx(labels=("security", "vulnerability"), repo_paths=TREE))
    assert ev.shift == context.MAX_SHIFT
    assert context.apply(Verdict("none", 0.1, ()), "plain title", "plain body", None, TH).kind == "none"


def test_reasons_are_names_never_text_and_a_huge_body_is_cheap() -> None:
    secret = "s3cr3t-token-in-src/secret_leak.py"
    body = ("see src/x%d.py https://github.com/a/b%d/blob/x " % (0, 0)) * 50_000 + secret
    big_tree = frozenset(f"pkg{i}/mod{j}.py" for i in range(200) for j in range(100))
    start = time.process_time()
    ev = context.evidence("[security] t", body, ctx(repo_paths=big_tree))
    assert time.process_time() - start < 2.0  # bounded scan; a generous bound, not a benchmark
    assert all(r in context.WEIGHTS for r in ev.reasons)
    assert not any("secret" in r for r in ev.reasons)


def test_the_literal_hints_change_no_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    # `_LINK_HINT` and `_FORM_HINT` only skip scans that cannot match: the evidence of every
    # training and development text, and of links and headings written every which way, is the same
    # with the hints and without them.
    corpus = Path(__file__).parent / "corpus"
    texts = [(row.get("title") or "", row.get("body") or "")
             for name in ("train.jsonl", "dev.jsonl", "issues.jsonl")
             for row in map(json.loads, (corpus / name).read_text().splitlines())]
    texts += [("", "see GITHUB.COM/o/r/blob/main/a.py and https://GitHub.Com/x/y/issues/1"),
              ("", "https://github.com/o/r/pull/2"), ("", "github.com/o/r.git/tree/x github.com/q/z/commit/1"),
              ("", "## Impact\nbad\n  ### Steps to reproduce\n1.\n#### CVSS score\n"),
              ("", "##Impact\n##  poc  \n"), ("", "#####impact\n## severity")]
    assert len(texts) > 500
    seen = TextContext(repo_full_name="o/r", labels=("bug",))
    hinted = [context.evidence(t, b, seen) for t, b in texts]
    monkeypatch.setattr(context, "_LINK_HINT", re.compile(""))
    monkeypatch.setattr(context, "_FORM_HINT", "")
    assert [context.evidence(t, b, seen) for t, b in texts] == hinted
    assert any("context:own-repository" in e.reasons for e in hinted)
    assert any("context:other-repository" in e.reasons for e in hinted)
    assert any("context:security-form" in e.reasons for e in hinted)
