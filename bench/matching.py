"""Product-matching benchmark: the shipped matcher against the title-word Jaccard baseline, per dataset.

On each of `../shared/data/product_matching/{abt-buy,amazon-google,walmart-amazon}/valid.txt` (never used
in training or threshold choice) it reports precision, recall and F1 of

- model: the matcher shipped in the package (`src/yinli/hosting/matcher_model.json.gz`), its
  threshold chosen by cross-validation on the training pairs;
- jaccard: same product when the titles' word Jaccard reaches the threshold that maximised F1 on that
  dataset's own train split (a per-dataset threshold: generous to the baseline);

with predict speed (pairs/s, single process: parsing excluded, features + model + calibration included)
for both, and the fit time of training the matcher from scratch on all three train splits as
`yinli train matcher` does (5-fold cross-validation for calibration and threshold, then the final
model). The full run also checks that the refit model scores valid exactly as the shipped one does
(training is deterministic); `--quick` fits on a 20% sample of the training pairs with 100 rounds
instead, which times a smaller fit and checks nothing about the shipped model's reproduction.

Goal (issue 15): F1 >= 0.85 Abt-Buy, 0.70 Amazon-Google, 0.80 Walmart-Amazon. Anchors: Ditto (fine-tuned
language model, VLDB 2021) 89.33 / 75.58 / 86.76.

`python bench/matching.py [--quick] [--data DIR]`; the last stdout line is one JSON object. Exits 2
when the data folder is absent (it is not on users' machines).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from _common import emit_result, machine, rate, say
from yinli.hosting.matcher import JaccardBaseline, Matcher, shipped_matcher
from yinli.hosting.metrics import scores
from yinli.hosting.training import SOURCES, LabelledPair, read_sources, train_matcher

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "product_matching"
GOALS = {"abt-buy": 0.85, "amazon-google": 0.70, "walmart-amazon": 0.80}
DITTO = {"abt-buy": 0.8933, "amazon-google": 0.7558, "walmart-amazon": 0.8676}


def evaluate(matcher: Matcher, pairs: list[LabelledPair]) -> tuple[dict[str, float | int], float, np.ndarray]:
    offers = [(p.left, p.right) for p in pairs]
    labels = np.array([p.same for p in pairs], dtype=bool)
    started = time.perf_counter()
    probabilities = matcher.probabilities(offers)
    seconds = time.perf_counter() - started
    return scores(labels, probabilities >= matcher.threshold).as_dict(), rate(len(pairs), seconds), probabilities


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fit on a 20%% sample with 100 rounds (under a minute)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    host = machine()
    if not (args.data / SOURCES[0] / "valid.txt").is_file():
        say(f"no product-matching data under {args.data}: nothing to measure")
        sys.exit(2)
    train = read_sources(args.data, "train")
    valid = read_sources(args.data, "valid")
    shipped = shipped_matcher()

    all_train = [p for s in SOURCES for p in train[s]]
    if args.quick:
        rng = np.random.default_rng(args.seed)
        sample = [all_train[i] for i in sorted(rng.choice(len(all_train), len(all_train) // 5, replace=False))]
        say(f"fitting on a sample of {len(sample)} training pairs, 100 rounds")
        started = time.perf_counter()
        refit = train_matcher(sample, seed=args.seed, rounds=100)
    else:
        say(f"fitting on all {len(all_train)} training pairs (5 folds + final)")
        started = time.perf_counter()
        refit = train_matcher(all_train, seed=args.seed)
    fit_seconds = time.perf_counter() - started
    say(f"fit in {fit_seconds:.1f} s")

    datasets = {}
    reproduced = True
    for source in SOURCES:
        pairs = valid[source]
        model, model_rate, probabilities = evaluate(shipped, pairs)
        refit_scores, _, refit_probabilities = evaluate(refit, pairs)
        if not args.quick:
            reproduced &= bool(np.allclose(probabilities, refit_probabilities, atol=1e-9))
        offers = [(p.left, p.right) for p in pairs]
        labels = np.array([p.same for p in pairs], dtype=bool)
        baseline = JaccardBaseline.fit(
            [(p.left, p.right) for p in train[source]], np.array([p.same for p in train[source]])
        )
        started = time.perf_counter()
        decided = baseline.predict(offers)
        baseline_rate = rate(len(pairs), time.perf_counter() - started)
        jaccard = scores(labels, decided).as_dict()
        say(
            f"{source}: model F1 {model['f1']:.3f} (P {model['precision']:.3f} R {model['recall']:.3f}), "
            f"jaccard F1 {jaccard['f1']:.3f}"
        )
        datasets[source] = {
            "model": model,
            "model_pairs_per_second": model_rate,
            "refit_model": refit_scores,
            "jaccard": jaccard,
            "jaccard_threshold": round(baseline.threshold, 4),
            "jaccard_pairs_per_second": baseline_rate,
            "goal_f1": GOALS[source],
            "meets_goal": model["f1"] >= GOALS[source],
            "ditto_f1": DITTO[source],
        }
    emit_result(
        {
            "benchmark": "matching",
            "quick": args.quick,
            "machine": host,
            "split": "valid",
            "threshold": round(shipped.threshold, 4),
            "fit_seconds": round(fit_seconds, 1),
            "fit_pairs": len(sample) if args.quick else len(all_train),
            "refit_reproduces_shipped": None if args.quick else reproduced,
            "meets_goals": all(d["meets_goal"] for d in datasets.values()),
            "f1": {s: d["model"]["f1"] for s, d in datasets.items()},
            "datasets": datasets,
            "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        }
    )


if __name__ == "__main__":
    main()
