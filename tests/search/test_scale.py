"""What keeps search bounded on a large catalog, checked on a small one by shrinking the window: a query
re-ranks only the best K lexical candidates (K = `SearchEngine.candidates`), and browsing (no words) is
answered from precomputed ordered lists. Neither may change what a shopper sees: the best product still
comes first, totals and facets stay exact. Every backend."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import stock
from tests.search.conftest import CASES, DRESSES, EARPHONES, FILMS, ids, product


@pytest.fixture
def small_window(engine: Any, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(engine, "candidates", 4)
    return 4


@pytest.fixture
def crowd(world, sync) -> dict[str, Any]:
    """Twelve phone cases that all match 手机壳 (through the category's synonym), one that says it in its
    title, plus a few other products."""
    a, b = world.merchant(), world.merchant()
    others = [product(world, a if i % 2 else b, f"透明保护壳 款式{i}", CASES, price=2000 + 100 * i) for i in range(11)]
    best = product(world, a, "防摔手机壳 全包", CASES, price=2500)
    film = product(world, b, "钢化膜 高清", FILMS, price=1500, pay_later=False)
    earphones = product(world, b, "蓝牙耳机 降噪", EARPHONES, price=19900)
    dress = product(world, a, "连衣裙 碎花", DRESSES, price=12900, price_protection=False)
    sku = world.client.get(f"/api/v1/products/{earphones}").json()["skus"][0]["id"]
    stock(world, b, sku, 5)
    sync()
    return {"a": a, "b": b, "others": others, "best": best, "film": film, "earphones": earphones, "dress": dress}


def test_the_best_product_of_a_query_matching_more_than_the_window_comes_first(crowd, search, small_window):
    r = search("手机壳")
    assert ids(r)[0] == crowd["best"]
    assert r["total"] == 12  # every match is counted, not only the re-ranked window
    assert len(r["items"]) == small_window


def test_paging_stops_at_the_window(crowd, search, small_window):
    first = search("手机壳", limit=3)
    second = search("手机壳", limit=3, cursor=first["next_cursor"])
    assert second["next_cursor"] is None
    assert len(ids(first) + ids(second)) == small_window
    assert len(set(ids(first) + ids(second))) == small_window


def test_browse_counts_and_orders_every_product(crowd, search):
    r = search("", limit=50, explain=True)
    assert r["total"] == 15 and r["match"] is None
    assert len(ids(r)) == 15
    scores = [i["score"] for i in r["items"]]
    assert scores == sorted(scores, reverse=True)
    for item in r["items"]:  # no words: no text score, no intent, only the blend of the rest
        assert item["explain"]["text"]["value"] == 0.0
        assert item["explain"]["category_intent"]["value"] == 0.0
        assert item["score"] == pytest.approx(sum(p["contribution"] for p in item["explain"].values()), abs=1e-3)
    # out of stock products sink: the only product with stock leads the browse order
    assert ids(r)[0] == crowd["earphones"]


def test_browse_filters_match_the_same_filters_on_words(crowd, search, world):
    leaf = world.leaf_id(CASES)
    level1 = world.client.get(f"/api/v1/categories/{leaf}").json()["ancestors"][0]["id"]
    cases = {*crowd["others"], crowd["best"]}
    expectations: list[tuple[dict[str, Any], set[int]]] = [
        ({"category_id": leaf}, cases),
        ({"category_id": level1}, {*cases, crowd["film"], crowd["earphones"]}),
        ({"store_id": crowd["b"].store_id}, {*crowd["others"][0::2], crowd["film"], crowd["earphones"]}),
        ({"min_price": 2500, "max_price": 2700}, {crowd["best"], *crowd["others"][5:8]}),
        ({"in_stock": True}, {crowd["earphones"]}),
        ({"pay_later": False}, {crowd["film"]}),
        ({"price_protection": False}, {crowd["dress"]}),
        ({"category_id": level1, "in_stock": False, "max_price": 2000}, {crowd["others"][0], crowd["film"]}),
    ]
    for params, expected in expectations:
        r = search("", limit=50, **params)
        assert set(ids(r)) == expected, params
        assert r["total"] == len(expected), params


def test_browse_facets_are_exact(crowd, search, world):
    r = search("")
    facets = r["facets"]
    assert {c["name"]: c["count"] for c in facets["categories"]} == {
        "手机保护套": 12,
        "手机贴膜": 1,
        "蓝牙耳机": 1,
        "连衣裙": 1,
    }
    assert facets["categories"][0]["name"] == "手机保护套"  # most first
    assert sorted(s["count"] for s in facets["stores"]) == [7, 8]
    assert [p["count"] for p in facets["prices"]] == [13, 0, 2, 0, 0, 0]
    assert (facets["in_stock"], facets["pay_later"], facets["price_protection"]) == (1, 14, 14)
    narrowed = search("", category_id=world.leaf_id(CASES), min_price=2600)["facets"]
    assert [c["count"] for c in narrowed["categories"]] == [5]
    assert search("", in_stock=True, pay_later=False)["facets"] is None  # nothing matches


def test_browse_follows_the_catalog(crowd, search, sync, world):
    a = crowd["a"]
    r = world.client.post(f"/api/v1/products/{crowd['best']}/delist", headers=a.headers)
    assert r.status_code == 200, r.text
    sku = world.client.get(f"/api/v1/products/{crowd['dress']}").json()["skus"][0]["id"]
    r = world.client.patch(f"/api/v1/skus/{sku}", json={"price_fen": 900}, headers=a.headers)
    assert r.status_code == 200, r.text
    new = product(world, a, "保温杯 大容量", DRESSES, price=5000)
    sync()
    r = search("", limit=50)
    assert r["total"] == 15
    assert crowd["best"] not in ids(r) and new in ids(r)
    assert ids(search("", max_price=1000)) == [crowd["dress"]]
    assert set(ids(search("", category_id=world.leaf_id(DRESSES)))) == {crowd["dress"], new}


def test_a_head_word_fills_the_window_from_its_exact_title_matches(world, sync, search, small_window, backend):
    """More exact title matches than the window: the window holds only them (nothing else can outscore
    them), and tantivy then estimates the total instead of counting every match, and says so."""
    m = world.merchant()
    titled = [product(world, m, f"手机壳 款式{i}", CASES, price=1000 if i < 2 else 5000) for i in range(6)]
    for i in range(3):  # these match 手机壳 only through the category's synonym (手机保护套)
        product(world, m, f"透明保护壳 款式{i}", CASES)
    sync()
    r = search("手机壳", facets=False)
    assert len(ids(r)) == small_window and set(ids(r)) <= set(titled)
    assert r["total"] == 9  # tantivy: 6 title matches × (9 category matches / 6 title matches)
    assert r["total_is_estimate"] is (backend == "tantivy")
    r = search("手机壳", pay_later=True, facets=False)  # a filter most products pass keeps the shortcut
    assert set(ids(r)) <= set(titled) and r["total"] == 9 and r["total_is_estimate"] is (backend == "tantivy")
    r = search("手机壳", max_price=2000, facets=False)  # a price range: no shortcut, every match counted
    assert sorted(ids(r)) == titled[:2] and r["total"] == 2 and r["total_is_estimate"] is False
    # with facets every match is visited anyway, so the total is counted, not estimated
    r = search("手机壳")
    assert set(ids(r)) <= set(titled) and r["total"] == 9 and r["total_is_estimate"] is False
    assert sum(b["count"] for b in r["facets"]["categories"]) == 9
