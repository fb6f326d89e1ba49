"""Benchmark bot.rules.detect on the labelled corpora and, optionally, on the FARSEC test halves.

    .venv/bin/python bench/classify.py [--farsec DIR] [--threshold X] [--split test|train]

Corpus figures use the default thresholds (the product's): ``issues.jsonl`` (the corpus the
classifier was built on), ``dev.jsonl`` (plain-language and non-English development set) and, when
the file exists, the blind ``holdout.jsonl``. For the holdout only figures and per-category counts
are printed, never any of its texts. FARSEC figures use ``--threshold``
(a benchmark-only vulnerability threshold, printed with the results) because JIRA and Chromium
bug trackers are not GitHub issues; both verdicts ``vulnerability`` and ``beg_bounty`` count as
positive there, as in ``farsec/score.py``. The FARSEC data is read in place, never copied.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.rules.detect import Thresholds, classify  # noqa: E402

CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "corpus"
CORPUS = CORPUS_DIR / "issues.jsonl"
DEV = CORPUS_DIR / "dev.jsonl"
HOLDOUT = CORPUS_DIR / "holdout.jsonl"
FARSEC_THRESHOLD = 0.06
# Best published g-measure on each test half: max of "FARSEC original best" and
# "FARSEC re-implementation best" (farsec/README.md).
PUBLISHED = {"ambari": 74.4, "camel": 65.1, "derby": 69.4, "wicket": 69.9, "chromium": 68.1}


def rates(labels: list[bool], preds: list[bool]) -> dict[str, float]:
    tp = sum(1 for y, p in zip(labels, preds) if y and p)
    fn = sum(1 for y, p in zip(labels, preds) if y and not p)
    fp = sum(1 for y, p in zip(labels, preds) if not y and p)
    tn = sum(1 for y, p in zip(labels, preds) if not y and not p)
    pd = tp / (tp + fn) if tp + fn else 0.0
    pf = fp / (fp + tn) if fp + tn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    g = 2 * pd * (1 - pf) / (pd + (1 - pf)) if pd + (1 - pf) else 0.0
    return {"tp": tp, "fn": fn, "fp": fp, "tn": tn, "pd": pd, "pf": pf, "precision": precision, "g": g}


def bench_corpus(path: Path = CORPUS, throughput: bool = True, per_category: bool = False) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    t0 = time.perf_counter()
    verdicts = [classify(r["title"], r["body"]) for r in rows]
    secs = time.perf_counter() - t0
    th = Thresholds()
    print(f"\ncorpus: {path.relative_to(CORPUS_DIR.parent.parent)}  n={len(rows)}  "
          f"thresholds public={th.public} notify={th.notify} beg_bounty={th.beg_bounty}")
    for kind in ("vulnerability", "beg_bounty"):
        m = rates([r["label"] == kind for r in rows], [v.kind == kind for v in verdicts])
        fpr_none = sum(1 for r, v in zip(rows, verdicts) if r["label"] == "none" and v.kind == kind) / max(
            1, sum(1 for r in rows if r["label"] == "none"))
        print(f"  {kind:<13} precision {m['precision']:.3f}  recall {m['pd']:.3f}  FPR {m['pf']:.3f} "
              f"(FPR on 'none' {fpr_none:.3f})  g {m['g']:.3f}   [TP {m['tp']} FN {m['fn']} FP {m['fp']} TN {m['tn']}]")
    m = rates([r["label"] != "none" for r in rows], [v.kind != "none" for v in verdicts])
    print(f"  any report    precision {m['precision']:.3f}  recall {m['pd']:.3f}  FPR {m['pf']:.3f}  g {m['g']:.3f}")
    if per_category:
        # Counts only: the category names are labels, never text from the issues.
        counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for r, v in zip(rows, verdicts):
            counts[(r["label"], r.get("category", "?"))][v.kind] += 1
        for (label, category), c in sorted(counts.items()):
            print(f"    {label:<13} {category:<24} " + "  ".join(f"{k} {c[k]}" for k in ("vulnerability", "beg_bounty", "none") if c[k]))
    if not throughput:
        return
    # Throughput on one core: repeat the corpus until at least ~1 s of work.
    texts = [(r["title"], r["body"]) for r in rows]
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 1.0:
        for title, body in texts:
            classify(title, body)
        n += len(texts)
    elapsed = time.perf_counter() - t0
    avg = sum(len(t) + len(b or "") for t, b in texts) / len(texts)
    print(f"  throughput    {n / elapsed:,.0f} texts/s on one core (avg {avg:,.0f} chars/text; first pass {len(rows) / secs:,.0f}/s)")


def bench_farsec(directory: Path, threshold: float, split: str) -> bool:
    th = Thresholds(public=threshold, notify=threshold, beg_bounty=Thresholds().beg_bounty)
    print(f"\nFARSEC {split} halves, benchmark-only threshold: vulnerability >= {threshold} "
          f"(product default {Thresholds().public}); positive = vulnerability or beg_bounty")
    print(f"  {'project':<9} {'n':>6} {'sec':>4}   {'pd':>5} {'pf':>5} {'prec':>5} {'g':>5}   published best g   {'texts/s':>8}")
    all_beat = True
    for name in ("ambari", "camel", "derby", "wicket", "chromium"):
        path = directory / f"farsec_{name}.jsonl"
        if not path.exists():
            print(f"  {name:<9} missing: {path}")
            all_beat = False
            continue
        rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
        rows = [r for r in rows if r.get("split") == split]
        t0 = time.perf_counter()
        preds = [classify(r.get("title") or "", r.get("body") or "", th).kind != "none" for r in rows]
        secs = time.perf_counter() - t0
        m = rates([int(r["label"]) == 1 for r in rows], preds)
        beat = 100 * m["g"] > PUBLISHED[name]
        all_beat &= beat
        print(f"  {name:<9} {len(rows):>6} {m['tp'] + m['fn']:>4}   {100 * m['pd']:5.1f} {100 * m['pf']:5.1f} "
              f"{100 * m['precision']:5.1f} {100 * m['g']:5.1f}   {PUBLISHED[name]:5.1f} {'beaten' if beat else 'NOT beaten':<10} "
              f"{len(rows) / secs:8,.0f}")
    return all_beat


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--farsec", type=Path, help="directory holding farsec_<project>.jsonl")
    ap.add_argument("--threshold", type=float, default=FARSEC_THRESHOLD,
                    help=f"vulnerability threshold for the FARSEC runs only [{FARSEC_THRESHOLD}]")
    ap.add_argument("--split", default="test", choices=["test", "train"],
                    help="FARSEC half to score; 'train' is for development, figures are reported on 'test'")
    ap.add_argument("--no-holdout", action="store_true",
                    help="skip tests/corpus/holdout.jsonl even when it exists (while developing)")
    a = ap.parse_args(argv)
    bench_corpus(CORPUS)
    if DEV.exists():
        bench_corpus(DEV, per_category=True)
    if HOLDOUT.exists() and not a.no_holdout:
        bench_corpus(HOLDOUT, throughput=False, per_category=True)
    if a.farsec:
        bench_farsec(a.farsec, a.threshold, a.split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
