"""traffic.candidates: each source proposes what it says it does, candidates are unique snapshot items, and
off-sale or suspended stores' items are never proposed (they are not in the snapshot at all)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.traffic.conftest import Market
from yinli.traffic import candidates
from yinli.traffic.candidates import AFFINITY, CF, EXPLORE, FOLLOW, LIVE, NEW, VIDEO, gather
from yinli.traffic.features import FeatureStore
from yinli.traffic.snapshot import Catalog, Profile, Snapshot, assemble

N_STORES, N_CATS, N_PRODUCTS = 6, 4, 60


def small_world(new_stores: tuple[int, ...] = (5,)) -> Snapshot:
    """60 products over 6 stores and 4 leaf categories (two roots), 3 videos by creator 7, 1 live room."""
    ids = np.arange(1, N_PRODUCTS + 1, dtype=np.int64)
    store_ids = np.arange(101, 101 + N_STORES)
    catalog = Catalog(
        product_ids=ids,
        product_store=store_ids[np.arange(N_PRODUCTS) % N_STORES],
        product_category=10 + (np.arange(N_PRODUCTS) // 3) % N_CATS,
        price_fen=np.full(N_PRODUCTS, 3900.0),
        list_price_fen=np.full(N_PRODUCTS, 3900.0),
        title_noise=np.zeros(N_PRODUCTS),
        rating_sum=np.zeros(N_PRODUCTS),
        rating_count=np.zeros(N_PRODUCTS),
        sales=np.arange(N_PRODUCTS, dtype=float),
        listed_at=np.zeros(N_PRODUCTS),
        store_ids=store_ids,
        store_new=np.isin(np.arange(N_STORES), new_stores),
        store_experience=np.full(N_STORES, 0.8),
        category_ids=np.arange(10, 10 + N_CATS),
        category_root=np.array([10, 10, 12, 12]),
        video_ids=np.array([501, 502, 503], np.int64),
        video_store=np.zeros(3, np.int64),
        video_creator=np.array([7, 7, 8], np.int64),
        video_product=ids[:3],
        video_published=np.zeros(3),
        video_completion=np.full(3, 0.5),
        live_ids=np.array([901], np.int64),
        live_store=np.array([101], np.int64),
        live_creator=np.zeros(1, np.int64),
        live_product=ids[:1],
        live_viewers=np.array([40.0]),
    )
    return assemble(catalog, FeatureStore(24), now=1e9, version=1)


def profile(
    snap: Snapshot,
    cats: list[int] = (),  # type: ignore[assignment]
    stores: list[int] = (),  # type: ignore[assignment]
    creators: list[int] = (),  # type: ignore[assignment]
    recent: list[int] = (),  # type: ignore[assignment]
) -> Profile:
    cats_a = np.asarray(cats, np.int64)
    roots = np.zeros(len(snap.root_ids))
    np.add.at(roots, snap.cat_root[cats_a], 1.0)
    return Profile(
        1, cats_a, np.ones(len(cats_a)), roots, np.asarray(stores, np.int64), np.asarray(creators, np.int64),
        np.asarray(recent, np.int64),
    )  # fmt: skip


def by_source(items: np.ndarray, sources: np.ndarray, flag: int) -> set[int]:
    return {int(i) for i, s in zip(items, sources, strict=True) if s & flag}


def test_source_names_decode_every_bit() -> None:
    assert candidates.source_names(0) == []
    assert candidates.source_names(LIVE | NEW) == ["live_now", "new_merchant_pool"]
    assert len(candidates.source_names((1 << 8) - 1)) == 8


def test_a_cold_shopper_gets_content_trending_new_and_exploration_only() -> None:
    snap = small_world()
    items, sources = gather(snap, profile(snap), np.random.default_rng(1))
    assert not by_source(items, sources, FOLLOW | AFFINITY | CF)
    assert by_source(items, sources, LIVE) == set(np.flatnonzero(snap.kind == 2).tolist())
    assert by_source(items, sources, VIDEO) == set(np.flatnonzero(snap.kind == 1).tolist())
    new = by_source(items, sources, NEW)
    assert new and all(snap.is_new[i] for i in new)
    assert all(i < snap.n_products for i in by_source(items, sources, EXPLORE))


@settings(deadline=None, max_examples=50)
@given(
    cats=st.lists(st.integers(0, N_CATS - 1), unique=True, max_size=N_CATS),
    stores=st.lists(st.integers(0, N_STORES - 1), unique=True, max_size=3),
    creators=st.lists(st.sampled_from([7, 8, 9]), unique=True, max_size=2),
    recent=st.lists(st.integers(0, N_PRODUCTS - 1), max_size=5),
    seed=st.integers(0, 2**32 - 1),
)
def test_candidates_are_unique_items_and_each_source_proposes_what_it_says(
    cats: list[int], stores: list[int], creators: list[int], recent: list[int], seed: int
) -> None:
    snap = small_world()
    p = profile(snap, cats, stores, creators, recent)
    items, sources = gather(snap, p, np.random.default_rng(seed))
    assert len(items) == len(sources) and len(set(items.tolist())) == len(items)
    assert (np.diff(items) > 0).all() and ((items >= 0) & (items < snap.n)).all()
    assert (sources > 0).all(), "a candidate no source proposed"
    for i in by_source(items, sources, FOLLOW):
        assert snap.store[i] in stores or snap.creator[i] in creators
    for i in by_source(items, sources, AFFINITY):  # a favourite leaf, or (few favourites) its root
        assert snap.cat[i] in cats or snap.root[i] in {int(snap.cat_root[c]) for c in cats}
    # following a store proposes its best products (up to PER_STORE), best first by prior
    for s in stores:
        best = snap.store_items[snap.store_ptr[s] : snap.store_ptr[s] + candidates.PER_STORE]
        assert set(best.tolist()) <= by_source(items, sources, FOLLOW)
    for c in creators:
        assert set(snap.creator_content.get(c, np.zeros(0, np.int64)).tolist()) <= set(items.tolist())
    # the same request seed proposes the same candidates
    again, again_sources = gather(snap, p, np.random.default_rng(seed))
    np.testing.assert_array_equal(items, again)
    np.testing.assert_array_equal(sources, again_sources)


def test_co_engagement_links_products_engaged_by_the_same_shoppers() -> None:
    recent = {1: [10, 20], 2: [10, 20], 3: [30], 4: [10, 20, 40]}
    ptr, items = candidates.fit_co_engagement(5, lambda ids: ids // 10 - 1, recent)  # id 10 -> index 0 …
    assert len(ptr) == 6

    def neighbours(i: int) -> set[int]:
        return set(items[ptr[i] : ptr[i + 1]].tolist())

    assert 1 in neighbours(0) and 0 in neighbours(1)
    assert 2 not in neighbours(0) | neighbours(1) and neighbours(2) == set()  # 30 was engaged alone
    assert all(i not in neighbours(i) for i in range(5))  # never its own neighbour
    assert neighbours(4) == set()  # nobody engaged with it


def test_co_engagement_ignores_products_not_in_the_snapshot() -> None:
    ptr, items = candidates.fit_co_engagement(3, lambda ids: np.full(len(ids), -1), {1: [5, 6]})
    assert ptr.tolist() == [0, 0, 0, 0] and len(items) == 0


def test_suspended_and_delisted_items_are_never_candidates(market: Market) -> None:
    world = market.world
    m, (on_sale, delisted) = market.store(2)
    suspended, _ = market.store(1)
    r = world.client.post(f"/api/v1/products/{delisted['id']}/delist", headers=m.headers)
    assert r.status_code == 200, r.text
    r = world.client.post(
        f"/api/v1/stores/{suspended.store_id}/suspend", json={"reason": "fake goods"}, headers=world.operator.headers
    )
    assert r.status_code == 200, r.text
    shopper = world.shopper()
    market.refresh()
    with world.database.session() as session:
        snap = market.engine.ensure_ready(session).snapshot
    proposed: set[int] = set()
    for seed in range(5):
        items, _ = gather(snap, snap.profile(shopper.id), np.random.default_rng(seed))
        proposed |= {int(snap.item_id[snap.product[i]]) for i in items}
    assert proposed == {on_sale["id"]}
