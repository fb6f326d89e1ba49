"""Benchmark bot.rules.detect: both tiers on the labelled corpora and the FARSEC test halves.

    .venv/bin/python bench/classify.py [--farsec DIR] [--per-project] [--no-holdout]

Printed, figures only (never a text):
- per corpus (``issues.jsonl``, ``dev.jsonl``, ``train.jsonl``: training data; ``holdout.jsonl``:
  scored only), at the product's default thresholds: the **public** tier (verdict
  ``vulnerability``) and the **heads-up** tier (``vulnerability`` or ``possible``): recall on
  vulnerability reports, false alarms on ordinary issues and on hard negatives (every other
  ``none`` row); beg-bounty exact rate (a beg-bounty row gets ``beg_bounty``); phishing and status
  pings caught, and ``none`` rows taken for either. Beside each, the yardstick measured in the same
  run: the rules alone at the previous release's thresholds (public 0.5, notify 0.4).
- FARSEC test halves (read in place), at the heads-up tier with the threshold the training
  script chose on *train* halves (one for the four Apache projects, from their train halves
  together; Chromium's from its own; stored in the weights file), and at the
  public tier with the product default; with ``--per-project``, also the same learner fitted on
  each project's train half alone (how FARSEC itself is evaluated).
- Model size, load time, texts/s on one core, peak RSS, and the cost of long bodies (windows).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.rules import learned  # noqa: E402
from bot.rules.detect import Thresholds, classify, combine, rule_logits, windows  # noqa: E402

CORPUS_DIR = ROOT / "tests" / "corpus"
SETS = (("issues.jsonl", "training"), ("dev.jsonl", "training"), ("train.jsonl", "training"),
        ("holdout.jsonl", "scored only"))
ORDINARY = {"neg/ordinary", "ordinary"}
YARDSTICK = Thresholds(public=0.5, notify=0.4)  # the rules-only release's defaults
PUBLISHED = {"ambari": 74.4, "camel": 65.1, "derby": 69.4, "wicket": 69.9, "chromium": 68.1}
PROJECTS = ("ambari", "camel", "derby", "wicket", "chromium")
CMD = "bench/classify.py"


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rate(hits: int, n: int) -> str:
    return f"{hits / n:6.3f} ({hits}/{n})" if n else "     -      "


def corpus_figures(rows: list[dict], kinds: list[str]) -> dict[str, tuple[int, int]]:
    vul = [k for r, k in zip(rows, kinds) if r["label"] == "vulnerability"]
    ordinary = [k for r, k in zip(rows, kinds) if r["label"] == "none" and r.get("category") in ORDINARY]
    hard = [k for r, k in zip(rows, kinds) if r["label"] == "none" and r.get("category") not in ORDINARY]
    none = ordinary + hard
    beg = [k for r, k in zip(rows, kinds) if r["label"] == "beg_bounty"]
    phish = [k for r, k in zip(rows, kinds) if r["label"] == "phishing"]
    ping = [k for r, k in zip(rows, kinds) if r["label"] == "status_ping"]
    pub, heads = ("vulnerability",), ("vulnerability", "possible")
    return {
        "public recall": (sum(k in pub for k in vul), len(vul)),
        "public FA ordinary": (sum(k in pub for k in ordinary), len(ordinary)),
        "public FA hard neg": (sum(k in pub for k in hard), len(hard)),
        "heads-up recall": (sum(k in heads for k in vul), len(vul)),
        "heads-up FA none": (sum(k in heads for k in none), len(none)),
        "beg-bounty exact": (sum(k == "beg_bounty" for k in beg), len(beg)),
        "phishing caught": (sum(k == "phishing" for k in phish), len(phish)),
        "none as phishing": (sum(k == "phishing" for k in none), len(none)),
        "pings caught": (sum(k == "status_ping" for k in ping), len(ping)),
        "none as ping": (sum(k == "status_ping" for k in none), len(none)),
    }


def bench_corpora(no_holdout: bool) -> None:
    th = Thresholds()
    print(f"\n== Corpora  (product thresholds: public {th.public}, notify {th.notify}, beg_bounty {th.beg_bounty}; "
          f"yardstick: rules alone at public {YARDSTICK.public}, notify {YARDSTICK.notify})")
    print(f"   command: .venv/bin/python {CMD}")
    for name, role in SETS:
        path = CORPUS_DIR / name
        if not path.exists() or (no_holdout and name == "holdout.jsonl"):
            continue
        rows = _rows(path)
        kinds = [classify(r["title"], r["body"]).kind for r in rows]
        base = [classify(r["title"], r["body"], YARDSTICK, model=False).kind for r in rows]
        ours, yard = corpus_figures(rows, kinds), corpus_figures(rows, base)
        print(f"\n  {name} (n={len(rows)}, {role})      {'detector':<16} {'yardstick (rules)':<16}")
        for key, (hits, n) in ours.items():
            if n:
                print(f"    {key:<20} {_rate(hits, n):<16} {_rate(*yard[key]):<16}")
        if name == "holdout.jsonl":
            # Counts only: category names are labels, never text from the issues.
            counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
            for r, k in zip(rows, kinds):
                counts[(r["label"], r.get("category", "?"))][k] += 1
            for (label, category), c in sorted(counts.items()):
                print(f"      {label:<13} {category:<20} " + "  ".join(f"{k} {v}" for k, v in sorted(c.items())))


def _g(pd: float, pf: float) -> float:
    return 2 * pd * (1 - pf) / (pd + 1 - pf) if pd + 1 - pf else 0.0


def _pd_pf(ys: list[bool], ps: list[bool]) -> tuple[float, float, int]:
    pos = sum(ys)
    tp = sum(1 for y, p in zip(ys, ps) if y and p)
    fp = sum(1 for y, p in zip(ys, ps) if not y and p)
    return tp / max(1, pos), fp / max(1, len(ys) - pos), pos


def _farsec_rows(directory: Path, proj: str, split: str) -> list[dict]:
    path = directory / f"farsec_{proj}.jsonl"
    return [r for r in (json.loads(line) for line in path.open(encoding="utf-8") if line.strip()) if r.get("split") == split]


def bench_farsec(directory: Path) -> None:
    model = learned.load()
    default = Thresholds()
    print(f"\n== FARSEC test halves (read in place from {directory}; never used to choose anything)")
    print(f"   command: .venv/bin/python {CMD} --farsec {directory}")
    print(f"   heads-up tier: positive = any verdict but none, at the threshold chosen by "
          f"scripts/train_detector.py: {model.meta['farsec_how']}")
    print(f"   public tier: positive = vulnerability, at the product default {default.public}")
    print("   public writes: the non-security reports a public issue tracker would have answered in public "
          "(vulnerability: a redirect; beg_bounty: a beg-bounty reply; phishing: hidden as spam), of all of them; "
          f"yardstick beside it: the rules alone at public {YARDSTICK.public}")
    print(f"   {'project':<9} {'n':>6} {'sec':>4} | {'heads-up t':>10} {'pd':>5} {'pf':>5} {'g':>5}  published | "
          f"{'pd':>5} {'pf':>5} {'g':>5} | {'public writes':>42} | {'texts/s':>7}")
    for proj in PROJECTS:
        if not (directory / f"farsec_{proj}.jsonl").exists():
            print(f"   {proj:<9} missing")
            continue
        rows = _farsec_rows(directory, proj, "test")
        t = model.meta["farsec"][proj]["notify"]
        th = Thresholds(public=default.public, notify=t, beg_bounty=default.beg_bounty)
        t0 = time.perf_counter()
        kinds = [classify(r.get("title") or "", r.get("body") or "", th).kind for r in rows]
        secs = time.perf_counter() - t0
        ys = [int(r["label"]) == 1 for r in rows]
        pd, pf, pos = _pd_pf(ys, [k != "none" for k in kinds])
        g = _g(pd, pf)
        qd, qf, _ = _pd_pf(ys, [k == "vulnerability" for k in kinds])
        mark = "beaten" if 100 * g > PUBLISHED[proj] else "NOT beaten"
        base = [classify(r.get("title") or "", r.get("body") or "", YARDSTICK, model=False).kind
                for r, y in zip(rows, ys) if not y]
        shown = f"{_public_writes([k for k, y in zip(kinds, ys) if not y])} (rules {_public_writes(base)})"
        print(f"   {proj:<9} {len(rows):>6} {pos:>4} | {t:>10.4f} {100 * pd:5.1f} {100 * pf:5.1f} {100 * g:5.1f}  "
              f"{PUBLISHED[proj]:4.1f} {mark:<10} | {100 * qd:5.1f} {100 * qf:5.1f} {100 * _g(qd, qf):5.1f} | "
              f"{shown:>42} | {len(rows) / secs:7,.0f}")


def _public_writes(kinds: list[str]) -> str:
    """How many of these verdicts on non-security reports would be answered in public, of all."""
    writes = sum(k in ("vulnerability", "beg_bounty", "phishing") for k in kinds)
    return f"{writes}/{len(kinds):,} ({100 * writes / max(1, len(kinds)):.2f}%)"


def bench_per_project(directory: Path) -> None:
    """The same learner fitted on one project's train half alone, scored on its test half."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_detector as td  # noqa: PLC0415

    print("\n== FARSEC per project: the learner fitted on each project's train half alone (FARSEC's own protocol)")
    print(f"   command: .venv/bin/python {CMD} --farsec {directory} --per-project")
    print("   combined = stacking of rules + learned fitted on 5-fold out-of-fold scores of the train half; "
          "heads-up threshold = max g on those out-of-fold scores; test half only scored")
    print(f"   {'project':<9} {'sec':>4} {'threshold':>9} {'pd':>5} {'pf':>5} {'g':>5}  published")
    for proj in PROJECTS:
        if not (directory / f"farsec_{proj}.jsonl").exists():
            continue
        train = [{"id": str(r["id"]), "title": r.get("title") or "", "body": r.get("body") or "",
                  "y": int(int(r["label"]) == 1), "src": f"farsec:{proj}"} for r in _farsec_rows(directory, proj, "train")]
        if proj == "chromium":  # same subsampling of non-security rows as the shipped model's training
            train = [r for r in train if r["y"] or td._crc(r["id"]) % td.CHROMIUM_NEG_KEEP == 0]
        feats = [learned.hashed(r["title"], windows(r["body"])[0]) for r in train]
        rl = [rule_logits(r["title"], windows(r["body"])[0])[0] for r in train]
        folds = [td._crc(r["id"]) % td.FOLDS for r in train]
        oof = [0.0] * len(train)
        for k in range(td.FOLDS):
            w, b = td.fit(train, feats, [i for i in range(len(train)) if folds[i] != k])
            for i in range(len(train)):
                if folds[i] == k:
                    oof[i] = td.logit(w, b, feats[i])
        stack = td.fit_stack(list(zip(rl, oof)), [r["y"] for r in train])
        cv = [combine(a, b, stack) for a, b in zip(rl, oof)]
        _, t = td.best_g_threshold(cv, [r["y"] for r in train])
        w, b = td.fit(train, feats, list(range(len(train))))
        test = _farsec_rows(directory, proj, "test")
        scores = []
        for r in test:
            first = windows(r.get("body") or "")[0]
            scores.append(combine(rule_logits(r.get("title") or "", first)[0],
                                  td.logit(w, b, learned.hashed(r.get("title") or "", first)), stack))
        ys = [int(r["label"]) == 1 for r in test]
        pd, pf, pos = _pd_pf(ys, [s >= t for s in scores])
        g = _g(pd, pf)
        print(f"   {proj:<9} {pos:>4} {t:>9.4f} {100 * pd:5.1f} {100 * pf:5.1f} {100 * g:5.1f}  {PUBLISHED[proj]:4.1f} "
              f"{'beaten' if 100 * g > PUBLISHED[proj] else 'NOT beaten'}")


