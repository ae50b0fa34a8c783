"""traffic.snapshot: what is on sale at build time goes in, nothing else; global indices map back to ids;
the per-category and per-store lists hold each product once, best first."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import stock
from tests.traffic.conftest import Market
from yinli.merchants.service import get_policy
from yinli.traffic.features import FeatureStore
from yinli.traffic.snapshot import LIVE, PRODUCT, VIDEO, Catalog, Snapshot, assemble, load_catalog


def catalog_now(market: Market) -> Catalog:
    with market.world.database.session() as session:
        return load_catalog(session, market.clock.now(), get_policy(session, market.settings))


def test_the_catalog_holds_listed_in_stock_products_of_active_stores_only(market: Market) -> None:
    world = market.world
    m, (kept, delisted, sold_out) = market.store(3)
    suspended, (hidden,) = market.store(1)
    unapproved = world.merchant(approve=False)
    r = world.client.post(f"/api/v1/products/{delisted['id']}/delist", headers=m.headers)
    assert r.status_code == 200, r.text
    for sku in sold_out["skus"]:
        stock(world, m, sku["id"], 0)
    r = world.client.post(
        f"/api/v1/stores/{suspended.store_id}/suspend", json={"reason": "fake goods"}, headers=world.operator.headers
    )
    assert r.status_code == 200, r.text
    draft = world.product(m, listed=False)
    stock(world, m, draft["skus"][0]["id"], 5)

    catalog = catalog_now(market)
    assert catalog.product_ids.tolist() == [kept["id"]]
    assert catalog.product_store.tolist() == [m.store_id]
    assert suspended.store_id not in catalog.store_ids and unapproved.store_id not in catalog.store_ids
    assert m.store_id in catalog.store_ids
    assert catalog.price_fen.tolist() == [3900.0]  # the cheapest SKU (the other costs 4400)
    assert hidden["id"] not in catalog.product_ids

    # selling the last units of the kept product takes it out of the next build too
    for sku in kept["skus"]:
        stock(world, m, sku["id"], 0)
    assert catalog_now(market).product_ids.tolist() == []


def test_a_built_snapshot_maps_indices_back_to_ids_and_content_to_its_product(market: Market) -> None:
    m, products = market.store(3)
    other, more = market.store(2, leaf="pet")
    market.content.live_session(m, [products[1]["id"]])
    market.refresh()
    with market.world.database.session() as session:
        snap = market.engine.ensure_ready(session).snapshot
    ids = sorted(p["id"] for p in products + more)
    assert snap.n_products == len(ids) and snap.item_id[: snap.n_products].tolist() == ids
    np.testing.assert_array_equal(snap.product_index(np.asarray(ids)), np.arange(len(ids)))
    assert snap.product_index(np.asarray([max(ids) + 1000, -5])).tolist() == [-1, -1]
    (live,) = np.flatnonzero(snap.kind == LIVE)
    assert int(snap.item_id[snap.product[live]]) == products[1]["id"]  # the room sells the product it shows
    assert snap.store_ids[snap.store[live]] == m.store_id
    for i in range(snap.n_products):
        pid = int(snap.item_id[i])
        store = next(s for s, ps in ((m, products), (other, more)) if any(p["id"] == pid for p in ps))
        assert snap.store_ids[snap.store[i]] == store.store_id
    assert snap.store_index(np.asarray([m.store_id, other.store_id, 10**9])).tolist()[2] == -1


# --- assemble over synthetic catalogs --------------------------------------------------------------


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    n_stores = draw(st.integers(1, 4))
    n_cats = draw(st.integers(1, 5))
    n = draw(st.integers(0, 15))
    store_ids = np.asarray(sorted(draw(st.sets(st.integers(1, 99), min_size=n_stores, max_size=n_stores))))
    category_ids = np.arange(10, 10 + n_cats)
    roots = np.asarray(draw(st.lists(st.sampled_from([10, 11]), min_size=n_cats, max_size=n_cats)))
    product_ids = np.asarray(sorted(draw(st.sets(st.integers(1, 10_000), min_size=n, max_size=n))), np.int64)
    pick = st.lists(st.integers(0, 10**6), min_size=n, max_size=n)
    price = np.asarray(draw(st.lists(st.integers(1, 100_000), min_size=n, max_size=n)), float)
    n_v = draw(st.integers(0, min(3, n)))  # each video sells a different product
    return Catalog(
        product_ids=product_ids,
        product_store=store_ids[np.asarray(draw(pick), int) % n_stores] if n else np.zeros(0, np.int64),
        product_category=category_ids[np.asarray(draw(pick), int) % n_cats] if n else np.zeros(0, np.int64),
        price_fen=price,
        list_price_fen=price * 2,
        title_noise=np.asarray(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))),
        rating_sum=np.zeros(n),
        rating_count=np.zeros(n),
        sales=np.asarray(draw(pick), float),
        listed_at=np.zeros(n),
        store_ids=store_ids,
        store_new=np.asarray(draw(st.lists(st.booleans(), min_size=n_stores, max_size=n_stores))),
        store_experience=np.full(n_stores, 0.8),
        category_ids=category_ids,
        category_root=np.where(np.isin(category_ids, roots), roots, 10),
        video_ids=np.arange(500, 500 + n_v, dtype=np.int64),
        video_store=np.zeros(n_v, np.int64),
        video_creator=np.full(n_v, 7, np.int64),
        video_product=product_ids[:n_v],
        video_published=np.zeros(n_v),
        video_completion=np.full(n_v, 0.5),
    )


def grouped(ptr: np.ndarray, items: np.ndarray, key: np.ndarray, of: np.ndarray, n_products: int) -> None:
    """A CSR list holds every product once, in its own group, best prior first."""
    assert sorted(items.tolist()) == list(range(n_products))
    for g in range(len(ptr) - 1):
        members = items[ptr[g] : ptr[g + 1]]
        assert (of[members] == g).all()
        assert (np.diff(key[members]) <= 1e-12).all()


@settings(deadline=None, max_examples=40)
@given(catalog=catalogs())
def test_assemble_lines_up_every_array_and_groups_products_once(catalog: Catalog) -> None:
    snap: Snapshot = assemble(catalog, FeatureStore(24), now=1e9, version=3)
    n_p, n_v = len(catalog.product_ids), len(catalog.video_ids)
    assert snap.n == n_p + n_v and snap.n_products == n_p and snap.version == 3
    assert snap.kind.tolist() == [PRODUCT] * n_p + [VIDEO] * n_v
    for name in ("item_id", "product", "store", "cat", "price", "ctr", "cvr", "experience", "noise", "prior"):
        assert len(getattr(snap, name)) == snap.n, name
    np.testing.assert_array_equal(snap.item_id[:n_p], catalog.product_ids)
    np.testing.assert_array_equal(snap.store_ids[snap.store[:n_p]], catalog.product_store)
    np.testing.assert_array_equal(snap.category_ids[snap.cat[:n_p]], catalog.product_category)
    # a video is priced and placed as the product it sells
    np.testing.assert_array_equal(snap.item_id[snap.product[n_p:]], catalog.video_product)
    np.testing.assert_array_equal(snap.price[n_p:], catalog.price_fen[snap.product[n_p:]])
    assert ((snap.ctr > 0) & (snap.ctr < 1)).all() and ((snap.noise >= 0) & (snap.noise <= 1)).all()
    grouped(snap.cat_ptr, snap.cat_items, snap.prior, snap.cat, n_p)
    grouped(snap.store_ptr, snap.store_items, snap.prior, snap.store, n_p)
    grouped(snap.root_ptr, snap.root_items, snap.prior, snap.root, n_p)
    new_stores = set(catalog.store_ids[catalog.store_new].tolist())
    assert {int(catalog.product_ids[i]) for i in snap.new_pool} == {
        int(p) for p, s in zip(catalog.product_ids, catalog.product_store, strict=True) if s in new_stores
    }
    assert sorted(snap.content.tolist()) == list(range(n_p, n_p + n_v))
    assert sorted(i for v in snap.creator_content.values() for i in v.tolist()) == list(range(n_p, n_p + n_v))
