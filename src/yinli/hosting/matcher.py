"""The product matcher: are two offers the same product? A calibrated probability, a decision and the
evidence behind it.

    from yinli.hosting.matcher import match, parse_record
    result = match(our_offer, their_offer)   # MatchResult(probability=0.97, same=True, evidence={...})

**One general model** for every pair of shops, not one per source: the matcher's real use is a yinli
product against an offer from a shop it was never trained on, so it must not lean on which columns a
source has. Its features (`features.py`) are source-free similarities — model numbers, brand, words,
numbers, price — and missing columns are NaN, so the Walmart-Amazon pairs (brand and model fields) teach
the model what model numbers are worth and the Abt-Buy pairs (no brand, long descriptions) what text
coverage is worth. It is trained on the union of the three training splits (`training.py`).

**Calibrated**: LightGBM's scores are mapped to probabilities by isotonic regression (scikit-learn's)
fitted on out-of-fold scores of a 5-fold cross-validation of the training pairs; the decision threshold is the one
that maximised F1 on those same out-of-fold probabilities. Neither sees the valid splits, which are
only for reporting (`bench/matching.py`).

The model ships inside the package (`matcher_model.json.gz`: booster, IDF vocabulary, calibration,
threshold); `yinli train matcher` rebuilds it from `../shared/data/product_matching`. The title-word
Jaccard baseline (`jaccard`, `JaccardBaseline`) is kept for comparison.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
from sklearn.isotonic import IsotonicRegression

from yinli.hosting.features import (
    FEATURES,
    Vocabulary,
    brands_agree,
    code_match,
    feature_matrix,
    price_ratio,
)
from yinli.hosting.metrics import best_threshold
from yinli.hosting.offers import Offer, parse_record, words

__all__ = [
    "Calibration",
    "JaccardBaseline",
    "MatchResult",
    "Matcher",
    "Offer",
    "evidence",
    "jaccard",
    "match",
    "match_many",
    "parse_record",
    "shipped_matcher",
]

MODEL_FILE = "matcher_model.json.gz"
FORMAT = 1


class ModelFileError(ValueError):
    """A model file that is not this code's (another format, other features): retrain it."""


@dataclass(frozen=True)
class MatchResult:
    probability: float  # calibrated: of pairs scored p, about p are the same product
    same: bool  # probability >= the model's threshold
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Calibration:
    """A monotone map from raw model scores to probabilities: scikit-learn's isotonic regression, kept as
    its fitted thresholds (`X_thresholds_`, `y_thresholds_`) and applied by linear interpolation between
    them, clipped at the ends — what `IsotonicRegression(out_of_bounds="clip").predict` does — so the
    model file stays plain JSON."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray) -> Calibration:
        isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        isotonic.fit(np.asarray(scores, dtype=float), np.asarray(labels, dtype=float))
        return cls(tuple(map(float, isotonic.X_thresholds_)), tuple(map(float, isotonic.y_thresholds_)))

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(scores, dtype=float), self.x, self.y)


@dataclass
class Matcher:
    booster: lgb.Booster
    vocabulary: Vocabulary
    calibration: Calibration
    threshold: float
    info: dict[str, Any] = field(default_factory=dict)  # how it was trained, cross-validated figures

    def features(self, pairs: Iterable[tuple[Offer, Offer]]) -> np.ndarray:
        return feature_matrix(pairs, self.vocabulary)

    def probabilities(self, pairs: Sequence[tuple[Offer, Offer]]) -> np.ndarray:
        """Calibrated probabilities that each pair is one product."""
        if not pairs:
            return np.zeros(0)
        raw = np.asarray(self.booster.predict(self.features(pairs), num_threads=1), dtype=float)
        return self.calibration(raw)

    def match(self, left: Offer, right: Offer) -> MatchResult:
        return self.match_many([(left, right)])[0]

    def match_many(self, pairs: Sequence[tuple[Offer, Offer]]) -> list[MatchResult]:
        probabilities = self.probabilities(pairs)
        return [
            MatchResult(float(p), bool(p >= self.threshold), evidence(a, b))
            for (a, b), p in zip(pairs, probabilities, strict=True)
        ]

    # -- the model file ---------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "features": list(FEATURES),
            "threshold": self.threshold,
            "calibration": {"x": list(self.calibration.x), "y": list(self.calibration.y)},
            "vocabulary": {
                "documents": self.vocabulary.documents,
                "frequency": dict(sorted(self.vocabulary.frequency.items())),
            },
            "info": self.info,
            "booster": self.booster.model_to_string(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Matcher:
        if data.get("format") != FORMAT or data.get("features") != list(FEATURES):
            raise ModelFileError("the matcher model was trained for other features: run `yinli train matcher`")
        vocab = data["vocabulary"]
        return cls(
            booster=lgb.Booster(model_str=data["booster"]),
            vocabulary=Vocabulary(int(vocab["documents"]), {str(k): int(v) for k, v in vocab["frequency"].items()}),
            calibration=Calibration(tuple(data["calibration"]["x"]), tuple(data["calibration"]["y"])),
            threshold=float(data["threshold"]),
            info=dict(data.get("info", {})),
        )

    def save(self, path: Path) -> None:
        """Write the model as gzipped JSON (byte-identical for the same model: no timestamp in the gzip)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
        path.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))

    @classmethod
    def load(cls, path: Path) -> Matcher:
        return cls.from_json(json.loads(gzip.decompress(path.read_bytes())))


