"""The shipped matcher on the shared data's valid splits stays above floors a little below what it reached
(`docs/matching-results.md`: F1 0.898 / 0.730 / 0.860), and its probabilities are calibrated there: of
the pairs it scores about p, about p are matches. Skipped where `../shared` is absent (users'
machines); `YINLI_MATCHING_DATA` points elsewhere (e.g. from a git worktree)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from yinli.hosting.matcher import shipped_matcher
from yinli.hosting.metrics import scores
from yinli.hosting.training import read_pairs

DATA = Path(
    os.environ.get("YINLI_MATCHING_DATA", Path(__file__).resolve().parents[3] / "shared" / "data" / "product_matching")
)
FLOORS = {"abt-buy": 0.88, "amazon-google": 0.71, "walmart-amazon": 0.84}


@pytest.mark.skipif(not DATA.is_dir(), reason=f"no shared product-matching data at {DATA}")
@pytest.mark.parametrize("source", sorted(FLOORS))
def test_the_shipped_model_keeps_its_f1_on_the_valid_split(source: str) -> None:
    pairs = read_pairs(DATA / source / "valid.txt")
    matcher = shipped_matcher()
    probabilities = matcher.probabilities([(p.left, p.right) for p in pairs])
    result = scores(np.array([p.same for p in pairs]), probabilities >= matcher.threshold)
    assert result.f1 >= FLOORS[source], result


@pytest.mark.skipif(not DATA.is_dir(), reason=f"no shared product-matching data at {DATA}")
def test_the_shipped_model_is_calibrated_on_the_valid_splits() -> None:
    pairs = [p for source in sorted(FLOORS) for p in read_pairs(DATA / source / "valid.txt")]
    probabilities = shipped_matcher().probabilities([(p.left, p.right) for p in pairs])
    labels = np.array([p.same for p in pairs], dtype=float)
    assert abs(probabilities.mean() - labels.mean()) < 0.02  # as many matches expected as there are
    assert np.mean((probabilities - labels) ** 2) < 0.04  # Brier score (the base rate alone scores 0.09)
    for low, high in ((0, 0.1), (0.1, 0.5), (0.5, 0.9), (0.9, 1.01)):  # a reliability table
        rows = (probabilities >= low) & (probabilities < high)
        assert rows.sum() >= 100
        assert abs(probabilities[rows].mean() - labels[rows].mean()) < 0.06, (low, high)
