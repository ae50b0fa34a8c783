"""Filters (category at any level, price, store, brand, stock, pay later, price protection), sorts and
facet counts, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import stock
from tests.search.conftest import CAMERAS, CASES, DRESSES, EARPHONES, ids, product


@pytest.fixture
def shop(world, sync, clock) -> dict[str, object]:
    a, b = world.merchant(), world.merchant()
    p = {}
    p["case_cheap"] = product(world, a, "手机壳 透明 A", CASES, price=1900)
    clock.advance(timedelta(minutes=1))
    p["case_mid"] = product(world, a, "手机壳 磨砂 B", CASES, price=5900, pay_later=False)
    clock.advance(timedelta(minutes=1))
    p["case_dear"] = product(world, b, "手机壳 真皮 C", CASES, price=25900, price_protection=False)
    clock.advance(timedelta(minutes=1))
    p["earphones"] = product(world, b, "蓝牙耳机 手机通用", EARPHONES, price=19900)
    clock.advance(timedelta(minutes=1))
    p["camera"] = product(world, b, "数码相机 手机同步", CAMERAS, price=159900)
    p["dress"] = product(world, a, "连衣裙 夏季", DRESSES, price=12900)
    sku = world.client.get(f"/api/v1/products/{p['case_mid']}").json()["skus"][0]["id"]
    stock(world, a, sku, 3)
    sync()
    return {**p, "a": a, "b": b}


def test_category_at_every_level(shop, search, world):
    leaf = world.leaf_id(CASES)
    tree = world.client.get(f"/api/v1/categories/{leaf}").json()
    level1, level2 = tree["ancestors"][0]["id"], tree["ancestors"][1]["id"]
    assert set(ids(search("手机", category_id=leaf))) == {shop["case_cheap"], shop["case_mid"], shop["case_dear"]}
    assert set(ids(search("手机", category_id=level2))) == {
        shop["case_cheap"],
        shop["case_mid"],
        shop["case_dear"],
        shop["earphones"],
    }
    assert shop["camera"] in ids(search("手机", category_id=level1))
    assert shop["dress"] not in ids(search("", category_id=level1))


def test_price_range_store_and_flags(shop, search):
    assert ids(search("手机壳", min_price=2000, max_price=30000, sort="price_asc")) == [
        shop["case_mid"],
        shop["case_dear"],
    ]
    assert set(ids(search("手机", store_id=shop["b"].store_id))) == {
        shop["case_dear"],
        shop["earphones"],
        shop["camera"],
    }
    assert ids(search("手机壳", in_stock=True)) == [shop["case_mid"]]
    assert shop["case_mid"] not in ids(search("手机壳", pay_later=True))
    assert ids(search("手机壳", pay_later=False)) == [shop["case_mid"]]
    assert shop["case_dear"] not in ids(search("手机壳", price_protection=True))


def test_min_price_above_max_price_is_a_422(shop, search):
    r = search("手机壳", expect=422, min_price=500, max_price=100)
    assert r["errors"][0]["field"] == "min_price"


def test_unknown_category_is_a_422(shop, search):
    assert search("手机壳", expect=422, category_id=999_999)["errors"][0]["field"] == "category_id"


def test_sorts(shop, search):
    cases = [shop["case_cheap"], shop["case_mid"], shop["case_dear"]]
    assert ids(search("手机壳", sort="price_asc")) == cases
    assert ids(search("手机壳", sort="price_desc")) == cases[::-1]
    assert ids(search("手机壳", sort="newest")) == cases[::-1]
    assert set(ids(search("手机壳", sort="sales"))) == set(cases)


def test_sales_sort_follows_orders(shop, search, world, sync):
    from tests.factories import buy, pay

    shopper = world.shopper()
    sku = world.client.get(f"/api/v1/products/{shop['case_mid']}").json()["skus"][0]["id"]
    payment = buy(world, shopper, [{"sku_id": sku, "quantity": 2}])
    pay(world, shopper, payment["id"])
    sync()
    assert ids(search("手机壳", sort="sales"))[0] == shop["case_mid"]


def test_facets(shop, search, world):
    r = search("手机")
    facets = r["facets"]
    assert r["total"] == 5
    by_name = {c["name"]: c["count"] for c in facets["categories"]}
    assert by_name == {"手机保护套": 3, "蓝牙耳机": 1, "数码相机": 1}
    assert sum(s["count"] for s in facets["stores"]) == 5
    assert [p["count"] for p in facets["prices"]] == [1, 1, 1, 1, 0, 1]
    assert facets["in_stock"] == 1 and facets["pay_later"] == 4 and facets["price_protection"] == 4
    assert search("手机", facets=False)["facets"] is None


def test_browse_without_words(shop, search):
    r = search("")
    assert r["total"] == 6 and r["match"] is None
    assert ids(search("   ", sort="price_asc"))[0] == shop["case_cheap"]


def test_pages(shop, search):
    first = search("手机", limit=2)
    second = search("手机", limit=2, cursor=first["next_cursor"])
    third = search("手机", limit=2, cursor=second["next_cursor"])
    assert third["next_cursor"] is None
    seen = ids(first) + ids(second) + ids(third)
    assert len(seen) == 5 and len(set(seen)) == 5
    assert seen == ids(search("手机", limit=10))
    assert [i["position"] for i in second["items"]] == [2, 3]
