"""feed.serve(scope=...): a page restricted to some categories (a category shelf's ranked section) holds
only their items, its plan slots included; no scope is the whole catalogue."""

from __future__ import annotations

import numpy as np

from yinli.traffic import board as plans
from yinli.traffic import experiments
from yinli.traffic.features import FeatureStore
from yinli.traffic.feed import FeedPage, ServingState, serve
from yinli.traffic.snapshot import Catalog, Snapshot, assemble

N_STORES, N_PRODUCTS = 40, 400
NEW_STORE = 140  # the last store: ten products in leaves 11 and 13, none sold yet


def small_world() -> Snapshot:
    """400 products of 40 stores over leaves 10, 11 (root 10) and 12, 13 (root 12)."""
    ids = np.arange(1, N_PRODUCTS + 1, dtype=np.int64)
    store_ids = np.arange(101, 101 + N_STORES)
    store = store_ids[np.arange(N_PRODUCTS) % N_STORES]
    leaf = 10 + (np.arange(N_PRODUCTS) // N_STORES) % 4
    catalog = Catalog(
        product_ids=ids,
        product_store=store,
        product_category=np.where((store == NEW_STORE) & (leaf % 2 == 0), leaf + 1, leaf),
        price_fen=np.full(N_PRODUCTS, 3900.0),
        list_price_fen=np.full(N_PRODUCTS, 3900.0),
        title_noise=np.zeros(N_PRODUCTS),
        rating_sum=np.zeros(N_PRODUCTS),
        rating_count=np.zeros(N_PRODUCTS),
        sales=np.where(store == NEW_STORE, 0.0, 50.0),
        listed_at=np.zeros(N_PRODUCTS),
        store_ids=store_ids,
        store_new=store_ids == NEW_STORE,
        store_experience=np.full(N_STORES, 0.8),
        category_ids=np.arange(10, 14),
        category_root=np.array([10, 10, 12, 12]),
    )
    return assemble(catalog, FeatureStore(24), now=1e9, version=1)


def _state(snap: Snapshot) -> ServingState:
    board = plans.build_board(
        snap,
        np.asarray([NEW_STORE], np.int64),
        np.asarray([1000]),
        np.asarray([0]),
        np.asarray([0.0]),
        np.asarray([2e9]),
        np.ones(24),
        0.0,
    )
    return ServingState(snapshot=snap, launch=board, launch_share=0.3, boost_enabled=False)


def _page(state: ServingState, scope: np.ndarray | None, seed: int) -> FeedPage:
    return serve(
        state,
        1,
        experiments.DEFAULT,
        page=1,
        limit=10,
        seed=seed,
        now=1e9,
        request_id="0" * 32,
        scope=scope,
    )


def test_a_scoped_page_holds_only_in_scope_items_plan_slots_included() -> None:
    snap = small_world()
    snap.affinities[1] = {11: 5.0, 13: 5.0}  # the shopper cares about both of the new store's leaves
    scope = np.isin(snap.category_ids, [12, 13])  # root 12's leaves
    state = _state(snap)
    launched = []
    for seed in range(8):
        fp = _page(state, scope, seed)
        assert fp.placements
        cats = {int(snap.category_ids[snap.cat[p.item]]) for p in fp.placements}
        assert cats <= {12, 13}, cats
        launched += [p for p in fp.placements if p.slot == "launch"]
    assert launched and {int(snap.store_ids[snap.store[p.item]]) for p in launched} == {NEW_STORE}
    assert {int(snap.category_ids[snap.cat[p.item]]) for p in launched} == {13}

    whole = [_page(_state(snap), None, seed) for seed in range(8)]  # unscoped, leaf 11 is shown too
    assert {int(snap.category_ids[snap.cat[p.item]]) for fp in whole for p in fp.placements} == {11, 13}


def test_a_scope_the_plan_store_has_nothing_in_leaves_the_slot_to_the_ranking() -> None:
    snap = small_world()
    snap.affinities[1] = {11: 5.0, 13: 5.0}
    scope = np.isin(snap.category_ids, [10, 12])  # leaves the new store sells nothing in
    for seed in range(8):
        fp = _page(_state(snap), scope, seed)
        assert fp.placements and not [p for p in fp.placements if p.slot == "launch"]
        assert {int(snap.category_ids[snap.cat[p.item]]) for p in fp.placements} <= {10, 12}
    nothing = _page(_state(snap), np.zeros(len(snap.category_ids), bool), 3)
    assert nothing.placements == [] and not nothing.has_more
