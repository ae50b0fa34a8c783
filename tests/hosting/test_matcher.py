"""The product matcher: the shipped model, calibrated probabilities, symmetric features, the evidence."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression

from tests.hosting.samples import ABT, AMAZON, AMAZON_XEROX, BUY, GOOGLE, UNRELATED, WALMART
from yinli.core.money import Money
from yinli.hosting.features import FEATURES, pair_features
from yinli.hosting.matcher import (
    Calibration,
    JaccardBaseline,
    Offer,
    jaccard,
    match,
    match_many,
    parse_record,
    shipped_matcher,
    shipped_model_path,
)
from yinli.hosting.metrics import best_threshold, scores
from yinli.hosting.training import DataError, LabelledPair, train_matcher

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_model_is_small_inside_the_package_and_loads_without_shared_data(tmp_path: Path) -> None:
    path = shipped_model_path()
    assert path.is_relative_to(ROOT / "src" / "yinli" / "hosting") or "site-packages" in path.parts
    assert path.stat().st_size < 2_000_000
    # a fresh process in an empty folder: nothing but the package is needed
    code = (
        "from yinli.hosting.matcher import match, parse_record;"
        "r = match(parse_record('sony learning remote rmvl600'), parse_record('sony rm-vl600 remote'));"
        "print(r.same, 0 <= r.probability <= 1)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_same_products_from_each_shop_pair_match_with_their_evidence() -> None:
    for left, right in ((ABT, BUY), (AMAZON, GOOGLE), (WALMART, AMAZON_XEROX)):
        result = match(parse_record(left), parse_record(right))
        assert result.same and result.probability >= 0.5, (left, result)
    result = match(parse_record(WALMART), parse_record(AMAZON_XEROX))
    evidence = result.evidence
    assert evidence["model_numbers"]["left"] == ["108r00645"]
    assert "108r00645" in evidence["model_numbers"]["found_in_other"]  # "108 r00645" in the other's text
    assert evidence["model_numbers"]["conflict"] is False
    assert evidence["brand"] == {"left": "xerox", "right": "xerox", "agree": True}
    assert {"xerox", "imaging", "unit", "phaser", "6300", "6350"} <= set(evidence["shared_title_words"])
    assert evidence["price_ratio"] == round(24484 / 25379, 4)


def test_identical_offers_are_the_same_and_unrelated_ones_are_not() -> None:
    offers = [parse_record(r) for r in (ABT, AMAZON, WALMART, UNRELATED)]
    for offer in offers:
        assert match(offer, offer).probability >= 0.85  # software titles without codes: ~0.9
    assert match(parse_record(WALMART), parse_record(UNRELATED)).probability <= 0.05
    assert match(parse_record(ABT), parse_record(GOOGLE)).probability <= 0.05


def test_conflicting_model_numbers_lower_the_probability() -> None:
    ours = Offer("sony bravia 40 ' lcd hdtv kdl40v4100", brand="sony")
    same = Offer("sony bravia kdl-40v4100 40 inch lcd tv", brand="sony")
    other = Offer("sony bravia kdl-46v4100 46 inch lcd tv", brand="sony")
    assert match(ours, same).probability > match(ours, other).probability
    assert match(ours, other).evidence["model_numbers"]["conflict"] is True


def test_match_many_is_match_of_each_pair() -> None:
    pairs = [(parse_record(ABT), parse_record(BUY)), (parse_record(WALMART), parse_record(UNRELATED))]
    many = match_many(pairs)
    assert [r.probability for r in many] == [match(a, b).probability for a, b in pairs]
    assert match_many([]) == []


def test_calibration_is_monotone_and_within_0_and_1() -> None:
    calibration = shipped_matcher().calibration
    grid = calibration(np.linspace(-1, 2, 301))
    assert np.all(np.diff(grid) >= 0)
    assert grid.min() >= 0 and grid.max() <= 1
    assert 0 < shipped_matcher().threshold < 1


def test_calibration_is_sklearns_isotonic_regression_monotone_clipped_and_calibrated_on_held_out_data() -> None:
    rng = np.random.default_rng(7)
    scores_ = rng.normal(size=20_000)
    truth = 1 / (1 + np.exp(-3 * scores_))  # the chance a pair scored s is a match
    labels = rng.random(len(scores_)) < truth
    fitted = Calibration.fit(scores_[:10_000], labels[:10_000])
    grid = np.linspace(-6, 6, 601)
    probabilities = fitted(grid)
    assert np.all(np.diff(probabilities) >= 0)
    assert probabilities.min() >= 0 and probabilities.max() <= 1
    isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(scores_[:10_000], labels[:10_000])
    assert np.allclose(probabilities, isotonic.predict(grid), rtol=0, atol=1e-12)
    # beyond the fitted scores: the end values, not extrapolation
    assert fitted(np.array([-100.0, 100.0])).tolist() == [fitted.y[0], fitted.y[-1]]
    # held out: of pairs given about p, about p are matches
    held = fitted(scores_[10_000:])
    for low, high in ((0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)):
        rows = (held >= low) & (held < high)
        assert abs(held[rows].mean() - labels[10_000:][rows].mean()) < 0.05, (low, high)


def test_metrics_and_the_f1_best_threshold() -> None:
    s = scores(np.array([1, 1, 0, 0]), np.array([True, False, True, False]))
    assert (s.pairs, s.positives, s.predicted, s.true_positives) == (4, 2, 2, 1)
    assert (s.precision, s.recall, s.f1) == (0.5, 0.5, 0.5)
    none = scores(np.array([1, 0]), np.array([False, False]))
    assert (none.precision, none.recall, none.f1) == (0.0, 0.0, 0.0)
    assert best_threshold(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 1, 0, 0])) == 0.55
    # the best cut reaches full recall: still halfway to the next lower score
    assert best_threshold(np.array([0.9, 0.8, 0.7, 0.1]), np.array([1, 1, 1, 0])) == pytest.approx(0.4)
    # F1 2/3 at the cuts 0.9 and 0.6: the higher one
    assert best_threshold(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 0, 1])) == pytest.approx(0.85)


def test_the_jaccard_baseline() -> None:
    a, b = Offer("apple ipod nano 8gb"), Offer("apple ipod nano 16gb")
    assert jaccard(a, b) == 3 / 5
    baseline = JaccardBaseline.fit([(a, a), (a, b), (a, Offer("dell monitor"))], np.array([1, 0, 0]))
    assert baseline.predict([(a, a), (a, b)]).tolist() == [True, False]


def test_the_model_file_round_trips(tmp_path: Path) -> None:
    matcher = shipped_matcher()
    matcher.save(tmp_path / "m.json.gz")
    assert (tmp_path / "m.json.gz").read_bytes() == shipped_model_path().read_bytes()
    data = json.loads(__import__("gzip").decompress(shipped_model_path().read_bytes()))
    assert data["features"] == list(FEATURES)


def test_training_needs_a_fold_s_worth_of_each_label() -> None:
    pairs = [LabelledPair(parse_record(ABT), parse_record(BUY), True)] * 12
    pairs += [LabelledPair(parse_record(ABT), parse_record(GOOGLE), False)] * 4
    with pytest.raises(DataError, match="5 matching and 5 non-matching"):
        train_matcher(pairs)


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
_price = st.one_of(st.none(), st.integers(1, 10**9).map(lambda n: Money(n, "USD")))
_offers = st.builds(Offer, title=_text, brand=_text, model=_text, description=_text, category=_text, price=_price)


@given(_offers, _offers)
def test_features_are_symmetric_and_probabilities_are_probabilities(a: Offer, b: Offer) -> None:
    vocabulary = shipped_matcher().vocabulary
    ab, ba = pair_features(a, b, vocabulary), pair_features(b, a, vocabulary)
    assert len(ab) == len(FEATURES)
    assert all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(ab, ba, strict=True))
    p, q = match(a, b).probability, match(b, a).probability
    assert 0.0 <= p <= 1.0 and p == q