_PROBE = r"""
import resource, sys, time, json
sys.path.insert(0, %(root)r)
t0 = time.perf_counter()
from bot.rules import detect, learned
t1 = time.perf_counter()
use = %(use)r
if use:
    learned.load()
t2 = time.perf_counter()
rows = [json.loads(l) for l in open(%(corpus)r, encoding="utf-8") if l.strip()]
texts = [(r["title"], r["body"]) for r in rows]
n, t3 = 0, time.perf_counter()
while time.perf_counter() - t3 < 2.0:
    for a, b in texts:
        detect.classify(a, b, model=use)
    n += len(texts)
t4 = time.perf_counter()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec.
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
rss_kb = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "rate": n / (t4 - t3), "rss_kb": rss_kb}))
"""


def bench_costs() -> None:
    size = learned.WEIGHTS_PATH.stat().st_size
    print("\n== Costs (one core; each in a fresh process)")
    print(f"   command: .venv/bin/python {CMD}   (this section: a child `python -c` per line; RSS = its VmHWM)")
    print(f"   model file  {learned.WEIGHTS_PATH.relative_to(ROOT)}: {size:,} bytes ({size / 2**20:.2f} MiB; limit 2 MiB)")
    corpus = str(CORPUS_DIR / "issues.jsonl")
    for use, label in ((True, "detector"), (False, "yardstick: rules alone")):
        out = subprocess.run([sys.executable, "-c", _PROBE % {"root": str(ROOT), "use": use, "corpus": corpus}],
                             capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONHASHSEED="0"))
        m = json.loads(out.stdout)
        print(f"   {label:<24} import {m['import'] * 1000:5.0f} ms  model load {m['load'] * 1000:5.1f} ms  "
              f"{m['rate']:7,.0f} texts/s (issues.jsonl, avg ~300 chars)  peak RSS {m['rss_kb'] / 1024:5.1f} MiB")
    base = "A stored XSS in the wiki renderer lets an attacker run script for every visitor. " * 3
    filler = ("The build log is long. " * 40 + "\n") * 2
    print("   long bodies (windows of 20,000 chars, 2,000 overlap, at most 8; a longer body gets longer windows):")
    for n_chars in (20_000, 65_536, 1_048_576):
        body = (filler * (n_chars // len(filler) + 1))[:n_chars - len(base)] + base
        t0 = time.perf_counter()
        v = classify("Build output", body)
        secs = time.perf_counter() - t0
        print(f"     {n_chars:>9,} chars: {len(windows(body))} windows, {secs * 1000:7.1f} ms, report at the very end "
              f"-> {v.kind}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--farsec", type=Path, help="directory holding farsec_<project>.jsonl")
    ap.add_argument("--per-project", action="store_true", help="also fit the learner per FARSEC project (slow)")
    ap.add_argument("--no-holdout", action="store_true", help="skip tests/corpus/holdout.jsonl (while developing)")
    ap.add_argument("--no-costs", action="store_true")
    a = ap.parse_args(argv)
    model = learned.load()
    th = model.meta["thresholds"]
    print("Detector: rules + hashed word/bigram logistic regression, stacked "
          f"(combined = sigmoid({model.meta['stack']['rule']}*rules + {model.meta['stack']['learned']}"
          f"*max({model.meta['stack']['floor']}, learned) + {model.meta['stack']['bias']}))")
    print(f"  public {th['public']}: {th['public_how']}")
    print(f"  notify {th['notify']}: {th['notify_how']}")
    print(f"  (both chosen by scripts/train_detector.py on training rows only; cross-validated there: "
          f"public recall {th['cv_public']['recall']} FA {th['cv_public']['fa_none']}, "
          f"heads-up recall {th['cv_notify']['recall']} FA {th['cv_notify']['fa_none']})")
    bench_corpora(a.no_holdout)
    if a.farsec:
        bench_farsec(a.farsec)
        if a.per_project:
            bench_per_project(a.farsec)
    if not a.no_costs:
        bench_costs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