@cache
def shipped_matcher() -> Matcher:
    """The model shipped inside the package (no ../shared needed), loaded once."""
    data = resources.files("yinli.hosting").joinpath(MODEL_FILE).read_bytes()
    return Matcher.from_json(json.loads(gzip.decompress(data)))


def shipped_model_path() -> Path:
    return Path(str(resources.files("yinli.hosting").joinpath(MODEL_FILE)))


def match(left: Offer, right: Offer) -> MatchResult:
    """Whether `left` and `right` are the same product, by the shipped model."""
    return shipped_matcher().match(left, right)


def match_many(pairs: Sequence[tuple[Offer, Offer]]) -> list[MatchResult]:
    """`match` for many pairs at once (features in one matrix, one model call)."""
    return shipped_matcher().match_many(pairs)


def evidence(left: Offer, right: Offer) -> dict[str, Any]:
    """What the decision rests on, in words an operator can check."""
    codes = code_match(left, right)
    shared = sorted(set(left.title_words) & set(right.title_words))
    ratio = price_ratio(left, right)
    return {
        "model_numbers": {
            "left": list(codes.left),
            "right": list(codes.right),
            "shared": list(codes.shared),
            "found_in_other": list(codes.contained),
            "conflict": codes.conflict,
        },
        "brand": {"left": left.brand_name, "right": right.brand_name, "agree": brands_agree(left, right)},
        "shared_title_words": shared,
        "title_jaccard": round(jaccard(left, right), 4),
        "price_ratio": None if math.isnan(ratio) else round(ratio, 4),
    }


# -- the baseline ---------------------------------------------------------------------------------


def jaccard(left: Offer, right: Offer) -> float:
    """Title-word Jaccard similarity, 0..1 (0 when both titles are empty)."""
    a, b = set(words(left.title)), set(words(right.title))
    return len(a & b) / len(a | b) if a | b else 0.0


@dataclass(frozen=True)
class JaccardBaseline:
    """Same product when the titles' word Jaccard reaches a threshold chosen on training pairs."""

    threshold: float

    @classmethod
    def fit(cls, pairs: Sequence[tuple[Offer, Offer]], labels: np.ndarray) -> JaccardBaseline:
        scores = np.array([jaccard(a, b) for a, b in pairs])
        return cls(best_threshold(scores, labels))

    def predict(self, pairs: Sequence[tuple[Offer, Offer]]) -> np.ndarray:
        return np.array([jaccard(a, b) >= self.threshold for a, b in pairs], dtype=bool)
