"""The index follows the catalog through the outbox, and a rebuilt index answers exactly as the one kept
up incrementally. Every backend."""

from __future__ import annotations

from typing import Any

from tests.factories import buy, pay, stock
from tests.search.conftest import CASES, EARPHONES, FILMS, ids, product


def test_listing_delisting_and_price_changes_reach_the_index(world, search, sync, database, engine):
    m = world.merchant()
    listed = product(world, m, "防摔手机壳 蓝色", price=3900)
    draft = world.product(m, listed=False, title="防摔手机壳 红色", category_id=world.leaf_id(CASES))
    assert ids(search("防摔手机壳")) == []  # nothing is searchable before the consumer runs
    sync()
    assert ids(search("防摔手机壳")) == [listed]

    r = world.client.post(f"/api/v1/products/{draft['id']}/list", headers=m.headers)
    assert r.status_code == 200
    sync()
    assert set(ids(search("防摔手机壳"))) == {listed, draft["id"]}

    r = world.client.post(f"/api/v1/products/{listed}/delist", headers=m.headers)
    assert r.status_code == 200
    sync()
    assert ids(search("防摔手机壳")) == [draft["id"]]
    with database.session() as session:
        assert engine.backend.count(session) == 1

    sku = world.client.get(f"/api/v1/products/{draft['id']}").json()["skus"][0]["id"]
    assert ids(search("防摔手机壳", max_price=3000)) == []
    r = world.client.patch(f"/api/v1/skus/{sku}", json={"price_fen": 2500}, headers=m.headers)
    assert r.status_code == 200
    sync()
    assert ids(search("防摔手机壳", max_price=3000)) == [draft["id"]]


def test_title_changes_reach_the_index(world, search, sync):
    m = world.merchant()
    p = product(world, m, "普通数据线")
    sync()
    r = world.client.patch(f"/api/v1/products/{p}", json={"title": "快充 Type-C 数据线"}, headers=m.headers)
    assert r.status_code == 200
    sync()
    assert ids(search("typec")) == [p]


def test_stock_running_out_and_coming_back(world, search, sync):
    m = world.merchant()
    p = product(world, m, "无线蓝牙耳机", EARPHONES)
    sku = world.client.get(f"/api/v1/products/{p}").json()["skus"][0]["id"]
    stock(world, m, sku, 1)
    sync()
    assert ids(search("蓝牙耳机", in_stock=True)) == [p]
    shopper = world.shopper()
    payment = buy(world, shopper, [{"sku_id": sku, "quantity": 1}])  # holds the last unit: StockDepleted
    sync()
    assert ids(search("蓝牙耳机", in_stock=True)) == []
    assert ids(search("蓝牙耳机")) == [p]  # still findable, just not in stock
    r = world.client.post(f"/api/v1/orders/{payment['order_ids'][0]}/cancel", headers=shopper.headers)
    assert r.status_code == 200, r.text
    sync()
    assert ids(search("蓝牙耳机", in_stock=True)) == [p]


def test_suspended_store_leaves_the_index(world, search, sync):
    m = world.merchant()
    p = product(world, m, "钢化膜 全屏", FILMS)
    sync()
    assert ids(search("钢化膜")) == [p]
    r = world.client.post(
        f"/api/v1/stores/{m.store_id}/suspend", json={"reason": "fake goods"}, headers=world.operator.headers
    )
    assert r.status_code == 200, r.text
    sync()
    assert ids(search("钢化膜")) == []


def test_syncing_twice_changes_nothing(world, search, sync):
    m = world.merchant()
    product(world, m, "手机壳 A")
    assert sync() > 0
    before = search("手机壳")
    assert sync() == 0
    assert ids(search("手机壳")) == ids(before)  # (scores move: the searches themselves were impressions)


QUERIES = ["手机壳", "iphone15 手机壳", "zt-40604", "iphnoe", "蓝牙耳机", "华为 钢化膜", "", "冰箱"]


def answers(search: Any) -> list[Any]:
    out = []
    for q in QUERIES:
        for params in ({}, {"sort": "price_asc"}, {"in_stock": True}, {"max_price": 5000, "explain": True}):
            r = search(q, limit=50, **params)
            out.append(
                (q, params, r["total"], r["match"], [(i["product"]["product_id"], i["score"]) for i in r["items"]])
            )
            out.append(r["facets"])
            if params.get("explain"):
                out.append([i["explain"] for i in r["items"]])
    return out


def test_rebuilt_index_answers_exactly_as_the_incremental_one(world, search, sync, engine, database, clock):
    m, n = world.merchant(), world.merchant()
    made = [
        product(world, m, "适用苹果iPhone15手机壳 防摔", price=2900),
        product(world, m, "iPhone 15 手机保护套 硅胶", price=4900),
        product(world, n, "华为Mate60手机壳", price=3900),
        product(world, n, "iPhone15 钢化膜", FILMS, price=1500),
        product(world, m, "ZT-40604 蓝牙耳机", EARPHONES, price=19900),
        product(world, n, "蓝牙耳机 运动", EARPHONES, price=9900),
    ]
    sync()
    # churn: delist, relist, reprice, retitle, stock, a sale — each applied incrementally
    world.client.post(f"/api/v1/products/{made[2]}/delist", headers=n.headers)
    sync()
    world.client.post(f"/api/v1/products/{made[2]}/list", headers=n.headers)
    sku = world.client.get(f"/api/v1/products/{made[1]}").json()["skus"][0]["id"]
    world.client.patch(f"/api/v1/skus/{sku}", json={"price_fen": 2500}, headers=m.headers)
    sync()
    world.client.patch(f"/api/v1/products/{made[5]}", json={"title": "降噪蓝牙耳机 ZT-40604 同款"}, headers=n.headers)
    stock(world, m, sku, 10)
    shopper = world.shopper()
    payment = buy(world, shopper, [{"sku_id": sku, "quantity": 1}])
    pay(world, shopper, payment["id"])
    world.client.post(f"/api/v1/products/{made[3]}/delist", headers=n.headers)
    sync()
    incremental = answers(search)
    assert engine.rebuild(database) == 5
    assert answers(search) == incremental


def test_reindex_command(world, sync, settings, database, monkeypatch, backend):
    from typer.testing import CliRunner

    from yinli.cli import app as cli

    m = world.merchant()
    product(world, m, "手机壳")
    for key, value in {
        "YINLI_DATA_DIR": str(settings.data_dir),
        "YINLI_DATABASE_URL": database.url,
        "YINLI_SEARCH_BACKEND": backend,
    }.items():
        monkeypatch.setenv(key, value)
    from yinli.core.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["search", "reindex"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "1 products" in result.output


def test_new_brand_words_reindex_the_products_that_mention_them(world, search, sync):
    m = world.merchant()
    p = product(world, m, "花西子散粉 定妆")
    sync()
    r = world.client.post("/api/v1/brands", json={"name": "花西子"}, headers=m.headers)
    assert r.status_code == 201, r.text
    sync()  # the dictionary learns 花西子; the product is re-tokenised with it
    r = search("花西子")
    assert (ids(r), r["match"]) == ([p], "all")
