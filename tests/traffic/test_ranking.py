"""traffic.ranking: the score components, the two policies, and the diverse page layout."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yinli.traffic import ranking
from yinli.traffic.ranking import GMV_ONLY, USER_FIRST, WEIGHTS, Layout, lay_out

unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def candidates(draw: st.DrawFn) -> dict[str, np.ndarray]:
    n = draw(st.integers(1, 12))

    def column(elements: st.SearchStrategy[float]) -> np.ndarray:
        return np.asarray(draw(st.lists(elements, min_size=n, max_size=n)), dtype=float)

    return {
        "pctr": column(st.floats(0.0, 0.5)),
        "pcvr": column(st.floats(0.0, 0.5)),
        "price_fen": column(st.floats(0.0, 1e6)),
        "watch_per_click": column(st.floats(0.0, 120.0)),
        "is_content": np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n))),
        "experience": column(unit),
        "relevance": column(unit),
        "noise_scores": column(unit),
    }


def score(policy: str, c: dict[str, np.ndarray], rng: np.random.Generator | None = None) -> tuple:
    return ranking.combine(policy, **c, ev_ref=500.0, ctr_ref=0.03, watch_ref=2.0, rng=rng)


@settings(deadline=None, max_examples=60)
@given(c=candidates())
def test_user_first_score_is_the_weighted_sum_of_components_in_unit_range(c: dict[str, np.ndarray]) -> None:
    s, ev, comps = score(USER_FIRST, c)
    assert set(comps) == set(WEIGHTS)
    for name, values in comps.items():
        assert ((values >= 0) & (values <= 1)).all(), name
    np.testing.assert_allclose(ev, c["pctr"] * c["pcvr"] * c["price_fen"])
    np.testing.assert_allclose(s, sum(WEIGHTS[k] * comps[k] for k in WEIGHTS))
    np.testing.assert_array_equal(comps["experience"], c["experience"])  # passed through, not rescaled
    top = sum(w for w in WEIGHTS.values() if w > 0)
    assert (s >= WEIGHTS["noise"] - 1e-9).all() and (s <= top + 1e-9).all()


@settings(deadline=None, max_examples=40)
@given(c=candidates())
def test_gmv_only_ranks_by_expected_value_alone(c: dict[str, np.ndarray]) -> None:
    s, ev, comps = score(GMV_ONLY, c)
    np.testing.assert_array_equal(s, comps["value"])
    # value is ev / (ev + ref): the same order as expected GMV
    order = np.argsort(-ev, kind="stable")
    assert (np.diff(s[order]) <= 1e-12).all()


def test_better_service_and_interest_raise_the_score_and_noise_lowers_it() -> None:
    base = {k: np.full(3, v) for k, v in [("pctr", 0.05), ("pcvr", 0.05), ("price_fen", 5000.0)]}
    c = {
        **base,
        "watch_per_click": np.zeros(3),
        "is_content": np.zeros(3, bool),
        "experience": np.array([0.5, 0.9, 0.5]),
        "relevance": np.array([0.2, 0.2, 0.2]),
        "noise_scores": np.array([0.0, 0.0, 0.8]),
    }
    s, _, _ = score(USER_FIRST, c)
    assert s[1] > s[0] > s[2]
    assert s[1] - s[0] == pytest.approx(WEIGHTS["experience"] * 0.4)
    assert s[0] - s[2] == pytest.approx(-WEIGHTS["noise"] * 0.8)
    assert len(set(score(GMV_ONLY, c)[0])) == 1  # gmv_only does not see service or noise at all


def test_exploration_replays_for_one_seed_and_stays_small() -> None:
    n = 200
    c = {
        "pctr": np.full(n, 0.05),
        "pcvr": np.full(n, 0.05),
        "price_fen": np.full(n, 3900.0),
        "watch_per_click": np.zeros(n),
        "is_content": np.zeros(n, bool),
        "experience": np.full(n, 0.5),
        "relevance": np.full(n, 0.5),
        "noise_scores": np.zeros(n),
    }
    plain, _, _ = score(USER_FIRST, c)
    a, _, _ = score(USER_FIRST, c, np.random.default_rng(7))
    b, _, _ = score(USER_FIRST, c, np.random.default_rng(7))
    other, _, _ = score(USER_FIRST, c, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, other)
    jitter = a - plain
    assert abs(np.median(jitter)) < 5 * ranking.EXPLORATION and jitter.std() < 3 * ranking.EXPLORATION


def test_title_noise_counts_promotional_words_and_half_for_symbols() -> None:
    assert ranking.title_noise("硅胶手机壳 黑色") == 0.0
    assert ranking.title_noise("爆款手机壳") == pytest.approx(0.25)
    assert ranking.title_noise("【爆款】手机壳") == pytest.approx(0.5)  # two symbols count as one word
    assert ranking.title_noise("全网最低 秒杀 爆款 限时 清仓 包邮") == 1.0  # capped


@settings(deadline=None, max_examples=60)
@given(price=st.integers(1, 10**6), ratio=st.floats(0.5, 6.0))
def test_price_inflation_starts_at_one_and_a_half_times_and_is_full_at_three(price: int, ratio: float) -> None:
    got = float(ranking.price_inflation(np.array([price], float), np.array([price * ratio]))[0])
    assert 0.0 <= got <= 1.0
    if ratio <= ranking.INFLATED_FROM:
        assert got == 0.0
    elif ratio >= ranking.INFLATED_FULL + 1e-9:
        assert got == 1.0
    else:
        assert got == pytest.approx((ratio - 1.5) / 1.5, abs=1e-6)


def test_a_free_item_has_no_inflated_price() -> None:
    assert ranking.price_inflation(np.array([0.0]), np.array([100.0]))[0] == 0.0


def test_noise_combines_title_and_price_like_independent_chances() -> None:
    np.testing.assert_allclose(ranking.noise(np.array([0.0, 0.5, 1.0]), np.array([0.5, 0.5, 0.0])), [0.5, 0.75, 1.0])


def test_store_experience_starts_at_the_prior_and_refunds_and_complaints_lower_it() -> None:
    z = np.zeros(1)
    new = ranking.store_experience(z, z, z, z, z, z, z)[0]
    prior = np.mean([0.9, 0.9, 1 - 5 * 0.05, 1 - 20 * 0.01])
    assert new == pytest.approx(prior)
    orders = np.array([100.0, 100.0, 100.0, 2.0])
    good = np.array([95.0, 95.0, 95.0, 0.0])
    reviews = np.array([100.0, 100.0, 100.0, 2.0])
    shipped = np.array([100.0, 100.0, 100.0, 2.0])
    refunds = np.array([0.0, 20.0, 0.0, 0.0])
    complaints = np.array([0.0, 0.0, 5.0, 0.0])
    e = ranking.store_experience(orders, good, reviews, shipped, shipped, refunds, complaints)
    assert e[0] > e[1] and e[0] > e[2]
    assert ((e >= 0) & (e <= 1)).all()
    assert abs(e[3] - prior) < abs(e[0] - prior) + 0.2  # two bad reviews barely move a new store


def test_product_experience_shrinks_few_reviews_and_punishes_returns() -> None:
    one_star = ranking.product_experience(np.array([1.0, 100.0]), np.array([1.0, 100.0]), np.zeros(2))
    assert one_star[0] > one_star[1]  # one 1-star review hurts less than a hundred
    returns = ranking.product_experience(np.array([45.0, 45.0]), np.array([10.0, 10.0]), np.array([0.0, 0.2]))
    assert returns[0] - returns[1] == pytest.approx(0.4)


# --- layout ----------------------------------------------------------------------------------------


def caps_hold(page: list[int], store: np.ndarray, fmt: np.ndarray, layout: Layout) -> bool:
    stores = Counter(int(store[c]) for c in page if store[c] >= 0)
    formats = Counter(int(fmt[c]) for c in page)
    adjacent = any(store[a] >= 0 and store[a] == store[b] for a, b in pairwise(page))
    return (
        all(n <= layout.per_store for n in stores.values())
        and all(n <= layout.format_cap(f) for f, n in formats.items())
        and not adjacent
    )


def test_layout_caps_stores_and_formats_and_keeps_stores_apart() -> None:
    # scores favour store 0's live rooms, then store 1's videos; eight other stores sell product cards
    store = np.array([0] * 5 + [1] * 5 + list(range(2, 10)) * 2)
    fmt = np.array([2] * 5 + [1] * 5 + [0] * 16)
    order = np.arange(len(store))
    layout = Layout(10)
    (page,) = lay_out(order, store, fmt, layout, 1, [10])
    assert len(page) == 10 and caps_hold(page, store, fmt, layout)
    assert page[0] == 0  # the best candidate always leads
    assert Counter(int(store[c]) for c in page)[0] == 2 and sum(fmt[c] == 2 for c in page) == 2


def test_layout_relaxes_caps_rather_than_leave_a_page_short() -> None:
    store, fmt = np.zeros(12, int), np.zeros(12, int)  # one store, one format
    pages = lay_out(np.arange(12), store, fmt, Layout(5), 2, [5, 5])
    assert [len(p) for p in pages] == [5, 5]
    assert pages[0] == [0, 1, 2, 3, 4]  # relaxed fill keeps the score order


def test_reserved_slots_shrink_the_organic_page() -> None:
    store, fmt = np.arange(20), np.zeros(20, int)
    pages = lay_out(np.arange(20), store, fmt, Layout(10), 2, [7, 10])
    assert [len(p) for p in pages] == [7, 10]


@settings(deadline=None, max_examples=80)
@given(
    data=st.data(),
    n=st.integers(0, 40),
    limit=st.integers(1, 12),
    pages=st.integers(1, 4),
)
def test_layout_is_a_duplicate_free_ordered_subset_that_fills_every_page_it_can(
    data: st.DataObject, n: int, limit: int, pages: int
) -> None:
    store = np.asarray(data.draw(st.lists(st.integers(-1, 3), min_size=n, max_size=n)), dtype=int)
    fmt = np.asarray(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), dtype=int)
    order = np.asarray(data.draw(st.permutations(range(n))), dtype=int)
    open_slots = data.draw(st.lists(st.integers(0, limit), min_size=pages, max_size=pages))
    layout = Layout(limit)
    out = lay_out(order, store, fmt, layout, pages, open_slots)
    assert len(out) == pages
    placed = [c for page in out for c in page]
    assert len(placed) == len(set(placed)), "a candidate was placed twice"
    assert set(placed) <= set(order.tolist())
    left = n
    for page, slots in zip(out, open_slots, strict=True):
        assert len(page) == min(slots, left), "a page was left short while candidates waited"
        left -= len(page)
    if left == 0:  # every page had room: every candidate was placed somewhere
        assert sorted(placed) == sorted(order.tolist())
    for page, waiting in zip(out, _waiting_before(out, order), strict=True):
        if page:  # the best waiting candidate is always eligible on an empty page
            assert page[0] == waiting[0]
        # caps relax only when nothing waiting would have fitted in the place where one is first broken
        broken = next((j for j in range(1, len(page) + 1) if not caps_hold(page[:j], store, fmt, layout)), None)
        if broken is not None:
            before = page[: broken - 1]
            fitting = [c for c in waiting if c not in before and caps_hold([*before, c], store, fmt, layout)]
            assert not fitting, f"page {page} broke a cap while {fitting} would have fitted"


def _waiting_before(out: list[list[int]], order: np.ndarray) -> list[list[int]]:
    """The candidates still waiting (in score order) as each page starts."""
    waiting, seen = [], set()
    for page in out:
        waiting.append([c for c in order.tolist() if c not in seen])
        seen.update(page)
    return waiting
