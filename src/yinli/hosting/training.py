"""Training the product matcher on labelled offer pairs (`yinli train matcher`).

1. The IDF vocabulary is fitted on the distinct training offers.
2. 5-fold cross-validation of LightGBM on the training pairs (scikit-learn's `StratifiedKFold`, shuffled
   with the seed) gives an out-of-fold score for every pair; isotonic regression on those scores
   (scikit-learn's `IsotonicRegression`) is the calibration, and
   the threshold that maximises F1 on the calibrated out-of-fold probabilities is the decision rule.
3. The final booster is trained on all training pairs with the same parameters.

Nothing here reads a valid split: `bench/matching.py` and `yinli match evaluate` report on those.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.model_selection import StratifiedKFold

from yinli.hosting.features import Vocabulary, feature_matrix
from yinli.hosting.matcher import Calibration, Matcher
from yinli.hosting.metrics import best_threshold, scores
from yinli.hosting.offers import Offer, parse_record

SOURCES = ("abt-buy", "amazon-google", "walmart-amazon")
SEED = 20261124
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 10,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "num_threads": 2,
    "deterministic": True,
    "force_row_wise": True,
}
ROUNDS = 400
FOLDS = 5


@dataclass(frozen=True)
class LabelledPair:
    left: Offer
    right: Offer
    same: bool
    source: str = ""


class DataError(ValueError):
    """A pairs file that is not `LEFT<TAB>RIGHT<TAB>0|1` lines."""


def read_pairs(path: Path, source: str = "") -> list[LabelledPair]:
    """Labelled pairs from a file of `LEFT<TAB>RIGHT<TAB>LABEL` lines (the shared data's format)."""
    pairs: list[LabelledPair] = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 3 or parts[2].strip() not in ("0", "1"):
                raise DataError(f"{path}:{number}: expected LEFT<TAB>RIGHT<TAB>0|1")
            pairs.append(LabelledPair(parse_record(parts[0]), parse_record(parts[1]), parts[2].strip() == "1", source))
    return pairs


def read_sources(folder: Path, split: str, sources: Sequence[str] = SOURCES) -> dict[str, list[LabelledPair]]:
    """`{source: pairs}` for `<folder>/<source>/<split>.txt` (split: train or valid)."""
    missing = [s for s in sources if not (folder / s / f"{split}.txt").is_file()]
    if missing:
        raise DataError(f"no {split}.txt for {', '.join(missing)} under {folder}")
    return {s: read_pairs(folder / s / f"{split}.txt", s) for s in sources}


def _booster(x: np.ndarray, y: np.ndarray, seed: int, rounds: int) -> lgb.Booster:
    params = {**PARAMS, "seed": seed}
    return lgb.train(params, lgb.Dataset(x, y.astype(float), free_raw_data=True), num_boost_round=rounds)


def train_matcher(
    pairs: Sequence[LabelledPair],
    *,
    seed: int = SEED,
    rounds: int = ROUNDS,
    folds: int = FOLDS,
    progress: Callable[[str], None] = lambda _: None,
) -> Matcher:
    """Fit vocabulary, booster, calibration and threshold on `pairs` (see the module doc)."""
    positives = sum(p.same for p in pairs)
    if min(positives, len(pairs) - positives) < folds:
        raise DataError(f"training needs at least {folds} matching and {folds} non-matching pairs")
    started = time.perf_counter()
    distinct = {o.text: o for p in pairs for o in (p.left, p.right)}
    vocabulary = Vocabulary.fit(distinct.values())
    progress(f"vocabulary of {len(vocabulary.frequency)} words over {vocabulary.documents} offers")
    x = feature_matrix(((p.left, p.right) for p in pairs), vocabulary)
    y = np.array([p.same for p in pairs], dtype=bool)
    progress(f"features of {len(pairs)} pairs")
    out_of_fold = np.empty(len(y))
    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y)
    for k, (kept, held) in enumerate(splits):
        model = _booster(x[kept], y[kept], seed + k, rounds)
        out_of_fold[held] = model.predict(x[held], num_threads=1)
        progress(f"fold {k + 1}/{folds}")
    calibration = Calibration.fit(out_of_fold, y)
    calibrated = calibration(out_of_fold)
    threshold = best_threshold(calibrated, y)
    cv = scores(y, calibrated >= threshold)
    booster = _booster(x, y, seed, rounds)
    sources = sorted({p.source for p in pairs if p.source})
    per_source = {
        s: scores(y[rows], calibrated[rows] >= threshold).as_dict()
        for s in sources
        for rows in [np.array([p.source == s for p in pairs])]
    }
    info = {
        "trained_on": {"pairs": len(pairs), "positives": int(y.sum()), "sources": sources},
        "seed": seed,
        "rounds": rounds,
        "params": PARAMS,
        "cross_validated": {"folds": folds, "all": cv.as_dict(), "by_source": per_source},
        "fit_seconds": round(time.perf_counter() - started, 1),
    }
    progress(f"cross-validated F1 {cv.f1:.3f} at threshold {threshold:.3f}")
    return Matcher(booster, vocabulary, calibration, threshold, info)
