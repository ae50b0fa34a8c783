"""Relevance, written as expected top results: Chinese and English, model numbers, synonyms, typos,
category intent and the new-merchant allowance. Runs on every backend (see conftest)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.search.conftest import CAMERAS, CASES, DRESSES, EARPHONES, FILMS, LENSES, TEES, ids, product


@pytest.fixture
def catalog(world, sync) -> dict[str, int]:
    m = world.merchant()
    p = {
        "iphone_case": product(world, m, "适用苹果iPhone15手机壳 防摔全包"),
        "iphone_cover": product(world, m, "iPhone 15 Pro 液态硅胶手机保护套"),
        "huawei_case": product(world, m, "华为Mate60手机壳 磨砂"),
        "iphone_film": product(world, m, "iPhone15 钢化膜 高清", FILMS),
        "zt_earphones": product(world, m, "ZT-40604 蓝牙耳机 降噪", EARPHONES),
        "other_earphones": product(world, m, "ZT-50000 运动蓝牙耳机", EARPHONES),
        "sony_camera": product(world, m, "sony cyber-shot dsc-w120 digital camera silver", CAMERAS, 99900),
        "canon_camera": product(world, m, "canon powershot sd1100is digital camera", CAMERAS, 129900),
        "canon_lens": product(world, m, "canon ef 50mm f/1.8 ii camera lens", LENSES, 59900),
        "dress": product(world, m, "夏季碎花连衣裙 雪纺", DRESSES, 12900),
        "dress_tee": product(world, m, "连衣裙同款印花T恤", TEES, 5900),
    }
    assert sync() > 0
    return p


def test_mixed_chinese_and_model_words(catalog, search):
    r = search("iPhone15 手机壳")
    # both cases match both words (手机保护套 through the synonym); the Huawei case and the film do not
    assert ids(r) == [catalog["iphone_case"], catalog["iphone_cover"]]
    assert r["match"] == "all" and r["total"] == 2


@pytest.mark.parametrize("q", ["ZT-40604", "zt40604", "ZT 40604", "ｚｔ－４０６０４"])
def test_model_numbers(catalog, search, q):
    assert ids(search(q))[0] == catalog["zt_earphones"]


def test_model_number_is_one_word(catalog, search):
    assert ids(search("ZT-40604")) == [catalog["zt_earphones"]]


@pytest.mark.parametrize(("q", "expected"), [("手机保护套", "iphone_case"), ("手机壳", "iphone_cover")])
def test_synonyms_work_both_ways(catalog, search, q, expected):
    found = ids(search(q))
    assert catalog[expected] in found
    assert {catalog["iphone_case"], catalog["iphone_cover"], catalog["huawei_case"]} == set(found)


@pytest.mark.parametrize(("q", "expected"), [("iphnoe", "iphone_case"), ("canno lens", "canon_lens"), ("camra", None)])
def test_latin_typos(catalog, search, q, expected):
    r = search(q)
    assert r["match"] == "typo"
    if expected:
        assert catalog[expected] in ids(r)
    else:
        assert {catalog["sony_camera"], catalog["canon_camera"], catalog["canon_lens"]} <= set(ids(r))


def test_exact_words_do_not_go_fuzzy(catalog, search):
    r = search("canon")
    assert r["match"] == "all"
    assert set(ids(r)) == {catalog["canon_camera"], catalog["canon_lens"]}


def test_english_words(catalog, search):
    assert set(ids(search("digital camera"))) == {catalog["sony_camera"], catalog["canon_camera"]}
    assert ids(search("sony camera")) == [catalog["sony_camera"]]
    assert ids(search("canon lens")) == [catalog["canon_lens"]]
    assert ids(search("Canon EF 50mm"))[0] == catalog["canon_lens"]


def test_cross_language_synonym(catalog, search):
    # 相机 ~ camera (shipped synonyms): a Chinese word finds the English titles
    assert {catalog["sony_camera"], catalog["canon_camera"], catalog["canon_lens"]} <= set(ids(search("相机")))


def test_category_intent_leans_to_the_named_category(catalog, search):
    r = search("连衣裙", explain=True)
    assert ids(r)[0] == catalog["dress"]
    assert "连衣裙" in [c["name"] for c in r["intent"]]
    top, other = r["items"][0]["explain"], r["items"][1]["explain"]
    assert top["category_intent"]["value"] == 1.0 and other["category_intent"]["value"] == 0.0


def test_partial_match_when_no_product_has_every_word(catalog, search):
    r = search("华为 钢化膜")
    assert r["match"] == "partial"
    assert {catalog["huawei_case"], catalog["iphone_film"]} <= set(ids(r))


def test_words_that_match_nothing(catalog, search):
    r = search("冰箱")
    assert r["total"] == 0 and r["items"] == [] and r["facets"] is None


def test_explain_returns_every_component(catalog, search):
    r = search("手机壳", explain=True)
    for item in r["items"]:
        parts = item["explain"]
        assert set(parts) == {
            "text",
            "conversion",
            "store_quality",
            "price",
            "new_merchant",
            "category_intent",
            "out_of_stock",
        }
        assert item["score"] == pytest.approx(sum(p["contribution"] for p in parts.values()), abs=1e-3)
    assert search("手机壳")["items"][0]["explain"] is None


def test_new_merchants_are_not_buried(world, search, sync, clock):
    veteran = world.merchant()
    old = product(world, veteran, "纯棉短袖T恤 白色", TEES)
    clock.advance(timedelta(days=90))  # the veteran's new-merchant window (30 days) is long over
    world._operator = None  # tokens have expired too
    newcomer = world.merchant()
    new = product(world, newcomer, "纯棉短袖T恤 白色", TEES)
    sync()
    r = search("纯棉 T恤", explain=True)
    assert ids(r) == [new, old]
    by_id: dict[int, Any] = {i["product"]["product_id"]: i["explain"] for i in r["items"]}
    assert by_id[new]["new_merchant"]["value"] == 1.0
    assert by_id[old]["new_merchant"]["value"] == 0.0


def test_cheaper_ranks_higher_all_else_equal(world, search, sync):
    m = world.merchant()
    dear = product(world, m, "无线蓝牙耳机 入耳式", EARPHONES, price=29900)
    cheap = product(world, m, "无线蓝牙耳机 入耳式", EARPHONES, price=9900)
    sync()
    r = search("蓝牙耳机", explain=True)
    assert ids(r) == [cheap, dear]
    assert r["items"][0]["explain"]["price"]["value"] > r["items"][1]["explain"]["price"]["value"]


def test_in_stock_ranks_above_out_of_stock(world, search, sync):
    from tests.factories import stock

    m = world.merchant()
    empty = product(world, m, "手机支架 桌面", CASES)
    stocked = product(world, m, "手机支架 桌面", CASES)
    sku = world.client.get(f"/api/v1/products/{stocked}").json()["skus"][0]["id"]
    stock(world, m, sku, 5)
    sync()
    assert ids(search("手机支架")) == [stocked, empty]
