"""The search log: searches, clicks, add-to-cart and orders attributed to a search → search PV, CTR,
conversion and zero-result queries through the API. Every backend."""

from __future__ import annotations

from tests.factories import ADDRESS, pay, stock
from tests.search.conftest import EARPHONES, ids, product


def test_search_log_to_analytics(world, search, sync, clock):
    m = world.merchant()
    case = product(world, m, "手机壳 防摔")
    earphones = product(world, m, "蓝牙耳机", EARPHONES, price=9900)
    sku = world.client.get(f"/api/v1/products/{earphones}").json()["skus"][0]["id"]
    stock(world, m, sku, 10)
    sync()
    shopper = world.shopper()
    h = shopper.headers

    s1 = search("手机壳", headers=h)  # clicked, not bought
    s2 = search("蓝牙耳机", headers=h)  # clicked, added to cart, bought
    search("冰箱", headers=h)  # zero results, twice
    search("冰箱")
    search("手机壳 防摔")  # anonymous, no click
    assert ids(s1) == [case] and ids(s2) == [earphones]

    for s, pid, action in ((s1, case, "click"), (s2, earphones, "click"), (s2, earphones, "add_to_cart")):
        r = world.client.post(
            "/api/v1/search/clicks", json={"search_id": s["search_id"], "product_id": pid, "action": action}, headers=h
        )
        assert r.status_code == 201, r.text
        assert r.json()["position"] == 0
    line = {"sku_id": sku, "quantity": 2, "surface": "search", "source_id": s2["search_id"]}
    r = world.client.post("/api/v1/cart/items", json=line, headers=h)
    assert r.status_code == 200, r.text
    r = world.client.post("/api/v1/checkout", json={"address": ADDRESS}, headers=h)
    assert r.status_code == 201, r.text
    pay(world, shopper, r.json()["id"])
    sync()
    sync()  # replaying is harmless: the order is attributed once

    a = world.client.get("/api/v1/search/analytics", headers=world.operator.headers).json()
    assert a["search_pv"] == 5
    assert a["searches_with_results"] == 3 and a["zero_result_searches"] == 2
    assert a["impressions"] == 3
    assert (a["clicks"], a["add_to_carts"], a["orders"]) == (2, 1, 1)
    assert a["gmv_fen"] == 2 * 9900
    assert a["ctr"] == round(2 / 3, 4)
    assert a["item_ctr"] == round(2 / 3, 4)
    assert a["conversion_rate"] == round(1 / 5, 4)
    assert a["zero_result_queries"] == [{"query": "冰箱", "searches": 2}]
    assert {"query": "手机壳", "searches": 1} in a["top_queries"]


def test_search_conversion_feeds_ranking(world, search, sync):
    m = world.merchant()
    first = product(world, m, "数据线 快充")
    second = product(world, m, "数据线 快充")
    sync()
    shopper = world.shopper()
    assert ids(search("数据线")) == [first, second]  # equal in every way: product id breaks the tie
    sku = world.client.get(f"/api/v1/products/{second}").json()["skus"][0]["id"]
    stock(world, m, sku, 50)
    for _ in range(3):
        s = search("数据线", headers=shopper.headers)
        line = {"sku_id": sku, "quantity": 1, "surface": "search", "source_id": s["search_id"]}
        r = world.client.post("/api/v1/checkout", json={"items": [line], "address": ADDRESS}, headers=shopper.headers)
        assert r.status_code == 201, r.text
        pay(world, shopper, r.json()["id"])
    sync()
    r = search("数据线", explain=True)
    assert ids(r)[0] == second
    assert r["items"][0]["explain"]["conversion"]["value"] > r["items"][1]["explain"]["conversion"]["value"]
