#!/usr/bin/env python3
"""Train the learned half of the detector and write bot/rules/detector.bin.

    .venv/bin/python scripts/train_detector.py [--farsec DIR] [--check] [--out PATH]

Training data, and nothing else:
- the FARSEC *train* halves (rows with "split": "train", read in place from ../shared/data/farsec;
  the test halves never train or choose anything). Chromium's train half keeps all its security
  rows and one in four of the others (chosen by a hash of the id), so it does not drown the rest;
- tests/corpus/issues.jsonl, dev.jsonl and train.jsonl (never holdout.jsonl, which is only scored).

What it does, all deterministic (fixed fold assignment by CRC-32 of the id, fixed order, no
randomness), so training twice writes the same bytes (``--check`` verifies that against the file):
1. hashed word/bigram features of each text (bot/rules/learned.py) and the rules' own log-odds
   (bot/rules/detect.py ``rule_logits``);
2. logistic regression on the features (AdaGrad, L2), 5-fold: out-of-fold log-odds for every row;
3. a stacking logistic regression over (rules' log-odds, learned log-odds floored at
   ``LEARNED_FLOOR``) fitted on those out-of-fold log-odds of the GitHub-style rows: the combined
   score of ``detect.classify`` (where a text without a claim the rules can name never reaches the
   public tier, as here when choosing ``public``);
4. thresholds from the out-of-fold combined scores of the GitHub-style training rows:
   ``public`` = the lowest score at which at most 1% of their ``none`` rows are taken for reports;
   ``notify`` = the lower of two scores: the highest score (up to ``public``) that keeps recall
   >= 0.97, and the lowest score at which at most 6% of the ``none`` rows are taken for reports
   (the heads-up false-alarm budget, kept well under the 10% target because unseen text scores
   below out-of-fold recall and above out-of-fold false alarms); if the recall score alone costs
   more than 10% false alarms, the lowest score that keeps them at 10%;
   and for the FARSEC benchmark, the score that maximises g on out-of-fold scores of train
   halves: one threshold for the four Apache JIRA projects, from their train halves together,
   and Chromium's from its own (``farsec_thresholds``, which prints why);
5. the final model on all rows, written with those choices and how they were made in its header.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.rules import learned  # noqa: E402
from bot.rules.detect import combine, rule_logits, windows  # noqa: E402

CORPORA = ("issues.jsonl", "dev.jsonl", "train.jsonl")
FARSEC_PROJECTS = ("ambari", "camel", "derby", "wicket", "chromium")
# The Apache JIRA projects share one heads-up threshold (see farsec_thresholds).
APACHE = ("ambari", "camel", "derby", "wicket")
SPLITS = 40  # random split halves per project when comparing the ways of choosing it
DEFAULT_FARSEC = ROOT.parent / "shared" / "data" / "farsec"
FOLDS = 5
EPOCHS = 8
LR = 0.4
L2 = 1e-6
# Weight of a GitHub-style row against a FARSEC row. Chosen by out-of-fold figures on training rows
# (3, 6, 10, 20 tried): public recall at <=1% false alarms 0.79 / 0.85 / 0.86 / 0.87, heads-up false
# alarms at recall 0.97 6.9% / 6.4% / 6.4% / 7.5%, FARSEC train-half g about the same; 10 kept.
GITHUB_WEIGHT = 10.0
FARSEC_POS_WEIGHT = 4.0
CHROMIUM_NEG_KEEP = 4  # keep one chromium non-security row in this many
PUBLIC_MAX_FA = 0.01
NOTIFY_MIN_RECALL = 0.97
NOTIFY_MAX_FA = 0.10
# Heads-up false alarms are cheap (a private note) and misses are not, while fresh text loses
# recall against out-of-fold figures: spend the budget. Chosen a priori on the training rows'
# out-of-fold curve (2026-12-07, before batch t564... was scored): at recall 0.97 the score was
# 0.354 with 4.4% false alarms; budgets of 5 / 6 / 7 / 8% gave 0.319 / 0.276 / 0.254 / 0.205 with
# recall 0.975 / 0.977 / 0.977 / 0.983. 6% takes the recall gained up to there and leaves four
# points of the 10% target for the rise seen on fresh batches (heads-up false alarms 2-3 of 12 on
# t534..t563 at 4.4% out-of-fold).
NOTIFY_FA_BUDGET = 0.06
GRID = [i / 1000 for i in range(1, 1000)]
# Floor of the learned log-odds in the combination (detect.combine). Chosen on training rows only:
# out-of-fold, the learned model ranks the Apache train halves no better than chance (AUC ~0.5;
# it scores every JIRA ticket far below any GitHub text), and with a floor of -3 the combined
# ranking there goes back near the rules' own while the GitHub-style rows keep theirs (AUC 0.986
# vs 0.987 without a floor).
LEARNED_FLOOR = -3.0


def _crc(s: str) -> int:
    return zlib.crc32(s.encode())


def load_rows(farsec: Path) -> tuple[list[dict], dict[str, str]]:
    rows: list[dict] = []
    digests: dict[str, str] = {}
    for name in CORPORA:
        path = ROOT / "tests" / "corpus" / name
        data = path.read_bytes()
        digests[f"tests/corpus/{name}"] = hashlib.sha256(data).hexdigest()
        for line in data.decode("utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                rows.append({"id": r["id"], "title": r["title"] or "", "body": r["body"] or "",
                             "y": int(r["label"] == "vulnerability"), "src": "github", "label": r["label"]})
    for proj in FARSEC_PROJECTS:
        path = farsec / f"farsec_{proj}.jsonl"
        data = path.read_bytes()
        digests[f"farsec_{proj}.jsonl"] = hashlib.sha256(data).hexdigest()
        for line in data.decode("utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("split") != "train":  # the test halves are the benchmark: never read for training
                continue
            y = int(r["label"]) == 1
            if proj == "chromium" and not y and _crc(str(r["id"])) % CHROMIUM_NEG_KEEP:
                continue
            rows.append({"id": f"{proj}:{r['id']}", "title": r.get("title") or "", "body": r.get("body") or "",
                         "y": int(y), "src": f"farsec:{proj}", "label": "vulnerability" if y else "none"})
    return rows, digests


def weight(row: dict) -> float:
    if row["src"] == "github":
        return GITHUB_WEIGHT
    return FARSEC_POS_WEIGHT if row["y"] else 1.0


def fit(rows: list[dict], feats: list[list[int]], idx: list[int]) -> tuple[list[float], float]:
    """Logistic regression by AdaGrad over the rows ``idx`` (in a fixed, interleaved order)."""
    size = 1 << learned.NBITS
    w = [0.0] * size
    g2 = [1e-8] * size
    bias, gb = 0.0, 1e-8
    order = sorted(idx, key=lambda i: (_crc(rows[i]["id"]), i))
    for _ in range(EPOCHS):
        for i in order:
            f = feats[i]
            if not f:
                continue
            v = 1.0 / math.sqrt(len(f))
            z = bias + v * sum(w[h] for h in f)
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - rows[i]["y"]) * weight(rows[i])
            gb += g * g
            bias -= LR * g / math.sqrt(gb)
            gv = g * v
            for h in f:
                gh = gv + L2 * w[h]
                g2[h] += gh * gh
                w[h] -= LR * gh / math.sqrt(g2[h])
    return w, bias


def logit(w: list[float], bias: float, f: list[int]) -> float:
    return bias + (sum(w[h] for h in f) / math.sqrt(len(f)) if f else 0.0)


def fit_stack(xs: list[tuple[float, float]], ys: list[int], floor: float = LEARNED_FLOOR) -> dict[str, float]:
    """Three-parameter logistic regression (rules' log-odds, learned log-odds, bias), class-balanced,
    by plain gradient descent from a fixed start."""
    pos = sum(ys)
    neg = len(ys) - pos
    cw = {1: len(ys) / (2 * pos), 0: len(ys) / (2 * neg)}
    xs = [(r, max(floor, lg)) for r, lg in xs]
    a, b, c = 0.5, 0.5, 0.0
    for _ in range(3000):
        ga = gb = gc = 0.0
        for (r, l), y in zip(xs, ys):
            z = a * r + b * l + c
            p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - y) * cw[y]
            ga += g * r
            gb += g * l
            gc += g
        n = len(ys)
        a -= 0.05 * ga / n
        b -= 0.05 * gb / n
        c -= 0.05 * gc / n
    return {"rule": round(a, 6), "learned": round(b, 6), "bias": round(c, 6), "floor": floor}


def squash(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def rates(scores: list[float], labels: list[str], t: float) -> tuple[float, float, float]:
    """(recall on vulnerability rows, false alarms on none rows, false alarms on beg_bounty rows) at t."""
    vul = [s for s, lab in zip(scores, labels) if lab == "vulnerability"]
    non = [s for s, lab in zip(scores, labels) if lab == "none"]
    beg = [s for s, lab in zip(scores, labels) if lab == "beg_bounty"]
    return (sum(s >= t for s in vul) / max(1, len(vul)), sum(s >= t for s in non) / max(1, len(non)),
            sum(s >= t for s in beg) / max(1, len(beg)))


def choose_thresholds(scores: list[float], labels: list[str], claims: list[bool]) -> dict:
    # As detect.classify decides: a text without a claim the rules can name never reaches the public tier.
    public_scores = [s if c else 0.0 for s, c in zip(scores, claims)]
    public = next(t for t in GRID if rates(public_scores, labels, t)[1] <= PUBLIC_MAX_FA)
    keep = [t for t in GRID if t <= public and rates(scores, labels, t)[0] >= NOTIFY_MIN_RECALL]
    if keep and rates(scores, labels, max(keep))[1] <= NOTIFY_MAX_FA:
        budget = next(t for t in GRID if rates(scores, labels, t)[1] <= NOTIFY_FA_BUDGET)
        notify = min(max(keep), budget)
        how = (f"lower of the highest score <= public with out-of-fold recall >= {NOTIFY_MIN_RECALL} ({max(keep)}) "
               f"and the lowest score with <= {NOTIFY_FA_BUDGET:.0%} false alarms ({budget})")
    else:
        notify = next(t for t in GRID if rates(scores, labels, t)[1] <= NOTIFY_MAX_FA)
        how = f"recall {NOTIFY_MIN_RECALL} would cost more than {NOTIFY_MAX_FA:.0%} false alarms: lowest score with <= {NOTIFY_MAX_FA:.0%}"
    pr, pf, pb = rates(public_scores, labels, public)
    nr, nf, nb = rates(scores, labels, notify)
    return {
        "public": public, "notify": notify,
        "public_how": f"lowest score at which <= {PUBLIC_MAX_FA:.0%} of the none rows score as reports "
                      f"(5-fold out-of-fold combined scores, GitHub-style training rows)",
        "notify_how": how + " (same out-of-fold scores)",
        "cv_public": {"recall": round(pr, 4), "fa_none": round(pf, 4), "fa_beg": round(pb, 4)},
        "cv_notify": {"recall": round(nr, 4), "fa_none": round(nf, 4), "fa_beg": round(nb, 4)},
    }


def best_g_threshold(scores: list[float], ys: list[int]) -> tuple[float, float]:
    """(g, threshold): the rounded score at which g is highest (the highest such score on ties)."""
    scored = list(zip(scores, ys))
    best = (0.0, 0.5)
    for t in sorted(set(round(s, 4) for s in scores), reverse=True):
        g = g_at(scored, t)
        if g > best[0] + 1e-12:
            best = (g, t)
    return best


def g_at(scored: list[tuple[float, int]], t: float) -> float:
    pos = sum(y for _, y in scored)
    neg = len(scored) - pos
    tp = sum(1 for s, y in scored if y and s >= t)
    fp = sum(1 for s, y in scored if not y and s >= t)
    pd, pf = tp / max(1, pos), fp / max(1, neg)
    return 2 * pd * (1 - pf) / (pd + 1 - pf) if pd + 1 - pf else 0.0


def farsec_thresholds(scored: dict[str, list[tuple[float, int]]]) -> tuple[dict, str]:
    """Heads-up thresholds for the FARSEC benchmark, from out-of-fold scores of train halves only.

    A train half holds 4 (Wicket) to 46 (Derby) security reports of its project, too few for a
    threshold of its own: chosen on one random half of a project's train half and scored on the
    other, a project's own threshold generalises worse than one chosen on the four Apache JIRA
    train halves together (the mean g of each way is printed by the training script, `SPLITS`
    random halves a project, fixed seed). So the Apache projects share the threshold that
    maximises g on their four train halves together; Chromium, a tracker of its own with 81
    security reports in its train half, keeps its own.
    """
    import random  # (seeded: the same splits every run)

    rng = random.Random(16)
    own_g, pooled_g = [], []
    for proj in APACHE:
        others = [x for q in APACHE if q != proj for x in scored[q]]
        pos = [x for x in scored[proj] if x[1]]
        neg = [x for x in scored[proj] if not x[1]]
        for _ in range(SPLITS):
            rng.shuffle(pos)
            rng.shuffle(neg)
            a = pos[:len(pos) // 2] + neg[:len(neg) // 2]
            b = pos[len(pos) // 2:] + neg[len(neg) // 2:]
            for fit_on, scored_on in ((a, b), (b, a)):
                own_g.append(g_at(scored_on, best_g_threshold(*zip(*fit_on))[1]))
                pooled_g.append(g_at(scored_on, best_g_threshold(*zip(*(fit_on + others)))[1]))
    own, pooled = 100 * sum(own_g) / len(own_g), 100 * sum(pooled_g) / len(pooled_g)
    apache = [x for q in APACHE for x in scored[q]]
    _, shared = best_g_threshold(*zip(*apache))
    th = {}
    for proj in FARSEC_PROJECTS:
        t = shared if proj in APACHE else best_g_threshold(*zip(*scored[proj]))[1]
        th[proj] = {"notify": t, "cv_g": round(g_at(scored[proj], t), 4)}
    how = (f"the combined score maximising g on 5-fold out-of-fold scores of train halves (test halves never "
           f"read): one for {', '.join(APACHE)} together, chromium its own. Why shared: chosen on a random half "
           f"of a project's train half and scored on the other half ({SPLITS} splits a project), a threshold of "
           f"the project's own reached mean g {own:.1f}, one chosen with the other three Apache train halves "
           f"{pooled:.1f}")
    return th, how


def train(farsec: Path, log=print) -> bytes:
    rows, digests = load_rows(farsec)
    log(f"training rows: {len(rows)} ({sum(r['y'] for r in rows)} positive); "
        + ", ".join(f"{s} {sum(1 for r in rows if r['src'] == s)}" for s in sorted({r['src'] for r in rows})))
    feats, rlog, claim = [], [], []
    for r in rows:
        first = windows(r["body"])[0]
        feats.append(learned.hashed(r["title"], first))
        v_logit, _, has_claim = rule_logits(r["title"], first)
        rlog.append(v_logit)
        claim.append(has_claim)
    folds = [_crc(r["id"]) % FOLDS for r in rows]
    oof = [0.0] * len(rows)
    for k in range(FOLDS):
        w, b = fit(rows, feats, [i for i in range(len(rows)) if folds[i] != k])
        for i in range(len(rows)):
            if folds[i] == k:
                oof[i] = logit(w, b, feats[i])
        log(f"  fold {k + 1}/{FOLDS} done")
    gh = [i for i, r in enumerate(rows) if r["src"] == "github"]
    stack = fit_stack([(rlog[i], oof[i]) for i in gh], [rows[i]["y"] for i in gh])
    combined = [combine(rlog[i], oof[i], stack) for i in range(len(rows))]
    th = choose_thresholds([combined[i] for i in gh], [rows[i]["label"] for i in gh], [claim[i] for i in gh])
    rules_only = choose_thresholds([squash(rlog[i]) for i in gh], [rows[i]["label"] for i in gh], [claim[i] for i in gh])
    farsec_th, farsec_how = farsec_thresholds(
        {p: [(combined[i], rows[i]["y"]) for i, r in enumerate(rows) if r["src"] == f"farsec:{p}"]
         for p in FARSEC_PROJECTS})
    w, b = fit(rows, feats, list(range(len(rows))))
    meta = {
        "stack": stack,
        "thresholds": th,
        "rules_only_cv": rules_only,
        "farsec": farsec_th,
        "farsec_how": farsec_how,
        "training": {"rows": len(rows), "positive": sum(r["y"] for r in rows), "inputs": digests,
                     "folds": FOLDS, "epochs": EPOCHS, "lr": LR, "l2": L2, "max_tokens": learned.MAX_TOKENS},
    }
    return learned.encode(w, b, meta)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--farsec", type=Path, default=DEFAULT_FARSEC, help=f"FARSEC directory [{DEFAULT_FARSEC}]")
    ap.add_argument("--out", type=Path, default=learned.WEIGHTS_PATH)
    ap.add_argument("--check", action="store_true", help="train and compare with --out byte for byte; write nothing")
    a = ap.parse_args(argv)
    data = train(a.farsec)
    model = learned.decode(data)
    th = model.meta["thresholds"]
    st = model.meta["stack"]
    print(f"stacking: combined = sigmoid({st['rule']} * rules + {st['learned']} * max({st['floor']}, learned) + {st['bias']})")
    print(f"detection.thresholds.public = {th['public']}: {th['public_how']}; "
          f"there recall {th['cv_public']['recall']}, false alarms {th['cv_public']['fa_none']} (none), "
          f"{th['cv_public']['fa_beg']} (beg_bounty)")
    print(f"detection.thresholds.notify = {th['notify']}: {th['notify_how']}; "
          f"there recall {th['cv_notify']['recall']}, false alarms {th['cv_notify']['fa_none']} (none), "
          f"{th['cv_notify']['fa_beg']} (beg_bounty)")
    ro = model.meta["rules_only_cv"]
    print(f"yardstick, rules alone by the same rule: public {ro['public']} (recall {ro['cv_public']['recall']}), "
          f"notify {ro['notify']} (recall {ro['cv_notify']['recall']}, false alarms {ro['cv_notify']['fa_none']})")
    for proj, v in model.meta["farsec"].items():
        print(f"FARSEC {proj}: heads-up threshold {v['notify']} (out-of-fold g on the train half {v['cv_g']:.3f})")
    print(f"FARSEC thresholds: {model.meta['farsec_how']}")
    digest = hashlib.sha256(data).hexdigest()
    if a.check:
        same = a.out.exists() and a.out.read_bytes() == data
        print(f"{'OK' if same else 'DIFFERENT'}: trained {len(data):,} bytes sha256 {digest[:16]} vs {a.out}")
        return 0 if same else 1
    a.out.write_bytes(data)
    print(f"wrote {a.out} ({len(data):,} bytes, sha256 {digest[:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
