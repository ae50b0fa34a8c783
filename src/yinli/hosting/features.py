"""Pair features for the product matcher: how alike two offers are, as numbers a classifier weighs.

Every feature is **symmetric** — `pair_features(a, b) == pair_features(b, a)` — so a match does not depend
on which offer is "ours": two-sided measures are taken as their min and max, and string similarities on
the pair in a fixed order. Missing information is NaN (LightGBM learns where unknowns go), never 0,
which would read as "different".

Groups (see `FEATURES` for the names):
- model numbers: shared exactly; one offer's code found inside the other's squashed text (`lmaf30u3`
  in "panasonic dvd-ram media lm-af30u3"); conflicts (both have codes, neither contains the other's);
  the best fuzzy code similarity and shared digit cores (`p6000` ~ `coolpixp6000bk`);
- brand: equal, fuzzy, named in the other's text;
- title words: Jaccard, IDF-weighted Jaccard and TF-IDF cosine (document frequencies from the
  training offers, `Vocabulary`), how much of each title the other's whole text covers, rapidfuzz
  ratios, character 3-gram overlap;
- what differs: the IDF mass and the rarest word of a title the other lacks, edition words
  (upgrade, academic, mac, pro, ...), colours, accessory words in one title only;
- numbers: with units (`16gb`, `24in`) shared or conflicting, bare numbers (versions, sizes);
- price ratio, lengths, category overlap.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from yinli.hosting.offers import Offer, plain_numbers, squash, unit_numbers, versions, words


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


EDITION = _word_set(
    "upgrade upg academic student students teacher edu education mac macintosh win windows pc pro professional "
    "standard std premium deluxe home business ultimate enterprise server basic plus lite family license licence "
    "oem retail trial small suite full version volume site media complete edition competitive single multi "
    "network"
)
COLOUR = _word_set(
    "black white silver red blue pink green gray grey brown purple gold titanium orange yellow beige ivory "
    "chrome bronze clear navy graphite charcoal stainless"
)
ACCESSORY = _word_set(
    "case cover sleeve bag skin kit mount stand bracket cable adapter charger battery refill cartridge ink toner "
    "remote strap holder dock cradle lens filter protector film replacement accessory accessories pack"
)
_DIGITS = re.compile(r"\d{3,}")


@dataclass(frozen=True)
class Vocabulary:
    """Document frequencies of words over a corpus of offers (titles and descriptions): the IDF weights."""

    documents: int
    frequency: dict[str, int]

    @classmethod
    def fit(cls, offers: Iterable[Offer], min_count: int = 2) -> Vocabulary:
        counts: Counter[str] = Counter()
        n = 0
        for offer in offers:
            n += 1
            counts.update(set(words(offer.text)))
        return cls(n, {w: c for w, c in counts.items() if c >= min_count})

    def idf(self, word: str) -> float:
        # words rarer than min_count weigh as if seen once
        return math.log((self.documents + 1) / (self.frequency.get(word, 1) + 1)) + 1.0


def _idf_mass(vocab: Vocabulary, items: Iterable[str]) -> float:
    # fsum: exactly rounded whatever the order, so a set's mass is the same from either side of a pair
    return math.fsum(vocab.idf(w) for w in items)


def _cosine(vocab: Vocabulary, a: Sequence[str], b: Sequence[str]) -> float:
    if not a or not b:
        return math.nan
    va = {w: c * vocab.idf(w) for w, c in Counter(a).items()}
    vb = {w: c * vocab.idf(w) for w, c in Counter(b).items()}
    dot = math.fsum(x * vb[w] for w, x in va.items() if w in vb)
    na = math.sqrt(sum(x * x for x in va.values()))
    nb = math.sqrt(sum(x * x for x in vb.values()))
    return dot / (na * nb) if na and nb else math.nan


def _jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else math.nan


def _trigrams(text: str) -> set[str]:
    padded = f" {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _pair_min_max(x: float, y: float) -> tuple[float, float]:
    return (min(x, y), max(x, y))


def _contained(codes: frozenset[str], squashed: str) -> list[str]:
    return [c for c in codes if len(c) >= 4 and c in squashed]


def _digit_cores(codes: frozenset[str]) -> set[str]:
    return {d for c in codes for d in _DIGITS.findall(c)}


@dataclass(frozen=True)
class CodeMatch:
    """What the model numbers of two offers say (also the evidence `match` reports)."""

    shared: tuple[str, ...]  # codes both offers name (after normalising)
    contained: tuple[str, ...]  # codes of one found inside the other's text
    left: tuple[str, ...]
    right: tuple[str, ...]
    best_ratio: float  # best fuzzy similarity of a code pair, 0..1 (NaN when a side has none)
    digit_core_shared: bool

    @property
    def conflict(self) -> bool:
        return bool(self.left) and bool(self.right) and not self.shared and not self.contained


def code_match(a: Offer, b: Offer) -> CodeMatch:
    shared = a.codes & b.codes
    contained = set(_contained(a.codes, b.squashed)) | set(_contained(b.codes, a.squashed))
    best = math.nan
    if a.codes and b.codes:
        best = max(fuzz.ratio(x, y) for x in a.codes for y in b.codes) / 100.0
    cores = _digit_cores(a.codes) & _digit_cores(b.codes)
    return CodeMatch(
        shared=tuple(sorted(shared)),
        contained=tuple(sorted(contained - shared)),
        left=tuple(sorted(a.codes)),
        right=tuple(sorted(b.codes)),
        best_ratio=best,
        digit_core_shared=bool(cores),
    )


def brands_agree(a: Offer, b: Offer) -> bool | None:
    """True/False when both brands are known (a field, or the title's first word), None otherwise."""
    x, y = squash(a.brand_name), squash(b.brand_name)
    if not x or not y:
        return None
    return x == y or (len(x) >= 3 and len(y) >= 3 and (x.startswith(y) or y.startswith(x)))


def price_ratio(a: Offer, b: Offer) -> float:
    """Lower over higher price, in (0, 1]; NaN when a price is unknown or the currencies differ."""
    if a.price is None or b.price is None or a.price.currency != b.price.currency:
        return math.nan
    low, high = sorted((a.price.amount, b.price.amount))
    return low / high if high > 0 else math.nan


FEATURES: tuple[str, ...] = (
    # model numbers
    "codes_min",
    "codes_max",
    "code_shared",
    "code_contained",
    "code_any",
    "code_longest",
    "code_conflict",
    "code_best_ratio",
    "code_digit_core",
    "model_field_both",
    # brand
    "brand_equal",
    "brand_ratio",
    "brand_in_other_min",
    "brand_in_other_max",
    # title words
    "title_jaccard",
    "title_idf_jaccard",
    "title_cosine",
    "text_cosine",
    "title_covered_min",
    "title_covered_max",
    "fuzz_ratio",
    "fuzz_partial",
    "fuzz_token_sort",
    "fuzz_token_set",
    "trigram_jaccard",
    "squashed_title_in_other",
    # what differs
    "missing_idf_min",
    "missing_idf_max",
    "rarest_missing_min",
    "rarest_missing_max",
    "edition_diff",
    "colour_diff",
    "accessory_diff",
    # numbers
    "units_shared",
    "units_conflict",
    "units_jaccard",
    "numbers_jaccard",
    "numbers_shared",
    "numbers_conflict",
    "numbers_only_one_side",
    "versions_shared",
    "versions_conflict",
    "text_idf_jaccard",
    # price, size, category
    "price_ratio",
    "title_words_min",
    "title_words_max",
    "description_both",
    "description_any",
    "category_jaccard",
)


def pair_features(a: Offer, b: Offer, vocab: Vocabulary) -> list[float]:
    """The feature vector of one pair, in `FEATURES` order (symmetric in a and b)."""
    nan = math.nan
    # -- model numbers
    cm = code_match(a, b)
    hits = set(cm.shared) | set(cm.contained)
    # -- brand
    agree = brands_agree(a, b)
    ba, bb = squash(a.brand_name), squash(b.brand_name)
    brand_in = [
        float(bool(ba) and ba in b.squashed) if ba else nan,
        float(bool(bb) and bb in a.squashed) if bb else nan,
    ]
    # -- title words
    ta, tb = a.title_words, b.title_words
    sa, sb = frozenset(ta), frozenset(tb)
    fa, fb = frozenset(words(a.text)), frozenset(words(b.text))
    union = sa | sb
    idf_union = _idf_mass(vocab, union)
    covered = [
        _idf_mass(vocab, sa & fb) / _idf_mass(vocab, sa) if sa else nan,
        _idf_mass(vocab, sb & fa) / _idf_mass(vocab, sb) if sb else nan,
    ]
    x, y = sorted((" ".join(ta), " ".join(tb)))  # a fixed order: partial_ratio is not symmetric
    qa, qb = squash(a.title), squash(b.title)
    short, long_ = sorted((qa, qb), key=lambda s: (len(s), s))
    # -- what differs
    miss_a, miss_b = sa - fb, sb - fa
    missing = [
        _idf_mass(vocab, miss_a) / _idf_mass(vocab, sa) if sa else nan,
        _idf_mass(vocab, miss_b) / _idf_mass(vocab, sb) if sb else nan,
    ]
    rarest = [max((vocab.idf(w) for w in miss_a), default=0.0), max((vocab.idf(w) for w in miss_b), default=0.0)]
    diff = sa ^ sb
    # -- numbers
    ua, ub = unit_numbers(a.title), unit_numbers(b.title)
    na, nb = plain_numbers(a.title), plain_numbers(b.title)
    ca, cb = frozenset(words(a.category)), frozenset(words(b.category))
    va, vb = versions(a.title), versions(b.title)
    idf_text = _idf_mass(vocab, fa | fb)
    return [
        *_pair_min_max(len(a.codes), len(b.codes)),
        float(bool(cm.shared)),
        float(bool(cm.contained)),
        float(bool(hits)),
        float(max((len(c) for c in hits), default=0)),
        float(cm.conflict),
        cm.best_ratio,
        float(cm.digit_core_shared) if a.codes and b.codes else nan,
        float(bool(a.model) + bool(b.model)),
        nan if agree is None else float(agree),
        fuzz.ratio(ba, bb) / 100.0 if ba and bb else nan,
        *_nan_min_max(*brand_in),
        _jaccard(sa, sb),
        _idf_mass(vocab, sa & sb) / idf_union if idf_union else nan,
        _cosine(vocab, ta, tb),
        _cosine(vocab, words(a.text), words(b.text)),
        *_nan_min_max(*covered),
        fuzz.ratio(x, y) / 100.0,
        fuzz.partial_ratio(x, y) / 100.0,
        fuzz.token_sort_ratio(x, y) / 100.0,
        fuzz.token_set_ratio(x, y) / 100.0,
        _jaccard(_trigrams(x), _trigrams(y)),
        float(bool(short) and short in long_),
        *_nan_min_max(*missing),
        *_pair_min_max(*rarest),
        float(len(diff & EDITION)),
        float(len(diff & COLOUR)),
        float(len(diff & ACCESSORY)),
        float(len(ua & ub)),
        float(bool(ua) and bool(ub) and not ua & ub),
        _jaccard(ua, ub),
        _jaccard(na, nb),
        float(len(na & nb)),
        float(bool(na) and bool(nb) and not na & nb),
        float(bool(na) != bool(nb)),
        float(len(va & vb)),
        float(bool(va) and bool(vb) and not va & vb),
        _idf_mass(vocab, fa & fb) / idf_text if idf_text else nan,
        price_ratio(a, b),
        *_pair_min_max(len(ta), len(tb)),
        float(bool(a.description) and bool(b.description)),
        float(bool(a.description) or bool(b.description)),
        _jaccard(ca, cb) if ca and cb else nan,
    ]


def _nan_min_max(x: float, y: float) -> tuple[float, float]:
    if math.isnan(x) or math.isnan(y):
        v = y if math.isnan(x) else x
        return (v, v)
    return (min(x, y), max(x, y))


def feature_matrix(pairs: Iterable[tuple[Offer, Offer]], vocab: Vocabulary) -> np.ndarray:
    """Features of many pairs: one row per pair, `FEATURES` columns, float64."""
    rows = [pair_features(a, b, vocab) for a, b in pairs]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))
