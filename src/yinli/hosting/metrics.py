"""Precision, recall and F1 of match decisions, and the F1-best threshold on scored pairs."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Scores:
    pairs: int
    positives: int  # labelled the same product
    predicted: int  # decided the same product
    true_positives: int
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def scores(labels: np.ndarray, decisions: np.ndarray) -> Scores:
    """Scores of boolean decisions against 0/1 labels (precision is 0 when nothing was decided same)."""
    y = np.asarray(labels).astype(bool)
    d = np.asarray(decisions).astype(bool)
    tp = int((y & d).sum())
    precision = tp / int(d.sum()) if d.any() else 0.0
    recall = tp / int(y.sum()) if y.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(len(y), int(y.sum()), int(d.sum()), tp, precision, recall, f1)


def best_threshold(values: np.ndarray, labels: np.ndarray) -> float:
    """The threshold t maximising F1 of `values >= t` (the midpoint to the next lower value, so it
    generalises between observed scores; the lowest such t on ties)."""
    v = np.asarray(values, dtype=float)
    y = np.asarray(labels).astype(bool)
    order = np.argsort(-v, kind="mergesort")
    sv, sy = v[order], y[order]
    tp = np.cumsum(sy)
    predicted = np.arange(1, len(sv) + 1)
    # only cut where the value changes
    last = np.r_[sv[1:] != sv[:-1], True]
    f1 = np.where(last, 2 * tp / (predicted + y.sum()), -1.0)
    i = int(np.argmax(f1))
    if i + 1 < len(sv):
        return float((sv[i] + sv[i + 1]) / 2)
    return float(sv[i])
