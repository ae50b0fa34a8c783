"""Precision, recall and F1 of match decisions, and the F1-best threshold on scored pairs (scikit-learn's
`precision_recall_fscore_support` and `precision_recall_curve`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_curve, precision_recall_fscore_support


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
    """Scores of boolean decisions against 0/1 labels (precision is 0 when nothing was decided same,
    recall 0 when nothing is labelled same)."""
    y = np.asarray(labels).astype(bool)
    d = np.asarray(decisions).astype(bool)
    _, false_positives, false_negatives, true_positives = (
        int(n) for n in confusion_matrix(y, d, labels=[False, True]).ravel()
    )
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, d, labels=[True], pos_label=True, average="binary", zero_division=0.0
    )
    return Scores(
        pairs=len(y),
        positives=true_positives + false_negatives,
        predicted=true_positives + false_positives,
        true_positives=true_positives,
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
    )


def best_threshold(values: np.ndarray, labels: np.ndarray) -> float:
    """The threshold t maximising F1 of `values >= t`, over the cuts of `precision_recall_curve`; t is
    the midpoint between the best cut and the next lower value, so it generalises between observed
    scores (on ties the highest cut: fewest pairs decided the same)."""
    v = np.asarray(values, dtype=float)
    y = np.asarray(labels).astype(bool)
    precision, recall, cuts = precision_recall_curve(y, v)
    # the curve's last point (precision 1, recall 0) has no threshold
    p, r = precision[:-1], recall[:-1]
    total = p + r
    f1 = np.divide(2 * p * r, total, out=np.zeros_like(total), where=total > 0)
    best = np.flatnonzero(f1 >= f1.max() - 1e-12)[-1]  # equal F1 up to rounding: the highest cut
    cut = float(cuts[best])
    # the curve stops at full recall, so the next lower value is looked up in `values`
    lower = v[v < cut]
    return (cut + float(lower.max())) / 2 if lower.size else cut
